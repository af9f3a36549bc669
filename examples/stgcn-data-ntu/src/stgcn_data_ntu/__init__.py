"""NTU RGB+D 60 skeletons for stgcn, written only against stgcn's public plugin API."""

__version__ = "0.1.0"
