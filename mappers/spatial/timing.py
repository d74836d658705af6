"""The latency of a configuration, derived by the tile pipeline from its mapping (not a formula).

Each fusion group of the constraint file becomes a tile DAG (einsim.sim.tile_dag):

- **tiles**: the iterations of the group's shared loops, read from its first Einsum's Mapping;
- **stages**: its Einsums on their bound units, each taking its cost's time ÷ tiles per tile, and
  its DRAM bytes ÷ tiles ÷ the DRAM bandwidth on the DRAM resource (staged: ``staging`` tiles);
- **edges**: the cascade's dependencies. A read of a state written by the previous iteration of
  the iterative loop (``RM[m1]`` of ``RM[m1+1] = ...``) is loop-carried: its distance is the
  number of tiles inside that loop. Any other intermediate lives in its home with ``slots`` tiles
  of buffer (the group's rule, as far as the home's capacity holds that many tiles of every fused
  intermediate beside what else it keeps there), or goes through DRAM when it has no home;
- **drain**: an Einsum that reduces an index spread along a PE mesh (an array of two or more
  axes) passes partial results PE to PE, one hop a cycle: its result reaches the consumers that
  many cycles after it ends (FuseMax's LM: the max over the 256 rows of a column).

Groups run one after another. An Einsum's time is never below its cost's (a stage's tiles
serialise on its unit), and the pipeline overlaps units only as far as dependencies and buffers
allow, so the result is an output that explains itself: per group its tiles, period and bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import AbstractSet as Set, Mapping as TMapping, Sequence

from einsim.arch import Architecture, PEArray
from einsim.einsum.cascade import Cascade
from einsim.mappers.constraint_file import ConstraintFile, GroupRule
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.mappers.mapping import Mapping
from einsim.mappers.spatial.cost import EinsumCost
from einsim.mappers.spatial.loops import held_tiles
from einsim.memo import by_identity
from einsim.sim.tile_dag import DagEdge, DagStage, TileDag, latency


@dataclass
class GroupTiming:
    einsums: tuple[str, ...]
    tiles: int
    slots: int  # buffer tiles the intermediates got (the rule, capped by capacity)
    latency_s: float
    period_s: float  # steady-state time per tile
    lower_bound_s: float  # the busiest resource's work

    def to_dict(self) -> dict:
        return {"einsums": list(self.einsums), "tiles": self.tiles, "slots": self.slots,
                "latency_s": self.latency_s, "period_s": self.period_s, "lower_bound_s": self.lower_bound_s}


def shared_loops(group: GroupRule, mapping: Mapping) -> list[tuple[str, str, int]]:
    """(level, index, factor) of the group's shared loops, outer to inner, as ``mapping`` has them."""
    out = []
    for ref in group.loops:
        lv = mapping.level(ref.level)
        for v in lv.loop_order(list(lv.temporal)):
            if lv.temporal.get(v, 1) > 1 and ref.index in (None, v):
                out.append((ref.level, v, lv.temporal[v]))
    return out


def drain_s(arch: Architecture, cascade: Cascade, name: str, mapping: Mapping) -> float:
    """Cycles for a reduction spread along a PE mesh to reach the chain's end, in seconds."""
    return _drain(arch, set(cascade.einsum(name).reduced), mapping)


def _drain(arch: Architecture, reduced: Set[str], mapping: Mapping) -> float:
    """``drain_s`` of an Einsum that reduces the indices ``reduced``."""
    unit = arch.component(mapping.unit)
    if not isinstance(unit, PEArray) or len(unit.shape) < 2:
        return 0.0
    hops = math.prod(f for lv in mapping.levels for v, f in lv.spatial.items() if v in reduced)
    return (hops if hops > 1 else 0) / arch.clock_of(mapping.unit)


@by_identity(maxsize=1024)
def _reduced(cascade: Cascade) -> dict[str, frozenset[str]]:
    """The indices each Einsum of ``cascade`` reduces, by name (the first of a name, as ``Cascade.einsum``)."""
    out: dict[str, frozenset[str]] = {}
    for e in cascade.einsums:
        out.setdefault(e.name, frozenset(e.reduced))
    return out


@by_identity(maxsize=256)
def _top_bandwidth(arch: Architecture, unit: str) -> float:
    """The bandwidth of the outermost storage level on ``unit``'s path."""
    return next(c.bandwidth_Bps for c in arch.storage_levels() if c.name == storage_path(arch, unit)[0][0])


