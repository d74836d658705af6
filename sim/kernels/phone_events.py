"""Discrete-event simulation of task graphs on a phone: engines, the shared DRAM pool, the UFS device.

A batch holds several independent graphs (tasks of graph g are ``graph_ptr[g] .. graph_ptr[g+1]``,
their dependencies by global task index, CSR in ``dep_ptr`` / ``dep_idx``). A task runs on one
server of its engine class (``engine``; class e has ``servers[e]`` servers, e.g. 5 compute threads,
1 I/O thread, 1 NPU) and goes through two phases:

1. a fixed phase of ``fixed_s`` seconds that draws on no shared resource (kernel launch, an NPU
   invocation, a barrier); a task of ``pool`` -1 is only this phase, ``fixed_s + volume`` long;
2. a fluid phase: ``volume`` units of its pool (0 = DRAM in bytes, 1 = UFS in device-seconds, i.e.
   bytes over the device's throughput at the stream's request size, pattern and issuing core),
   consumed at a rate of at most ``cap`` units/s (a thread's bandwidth, or the rate its MACs allow).

A task with ``hold`` >= 0 also holds one server of engine class ``hold`` from its start to its end (a
CPU thread blocked in a synchronous NPU call): it starts only when both classes have a free server.

Pools are shared by processor sharing: the active streams get max-min fair shares (water-filling
under their caps) of the pool's capacity. DRAM's capacity depends on which engine kinds stream at
once (``dram_Bps[mask]``, mask = OR of ``kind[engine]`` bits of the active DRAM streams: the
measured CPU-only / NPU-only / both bandwidths); the UFS delivers 1 device-second per second, or
``1 - ufs_degradation`` while more streams than ``ufs_queues`` issue at once (the single command
queue's multi-issuer loss).

Scheduling (a list schedule): at every event time, after all phase ends and completions within
``EPS`` of it, the ready tasks (all dependencies done) start in ascending task index while their
engine class has a free server.

Critical path (per graph, after its schedule): from the last task to end back to the start, each step to
the task whose end let it start: the latest-ending dependency that ended by its start, else a task of an
engine class it runs on or holds that ended at its start (ties: the lower index); each path task's
duration is added to its ``category``'s column of the graph's row in ``critical``.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit

EPS = 1e-9  # relative time tolerance under which two events count as simultaneous
_WAIT, _FIXED, _FLUID, _DONE = 0, 1, 2, 3


@njit
def _water_fill(caps: np.ndarray, capacity: float) -> np.ndarray:
    """Max-min fair rates of streams with ``caps`` sharing ``capacity``."""
    m = caps.shape[0]
    rates = np.empty(m)
    order = np.argsort(caps)
    left = capacity
    for j in range(m):
        share = left / (m - j)
        c = caps[order[j]]
        if c <= share:
            rates[order[j]] = c
            left -= c
        else:
            for r in range(j, m):
                rates[order[r]] = share
            break
    return rates


@njit
def _graph(lo: int, hi: int, engine, servers, kind, fixed_s, pool, volume, cap, dep_ptr, dep_idx, dram_Bps,
           ufs_queues, ufs_degradation, hold, start, end):
    n = hi - lo
    left = np.zeros(n, np.int64)  # dependencies not yet done
    n_succ = np.zeros(n, np.int64)
    for i in range(n):
        left[i] = dep_ptr[lo + i + 1] - dep_ptr[lo + i]
        for p in range(dep_ptr[lo + i], dep_ptr[lo + i + 1]):
            n_succ[dep_idx[p] - lo] += 1
    succ_ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        succ_ptr[i + 1] = succ_ptr[i] + n_succ[i]
    succ = np.zeros(succ_ptr[n], np.int64)
    fill = succ_ptr[:n].copy()
    for i in range(n):
        for p in range(dep_ptr[lo + i], dep_ptr[lo + i + 1]):
            d = dep_idx[p] - lo
            succ[fill[d]] = i
            fill[d] += 1
    free = servers.copy()
    state = np.zeros(n, np.int64)
    phase_end = np.zeros(n)
    remaining = np.zeros(n)
    rate = np.zeros(n)
    done = 0
    t = 0.0
    caps_buf = np.empty(n)
    idx = np.empty(n, np.int64)
    freed = True  # a task can only become ready, or find a server, after a task finished (or at the start)
    while done < n:
        if freed:
            for i in range(n):  # dispatch in index order
                g = lo + i
                if state[i] == _WAIT and left[i] == 0 and free[engine[g]] > 0 and (hold[g] < 0 or free[hold[g]] > 0):
                    free[engine[g]] -= 1
                    if hold[g] >= 0:
                        free[hold[g]] -= 1
                    start[g] = t
                    state[i] = _FIXED
                    phase_end[i] = t + fixed_s[g] + (volume[g] if pool[g] < 0 else 0.0)
        freed = False
        for p in range(2):  # rates of the fluid streams of each pool
            m = 0
            mask = 0
            for i in range(n):
                if state[i] == _FLUID and pool[lo + i] == p:
                    caps_buf[m] = cap[lo + i]
                    idx[m] = i
                    m += 1
                    mask |= kind[engine[lo + i]]
            if m == 0:
                continue
            if p == 0:
                capacity = dram_Bps[mask]
            else:
                capacity = 1.0 - ufs_degradation if m > ufs_queues else 1.0
            rates = _water_fill(caps_buf[:m], capacity)
            for j in range(m):
                rate[idx[j]] = rates[j]
        t_next = np.inf
        for i in range(n):
            if state[i] == _FIXED:
                t_next = min(t_next, phase_end[i])
            elif state[i] == _FLUID:
                t_next = min(t_next, t + remaining[i] / rate[i])
        if t_next == np.inf:
            raise ValueError("task graph deadlock: a dependency cycle or an engine class without servers")
        tol = EPS * max(t_next, 1e-12)
        dt = t_next - t
        for i in range(n):
            if state[i] == _FLUID:
                if t + remaining[i] / rate[i] <= t_next + tol:
                    remaining[i] = 0.0
                else:
                    remaining[i] -= rate[i] * dt
        t = t_next
        for i in range(n):
            g = lo + i
            finished = False
            if state[i] == _FIXED and phase_end[i] <= t + tol:
                if pool[g] >= 0 and volume[g] > 0:
                    state[i] = _FLUID
                    remaining[i] = volume[g]
                else:
                    finished = True
            elif state[i] == _FLUID and remaining[i] == 0.0:
                finished = True
            if finished:
                freed = True
                state[i] = _DONE
                end[g] = t
                free[engine[g]] += 1
                if hold[g] >= 0:
                    free[hold[g]] += 1
                done += 1
                for q in range(succ_ptr[i], succ_ptr[i + 1]):
                    left[succ[q]] -= 1


@njit
def _later(j: int, best: int, end: np.ndarray) -> bool:
    """Whether task ``j`` beats ``best`` (-1: none yet) as a path step: a later end, else a lower index."""
    return best < 0 or end[j] > end[best] or (end[j] == end[best] and j < best)


@njit
def _critical(lo: int, hi: int, engine, hold, dep_ptr, dep_idx, category, start, end, out) -> None:
    """Add the durations of graph [lo, hi)'s critical path tasks to ``out`` (one row, by category)."""
    if hi == lo:
        return
    i = lo
    for j in range(lo, hi):
        if end[j] > end[i]:
            i = j
    tol = EPS * max(end[i], 1e-12) * 10
    out[category[i]] += end[i] - start[i]
    while start[i] > tol:
        best = -1
        for p in range(dep_ptr[i], dep_ptr[i + 1]):
            d = dep_idx[p]
            if end[d] >= start[i] - tol and _later(d, best, end):
                best = d
        if best < 0:  # it waited for a server of a class it runs on or holds
            for j in range(lo, hi):
                if j == i or abs(end[j] - start[i]) > tol:
                    continue
                shares = engine[j] == engine[i] or (hold[i] >= 0 and engine[j] == hold[i])
                if hold[j] >= 0:
                    shares = shares or hold[j] == engine[i] or hold[j] == hold[i]
                if shares and _later(j, best, end):
                    best = j
        if best < 0:
            break
        i = best
        out[category[i]] += end[i] - start[i]


