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
def _layout(queue, release, nq):
    """Per queue its instructions in program order (``count``, ``order``) and per (source, consumer)
    pair the offset of its token FIFO in one flat array (``offset``, total ``cap``)."""
    n = queue.shape[0]
    count = np.zeros(nq, dtype=np.int64)
    for i in range(n):
        count[queue[i]] += 1
    order = np.zeros((nq, max(1, count.max())), dtype=np.int64)
    fill = np.zeros(nq, dtype=np.int64)
    tokens = np.zeros((nq, nq), dtype=np.int64)
    for i in range(n):
        q = queue[i]
        order[q, fill[q]] = i
        fill[q] += 1
        for d in range(nq):
            tokens[q, d] += release[i, d]
    offset = np.zeros((nq, nq), dtype=np.int64)
    cap = 0
    for s in range(nq):
        for d in range(nq):
            offset[s, d] = cap
            cap += tokens[s, d]
    return count, order, offset, max(1, cap)


@njit
def _run(queue, seconds, wait, release, count, order, offset, times, start, end):
    """The event loop over one row of ``seconds``; ``times`` is scratch for the token FIFOs (every slot
    read was written first). False on a deadlock.

    A head's start time depends only on its own queue's state and the tokens released to it, so after
    an issue only the issuing queue's head and those of the queues it released tokens to are
    recomputed (``stale``); the earliest head is then chosen as before (lowest queue number on a tie)."""
    n = queue.shape[0]
    nq = wait.shape[1]
    pos = np.zeros(nq, dtype=np.int64)
    free = np.zeros(nq)
    head = np.zeros((nq, nq), dtype=np.int64)
    tail = np.zeros((nq, nq), dtype=np.int64)
    ready_t = np.empty(nq)
    stale = np.ones(nq, dtype=np.bool_)
    issued = 0
    while issued < n:
        for q in range(nq):
            if not stale[q]:
                continue
            stale[q] = False
            t = np.inf
            if pos[q] < count[q]:
                i = order[q, pos[q]]
                t = free[q]
                for s in range(nq):
                    c = wait[i, s]
                    if c > 0:
                        if tail[s, q] - head[s, q] < c:
                            t = np.inf
                            break
                        t = max(t, times[offset[s, q] + head[s, q] + c - 1])
            ready_t[q] = t
        best = -1
        best_t = np.inf
        for q in range(nq):
            if ready_t[q] < best_t:
                best = q
                best_t = ready_t[q]
        if best < 0:
            return False
        q = best
        i = order[q, pos[q]]
        for s in range(nq):
            head[s, q] += wait[i, s]
        start[i] = best_t
        end[i] = best_t + seconds[i]
        free[q] = end[i]
        for d in range(nq):
            r = release[i, d]
            if r > 0:
                stale[d] = True
                for _ in range(r):
                    times[offset[q, d] + tail[q, d]] = end[i]
                    tail[q, d] += 1
        pos[q] += 1
        stale[q] = True
        issued += 1
    return True


@njit
def run_queues(queue, seconds, wait, release):
    """``(start, end, ok)``: start and end of every instruction; ``ok`` is False on a deadlock."""
    n = queue.shape[0]
    count, order, offset, cap = _layout(queue, release, wait.shape[1])
    start = np.zeros(n)
    end = np.zeros(n)
    ok = _run(queue, seconds, wait, release, count, order, offset, np.empty(cap), start, end)
    return start, end, ok


@njit
def run_queues_batch(queue, seconds, wait, release):
    """``(latency, ok)`` of one program at each row of ``seconds[b, i]`` (the same instructions and
    tokens, other times: a decode step at several contexts)."""
    rows = seconds.shape[0]
    n = queue.shape[0]
    count, order, offset, cap = _layout(queue, release, wait.shape[1])
    times = np.empty(cap)
    start = np.zeros(n)
    end = np.zeros(n)
    latency = np.zeros(rows)
    ok = np.ones(rows, dtype=np.bool_)
    for b in range(rows):
        ok[b] = _run(queue, seconds[b], wait, release, count, order, offset, times, start, end)
        latency[b] = end.max() if n else 0.0
    return latency, ok
