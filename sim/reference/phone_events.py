"""Slow twin of `einsim.sim.kernels.phone_events` on simpy: the same semantics, written independently.

Each task is a simpy process; each engine class is a `simpy.Resource`; each shared pool (DRAM, UFS)
is a manager process that keeps its streams' remaining volumes and re-shares the capacity whenever
a stream joins or leaves (progressive filling, not the kernel's sorted water-fill). A dispatcher
process starts ready tasks in index order once every event of the current instant has run.
"""

from __future__ import annotations

from typing import Sequence

import simpy

EPS = 1e-9


def _progressive_fill(caps: dict[int, float], capacity: float) -> dict[int, float]:
    rates: dict[int, float] = {}
    open_ = set(caps)
    left = capacity
    while open_:
        share = left / len(open_)
        capped = {i for i in open_ if caps[i] <= share}
        if not capped:
            rates.update({i: share for i in open_})
            break
        for i in capped:
            rates[i] = caps[i]
            left -= caps[i]
        open_ -= capped
    return rates


class _Pool:
    def __init__(self, env: simpy.Environment, capacity) -> None:
        self.env, self.capacity = env, capacity  # capacity(list of (task, kind)) -> units/s
        self.streams: dict[int, list] = {}  # task -> [remaining, cap, kind, done event]
        self.changed = env.event()
        env.process(self._run())

    def join(self, task: int, volume: float, cap: float, kind: int) -> simpy.Event:
        done = self.env.event()
        self.streams[task] = [volume, cap, kind, done]
        if not self.changed.triggered:
            self.changed.succeed()
        return done

    def _run(self):
        env = self.env
        last = env.now
        rates: dict[int, float] = {}
        while True:
            if rates:
                finish = {i: last + s[0] / rates[i] for i, s in self.streams.items() if i in rates}
                t_next = min(finish.values())
                wake = env.timeout(max(0.0, t_next - env.now))
                yield wake | self.changed
            else:
                yield self.changed
            now = env.now
            tol = EPS * max(now, 1e-12)
            for i in list(self.streams):
                if i not in rates:
                    continue
                s = self.streams[i]
                if last + s[0] / rates[i] <= now + tol:
                    del self.streams[i]
                    s[3].succeed()
                else:
                    s[0] -= rates[i] * (now - last)
            last = now
            if self.changed.triggered:
                self.changed = env.event()
            caps = {i: s[1] for i, s in self.streams.items()}
            kinds = [s[2] for s in self.streams.values()]
            rates = _progressive_fill(caps, self.capacity(kinds)) if caps else {}


def simulate(tasks: Sequence[dict], servers: Sequence[int], kind: Sequence[int], dram_Bps: Sequence[float],
             ufs_queues: int, ufs_degradation: float) -> tuple[list[float], list[float]]:
    """Start and end of each task of one graph. A task: engine, fixed_s, pool (-1, 0 DRAM, 1 UFS),
    volume, cap, deps (indices), and optionally hold (an engine class of which it also takes one
    server for its whole duration)."""
    env = simpy.Environment()
    engines = [simpy.Resource(env, capacity=n) for n in servers]

    def dram_capacity(kinds: list[int]) -> float:
        mask = 0
        for k in kinds:
            mask |= k
        return dram_Bps[mask]

    pools = {0: _Pool(env, dram_capacity),
             1: _Pool(env, lambda kinds: 1.0 - ufs_degradation if len(kinds) > ufs_queues else 1.0)}
    n = len(tasks)
    start, end = [0.0] * n, [0.0] * n
    finished = [env.event() for _ in range(n)]
    started = [False] * n
    poke = [env.event()]

    def wake_dispatcher() -> None:
        if not poke[0].triggered:
            poke[0].succeed()

    def resources(task: dict) -> list[simpy.Resource]:
        held = task.get("hold", -1)
        return [engines[task["engine"]]] + ([engines[held]] if held >= 0 else [])

    def run(i: int, grants):
        task = tasks[i]
        start[i] = env.now
        fixed = task["fixed_s"] + (task["volume"] if task["pool"] < 0 else 0.0)
        yield env.timeout(fixed)
        if task["pool"] >= 0 and task["volume"] > 0:
            yield pools[task["pool"]].join(i, task["volume"], task["cap"], kind[task["engine"]])
        end[i] = env.now
        for res, grant in zip(resources(task), grants):
            res.release(grant)
        finished[i].succeed()
        wake_dispatcher()

    def dispatcher():
        while not all(started):
            while env.peek() <= env.now + EPS * max(env.now, 1e-12):  # let this instant settle
                yield env.timeout(max(0.0, env.peek() - env.now))
            for i, task in enumerate(tasks):
                needed = resources(task)
                if not started[i] and all(finished[d].processed for d in task["deps"]) \
                        and all(res.count < res.capacity for res in needed):
                    started[i] = True
                    env.process(run(i, [res.request() for res in needed]))
            if all(started):
                break
            if poke[0].triggered:
                poke[0] = env.event()
            yield poke[0]

    env.process(dispatcher())
    env.run()
    if not all(f.processed for f in finished):
        raise ValueError("task graph deadlock")
    return start, end
