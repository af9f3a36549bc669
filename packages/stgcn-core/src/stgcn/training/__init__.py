"""The training layer: one run from its configuration to its checkpoints.

:mod:`.config` (the run's settings and their layering), :mod:`.launch` (cards and hosts
through torch's elastic agent), :mod:`.distributed` (process groups, samplers,
collectives), :mod:`.trainer` (the loop), :mod:`.evaluation` (accuracy, and ``stgcn
eval``'s job), :mod:`.streams` (one model per input stream, then fusion),
:mod:`.preemption` (stopping on signals, exact resume) and :mod:`.hosts` (who arrived,
who vanished).

It imports fusion, loggers, backends, data, plugins, model and system below it; the
commands, reports and benchmarks above import it.
"""
