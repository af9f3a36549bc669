"""The model zoo for stgcn: PYSKL's ST-GCN++ (``stgcnpp``) and CTR-GCN (``ctrgcn``).

The package is a plugin written against stgcn's public plugin API only: installing it
adds the models to ``stgcn run --model``, and PYSKL's checkpoints of them load in
``stgcn predict``, ``eval``, ``info``, ``export`` and ``run --weights`` with no flag.
"""

__version__ = "0.1.0"
