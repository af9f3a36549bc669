"""The precision part every backend shares: which dtype each mixed precision casts to, and
the run's :class:`Precision` (autocast, loss scaling, the update, its checkpoint state).

Both are defined in the plugin layer, beside the backends' defaults
(:mod:`stgcn.plugins.backend`), since a backend plugin may build on them, and re-exported
here: one copy keeps the precision names meaning the same dtype on every accelerator.
"""

from stgcn.plugins.backend import AUTOCAST_DTYPES, Precision, autocast_for

__all__ = ["AUTOCAST_DTYPES", "Precision", "autocast_for"]
