"""Task graphs of a phone's decode or prefill and their event simulation (`sim/kernels/phone_events.py`).

A policy builds one `TaskGraph` per (layer, token) or per prefill, with tasks on named engine
classes (compute threads, the I/O thread, the NPU ...), each a fixed part (launch, invocation,
barrier) and a stream on the shared DRAM or the UFS device; `simulate` runs a batch of them in one
kernel call and returns each graph's `Schedule`: start/end per task, makespan, busy time per
engine class and the critical path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Sequence

import numpy as np

from einsim.errors import EinsimError
from einsim.sim.kernels.phone_events import EPS, simulate as _simulate

NONE, DRAM, UFS = -1, 0, 1  # the pool a task streams from
KIND_BITS = {"CPU": 1, "NPU": 2, "GPU": 4}


@dataclass(frozen=True)
class Platform:
    """Engine classes (name -> servers, kind) and the shared pools: DRAM bandwidth by the set of
    engine kinds streaming at once, the UFS's command queues and multi-issuer loss."""

    engines: tuple[tuple[str, int, str], ...]  # (name, servers, kind in KIND_BITS)
    dram_Bps: dict[frozenset[str], float]  # achieved bandwidth while exactly these kinds stream
    ufs_queues: int = 1
    ufs_degradation: float = 0.0

    def index(self, name: str) -> int:
        for i, (n, _, _) in enumerate(self.engines):
            if n == name:
                return i
        raise EinsimError(f"no engine class {name!r} (have: {', '.join(n for n, _, _ in self.engines)})")

    def key(self) -> tuple:
        """The platform as a hashable value (for caches keyed by a graph's content and its platform)."""
        return (self.engines, tuple(sorted((tuple(sorted(k)), v) for k, v in self.dram_Bps.items())), self.ufs_queues,
                self.ufs_degradation)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        servers = np.array([s for _, s, _ in self.engines], np.int64)
        kind = np.array([KIND_BITS[k] for _, _, k in self.engines], np.int64)
        dram = np.full(1 << len(KIND_BITS), np.nan)
        for mask in range(1, len(dram)):
            kinds = frozenset(k for k, b in KIND_BITS.items() if mask & b)
            if kinds in self.dram_Bps:
                dram[mask] = self.dram_Bps[kinds]
            else:  # an unmeasured mix runs at the best measured subset's bandwidth
                subsets = [v for ks, v in self.dram_Bps.items() if ks <= kinds]
                dram[mask] = max(subsets) if subsets else np.nan
        return servers, kind, dram


@dataclass
class TaskGraph:
    """Tasks in insertion order (their index is their dispatch priority)."""

    engine: list[int] = field(default_factory=list)
    fixed_s: list[float] = field(default_factory=list)
    pool: list[int] = field(default_factory=list)
    volume: list[float] = field(default_factory=list)
    cap: list[float] = field(default_factory=list)
    deps: list[tuple[int, ...]] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    hold: list[int] = field(default_factory=list)

    def add(self, engine: int, label: str, *, fixed_s: float = 0.0, pool: int = NONE, volume: float = 0.0,
            cap: float = np.inf, deps: Sequence[int] = (), hold: int = NONE) -> int:
        """A task: ``fixed_s`` seconds on its server, then ``volume`` units of ``pool`` at <= ``cap``/s
        (with pool NONE, ``volume`` is more seconds); with ``hold`` it also holds a server of that
        engine class for its whole duration (a thread blocked in a synchronous call). Returns its index."""
        if not (fixed_s >= 0 and volume >= 0 and cap > 0):
            raise EinsimError(f"task {label!r}: fixed_s and volume must be >= 0 and cap > 0 "
                              f"(got {fixed_s}, {volume}, {cap})")
        if hold == engine:
            raise EinsimError(f"task {label!r}: the held engine class must differ from the task's own")
        deps = tuple(deps)
        if deps and (min(deps) < 0 or max(deps) >= len(self.engine)):
            raise EinsimError(f"task {label!r}: a dependency must be an earlier task")
        self.engine.append(engine)
        self.fixed_s.append(float(fixed_s))
        self.pool.append(pool)
        self.volume.append(float(volume))
        self.cap.append(float(cap))
        self.deps.append(deps)
        self.label.append(label)
        self.hold.append(hold)
        return len(self.engine) - 1

    def add_copies(self, count: int, engine: int, label: str, *, fixed_s: float = 0.0, pool: int = NONE,
                   volume: float = 0.0, cap: float = np.inf, deps: Sequence[int] = (), hold: int = NONE) -> list[int]:
        """``count`` identical tasks (as ``count`` calls of `add`, checked once): one block split over
        servers. Returns their indices."""
        if count <= 0:
            return []
        first = self.add(engine, label, fixed_s=fixed_s, pool=pool, volume=volume, cap=cap, deps=deps, hold=hold)
        for column in (self.engine, self.fixed_s, self.pool, self.volume, self.cap, self.deps, self.label, self.hold):
            column.extend([column[-1]] * (count - 1))
        return list(range(first, first + count))

    def __len__(self) -> int:
        return len(self.engine)


