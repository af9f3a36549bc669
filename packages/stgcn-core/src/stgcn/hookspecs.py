"""The hooks a stgcn plugin can implement: the public path of :mod:`stgcn.plugins.hookspecs`."""

from stgcn.plugins.hookspecs import (
    hookimpl,
    hookspec,
    stgcn_register_backends,
    stgcn_register_commands,
    stgcn_register_datasets,
    stgcn_register_exporters,
    stgcn_register_loggers,
    stgcn_register_pose_estimators,
)

__all__ = [
    "hookimpl",
    "hookspec",
    "stgcn_register_backends",
    "stgcn_register_commands",
    "stgcn_register_datasets",
    "stgcn_register_exporters",
    "stgcn_register_loggers",
    "stgcn_register_pose_estimators",
]
