"""Slow twin of `einsim.sim.kernels.pipeline.simulate`: the same static tile schedule as simpy processes.

Every job (tile, stage) is a process that waits for the events of what it needs: its producers'
jobs of the same tile, its unit's previous job, each used port's release by its previous user, and
its consumers' jobs ``slots`` tiles back. Nothing here shares code with the kernel.
"""

from __future__ import annotations

from typing import Sequence

import simpy


def simulate(P: int, unit: Sequence[int], t: Sequence[float], m: Sequence[Sequence[float]],
             slots: Sequence[Sequence[int]]) -> tuple[float, list[list[float]], list[list[float]]]:
    env = simpy.Environment()
    S = len(t)
    done = {(p, s): env.event() for p in range(P) for s in range(S)}
    released = {(p, s): {r: env.event() for r in range(len(m[s]))} for p in range(P) for s in range(S)}
    order = [(p, s) for p in range(P) for s in range(S)]
    start = [[0.0] * S for _ in range(P)]
    end = [[0.0] * S for _ in range(P)]

    def previous(i: int, uses) -> tuple[int, int] | None:
        for j in range(i - 1, -1, -1):
            if uses(order[j][1]):
                return order[j]
        return None

    def job(i: int):
        p, s = order[i]
        needs = [done[(p, q)] for q in range(S) if slots[q][s] > 0]
        needs += [done[(p - slots[s][c], c)] for c in range(S) if slots[s][c] > 0 and p - slots[s][c] >= 0]
        before = previous(i, lambda q: unit[q] == unit[s])
        if before is not None:
            needs.append(done[before])
        ports = [r for r in range(len(m[s])) if m[s][r] > 0]
        for r in ports:
            before = previous(i, lambda q, r=r: m[q][r] > 0)
            if before is not None:
                needs.append(released[before][r])
        yield simpy.AllOf(env, needs)
        start[p][s] = env.now
        for r in ports:
            env.process(release(p, s, r, m[s][r]))
        yield env.timeout(t[s])
        end[p][s] = env.now
        done[(p, s)].succeed()

    def release(p: int, s: int, r: int, after: float):
        yield env.timeout(after)
        released[(p, s)][r].succeed()

    for i in range(len(order)):
        env.process(job(i))
    env.run()
    return max(max(row) for row in end), start, end
