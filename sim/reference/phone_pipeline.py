"""Slow twin of `einsim.sim.kernels.phone_pipeline`: the same greedy schedule, in plain Python."""

from __future__ import annotations

from typing import Sequence


def pipeline(durations: Sequence[Sequence[float]], stage_unit: Sequence[int], n_compute: int,
             n_io: int) -> tuple[list[list[float]], list[list[float]]]:
    n = len(durations)
    s = len(stage_unit)
    start = [[0.0] * s for _ in range(n)]
    end = [[0.0] * s for _ in range(n)]
    threads = {0: [0.0] * n_compute, 1: [0.0] * n_io}  # time each thread becomes free
    pending = [(c, 0) for c in range(n)]  # (cluster, next stage)
    done_at = [0.0] * n
    while pending:
        def earliest(task: tuple[int, int]) -> float:
            c, k = task
            if durations[c][k] == 0:
                return done_at[c]
            return max(done_at[c], min(threads[stage_unit[k]]))

        c, k = min(pending, key=lambda task: (earliest(task), task[0]))
        t = earliest((c, k))
        d = durations[c][k]
        if d:
            pool = threads[stage_unit[k]]
            pool[pool.index(min(pool))] = t + d
        start[c][k], end[c][k] = t, t + d
        done_at[c] = t + d
        pending.remove((c, k))
        if k + 1 < s:
            pending.append((c, k + 1))
    return start, end
