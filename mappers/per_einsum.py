"""The "search" mapper: each Einsum of a cascade mapped on its own by a mapspace search, run in sequence.

Each Einsum goes to the compute unit the roofline picks for it (the one that would finish it
soonest); its mapspace on that unit's storage hierarchy is searched (einsim.mappers.search) for
the best mapping by ``objective``; the cascade's Result is the Einsums' Results one after another,
every intermediate round-tripping through the levels its mapping names (no fusion); a masked Einsum
takes the mapping of the search's Pareto front that is best once its wholly masked array steps are
skipped (einsim.mappers.masking). Options:
``objective`` (latency, energy, edp), ``method`` (auto, exhaustive, random, hill), ``budget``
(evaluations per Einsum) and ``seed``; a caller may pass ``progress``, told a status line before each Einsum.
"""

from __future__ import annotations

from typing import Callable

from einsim.arch import Architecture
from einsim.einsum import Cascade
from einsim.errors import EinsimError
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Mapspace
from einsim.mappers.registry import register
from einsim.mappers.roofline import fastest_unit
from einsim.mappers.search import search
from einsim.mappers.masking import best_masked, mask_note
from einsim.sim.nest import NestProblem, encode, evaluate_encoded
from einsim.sim.result import Result, from_counts, scaled, seq


@register("search")
def per_einsum_search(arch: Architecture, cascade: Cascade, *, objective: str = "edp", method: str = "auto",
                      budget: int = 2000, seed: int = 0, progress: Callable[[str], None] | None = None) -> Result:
    """Best mapping of every Einsum by a mapspace search; the Results in sequence."""
    parts = []
    for i, einsum in enumerate(cascade.einsums):
        unit, _, _ = fastest_unit(arch, einsum)
        if progress is not None:
            progress(f"search: {cascade.name} {einsum.name} on {unit} ({i + 1}/{len(cascade.einsums)})")
        hierarchy = hierarchy_for(arch, unit, einsum)
        problem = NestProblem.from_einsum(einsum)
        found = search(Mapspace(problem, hierarchy), objective=objective, method=method, budget=int(budget), seed=int(seed))
        if found.counts is None:
            raise EinsimError(f"{einsum.name}: no valid mapping on {unit} among {found.evaluations} evaluated", einsum.location)
        part = from_counts(problem, hierarchy, found.counts, einsum.name)
        if einsum.filters:
            front = [(p.latency_s, p.energy_J, p.mapping) for p in found.pareto]
            best, run = best_masked(einsum, front, objective)
            counts = evaluate_encoded(problem, hierarchy, encode(problem, hierarchy, [best])).one(0)
            part = scaled(from_counts(problem, hierarchy, counts, einsum.name), run)
            part.notes.append(mask_note(einsum.name, run))
        parts.append(part)
    return seq(*parts, name=cascade.name)
