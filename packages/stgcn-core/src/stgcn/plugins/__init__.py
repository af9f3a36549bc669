"""The plugin layer: the hooks a plugin implements (:mod:`.hookspecs`), the records it
registers (:mod:`.records`), a backend's defaults (:mod:`.backend`), the kinds of record
(:mod:`.kinds`), the ``KEY=VALUE`` settings parser (:mod:`.settings`), :func:`lazy`
functions (:mod:`.deferred`), the loading of plugin modules (:mod:`.loading`), the
registry that collects what they register (:mod:`.registry`), its listing
(:mod:`.listing`), the choice of a run's backend (:mod:`.backend_choice`) and the
plugins' commands (:mod:`.command_hooks`).

It imports the model layer (a record may carry a custom :class:`~stgcn.model.layouts.Layout`)
and nothing above it. This package's own module imports nothing, so that the public
facades :mod:`stgcn.hookspecs` and :mod:`stgcn.records`, which read its modules, stay
free of torch; a plugin author's names are in those facades.
"""