@dataclass(frozen=True)
class EventSchedule:
    graph: TaskGraph
    start: np.ndarray
    end: np.ndarray

    @property
    def makespan(self) -> float:
        return float(self.end.max()) if self.end.size else 0.0

    def busy(self, engine: int) -> float:
        """Seconds the servers of ``engine`` hold tasks (summed over servers)."""
        return self.busy_per_engine((engine,))[0]

    def busy_per_engine(self, engines: Sequence[int]) -> tuple[float, ...]:
        """`busy` of each of ``engines``, converting the task list once."""
        e, held = np.asarray(self.graph.engine), self.end - self.start
        return tuple(float(held[e == engine].sum()) for engine in engines)

    def critical_path(self) -> list[int]:
        """Tasks from the last to finish back to the start, each the one whose end let its successor
        start: the latest-ending dependency, else the task that freed a server (of its engine class or
        of the class it holds)."""
        if not len(self.graph):
            return []
        tol = EPS * max(self.makespan, 1e-12) * 10
        uses: list[set[int]] = []  # per task, the engine classes it runs on or holds (built on first wait)
        start, end = self.start.tolist(), self.end.tolist()  # Python floats: the walk indexes them one by one
        by_engine: dict[int, set[int]] = {}  # engine class -> the tasks that run on it or hold it
        i = int(np.argmax(self.end))
        path = [i]
        while start[i] > tol:
            deps = self.graph.deps[i]
            cand = [d for d in deps if end[d] >= start[i] - tol]
            if not cand:  # waited for a server of its engine class
                if not uses:
                    uses = [{e, h} - {NONE} for e, h in zip(self.graph.engine, self.graph.hold)]
                    for j, used in enumerate(uses):
                        for e in used:
                            by_engine.setdefault(e, set()).add(j)
                near = set().union(*(by_engine.get(e, ()) for e in uses[i]))
                cand = [j for j in near if j != i and abs(end[j] - start[i]) <= tol]
            if not cand:
                break
            i = max(cand, key=lambda j: (end[j], -j))
            path.append(i)
        return path

    def critical_split(self, category: dict[str, str]) -> dict[str, float]:
        """Seconds of the critical path by category of the tasks' label prefixes (``label`` up to ':')."""
        out: dict[str, float] = {}
        for i in self.critical_path():
            key = category.get(self.graph.label[i].split(":", 1)[0], "other")
            out[key] = out.get(key, 0.0) + float(self.end[i] - self.start[i])
        return out


def simulate(graphs: Sequence[TaskGraph], platform: Platform) -> list[EventSchedule]:
    """The schedules of ``graphs`` (independent, each from time 0) in one kernel call."""
    servers, kind, dram = platform.arrays()
    sizes = [len(g) for g in graphs]
    graph_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(graph_ptr[-1])
    cat = lambda attr, dtype: np.fromiter(chain.from_iterable(getattr(g, attr) for g in graphs), dtype, n)  # noqa: E731
    engine = cat("engine", np.int64)
    hold = cat("hold", np.int64)
    if engine.size and (engine.min() < 0 or engine.max() >= len(servers) or hold.max() >= len(servers)):
        raise EinsimError("a task names an engine class the platform does not have")
    pool = cat("pool", np.int64)
    used = np.unique(kind[engine[pool == DRAM]]) if engine.size else []
    if any(np.isnan(dram[k]) for k in used):
        raise EinsimError("a task streams from DRAM on an engine kind with no measured bandwidth")
    deps = [g.deps for g in graphs]
    n_deps = np.fromiter(map(len, chain.from_iterable(deps)), np.int64, n)
    dep_ptr = np.concatenate([[0], np.cumsum(n_deps)]).astype(np.int64)
    local = np.fromiter(chain.from_iterable(chain.from_iterable(deps)), np.int64, int(dep_ptr[-1]))
    dep_idx = local + np.repeat(np.repeat(graph_ptr[:-1], sizes), n_deps)  # global task indices
    start, end = _simulate(graph_ptr, engine, servers, kind, cat("fixed_s", float), pool, cat("volume", float),
                           cat("cap", float), dep_ptr, dep_idx, np.nan_to_num(dram, nan=1.0),
                           int(platform.ufs_queues), float(platform.ufs_degradation), hold)
    return [EventSchedule(g, start[a:b], end[a:b]) for g, a, b in zip(graphs, graph_ptr[:-1], graph_ptr[1:])]
