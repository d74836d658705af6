"""The tile schedule of a CascadeMapping: what the pipeline model (einsim.sim.pipeline) times.

Each fusion group is one schedule: its tiles are the iterations of its shared loops (the product
of their factors), its stages its Einsums in the cascade's order, a stage's time per tile the
loop-nest kernel's time of the Einsum over the tiles. The ports are the read and write sides of
the shared storage levels with a finite bandwidth (a per-PE level is private to its unit, whose
stages run one at a time anyway): a stage holds a port for its words there / bandwidth per tile.
An intermediate one member writes and another reads is a buffer between them of two tiles when
its home has room for a second tile of it beside each of the two Einsums' tiles there (double
buffering), else of one tile. An Einsum outside every group is a schedule of one stage and one
tile. The schedules run one after another, in the cascade's order. A read of a state written in
the previous iteration of an iterative rank (a loop-carried read) is no dependency within the
schedules: that rank is the outermost loop of every Einsum it indexes, run step by step, so
each step's writer has run before the next step's readers and the times add as the schedules'.
"""

from __future__ import annotations

import math

import numpy as np

from einsim.arch import Architecture
from einsim.einsum.cascade import Cascade
from einsim.errors import EinsimError
from einsim.mappers.cascade_mapping import CascadeMapping
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.sim.nest import Encoded, Hierarchy, NestProblem, encode
from einsim.sim.pipeline import Stage, TileSchedule


def port_seconds(hier: Hierarchy, shared: list[str], reads: np.ndarray, fills: np.ndarray,
                 updates: np.ndarray) -> dict[str, np.ndarray]:
    """Port -> seconds of transfer of N mappings (reads/fills/updates [N, L, T], per instance)."""
    out = {}
    for lv, level in enumerate(hier.levels):
        if level.name not in shared:
            continue
        for side, words, bw in (("read", reads[:, lv].sum(axis=1), level.read_bw_words),
                                ("write", (fills[:, lv] + updates[:, lv]).sum(axis=1), level.write_bw_words)):
            if math.isfinite(bw) and bw > 0:
                out[f"{level.name}.{side}"] = words / bw / hier.clock_Hz
    return out


def tile_words(problem: NestProblem, enc: Encoded, tensor: int, level: int) -> np.ndarray:
    """[N] words of ``tensor``'s tile at ``level``: the footprint of every factor at or below it."""
    tile = np.prod(enc.temporal[:, level:] * enc.spatial[:, level:], axis=1)  # [N, D]
    words = np.ones(len(tile))
    for row in problem.projections[tensor]:
        coef = np.abs(np.array(row))
        words *= (tile - 1) @ coef + 1
    return words


def room_for_two(problem: NestProblem, hier: Hierarchy, enc: Encoded, held: np.ndarray, tensor: str,
                 home: str) -> np.ndarray:
    """[N] whether ``home`` holds a second tile of ``tensor`` beside the ``held`` words [N, L] of each mapping."""
    lv = hier.names().index(home)
    return held[:, lv] + tile_words(problem, enc, problem.tensors.index(tensor), lv) <= hier.levels[lv].capacity_words


def schedules(cm: CascadeMapping, cascade: Cascade, arch: Architecture, costs: dict) -> list[TileSchedule]:
    """The tile schedules of ``cm`` in the order they run; ``costs``: Einsum -> EinsumCost."""
    done: set[str] = set()
    carried = {(w, r) for w, r, _ in cascade.loop_edges}  # a state written in the previous iteration
    out = []
    for e in cascade:
        if e.name in done:
            continue
        group = cm.group_of(e.name)
        members = [x for x in cascade if group is not None and x.name in group.einsums] or [e]
        names = {x.name for x in members}
        for x in members:
            early = [w.name for t in x.inputs for w in cascade.writers(t)
                     if w.name not in names | done and (w.name, x.name) not in carried]
            if early:
                raise EinsimError(f"fusion group [{', '.join(sorted(names))}]: {x.name} reads what {', '.join(early)} "
                                  "writes outside the group after the group starts; the tile pipeline needs every "
                                  "outside producer of a group to run before it")
        tiles = math.prod(lp.factor for lp in group.loops) if group is not None else 1
        stages, slots = [], {}
        homes = group.homes if group is not None else {}
        for i, x in enumerate(members):
            c = costs[x.name]
            hier = hierarchy_for(arch, c.unit, x)
            shared = storage_path(arch, c.unit)[0]
            ports = port_seconds(hier, shared, c.counts.reads[None], c.counts.fills[None], c.counts.updates[None])
            # a masked Einsum's skipped steps take no compute and move nothing (its latency is already scaled)
            compute = c.counts.computes * hier.op_cycles / hier.clock_Hz * c.active_fraction
            stages.append(Stage(x.name, c.unit, c.latency_s / tiles, compute / tiles,
                                {p: float(v[0]) * c.active_fraction / tiles for p, v in ports.items() if v[0] > 0}))
            for j, q in enumerate(members[:i]):
                if q.output in x.inputs:
                    slots[(j, i)] = _slots(arch, cascade, cm, costs, q, x, homes.get(q.output))
        out.append(TileSchedule(tuple(stages), tiles, slots))
        done |= names
    return out


def _slots(arch: Architecture, cascade: Cascade, cm: CascadeMapping, costs: dict, producer, consumer,
           home: str | None) -> int:
    if home is None:
        return 2  # the intermediate goes through the outermost level, which holds any number of tiles
    for x in (producer, consumer):
        c = costs[x.name]
        problem = NestProblem.from_einsum(x)
        hier = hierarchy_for(arch, c.unit, x)
        enc = encode(problem, hier, [cm.mapping(x.name)], {producer.output: home})
        if not room_for_two(problem, hier, enc, c.counts.tile_words[None], producer.output, home)[0]:
            return 1
    return 2


def signatures(problem: NestProblem, hier: Hierarchy, shared: list[str], enc: Encoded, counts,
               homes: dict[str, str]) -> tuple[np.ndarray, list[tuple], dict[str, np.ndarray]]:
    """(per row a signature id, the signatures, port -> [N] transfer seconds) of N mappings of one
    fused stage: a signature is the shared ports it uses (sorted) and, per fused tensor (sorted),
    whether its home has room for a second tile."""
    ports = port_seconds(hier, shared, counts.reads, counts.fills, counts.updates)
    names = sorted(ports)
    rooms = sorted(homes)
    bits = np.zeros((len(enc.keep), len(names) + len(rooms)), dtype=np.int64)
    for j, p in enumerate(names):
        bits[:, j] = ports[p] > 0
    for j, t in enumerate(rooms):
        bits[:, len(names) + j] = room_for_two(problem, hier, enc, counts.tile_words, t, homes[t])
    uniq, inverse = np.unique(bits, axis=0, return_inverse=True)
    sigs = [(tuple(p for p, b in zip(names, row) if b), tuple((t, bool(b)) for t, b in zip(rooms, row[len(names):])))
            for row in uniq]
    return inverse.reshape(-1), sigs, ports
