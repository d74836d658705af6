"""Result: latency, energy, bytes and utilization of an evaluation, composable over a schedule.

``seq(a, b)`` runs results one after the other (times add); ``par(a, b)`` runs them at once on
different hardware (the longest sets the time). Energies, bytes, action counts and busy time always
add; a unit's capacity is its PEs over the whole combined time, also while it idles (a unit that
only ran a ReLU in a long cascade is nearly idle, not busy while it ran).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from einsim.sim.nest import Hierarchy, NestCounts, NestProblem

_ACTIONS = (("read", "reads", "read_J"), ("write", "fills", "write_J"), ("update", "updates", "update_J"))


@dataclass
class Result:
    name: str
    latency_s: float
    energy_J: float
    cycles: float
    bytes_per_level: dict[str, float] = field(default_factory=dict)  # bytes moved at each storage level
    busy_s: dict[str, float] = field(default_factory=dict)  # compute unit -> PE-seconds busy
    capacity_s: dict[str, float] = field(default_factory=dict)  # compute unit -> PE-seconds available
    breakdown: list[dict[str, Any]] = field(default_factory=list)  # {component, action, count, energy_J}
    notes: list[str] = field(default_factory=list)  # what the mapper did that the numbers alone do not say
    units: dict[str, dict[str, float]] = field(default_factory=dict)  # unit -> busy_s, compute_s, memory_s, stall_s
    searches: list[dict[str, Any]] = field(default_factory=list)  # per mapped cascade: mapping and search statistics

    @property
    def utilization(self) -> dict[str, float]:
        """Busy fraction of each compute unit's PEs over the result's whole latency."""
        return {u: self.busy_s[u] / self.capacity_s[u] if self.capacity_s[u] else 0.0 for u in self.busy_s}

    @property
    def dram_bytes(self) -> float:
        """Bytes moved at the outermost level (the first one listed)."""
        return next(iter(self.bytes_per_level.values()), 0.0)

    def unit_timing(self) -> dict[str, dict[str, Any]]:
        """Per unit of ``units``: its seconds, ``idle_s`` (the rest of the latency: schedules it takes
        no part in) and ``bound``, the largest of its compute, memory and stall (dependency) seconds."""
        out = {}
        for unit, t in self.units.items():
            parts = {"compute": t["compute_s"], "memory": t["memory_s"], "dependency": t["stall_s"]}
            idle = max(0.0, self.latency_s - t["busy_s"] - t["stall_s"])
            out[unit] = {**t, "idle_s": idle, "bound": max(parts, key=parts.__getitem__)}
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "latency_s": self.latency_s, "energy_J": self.energy_J, "cycles": self.cycles,
               "dram_bytes": self.dram_bytes, "bytes_per_level": dict(self.bytes_per_level),
               "utilization": self.utilization, "breakdown": [dict(b) for b in self.breakdown],
               "notes": list(self.notes)}
        if self.units:
            out["units"] = self.unit_timing()
        if self.searches:
            # one cascade: its mapping at the top; a model: every cascade's, the statistics summed
            if len(self.searches) == 1:
                out["mapping"] = self.searches[0]["mapping"]
            out["optimal"] = all(s["optimal"] for s in self.searches)
            out["mapspace_size"] = sum(s["mapspace_size"] for s in self.searches)
            out["evaluated"] = sum(s["evaluated"] for s in self.searches)
            out["searches"] = [dict(s) for s in self.searches]
        return out

    def dataframe(self):
        """The per-component, per-action energy breakdown as a pandas DataFrame (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("Result.dataframe() needs pandas: pip install pandas") from exc
        return pd.DataFrame(self.breakdown, columns=["component", "action", "count", "energy_J"])


def _merge(results: tuple[Result, ...], name: str, latency: float, cycles: float) -> Result:
    bytes_: dict[str, float] = {}
    busy: dict[str, float] = {}
    cap: dict[str, float] = {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in results:
        for k, v in r.bytes_per_level.items():
            bytes_[k] = bytes_.get(k, 0.0) + v
        for u, v in r.busy_s.items():
            busy[u] = busy.get(u, 0.0) + v
        for u, v in r.capacity_s.items():
            # the unit's PEs (capacity per second) over the combined latency, busy or not
            per_s = v / r.latency_s if r.latency_s else 0.0
            cap[u] = max(cap.get(u, 0.0), per_s * latency)
        for b in r.breakdown:
            row = rows.setdefault((b["component"], b["action"]), {"component": b["component"], "action": b["action"],
                                                                   "count": 0.0, "energy_J": 0.0})
            row["count"] += b["count"]
            row["energy_J"] += b["energy_J"]
    notes = list(dict.fromkeys(n for r in results for n in r.notes))
    units: dict[str, dict[str, float]] = {}
    for r in results:
        for u, t in r.units.items():
            mine = units.setdefault(u, dict.fromkeys(t, 0.0))
            for k, v in t.items():
                mine[k] += v
    searches = list({json.dumps(s, sort_keys=True, default=str): s for r in results for s in r.searches}.values())
    return Result(name, latency, sum(r.energy_J for r in results), cycles, bytes_, busy, cap, list(rows.values()), notes,
                  units, searches)


def seq(*results: Result, name: str = "seq") -> Result:
    """One after the other: latencies and cycles add."""
    return _merge(results, name, sum(r.latency_s for r in results), sum(r.cycles for r in results))


def par(*results: Result, name: str = "par") -> Result:
    """At the same time on different hardware: the longest sets latency and cycles."""
    return _merge(results, name, max(r.latency_s for r in results), max(r.cycles for r in results))


def retimed(result: Result, latency_s: float, name: str | None = None) -> Result:
    """``result``'s work over ``latency_s`` instead (a pipeline overlapped its parts): the same counts,
    energy and busy time; each unit's capacity over the new latency."""
    k = latency_s / result.latency_s if result.latency_s else 0.0
    return Result(name or result.name, latency_s, result.energy_J, result.cycles * k, dict(result.bytes_per_level),
                  dict(result.busy_s), {u: s * k for u, s in result.capacity_s.items()},
                  [dict(b) for b in result.breakdown], list(result.notes), {u: dict(t) for u, t in result.units.items()},
                  [dict(s) for s in result.searches])


def scaled(result: Result, k: float, name: str | None = None) -> Result:
    """``k`` copies of ``result`` one after another (k may be fractional: the share of a mapping's
    tiles that run when the rest are masked)."""
    return Result(name or result.name, result.latency_s * k, result.energy_J * k, result.cycles * k,
                  {n: b * k for n, b in result.bytes_per_level.items()},
                  {u: s * k for u, s in result.busy_s.items()}, {u: s * k for u, s in result.capacity_s.items()},
                  [{**b, "count": b["count"] * k, "energy_J": b["energy_J"] * k} for b in result.breakdown],
                  list(result.notes), {u: {n: v * k for n, v in t.items()} for u, t in result.units.items()},
                  [dict(s) for s in result.searches])


def from_counts(problem: NestProblem, hierarchy: Hierarchy, counts: NestCounts, name: str | None = None) -> Result:
    """A Result from the kernel's per-instance counts of one mapping."""
    seconds = counts.cycles / hierarchy.clock_Hz
    breakdown = []
    bytes_per_level = {}
    for li, level in enumerate(hierarchy.levels):
        inst = counts.instances[li]
        words = 0.0
        for action, attr, energy_attr in _ACTIONS:
            per_tensor = getattr(counts, attr)[li]
            count = float(per_tensor.sum() * inst)
            energy = sum(math.ceil(c / level.block_words) for c in per_tensor) * getattr(level, energy_attr) * inst
            words += count
            if count:
                breakdown.append({"component": level.name, "action": action, "count": count, "energy_J": energy})
        if level.leak_J_per_cycle:  # every built instance leaks for the whole run (or, idle_leaks off, the used ones)
            leaking = math.prod(above.fanout for above in hierarchy.levels[:li]) if level.idle_leaks else inst
            breakdown.append({"component": level.name, "action": "leakage", "count": counts.cycles * leaking,
                              "energy_J": level.leak_J_per_cycle * counts.cycles * leaking})
        bytes_per_level[level.name] = words * hierarchy.word_bytes
    points = counts.computes * counts.instances[-1]
    breakdown.append({"component": hierarchy.unit, "action": "compute", "count": float(points),
                      "energy_J": points * hierarchy.op_energy_J})
    pes = math.prod(lv.fanout for lv in hierarchy.levels)
    busy = points * hierarchy.op_cycles / hierarchy.clock_Hz
    return Result(name or problem.name, seconds, float(counts.energy_J.sum()), counts.cycles, bytes_per_level,
                  {hierarchy.unit: busy}, {hierarchy.unit: pes * seconds}, breakdown)


def unit_times(schedules: Iterable[tuple[float, Iterable[tuple[str, float, float]]]]) -> dict[str, dict[str, float]]:
    """``Result.units`` of tile schedules run one after another, each given as (its latency, its
    stages as (unit, seconds the stage runs over all tiles, of which computing)): per unit the
    seconds it runs (``busy_s``), computing (``compute_s``), beyond computing (``memory_s``: a port
    set the stage's time) and, in the schedules it takes part in, not running (``stall_s``: waits
    on dependencies, buffers and ports)."""
    out: dict[str, dict[str, float]] = {}
    for latency, stages in schedules:
        mine: dict[str, list[float]] = {}
        for unit, busy, compute in stages:
            t = mine.setdefault(unit, [0.0, 0.0])
            t[0] += busy
            t[1] += compute
        for unit, (busy, compute) in mine.items():
            t = out.setdefault(unit, {"busy_s": 0.0, "compute_s": 0.0, "memory_s": 0.0, "stall_s": 0.0})
            t["busy_s"] += busy
            t["compute_s"] += compute
            t["memory_s"] += busy - compute
            t["stall_s"] += max(0.0, latency - busy)
    return out
