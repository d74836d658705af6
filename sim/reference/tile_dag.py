"""Slow twin of `einsim.sim.kernels.tile_dag.schedule`: the list schedule of a tile DAG in plain Python
(lists, ``None`` for what has not happened yet, the job key as a tuple)."""

from __future__ import annotations

import numpy as np

from einsim.sim.tile_dag import DRAM_RESOURCE, DagRun, TileDag, bottom_levels


def simulate(dag: TileDag, tiles: int | None = None) -> DagRun:
    """List-schedule ``tiles`` (default: all) tiles of ``dag`` (see einsim.sim.tile_dag)."""
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
