"""Event-driven simulation of FlightLLM's six in-order instruction queues (numba kernel).

Every queue runs its instructions in program order. An instruction starts when its queue is free
and every token it waits for has been released; a token carries the end time of the instruction
that released it. Tokens between a pair of queues are a FIFO, and a queue ends its instructions in
order, so the k-th token of a pair is released no earlier than the (k-1)-th and a consumer's start
is the maximum over the last token it takes from each pair. The loop repeatedly issues, among the
queue heads whose tokens exist, the one that can start earliest (the artifact's event loop,
``profile/inst_gen/inst_profiler.py``). The slow twin is `einsim.sim.reference.fpga_queues`.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit


@njit
def run_queues(queue, seconds, wait, release):
    """``(start, end, ok)``: start and end of every instruction; ``ok`` is False on a deadlock."""
    n = queue.shape[0]
    nq = wait.shape[1]
    start = np.zeros(n)
    end = np.zeros(n)
    # program order of each queue
    count = np.zeros(nq, dtype=np.int64)
    for i in range(n):
        count[queue[i]] += 1
    order = np.zeros((nq, max(1, count.max())), dtype=np.int64)
    fill = np.zeros(nq, dtype=np.int64)
    for i in range(n):
        q = queue[i]
        order[q, fill[q]] = i
        fill[q] += 1
    pos = np.zeros(nq, dtype=np.int64)
    free = np.zeros(nq)
    # token FIFOs: times[src, dst, k], head and tail per pair
    cap = 1
    for i in range(n):
        for d in range(nq):
            cap += release[i, d]
    times = np.zeros((nq, nq, cap))
    head = np.zeros((nq, nq), dtype=np.int64)
    tail = np.zeros((nq, nq), dtype=np.int64)
    issued = 0
    while issued < n:
        best = -1
        best_t = np.inf
        for q in range(nq):
            if pos[q] >= count[q]:
                continue
            i = order[q, pos[q]]
            t = free[q]
            ready = True
            for s in range(nq):
                c = wait[i, s]
                if c > 0:
                    if tail[s, q] - head[s, q] < c:
                        ready = False
                        break
                    t = max(t, times[s, q, head[s, q] + c - 1])
            if ready and t < best_t:
                best = q
                best_t = t
        if best < 0:
            return start, end, False
        q = best
        i = order[q, pos[q]]
        for s in range(nq):
            head[s, q] += wait[i, s]
        start[i] = best_t
        end[i] = best_t + seconds[i]
        free[q] = end[i]
        for d in range(nq):
            for _ in range(release[i, d]):
                times[q, d, tail[q, d]] = end[i]
                tail[q, d] += 1
        pos[q] += 1
        issued += 1
    return start, end, True


@njit
def run_queues_batch(queue, seconds, wait, release):
    """``(latency, ok)`` of one program at each row of ``seconds[b, i]`` (the same instructions and
    tokens, other times: a decode step at several contexts)."""
    rows = seconds.shape[0]
    latency = np.zeros(rows)
    ok = np.ones(rows, dtype=np.bool_)
    for b in range(rows):
        start, end, fine = run_queues(queue, seconds[b], wait, release)
        latency[b] = end.max() if end.shape[0] else 0.0
        ok[b] = fine
    return latency, ok
