"""The training layer: one run from its configuration to its checkpoints.

:mod:`.config` (the run's settings and their layering; :mod:`.setup` resolves them for
``stgcn run``), :mod:`.launch` (cards and hosts through torch's elastic agent),
:mod:`.distributed` (process groups, samplers, collectives), :mod:`.runtime` (the device,
the prepared model and the precision, for the trainer, evaluation, the bench and export's
engine), :mod:`.session` (what a run is made of: plugins, network, lr schedule, how a
loader is made), :mod:`.trainer` (the loop, with its collaborators :mod:`.step` (the one
training step, also the bench's), :mod:`.loop_parts` (step clock, loss sum on the
device, generators, results), :mod:`.run_control` and :mod:`.work_dir`),
:mod:`.evaluation` (accuracy, and ``stgcn eval``'s job),
:mod:`.streams` (one model per input stream, then fusion),
:mod:`.preemption` (stopping on signals, exact resume) and :mod:`.hosts` (who arrived,
who vanished).

It imports fusion, loggers, backends, data, plugins, model and system below it; the
commands, reports and benchmarks above import it.
"""