@njit
def simulate(graph_ptr: np.ndarray, engine: np.ndarray, servers: np.ndarray, kind: np.ndarray, fixed_s: np.ndarray,
             pool: np.ndarray, volume: np.ndarray, cap: np.ndarray, dep_ptr: np.ndarray, dep_idx: np.ndarray,
             dram_Bps: np.ndarray, ufs_queues: int, ufs_degradation: float, hold: np.ndarray, category: np.ndarray,
             categories: int) -> tuple:
    """Start and end time of every task of every graph (each graph starts at 0), and per graph the seconds
    of its critical path by task category (``category`` in 0 .. ``categories`` - 1); ``hold`` -1 where a
    task holds no second server."""
    start = np.zeros(engine.shape[0])
    end = np.zeros(engine.shape[0])
    critical = np.zeros((graph_ptr.shape[0] - 1, categories))
    for g in range(graph_ptr.shape[0] - 1):
        _graph(graph_ptr[g], graph_ptr[g + 1], engine, servers, kind, fixed_s, pool, volume, cap, dep_ptr, dep_idx,
               dram_Bps, ufs_queues, ufs_degradation, hold, start, end)
        _critical(graph_ptr[g], graph_ptr[g + 1], engine, hold, dep_ptr, dep_idx, category, start, end, critical[g])
    return start, end, critical
