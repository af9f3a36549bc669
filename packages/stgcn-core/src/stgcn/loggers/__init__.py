"""What a run tells the people watching it: logger plugins and the progress lines.

``stgcn run --logger NAME`` hands the training events to a registered
:class:`stgcn.plugins.records.Logger` (the built-in ``tensorboard``, or a plugin's);
:mod:`stgcn.loggers.progress` draws bars on a terminal and plain lines in a file.
"""

from stgcn.loggers.events import RunLoggers, open_loggers
from stgcn.loggers.progress import Progress, quiet, say

__all__ = ["Progress", "RunLoggers", "open_loggers", "quiet", "say"]
