"""Per-Einsum Mappings from one loop plan shared by a fused group, and the group's buffer footprint.

A plan says, per storage level of a unit's path, where each index of the cascade is split
(temporal factor and loop order, spatial factor). An Einsum takes the splits of the indices it
has. Which level keeps which tensor follows from where the tensor lives (its home), which DRAM
tensors are staged in the global buffer, and what else fits the PE registers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping as TMapping, Sequence

from einsim.arch import Architecture
from einsim.einsum.cascade import Einsum
from einsim.errors import EinsimError
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.mappers.mapping import LevelMapping, Mapping, validate_factors
from einsim.mappers.spatial.cost import tile_words
from einsim.sim.nest import NestProblem


@dataclass(frozen=True)
class LevelPlan:
    target: str
    temporal: TMapping[str, int] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    spatial: TMapping[str, int] = field(default_factory=dict)


def mapping_for(arch: Architecture, einsum: Einsum, unit: str, plan: Sequence[LevelPlan],
                homes: TMapping[str, str], staged: Iterable[str] = ()) -> Mapping:
    """The Mapping of ``einsum`` on ``unit`` under ``plan`` (indices it lacks are dropped)."""
    space = einsum.space
    missing = [v for v in space if not any(v in lp.temporal or v in lp.spatial for lp in plan)]
    if missing:
        raise EinsimError(f"loop plan for {einsum.name} on {unit} places no factor of {', '.join(missing)}")
    shared, per_pe = storage_path(arch, unit)
    plan = [*plan, *(LevelPlan(lv) for lv in per_pe if lv not in {lp.target for lp in plan})]
    problem = NestProblem.from_einsum(einsum)
    tensors = [t.rstrip("'") for t in problem.tensors]
    staged = set(staged)
    levels = []
    for lp in plan:
        temporal = {v: f for v, f in lp.temporal.items() if v in space and f > 1}
        spatial = {v: f for v, f in lp.spatial.items() if v in space and f > 1}
        order = tuple(v for v in lp.order if v in temporal)
        keep: tuple[str, ...] | None = None
        if lp.target in shared[1:]:
            keep = tuple(t for t in dict.fromkeys(tensors) if homes.get(t) == lp.target or t in staged)
        elif lp.target in per_pe:
            keep = tuple(t for t in dict.fromkeys(tensors) if homes.get(t) == lp.target)
        levels.append(LevelMapping(lp.target, temporal, order, spatial, keep))
    mapping = Mapping(einsum.name, unit, tuple(levels))
    validate_factors(mapping, dict(space), tensors)
    hier = hierarchy_for(arch, unit)
    for rf in per_pe:
        # the PE registers also hold whatever else fits and is reused there (output first, then
        # operands in order); a tile that changes every step bypasses them, as a mapper minimising
        # energy would choose (holding it would add a write and a read per MAC for nothing)
        held = list(mapping.level(rf).keep or ())
        tiles = tile_words(problem, mapping, hier.names(), rf)
        room = hier.levels[hier.names().index(rf)].capacity_words - sum(tiles[t] for t in held)
        for t in dict.fromkeys([einsum.output, *tensors]):
            free = t not in held and homes.get(t, "DRAM") not in per_pe
            if free and tiles[t] <= room and _reused(problem, mapping, rf, t):
                held.append(t)
                room -= tiles[t]
        levels = [lv if lv.target != rf else LevelMapping(lv.target, lv.temporal, lv.order, lv.spatial, tuple(held))
                  for lv in levels]
        mapping = Mapping(einsum.name, unit, tuple(levels))
    return mapping


def with_outer(mapping: Mapping, temporal: TMapping[str, int]) -> Mapping:
    """``mapping`` with the factors of its outermost level's temporal loops replaced by ``temporal``'s:
    what ``mapping_for`` gives for a plan that differs from ``mapping``'s only in those factors, the
    same ones being 1 (the loops that run, their order and so what every level keeps are unchanged;
    a level's tiles are the loops at and below it)."""
    top = mapping.levels[0]
    new = {v: temporal[v] for v in top.temporal}
    if any(f < 2 for f in new.values()):
        raise ValueError(f"with_outer: {mapping.einsum}'s outer loops {sorted(top.temporal)} do not all run in {temporal}")
    return Mapping(mapping.einsum, mapping.unit,
                   (LevelMapping(top.target, new, top.order, top.spatial, top.keep, top.spatial_axis), *mapping.levels[1:]))


def footprint(arch: Architecture, einsums: Sequence[Einsum], mappings: Sequence[Mapping], level: str) -> float:
    """Words a fused group holds at ``level``: per tensor kept there, its largest tile over the group."""
    return sum(held_tiles(arch, einsums, mappings, level).values())


def held_tiles(arch: Architecture, einsums: Sequence[Einsum], mappings: Sequence[Mapping],
               level: str) -> dict[str, float]:
    """{tensor: words} a fused group holds at ``level``: each kept tensor's largest tile over the group."""
    need: dict[str, float] = {}
    for einsum, mapping in zip(einsums, mappings):
        kept = set(mapping.level(level).keep or ()) if any(lv.target == level for lv in mapping.levels) else set()
        if not kept:
            continue
        names = hierarchy_for(arch, mapping.unit).names()
        for t, w in tile_words(NestProblem.from_einsum(einsum), mapping, names, level).items():
            if t in kept:
                need[t] = max(need.get(t, 0.0), w)
    return need


def _reused(problem: NestProblem, mapping: Mapping, rf: str, tensor: str) -> bool:
    """Whether a tile of ``tensor`` held at ``rf`` is read more than once: a loop at ``rf`` that does
    not index it, or an innermost temporal loop just above ``rf`` that does not index it."""
    k = [t.rstrip("'") for t in problem.tensors].index(tensor)
    indexed = {d for row in problem.projections[k] for c, d in zip(row, problem.dims) if c}
    names = [lv.target for lv in mapping.levels]
    i = names.index(rf)
    if any(f > 1 and v not in indexed for v, f in mapping.levels[i].temporal.items()):
        return True
    for lv in reversed(mapping.levels[:i]):
        loops = [v for v in lv.loop_order(list(lv.temporal)) if lv.temporal.get(v, 1) > 1]
        if loops:
            return loops[-1] not in indexed
    return False