def buffer_slots(arch: Architecture, cascade: Cascade, group: GroupRule, homes: TMapping[str, str],
                 mappings: TMapping[str, Mapping]) -> int:
    """The group's slots, as far as every on-path home holds that many tiles of each fused
    intermediate beside the other tiles it keeps (a home off the units' paths is a stream)."""
    members = [cascade.einsum(n) for n in group.einsums]
    slots = group.max_slots
    fused = {e.output for e in members if e.output in homes and not cascade.tensors[e.output].iterative}
    for level in {homes[t] for t in fused}:
        on_path = [e for e in members
                   if level in sum(storage_path(arch, mappings[e.name].unit), []) and e.name in mappings]
        if not on_path:
            continue
        held = held_tiles(arch, on_path, [mappings[e.name] for e in on_path], level)
        mine = sum(w for t, w in held.items() if t in fused and homes[t] == level)
        if not mine:
            continue
        hier = hierarchy_for(arch, mappings[on_path[0].name].unit)
        capacity = hier.levels[hier.names().index(level)].capacity_words
        slots = min(slots, max(1, 1 + int((capacity - sum(held.values())) // mine)))
    return slots


@dataclass(frozen=True)
class _Dependency:
    """An edge of a group's tile DAG as the cascade gives it: ``carried`` names the iterative loop of
    a loop-carried read (its distance is the tiles inside that loop); else the intermediate lives in
    a buffer of the group's slots (``buffered``), is a state (no buffer limit) or goes through DRAM."""

    producer: int
    consumer: int
    carried: str | None = None
    buffered: bool = False
    via_dram: bool = False


@by_identity(maxsize=1024)
def _dependencies(cascade: Cascade, group: GroupRule, homes_key: str) -> tuple[_Dependency, ...]:
    """The edges of ``group``'s DAG in ``cascade`` with intermediates at the homes ``homes_key``
    names (``tensor=home`` lines), in the order the DAG lists them (by consumer, then producer)."""
    homes = dict(line.split("=", 1) for line in homes_key.splitlines())
    names = list(group.einsums)
    by_name = {e.name: e for e in cascade.einsums}
    members = [by_name[n] if n in by_name else cascade.einsum(n) for n in names]
    carried = set(cascade.loop_edges)
    out = []
    for ci, (cn, e) in enumerate(zip(names, members)):
        inputs = e.inputs
        for qi, (qn, q) in enumerate(zip(names, members)):
            if q.output not in inputs:
                continue
            if (qn, cn, q.output) in carried:
                out.append(_Dependency(qi, ci, carried=q.iteration_var))
            if qi < ci and (qn, cn) in cascade.edges:
                home = homes.get(q.output)
                state = bool(cascade.tensors[q.output].iterative)
                out.append(_Dependency(qi, ci, buffered=not state and home is not None, via_dram=home is None))
    return tuple(out)


def _homes_key(homes: TMapping[str, str]) -> str:
    return "\n".join(f"{t}={h}" for t, h in sorted(homes.items()))


def group_dag(s: ConstraintFile, arch: Architecture, cascade: Cascade, group: GroupRule,
              costs: TMapping[str, EinsumCost], mappings: TMapping[str, Mapping], homes: TMapping[str, str],
              tiles: int | None = None, slots: int | None = None) -> tuple[TileDag, int]:
    """The tile DAG of one fusion group (intermediates at ``homes``, the rest through DRAM) and
    the buffer slots it got (``slots``: the caller knows them, as ``buffer_slots`` gives them)."""
    names = [n for n in group.einsums]
    first = mappings.get(names[0])
    loops = shared_loops(group, first) if first is not None else []
    if tiles is None:
        tiles = math.prod(f for _, _, f in loops) or 1
    bw = _top_bandwidth(arch, costs[names[0]].unit)
    reduced = _reduced(cascade)
    stages = []
    for n in names:
        c = costs[n]
        m = mappings.get(n)
        stages.append(DagStage(n, c.unit, c.compute_s / tiles, c.dram_bytes / bw / tiles,
                               _drain(arch, reduced[n] if n in reduced else set(cascade.einsum(n).reduced), m)
                               if m is not None else 0.0))
    if slots is None:
        slots = buffer_slots(arch, cascade, group, homes, mappings)
    # the tiles inside each shared loop (the product of the loops after it)
    inside = {v: math.prod([f for _, _, f in loops[i + 1:]]) for i, (_, v, _) in enumerate(loops)}
    edges = []
    for d in _dependencies(cascade, group, _homes_key(homes)):
        if d.carried is not None:
            edges.append(DagEdge(d.producer, d.consumer, distance=inside.get(d.carried, 1)))
        else:
            edges.append(DagEdge(d.producer, d.consumer, slots=slots if d.buffered else 0, via_dram=d.via_dram))
    return TileDag(tuple(stages), tuple(edges), tiles, s.staging), slots


def group_slots(s: ConstraintFile, arch: Architecture, cascade: Cascade, mappings: TMapping[str, Mapping],
                homes: TMapping[str, str]) -> list[int]:
    """``buffer_slots`` of every fusion group of ``s``."""
    return [buffer_slots(arch, cascade, group, homes, mappings) for group in s.fusion]


def pipeline_latency(s: ConstraintFile, arch: Architecture, cascade: Cascade, costs: Sequence[EinsumCost],
                     mappings: TMapping[str, Mapping], homes: TMapping[str, str],
                     slots: Sequence[int] | None = None) -> list[GroupTiming]:
    """The timing of every fusion group of ``s`` (they run one after another); ``slots``: each group's
    ``buffer_slots`` if the caller knows them (``group_slots``)."""
    by = {c.name: c for c in costs}
    out = []
    for k, group in enumerate(s.fusion):
        dag, got = group_dag(s, arch, cascade, group, by, mappings, homes, slots=None if slots is None else slots[k])
        total, period = latency(dag)
        out.append(GroupTiming(tuple(group.einsums), dag.tiles, got, total, period, dag.lower_bound_s()))
    return out
