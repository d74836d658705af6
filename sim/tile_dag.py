"""A tile pipeline over a dependency DAG, scheduled as far as dependencies and buffers allow.

A fused group of Einsums runs P identical *tiles* (the iterations of its shared loops). Each
Einsum is a *stage* bound to one unit, taking ``time_s`` per tile there; its DRAM words of a tile
are a *transfer* of ``transfer_s`` on the DRAM resource, done before the stage runs that tile
(the tile's operands are staged on chip; ``staging`` buffers of them, so with 2 the transfer of
tile p + 1 overlaps the compute of tile p). A stage's result reaches its consumers
``latency_s`` after it ends (the drain of a spatial reduction along a chain of PEs).

Edges are the cascade's dependencies: (producer, consumer, distance, slots). ``distance`` d > 0
is a loop-carried read (a state ``X[i]`` written by the previous iteration of an iterative loop,
d tiles earlier); ``slots`` k > 0 is the buffer the intermediate lives in, k tiles deep: the
producer may run tile p only after every consumer has finished tile p - k (k = 1: one tile
finishes before the next starts; k = 2: double buffering).

Every unit and the DRAM resource run one job at a time; a stage runs its tiles in order. The
schedule is list scheduling in time order: whenever a unit can start a job whose dependencies
and buffers allow it, it starts the one that can start earliest (ties: the oldest tile, then the
cascade's order). Units therefore overlap across tiles exactly as far as the buffers allow --
the software pipelining of FuseMax's binding emerges from deep buffers, the stall of a one-tile
binding from single ones. Fill and drain are part of the schedule.

``simulate`` runs P tiles; ``latency`` simulates windows of W and W/2 tiles and extrapolates the
steady state (tiles are identical, so after the fill every tile adds one period):
``T(W) + (P - W) x period`` with period = (T(W) - T(W/2)) / (W/2), never below the busiest
resource's work per tile nor a loop-carried cycle's time per tile.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from einsim.sim.kernels.tile_dag import schedule

DRAM_RESOURCE = "DRAM"


@dataclass(frozen=True)
class DagStage:
    name: str
    unit: str
    time_s: float  # per tile on its unit
    transfer_s: float = 0.0  # per tile on the DRAM resource, before the stage runs the tile
    latency_s: float = 0.0  # from the stage's end to its result reaching the consumers


@dataclass(frozen=True)
class DagEdge:
    producer: int
    consumer: int
    distance: int = 0  # tiles between the producer's write and this read (loop-carried: > 0)
    slots: int = 0  # tiles of buffer between them (0: not limited, e.g. a state or a DRAM tensor)
    via_dram: bool = False  # the tensor goes through DRAM: the consumer's transfer waits for it


@dataclass(frozen=True)
class TileDag:
    stages: tuple[DagStage, ...]  # in the cascade's order
    edges: tuple[DagEdge, ...]
    tiles: int
    staging: int = 2  # tiles of staging buffer for each stage's DRAM transfers

    def lower_bound_s(self) -> float:
        """No schedule is shorter than the busiest unit's (or DRAM's) work."""
        busy: dict[str, float] = {}
        for s in self.stages:
            busy[s.unit] = busy.get(s.unit, 0.0) + s.time_s
            busy[DRAM_RESOURCE] = busy.get(DRAM_RESOURCE, 0.0) + s.transfer_s
        return self.tiles * max(busy.values(), default=0.0)


@dataclass
class DagRun:
    makespan_s: float
    start: np.ndarray  # [P, S] compute start of each (tile, stage)
    end: np.ndarray
    busy_s: dict[str, float] = field(default_factory=dict)  # resource -> busy seconds


def simulate(dag: TileDag, tiles: int | None = None) -> DagRun:
    """List-schedule ``tiles`` (default: all) tiles of ``dag`` (see the module docstring; the kernel is
    einsim.sim.kernels.tile_dag.schedule)."""
    return _run(dag, _prepare(dag), dag.tiles if tiles is None else tiles)


@dataclass(frozen=True)
class _Prepared:
    """The kernel's inputs of a DAG, whatever the number of tiles scheduled."""

    names: tuple[str, ...]  # resources: DRAM, then the units in stage order
    period: float
    arrays: tuple[np.ndarray, ...]  # unit, time_s, transfer_s, due_c, due_t, then the edge lists (CSR)
    latency_s: np.ndarray  # per stage
    moves: bool  # some stage moves DRAM words


def _prepare(dag: TileDag) -> _Prepared:
    stages = dag.stages
    names = tuple(dict.fromkeys([DRAM_RESOURCE, *(st.unit for st in stages)]))
    unit = np.array([names.index(st.unit) for st in stages], dtype=np.int64)
    time_s = np.array([st.time_s for st in stages], dtype=np.float64)
    transfer_s = np.array([st.transfer_s for st in stages], dtype=np.float64)
    # each job's due time in the ideal steady state (a tile every period, each stage as late as its
    # path to the tile's end allows): jobs that can start at the same time go in due order
    rank = bottom_levels(dag)
    period = dag.lower_bound_s() / max(dag.tiles, 1)
    length = max(rank, default=0.0)
    due_c = np.array([length - r for r in rank], dtype=np.float64)
    due_t = np.array([length - r - st.transfer_s for r, st in zip(rank, stages)], dtype=np.float64)
    drains = tuple(st.latency_s for st in stages)
    return _Prepared(names, period, (unit, time_s, transfer_s, due_c, due_t, *_edge_lists(len(stages), dag.edges, drains)),
                     np.array(drains), bool(np.any(transfer_s > 0)))


