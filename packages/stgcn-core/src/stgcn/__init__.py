"""ST-GCN skeleton action recognition for PyTorch."""

from stgcn.graph import Graph, Layout
from stgcn.loading import load_model
from stgcn.model import STGCN

__version__ = "0.1.0"
__all__ = ["STGCN", "Graph", "Layout", "__version__", "load_model"]
