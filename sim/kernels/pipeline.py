"""The tile pipeline of a fusion group: its closed-form latency bound and its event simulation.

A group has S stages (its Einsums, in the cascade's order) and P identical tiles (the iterations
of its shared loops). Stage s takes ``t[s]`` seconds per tile on compute unit ``unit[s]`` and
holds each port r (a shared storage level's read or write side) for ``m[s, r]`` seconds from its
start (``m[s, r] <= t[s]``; 0: does not use it). ``slots[q, s] > 0`` says stage s reads what
stage q writes, in a buffer of that many tiles (1 or 2).

The static tile schedule: jobs (tile p, stage s) are dispatched in tile-major order (p outer, s
inner), which is also every unit's and every port's order of service. A job starts when
- its producers' jobs of the same tile have ended (dependency),
- the previous job on its unit has ended (one unit runs one job at a time),
- every port it uses has been released by the previous user (a port serves one transfer at a time),
- for each consumer c with k buffer slots, job (p - k, c) has ended (the buffer has a free slot).

``simulate`` runs that schedule job by job. ``latency_bound`` is the closed form the search uses,
an upper bound of the simulated makespan (see docs/mapper.md for the proof)::

    U = W + (P - 1) * max(spans),  W = sum of t over the stages

where a span is, for each unit, the sum of t over the stages from its first to its last; for each
port the same but with the last user's transfer time in place of its t; for each single-buffered edge q -> c the sum of t from q to c; for a double-buffered one
half of it. ``latency_lower`` is a lower bound (every unit and port must serve P tiles after its
first user can start and before its last user's successors end); where the two meet the closed
form is exact.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit


@njit
def simulate(P, unit, t, m, slots, start, end):
    """Fill ``start`` and ``end`` [P, S] with the static tile schedule; return the makespan."""
    S = t.shape[0]
    R = m.shape[1]
    n_units = 0
    for s in range(S):
        n_units = max(n_units, unit[s] + 1)
    unit_free = np.zeros(n_units)
    port_free = np.zeros(R)
    makespan = 0.0
    for p in range(P):
        for s in range(S):
            st = unit_free[unit[s]]
            for q in range(s):
                if slots[q, s] > 0 and end[p, q] > st:
                    st = end[p, q]
            for c in range(s + 1, S):
                k = slots[s, c]
                if k > 0 and p - k >= 0 and end[p - k, c] > st:
                    st = end[p - k, c]
            for r in range(R):
                if m[s, r] > 0.0 and port_free[r] > st:
                    st = port_free[r]
            start[p, s] = st
            end[p, s] = st + t[s]
            unit_free[unit[s]] = end[p, s]
            for r in range(R):
                if m[s, r] > 0.0:
                    port_free[r] = st + m[s, r]
            makespan = max(makespan, end[p, s])
    return makespan


@njit
def _span(prefix, first, last):
    return prefix[last + 1] - prefix[first]


@njit
def latency_bound(P, unit, t, m, slots):
    """The closed-form upper bound U of one group."""
    S = t.shape[0]
    R = m.shape[1]
    prefix = np.zeros(S + 1)
    for s in range(S):
        prefix[s + 1] = prefix[s] + t[s]
    period = 0.0
    for s in range(S):  # each unit: first to last of its stages
        first = True
        for q in range(s):
            if unit[q] == unit[s]:
                first = False
        if first:
            last = s
            for q in range(s, S):
                if unit[q] == unit[s]:
                    last = q
            period = max(period, _span(prefix, s, last))
    for r in range(R):
        a = -1
        b = -1
        for s in range(S):
            if m[s, r] > 0.0:
                if a < 0:
                    a = s
                b = s
        if a >= 0:  # the last user's node weighs its transfer, not its whole time
            period = max(period, _span(prefix, a, b) - t[b] + m[b, r])
    for q in range(S):
        for c in range(q + 1, S):
            k = slots[q, c]
            if k > 0:
                period = max(period, _span(prefix, q, c) / k)
    return prefix[S] + (P - 1) * period


@njit
def latency_bound_batch(P, unit, t, m, slots, out):
    """``latency_bound`` of N groups of S stages: P [N], unit/t [N, S], m [N, S, R], slots [N, S, S]."""
    for n in range(P.shape[0]):
        out[n] = latency_bound(P[n], unit[n], t[n], m[n], slots[n])


@njit
def latency_lower(P, unit, t, m, slots):
    """A lower bound of the makespan: for each unit and port, the earliest its first user can start
    (the longest chain of producers before it), P tiles of its service, and the longest chain of
    consumers after its last user."""
    S = t.shape[0]
    R = m.shape[1]
    pre = np.zeros(S)
    post = np.zeros(S)
    for s in range(S):
        for q in range(s):
            if slots[q, s] > 0:
                pre[s] = max(pre[s], pre[q] + t[q])
    for s in range(S - 1, -1, -1):
        for c in range(s + 1, S):
            if slots[s, c] > 0:
                post[s] = max(post[s], t[c] + post[c])
    best = 0.0
    for s in range(S):
        busy = 0.0
        a = -1
        b = -1
        for q in range(S):
            if unit[q] == unit[s]:
                busy += t[q]
                if a < 0:
                    a = q
                b = q
        best = max(best, pre[a] + P * busy + post[b])
    for r in range(R):
        busy = 0.0
        a = -1
        b = -1
        for s in range(S):
            if m[s, r] > 0.0:
                busy += m[s, r]
                if a < 0:
                    a = s
                b = s
        if a >= 0:
            best = max(best, pre[a] + P * busy - m[b, r] + t[b] + post[b])
    return best
