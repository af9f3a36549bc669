"""The built-in device backend, ``cpu`` (gloo between processes), registered through the
same hook as the plugins' cuda and npu backends (the precision part they all share is
:mod:`stgcn.plugins.backend`'s). It imports plugins, model and system below it."""
