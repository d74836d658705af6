"""Event simulation of PowerInfer-2's neuron-cluster pipeline for one FFN block.

Each cluster passes through five stages in order: predict, gate I/O, gate compute, up/down I/O,
up/down compute (``STAGE_UNIT``: 0 = a compute thread, 1 = the I/O thread). A stage of zero
duration (a cache hit needs no I/O) takes no thread. Clusters are independent, so compute moves
on to in-memory clusters while the I/O thread serves the missing ones (no matrix barrier).

Scheduling is greedy list scheduling in time order: the next stage to run is the one that can
start earliest, ``max(its cluster's previous stage end, earliest free thread of its kind)``; ties go
to the lower cluster index; it takes the thread that became free first (lowest index on ties).
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit

STAGES = ("pred", "gate_io", "gate", "updown_io", "updown")
STAGE_UNIT = np.array([0, 1, 0, 1, 0], np.int64)


@njit
def pipeline(durations: np.ndarray, stage_unit: np.ndarray, n_compute: int, n_io: int) -> tuple:
    """Start and end time of every (cluster, stage), shape (clusters, stages)."""
    n, s = durations.shape
    start = np.zeros((n, s))
    end = np.zeros((n, s))
    ready = np.zeros(n)
    stage = np.zeros(n, np.int64)
    free = (np.zeros(n_compute), np.zeros(n_io))
    for _ in range(n * s):
        best = -1
        best_t = np.inf
        for c in range(n):
            k = stage[c]
            if k == s:
                continue
            t = ready[c]
            if durations[c, k] > 0:
                t = max(t, free[stage_unit[k]].min())
            if t < best_t:
                best_t = t
                best = c
        k = stage[best]
        d = durations[best, k]
        if d > 0:
            servers = free[stage_unit[k]]
            servers[np.argmin(servers)] = best_t + d
        start[best, k] = best_t
        end[best, k] = best_t + d
        ready[best] = best_t + d
        stage[best] = k + 1
    return start, end
