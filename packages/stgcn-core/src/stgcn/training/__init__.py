"""The training layer: one run from its configuration to its checkpoints.

:mod:`.config` (the run's settings and their layering; :mod:`.setup` resolves them for
``stgcn run``), :mod:`.launch` (cards and hosts through torch's elastic agent),
:mod:`.distributed` (process groups, samplers, collectives), :mod:`.session` (what a run
is made of: plugins, model, lr schedule, loaders), :mod:`.trainer` (the loop, with its
collaborators :mod:`.step` (the one training step, also the bench's),
:mod:`.loss_watch`, :mod:`.step_clock`, :mod:`.run_control`, :mod:`.generators` and
:mod:`.work_dir`, and its :mod:`.results`),
:mod:`.evaluation` (accuracy, and ``stgcn eval``'s job),
:mod:`.streams` (one model per input stream, then fusion),
:mod:`.preemption` (stopping on signals, exact resume) and :mod:`.hosts` (who arrived,
who vanished).

It imports fusion, loggers, backends, data, plugins, model and system below it; the
commands, reports and benchmarks above import it.
"""
