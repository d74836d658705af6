"""Mappers by name: ``name -> function(arch, cascade, **options) -> Result``.

A mapper lays a whole cascade onto an architecture and returns the Result of its best (or only)
mapping. Register one where it is defined::

    from einsim.mappers.registry import register

    @register("fusemax")
    def fusemax(arch: Architecture, cascade: Cascade, **options) -> Result: ...

and list its module in ``PROVIDERS`` so ``get``/``names`` find it without the caller importing
it first. Options come from ``--mapper-option``/sweep specs as plain values; a mapper that
accepts a ``seed`` keyword gets the design point's deterministic seed. Unknown options should
raise EinsimError.

A mapper may also score N cascades of one design at once: its function's ``batch`` attribute,
``batch(arch, cascades, **options) -> list[Result | EinsimError]`` (each the same as the mapper on
that cascade alone, an error for a cascade it cannot map). A sweep worker uses it for points that
differ only in their rank sizes (einsim.explore.design.batch_key).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Protocol

from einsim.arch import Architecture
from einsim.einsum import Cascade
from einsim.errors import EinsimError, did_you_mean
from einsim.sim.result import Result


class Mapper(Protocol):
    def __call__(self, arch: Architecture, cascade: Cascade, **options: Any) -> Result: ...


# modules that register mappers when imported
PROVIDERS = (
    "einsim.mappers.roofline",
    "einsim.mappers.search_mapper",
    "einsim.mappers.spatial",
    "einsim.mappers.fpga.registered",
    "einsim.mappers.phone.registered",
)
DEFAULT = "ideal"

_MAPPERS: dict[str, Mapper] = {}
_loaded = False


def register(name: str) -> Callable[[Mapper], Mapper]:
    """Decorator: make ``fn`` available as mapper ``name`` (a name is registered once)."""

    def wrap(fn: Mapper) -> Mapper:
        if name in _MAPPERS and _MAPPERS[name] is not fn:
            raise ValueError(f"mapper {name!r} is already registered by {_MAPPERS[name].__module__}")
        _MAPPERS[name] = fn
        return fn

    return wrap


def _load_providers() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in PROVIDERS:
        importlib.import_module(module)


def names() -> list[str]:
    """Registered mapper names, sorted."""
    _load_providers()
    return sorted(_MAPPERS)


def get(name: str) -> Mapper:
    """The mapper registered as ``name``; an unknown name lists the valid ones."""
    _load_providers()
    try:
        return _MAPPERS[name]
    except KeyError:
        raise EinsimError(f"unknown mapper {name!r}" + did_you_mean(str(name), _MAPPERS)) from None
