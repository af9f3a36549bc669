"""Choosing a run's backend: the named one or the best available, with a precision it
supports, made for the run from its options; and a backend plugin's own bug as one line.

:class:`~stgcn.plugins.registry.Registry` answers ``availability``, ``ready_backend``
and ``best_backend`` through these functions, so that the registry keeps to collecting
what plugins register.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from stgcn.errors import StgcnError, plugin_code
from stgcn.plugins.backend import backend_for_run
from stgcn.plugins.kinds import BACKENDS
from stgcn.plugins.loading import describe_error
from stgcn.plugins.records import Availability

if TYPE_CHECKING:
    from stgcn.plugins.records import Backend, RunBackend
    from stgcn.plugins.registry import Registry


def availability(backend: Backend) -> Availability:
    """A backend's availability; a backend that raises while answering is unavailable."""
    try:
        return backend.availability()
    except StgcnError:
        raise
    except Exception as error:  # a plugin's bug must not stop listing
        return Availability(False, f"availability check failed: {describe_error(error)}")


def best_backend(registry: Registry) -> str:
    """The first available backend, accelerators before the cpu."""
    for name in sorted(registry.table(BACKENDS), key=lambda n: (n == "cpu", n)):
        if availability(registry.get(BACKENDS, name)).available:
            return name
    raise StgcnError("no available backend; see `stgcn plugins`")


def ready_backend(
    registry: Registry, name: str | None, precision: str | None, options: Mapping[str, str]
) -> tuple[RunBackend, str]:
    """The named (or best) backend, checked available, with a precision it supports,
    created for this run from its ``--backend-option`` pairs; the registered record
    stays as it is (:func:`stgcn.plugins.backend.backend_for_run`)."""
    name = name or best_backend(registry)
    backend = registry.get(BACKENDS, name)
    available = availability(backend)
    if not available.available:
        raise StgcnError(f"backend {name!r} is unavailable: {available.reason}")
    with backend_code(backend, "default_precision"):
        precision = precision or backend.default_precision()
    if precision not in backend.precisions:
        raise StgcnError(
            f"backend {name!r} cannot train in {precision}; "
            f"it supports {', '.join(backend.precisions)}"
        )
    with backend_code(backend, "configure"):
        return backend_for_run(backend, dict(options)), precision


@contextmanager
def backend_code(backend: Any, place: str) -> Iterator[None]:
    """A call into a backend plugin (``setup``, ``prepare_model``, ...), through
    :func:`stgcn.errors.plugin_code`: an exception other than StgcnError becomes one
    :class:`~stgcn.errors.PluginError` line naming the backend, the distribution that
    registered it and ``place``."""
    from stgcn.plugins import registry  # loaded by now: the backend came from it

    name = str(getattr(backend, "name", "?"))
    owner = registry.loaded_owner_of(BACKENDS, name)
    with plugin_code(f"backend {name!r}", owner.distribution if owner is not None else "", place):
        yield
