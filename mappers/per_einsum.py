"""The "search" mapper: the whole-cascade search (einsim.mappers.fused) as a registered mapper.

Units come from the op tables, intermediates are fused where that pays, and each per-Einsum
space is enumerated when it has at most ``budget`` points (the answer is then optimal) and hill
climbed with ``budget`` evaluations otherwise. The Result is the chosen mapping's: each fusion
group's Einsums over the group's pipelined time (einsim.mappers.fused.schedule), the groups one
after another; masked Einsums charged for the array steps that run. Options: ``objective`` (latency, energy, edp), ``method`` (auto, exhaustive, hill),
``budget`` and ``seed``; a caller may pass ``progress``, told a status line as each space starts.
"""

from __future__ import annotations

from typing import Callable

from einsim.arch import Architecture
from einsim.einsum import Cascade
from einsim.errors import EinsimError
from einsim.mappers.fused.evaluate import cascade_result
from einsim.mappers.fused.search import map_cascade
from einsim.mappers.registry import register
from einsim.sim.result import Result


@register("search")
def per_einsum_search(arch: Architecture, cascade: Cascade, *, objective: str = "edp", method: str = "auto",
                      budget: int = 2000, seed: int = 0, progress: Callable[[str], None] | None = None) -> Result:
    """The best whole-cascade mapping by ``objective``; its Result."""
    status = None if progress is None else (lambda msg, _n: progress(f"search: {cascade.name} {msg}"))
    found = map_cascade(cascade, arch, objective, budget=_whole("budget", budget), seed=_whole("seed", seed),
                        method=method, status=status)
    if found.best is None:
        raise EinsimError(f"{cascade.name}: no valid mapping on {arch.name} among {found.evaluated} evaluated")
    return cascade_result(found.best, cascade, arch)


def _whole(option: str, value: object) -> int:
    """A mapper option that must be a whole number (given as a number or, from the CLI, as text)."""
    try:
        number = int(str(value), 10) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        raise EinsimError(f"mapper 'search': option {option} must be a whole number, got {value!r}") from None
    return number
