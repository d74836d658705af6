"""Tile schedules: the timing of fused Einsums that overlap across iterations of their shared loops.

A ``TileSchedule`` is one fusion group (or one unfused Einsum: one stage, one tile) as the
pipeline model sees it; the kernels (einsim.sim.kernels.pipeline) define the schedule, its
closed-form bound and its event simulation. A cascade runs its schedules one after another.
``run`` simulates one schedule and reports per unit its busy time, stalls and what bounds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from einsim.sim.kernels import pipeline as kernel


@dataclass(frozen=True)
class Stage:
    einsum: str
    unit: str
    time_s: float  # per tile: max(compute, each port's transfer) as the loop-nest kernel counts it
    compute_s: float  # per tile: the compute part of time_s
    ports_s: dict[str, float] = field(default_factory=dict)  # port -> transfer seconds per tile


@dataclass(frozen=True)
class TileSchedule:
    stages: tuple[Stage, ...]  # in dependency order
    tiles: int  # iterations of the shared loops
    slots: dict[tuple[int, int], int] = field(default_factory=dict)  # (producer, consumer) -> buffer tiles (1 or 2)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
        """(unit index, t, m [S, R], slots [S, S], unit names, port names) for the kernels."""
        units = list(dict.fromkeys(s.unit for s in self.stages))
        ports = sorted({p for s in self.stages for p in s.ports_s})
        S = len(self.stages)
        unit = np.array([units.index(s.unit) for s in self.stages], dtype=np.int64)
        t = np.array([s.time_s for s in self.stages], dtype=np.float64)
        m = np.zeros((S, len(ports) or 1))
        for i, s in enumerate(self.stages):
            for p, v in s.ports_s.items():
                m[i, ports.index(p)] = v
        slots = np.zeros((S, S), dtype=np.int64)
        for (q, c), k in self.slots.items():
            slots[q, c] = k
        return unit, t, m, slots, units, ports


def bound(schedule: TileSchedule) -> tuple[float, float]:
    """(upper, lower) closed-form bounds of the schedule's makespan; exact where they meet."""
    unit, t, m, slots, _, _ = schedule.arrays()
    return (float(kernel.latency_bound(schedule.tiles, unit, t, m, slots)),
            float(kernel.latency_lower(schedule.tiles, unit, t, m, slots)))


@dataclass
class UnitReport:
    unit: str
    busy_s: float  # time its jobs run
    compute_s: float  # of which computing
    memory_s: float  # of which waiting on transfers beyond the compute (a port sets the stage time)
    stall_s: float  # idle between its first start and its last end (dependency, buffer or port waits)
    bound: str  # compute | memory | dependency: the largest of the three parts above

    def to_dict(self) -> dict:
        return {"unit": self.unit, "busy_s": self.busy_s, "compute_s": self.compute_s, "memory_s": self.memory_s,
                "stall_s": self.stall_s, "bound": self.bound}


@dataclass
class ScheduleRun:
    makespan_s: float
    start: np.ndarray  # [P, S] seconds from the schedule's start
    end: np.ndarray
    units: list[UnitReport]


def run(schedule: TileSchedule) -> ScheduleRun:
    """Simulate the schedule job by job (einsim.sim.kernels.pipeline.simulate)."""
    unit, t, m, slots, names, _ = schedule.arrays()
    P, S = schedule.tiles, len(schedule.stages)
    start, end = np.zeros((P, S)), np.zeros((P, S))
    makespan = float(kernel.simulate(P, unit, t, m, slots, start, end))
    reports = []
    for u, name in enumerate(names):
        on = np.flatnonzero(unit == u)
        busy = float(P * t[on].sum())
        compute = float(P * sum(schedule.stages[s].compute_s for s in on))
        stall = float(end[:, on].max() - start[:, on].min()) - busy
        parts = {"compute": compute, "memory": busy - compute, "dependency": stall}
        reports.append(UnitReport(name, busy, compute, busy - compute, stall, max(parts, key=parts.get)))
    return ScheduleRun(makespan, start, end, reports)
