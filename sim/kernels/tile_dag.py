"""The list schedule of a tile DAG (einsim.sim.tile_dag) in numba; the slow twin is einsim.sim.reference.tile_dag.

Jobs are (tile, stage) transfers on the DRAM resource (resource 0) and (tile, stage) computes on
the stage's unit. Whenever a resource can start a job whose dependencies and buffers allow it, the
job with the smallest key (start, due, tile, stage, kind) starts; the due time of a job is
``tile x period + due`` of its stage (see einsim.sim.tile_dag). The edge lists come in CSR form:
stage s's entries are ``ptr[s]:ptr[s + 1]``.
"""

from __future__ import annotations

import math

import numpy as np

from einsim.sim.kernels.policy import njit


@njit(inline="always")
def _before(at, due, p, s, kind, b_at, b_due, b_p, b_s, b_kind):
    """(at, due, p, s, kind) < (b_at, b_due, b_p, b_s, b_kind), lexicographically."""
    if at != b_at:
        return at < b_at
    if due != b_due:
        return due < b_due
    if p != b_p:
        return p < b_p
    if s != b_s:
        return s < b_s
    return kind < b_kind


@njit
def schedule(P, staging, period, unit, time_s, transfer_s, due_c, due_t,
             ins_ptr, ins_q, ins_d, ins_drain, outs_ptr, outs_c, outs_k, via_ptr, via_q, via_d,
             start, end, busy):
    """Fill ``start``/``end`` [P, S] (NaN until scheduled) and ``busy`` [resources]; return False on a
    deadlock (a buffer waiting for a consumer that waits for it)."""
    S = time_s.shape[0]
    t_end = np.empty_like(start)  # transfer ends, NaN until done
    for p in range(P):
        for s in range(S):
            start[p, s] = math.nan
            end[p, s] = math.nan
            t_end[p, s] = math.nan
    free = np.zeros_like(busy)
    for r in range(busy.shape[0]):
        busy[r] = 0.0
    next_c = [0] * S
    next_t = [0] * S
    moves = [False] * S
    n_moves = 0
    for s in range(S):
        moves[s] = transfer_s[s] > 0
        if moves[s]:
            n_moves += 1
        else:
            next_t[s] = P
    ready_t = [0.0] * S
    has_t = [False] * S  # ready_t[s] is known
    ready_c = [0.0] * S
    has_c = [False] * S
    total = P * S + P * n_moves
    for _ in range(total):
        found = False
        b_at, b_due, b_p, b_s, b_kind = math.inf, 0.0, 0, 0, 0
        for s in range(S):
            p = next_t[s]
            if p < P and p < next_c[s] + staging:
                if not has_t[s]:
                    ready = 0.0 if p < staging else end[p - staging, s]
                    ok = not math.isnan(ready)
                    if ok:
                        for i in range(via_ptr[s], via_ptr[s + 1]):
                            if p - via_d[i] >= 0:
                                r = end[p - via_d[i], via_q[i]]
                                if math.isnan(r):
                                    ok = False
                                    break
                                if r > ready:
                                    ready = r
                    if ok:
                        ready_t[s] = ready
                        has_t[s] = True
                if has_t[s]:
                    ready = ready_t[s]
                    at = free[0] if free[0] > ready else ready
                    if at <= b_at:
                        due = p * period + due_t[s]
                        if not found or _before(at, due, p, s, 0, b_at, b_due, b_p, b_s, b_kind):
                            found = True
                            b_at, b_due, b_p, b_s, b_kind = at, due, p, s, 0
            p = next_c[s]
            if p >= P:
                continue
            if not has_c[s]:
                ready = t_end[p, s] if moves[s] else 0.0
                if math.isnan(ready):
                    continue
                ok = True
                for i in range(ins_ptr[s], ins_ptr[s + 1]):
                    if p - ins_d[i] >= 0:
                        r = end[p - ins_d[i], ins_q[i]]
                        if math.isnan(r):
                            ok = False
                            break
                        r += ins_drain[i]
                        if r > ready:
                            ready = r
                if not ok:
                    continue
                for i in range(outs_ptr[s], outs_ptr[s + 1]):
                    if p - outs_k[i] >= 0:
                        r = end[p - outs_k[i], outs_c[i]]
                        if math.isnan(r):
                            ok = False
                            break
                        if r > ready:
                            ready = r
                if not ok:
                    continue
                ready_c[s] = ready
                has_c[s] = True
            ready = ready_c[s]
            f = free[unit[s]]
            at = f if f > ready else ready
            if at <= b_at:
                due = p * period + due_c[s]
                if not found or _before(at, due, p, s, 1, b_at, b_due, b_p, b_s, b_kind):
                    found = True
                    b_at, b_due, b_p, b_s, b_kind = at, due, p, s, 1
        if not found:
            return False
        p, s = b_p, b_s
        if b_kind == 0:
            t_end[p, s] = b_at + transfer_s[s]
            free[0] = t_end[p, s]
            busy[0] += transfer_s[s]
            next_t[s] += 1
            has_t[s] = False
        else:
            start[p, s] = b_at
            end[p, s] = b_at + time_s[s]
            free[unit[s]] = end[p, s]
            busy[unit[s]] += time_s[s]
            next_c[s] += 1
            has_c[s] = False
    return True
