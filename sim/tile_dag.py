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

from dataclasses import dataclass, field

import numpy as np

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
    """List-schedule ``tiles`` (default: all) tiles of ``dag`` (see the module docstring)."""
    P = dag.tiles if tiles is None else tiles
    S = len(dag.stages)
    stages = dag.stages
    nan = float("nan")
    start = [[nan] * S for _ in range(P)]
    end: list[list[float | None]] = [[None] * S for _ in range(P)]
    t_end: list[list[float | None]] = [[None] * S for _ in range(P)]  # transfer ends
    # per stage: (producer, distance, producer's drain) it waits for; (consumer, slots) whose buffer it fills;
    # (producer, distance) whose DRAM tensor its transfer reads
    ins = [[(e.producer, e.distance, stages[e.producer].latency_s) for e in dag.edges if e.consumer == c]
           for c in range(S)]
    outs = [[(e.consumer, e.slots) for e in dag.edges if e.producer == q and e.slots > 0 and e.distance == 0]
            for q in range(S)]
    via = [[(e.producer, e.distance) for e in dag.edges if e.consumer == c and e.via_dram] for c in range(S)]
    names = list(dict.fromkeys([DRAM_RESOURCE, *(st.unit for st in stages)]))
    unit = [names.index(st.unit) for st in stages]
    free = [0.0] * len(names)
    busy = [0.0] * len(names)
    # each job's due time in the ideal steady state (a tile every period, each stage as late as its
    # path to the tile's end allows): jobs that can start at the same time go in due order
    rank = bottom_levels(dag)
    period = dag.lower_bound_s() / max(dag.tiles, 1)
    length = max(rank, default=0.0)
    due_c = [length - r for r in rank]
    due_t = [length - r - st.transfer_s for r, st in zip(rank, stages)]
    moves = [st.transfer_s > 0 for st in stages]
    staging = dag.staging
    next_c = [0] * S
    next_t = [0 if moves[s] else P for s in range(S)]  # stages without transfers have none
    total = P * S + P * sum(moves)
    # a job's readiness (before its resource is free) depends on ends that, once set, never change:
    # found once, it is kept until its stage moves on to the next tile
    ready_t: list[float | None] = [None] * S
    ready_c: list[float | None] = [None] * S
    for _ in range(total):
        # the job with the smallest key (start, due, tile, stage, kind); a job that cannot start
        # before the best one so far is not keyed
        best = None
        best_at = float("inf")
        for s in range(S):
            p = next_t[s]
            if p < P and p < next_c[s] + staging:
                ready = ready_t[s]
                if ready is None:
                    ready = 0.0 if p < staging else end[p - staging][s]
                    for q, d in via[s]:
                        if ready is None:
                            break
                        if p - d >= 0:
                            r = end[p - d][q]
                            if r is None:
                                ready = None
                            elif r > ready:
                                ready = r
                    ready_t[s] = ready
                if ready is not None:
                    at = free[0] if free[0] > ready else ready
                    if at <= best_at:
                        key = (at, p * period + due_t[s], p, s, 0)
                        if best is None or key < best:
                            best, best_at = key, at
            p = next_c[s]
            if p >= P:
                continue
            ready = ready_c[s]
            if ready is None:
                ready = t_end[p][s] if moves[s] else 0.0
                if ready is None:
                    continue
                for q, d, drain in ins[s]:
                    if p - d >= 0:
                        r = end[p - d][q]
                        if r is None:
                            ready = None
                            break
                        r += drain
                        if r > ready:
                            ready = r
                if ready is None:
                    continue
                for c, k in outs[s]:
                    if p - k >= 0:
                        r = end[p - k][c]
                        if r is None:
                            ready = None
                            break
                        if r > ready:
                            ready = r
                if ready is None:
                    continue
                ready_c[s] = ready
            f = free[unit[s]]
            at = f if f > ready else ready
            if at <= best_at:
                key = (at, p * period + due_c[s], p, s, 1)
                if best is None or key < best:
                    best, best_at = key, at
        if best is None:
            raise RuntimeError("tile DAG deadlocked: a buffer waits for a consumer that waits for it")
        at, _, p, s, kind = best
        st = stages[s]
        if kind == 0:
            t_end[p][s] = free[0] = at + st.transfer_s
            busy[0] += st.transfer_s
            next_t[s] += 1
            ready_t[s] = None
        else:
            start[p][s] = at
            end[p][s] = free[unit[s]] = at + st.time_s
            busy[unit[s]] += st.time_s
            next_c[s] += 1
            ready_c[s] = None
    ends = np.array(end, dtype=float).reshape(P, S)
    makespan = float(np.max(ends + np.array([st.latency_s for st in stages]))) if P else 0.0
    used = {n: b for n, b in zip(names, busy) if n != DRAM_RESOURCE or any(moves)}
    return DagRun(makespan, np.array(start).reshape(P, S), ends, used)


def bottom_levels(dag: TileDag) -> list[float]:
    """Per stage, the longest same-tile path from its start to the end of the tile (its time,
    its drain, then the longest of its consumers')."""
    S = len(dag.stages)
    bl = [0.0] * S
    for s in range(S - 1, -1, -1):
        tail = max((bl[e.consumer] for e in dag.edges if e.producer == s and e.distance == 0 and e.consumer > s),
                   default=0.0)
        bl[s] = dag.stages[s].time_s + dag.stages[s].latency_s + tail
    return bl


def recurrence_period(dag: TileDag) -> float:
    """The longest time per tile a loop-carried cycle imposes: for each carried edge q -> c
    (distance d), the longest same-tile chain from c back to q, plus q, over d."""
    S = len(dag.stages)
    best = 0.0
    for e in dag.edges:
        if e.distance <= 0:
            continue
        # longest path from the consumer's start to the producer's end within one tile
        dist = np.full(S, -np.inf)
        dist[e.consumer] = dag.stages[e.consumer].time_s
        for s in range(e.consumer + 1, S):
            for f in dag.edges:
                if f.consumer == s and f.distance == 0 and np.isfinite(dist[f.producer]):
                    dist[s] = max(dist[s], dist[f.producer] + dag.stages[f.producer].latency_s + dag.stages[s].time_s)
        if np.isfinite(dist[e.producer]):
            best = max(best, (dist[e.producer] + dag.stages[e.producer].latency_s) / e.distance)
    return best


def latency(dag: TileDag, window: int = 64) -> tuple[float, float]:
    """(makespan of all P tiles, steady-state period per tile): simulated exactly up to ``window``
    tiles, else extrapolated from simulations of ``window`` and ``window / 2`` tiles (see the
    module docstring)."""
    if dag.tiles <= window:
        run = simulate(dag)
        return run.makespan_s, run.makespan_s / max(dag.tiles, 1)
    full = simulate(dag, window).makespan_s
    half = simulate(dag, window // 2).makespan_s
    period = max((full - half) / (window - window // 2), dag.lower_bound_s() / dag.tiles, recurrence_period(dag))
    return float(full + (dag.tiles - window) * period), float(period)
