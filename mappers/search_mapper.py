"""The "search" mapper: the whole-cascade search of `einsim map` as a registered mapper.

It searches what `einsim map --arch A --workload W` searches (einsim.mappers.fused.whole): on an
attention cascade the constraint-file families, timed by the tile DAG, then the per-Einsum join
(einsim.mappers.fused.search: units from the op tables, intermediates fused where that pays)
wherever its lower bound can beat them; on any other cascade the join. A per-Einsum space of at
most ``budget`` points is enumerated (the answer is then optimal), a larger one is climbed with
``budget`` evaluations and bounded where that proves the optimum. The Result is the chosen
mapping's, timed by its tile schedules, with ``units`` (per unit busy, stall and bound) and
``searches`` (the mapping, ``optimal``, ``mapspace_size``, ``evaluated``, ``seconds``).

Options: ``objective`` (latency, energy, edp), ``method`` (auto, exhaustive, hill), ``budget``,
``seed`` and ``workers`` (threads; the answer is the same for any count). The default budget,
2,000, is what a model's phase needs to finish in seconds per layer shape (docs/mapper.md, "The
search mapper"): a layer's large GEMM spaces are then climbed, and the result says ``optimal:
false``. A search is done once per design and cascade (a model's layers share their shapes); a
caller may pass ``progress``, told a status line as each space starts and as its points finish.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Callable

from einsim.arch import Architecture
from einsim.einsum import Cascade
from einsim.errors import EinsimError
from einsim.memo import by_identity
from einsim.mappers.fused.evaluate import cascade_result
from einsim.mappers.fused.families import describe
from einsim.mappers.fused.search import METHODS, map_cascade
from einsim.mappers.fused.whole import WholeSearchResult, map_whole
from einsim.mappers.registry import register
from einsim.mappers.search import OBJECTIVES
from einsim.mappers.spatial.registered import to_result
from einsim.sim.result import Result

Status = Callable[[str], None]


@register("search")
def search_mapper(arch: Architecture, cascade: Cascade, *, objective: str = "edp", method: str = "auto",
                  budget: int = 2000, seed: int = 0, workers: int = 1, progress: Status | None = None) -> Result:
    """The best whole-cascade mapping by ``objective``; its Result (module docstring)."""
    for option, value, valid in (("objective", objective, OBJECTIVES), ("method", method, METHODS)):
        if value not in valid:
            raise EinsimError(f"mapper 'search': option {option} must be one of {', '.join(valid)}, got {value!r}")
    budget, seed, workers = _whole("budget", budget), _whole("seed", seed), _whole("workers", workers)
    if budget < 1 or workers < 1:
        raise EinsimError("mapper 'search': options budget and workers must be at least 1")
    if progress is not None:
        progress(f"search: {cascade.name}")
    token = _REPORTER.set(_Reporter(progress, cascade.name))
    try:
        whole = _search(arch, cascade, objective, method, budget, seed, workers)
    finally:
        _REPORTER.reset(token)
    if whole.family_wins:
        point = whole.families.best
        join = whole.join
        result = to_result(point.result, arch, f"{cascade.name}:search")
        found = {"cascade": cascade.name, "found_by": "constraint-file family", "mapping": describe(point)["constraints"],
                 "optimal": join is None or join.optimal,
                 "mapspace_size": whole.families.mapspace_size + (join.mapspace_size if join else 0),
                 "evaluated": whole.families.evaluated + (join.evaluated if join else 0)}
    else:
        join = whole.join
        if join is None or join.best is None:
            raise EinsimError(f"{cascade.name}: no valid mapping on {arch.name} among "
                              f"{join.evaluated if join else 0} evaluated")
        result = cascade_result(join.best, cascade, arch)
        families = whole.families
        found = {"cascade": cascade.name, "found_by": "per-Einsum join", "mapping": join.best.to_dict(),
                 "optimal": join.optimal,
                 "mapspace_size": join.mapspace_size + (families.mapspace_size if families else 0),
                 "evaluated": join.evaluated + (families.evaluated if families else 0)}
    result.searches = [{**found, "objective": objective, "seconds": whole.seconds}]
    return result


@by_identity(maxsize=256)
def _search(arch: Architecture, cascade: Cascade, objective: str, method: str, budget: int, seed: int,
            workers: int) -> WholeSearchResult:
    """map_whole of ``cascade`` on ``arch``, once per design, cascade and options (it is deterministic);
    the caller's _Reporter (``_REPORTER``) is told its progress."""
    report = _REPORTER.get()

    def join():
        return map_cascade(cascade, arch, objective, budget=budget, seed=seed, workers=workers, method=method,
                           progress=report.advance, status=report.status)

    return map_whole(cascade, arch, objective, join=join)


class _Reporter:
    """Turns the search's (status, progress) calls into status lines: the space being searched and
    how many of its points are done, at most ten lines a second."""

    def __init__(self, progress: Status | None, name: str):
        self.progress, self.name = progress, name
        self.label, self.done, self.total, self.shown = "", 0, 0, 0.0

    def status(self, msg: str, expected: int) -> None:
        self.label, self.done, self.total = f"search: {self.name} {msg}", 0, expected
        if self.progress is not None:
            self.progress(self.label)

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.progress is not None and now - self.shown > 0.1:
            self.shown = now
            self.progress(f"{self.label}: {min(self.done, self.total):,}/{self.total:,} mappings")


_REPORTER: ContextVar[_Reporter] = ContextVar("search_reporter")


def _whole(option: str, value: object) -> int:
    """A mapper option that must be a whole number (given as a number or, from the CLI, as text)."""
    try:
        number = int(str(value), 10) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        raise EinsimError(f"mapper 'search': option {option} must be a whole number, got {value!r}") from None
    return number
