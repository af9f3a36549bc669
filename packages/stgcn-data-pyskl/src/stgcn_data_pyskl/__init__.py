"""PYSKL/mmaction2 skeleton annotation pickles for stgcn.

The package is a plugin: installing it adds the ``pyskl`` dataset and the
``stgcn data inspect`` command.
"""

__version__ = "0.1.0"
