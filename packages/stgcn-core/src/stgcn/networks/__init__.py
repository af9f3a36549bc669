"""The networks as plugins: the core's own ST-GCN registered like any other model
(:mod:`stgcn.networks.st_gcn`), and building or loading whichever model a run, a
checkpoint or a foreign state_dict names (:mod:`stgcn.networks.loading`)."""