@functools.lru_cache(maxsize=1024)
def _edge_lists(S: int, edges: tuple[DagEdge, ...], drains: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Per stage: (producer, distance, producer's drain) it waits for; (consumer, slots) whose buffer
    it fills; (producer, distance) whose DRAM tensor its transfer reads (the kernel reads them only)."""
    ins = _csr(S, [(e.consumer, (e.producer, e.distance, drains[e.producer])) for e in edges],
               (np.int64, np.int64, np.float64))
    outs = _csr(S, [(e.producer, (e.consumer, e.slots)) for e in edges if e.slots > 0 and e.distance == 0],
                (np.int64, np.int64))
    via = _csr(S, [(e.consumer, (e.producer, e.distance)) for e in edges if e.via_dram], (np.int64, np.int64))
    return (*ins, *outs, *via)


def _run(dag: TileDag, prep: _Prepared, P: int) -> DagRun:
    start = np.empty((P, len(dag.stages)))
    end = np.empty((P, len(dag.stages)))
    busy = np.zeros(len(prep.names))
    if not schedule(P, dag.staging, prep.period, *prep.arrays, start, end, busy):
        raise RuntimeError("tile DAG deadlocked: a buffer waits for a consumer that waits for it")
    makespan = float(np.max(end + prep.latency_s)) if P else 0.0
    used = {n: float(b) for n, b in zip(prep.names, busy) if n != DRAM_RESOURCE or prep.moves}
    return DagRun(makespan, start, end, used)


def _csr(S: int, rows: list[tuple[int, tuple]], dtypes: tuple[type, ...]) -> tuple[np.ndarray, ...]:
    """Per-stage lists of (stage, entry) in CSR form: the row pointers, then one array per entry field
    (each stage's entries in the order given)."""
    counts = np.zeros(S + 1, dtype=np.int64)
    for s, _ in rows:
        counts[s + 1] += 1
    by = sorted(range(len(rows)), key=lambda i: rows[i][0])
    return (np.cumsum(counts), *(np.array([rows[i][1][k] for i in by], dtype=dt) for k, dt in enumerate(dtypes)))


def bottom_levels(dag: TileDag) -> list[float]:
    """Per stage, the longest same-tile path from its start to the end of the tile (its time,
    its drain, then the longest of its consumers')."""
    S = len(dag.stages)
    later: list[list[int]] = [[] for _ in range(S)]  # same-tile consumers after each stage, in edge order
    for e in dag.edges:
        if e.distance == 0 and e.consumer > e.producer:
            later[e.producer].append(e.consumer)
    bl = [0.0] * S
    for s in range(S - 1, -1, -1):
        tail = max((bl[c] for c in later[s]), default=0.0)
        bl[s] = dag.stages[s].time_s + dag.stages[s].latency_s + tail
    return bl


def recurrence_period(dag: TileDag) -> float:
    """The longest time per tile a loop-carried cycle imposes: for each carried edge q -> c
    (distance d), the longest same-tile chain from c back to q, plus q, over d."""
    S = len(dag.stages)
    time_s = [st.time_s for st in dag.stages]
    drain = [st.latency_s for st in dag.stages]
    preds: list[list[int]] = [[] for _ in range(S)]  # same-tile producers of each stage, in edge order
    for f in dag.edges:
        if f.distance == 0:
            preds[f.consumer].append(f.producer)
    best = 0.0
    for e in dag.edges:
        if e.distance <= 0:
            continue
        # longest path from the consumer's start to the producer's end within one tile (None: no path)
        dist: list[float | None] = [None] * S
        dist[e.consumer] = time_s[e.consumer]
        for s in range(e.consumer + 1, S):
            for q in preds[s]:
                d = dist[q]
                if d is not None:
                    longer = d + drain[q] + time_s[s]
                    dist[s] = longer if dist[s] is None else max(dist[s], longer)
        end = dist[e.producer]
        if end is not None:
            best = max(best, (end + drain[e.producer]) / e.distance)
    return best


def latency(dag: TileDag, window: int = 64) -> tuple[float, float]:
    """(makespan of all P tiles, steady-state period per tile): simulated exactly up to ``window``
    tiles, else extrapolated from simulations of ``window`` and ``window / 2`` tiles (see the
    module docstring)."""
    prep = _prepare(dag)
    if dag.tiles <= window:
        run = _run(dag, prep, dag.tiles)
        return run.makespan_s, run.makespan_s / max(dag.tiles, 1)
    full = _run(dag, prep, window).makespan_s
    half = _run(dag, prep, window // 2).makespan_s
    period = max((full - half) / (window - window // 2), dag.lower_bound_s() / dag.tiles, recurrence_period(dag))
    return float(full + (dag.tiles - window) * period), float(period)
