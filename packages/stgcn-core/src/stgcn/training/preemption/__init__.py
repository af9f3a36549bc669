"""Runs that survive being stopped: save-and-exit on SIGTERM or SIGUSR1, checkpoints
every N steps or minutes, and an exact resume from the middle of an epoch.

A step checkpoint records where the epoch stood (:class:`EpochPosition`); the
resumed run builds the same epoch order, skips the batches already trained on
without reading them, and gives every sample the augmentation it would have had
(:class:`SeededSamples`), so it ends with the weights of an uninterrupted run.

The modules are imported one by one (``stgcn.training.preemption.signals``, ``.schedule``,
``.position``, ``.agreement``): the configuration needs the schedule's parser at
the command's start, before torch is loaded.
"""
