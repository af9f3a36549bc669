"""The reference network timed as its own users run it: in a process of its own.

``stgcn bench --baseline`` times :class:`stgcn.bench.baseline.BaselineSTGCN` inside the bench's
process, under the backend's settings (threads, and on the CPU malloc keeping freed
memory): that ratio isolates what the model's arithmetic gains. ``--reference`` answers
the question a user asks instead, how much faster than the reference implementation as
it is normally run: the same network (its einsum graph convolution, fp32, eager) in a
fresh interpreter with glibc's default malloc (no ``LD_PRELOAD``, no ``MALLOC_*``
tunables, no ``mallopt``) and a plain PyTorch training step. Its steps still alternate
with the candidate's, one of each per round, through a pipe, so a shared machine's drift
falls on both alike.

:mod:`.process` starts and drives that process; :mod:`.__main__` is what runs in it.
"""
