"""Task graphs of a phone's decode or prefill and their event simulation (`sim/kernels/phone_events.py`).

A policy builds one `TaskGraph` per (layer, token) or per prefill, with tasks on named engine
classes (compute threads, the I/O thread, the NPU ...), each a fixed part (launch, invocation,
barrier) and a stream on the shared DRAM or the UFS device. A `TaskGraph` of ``count`` > 1 stands for
that many graphs of one structure whose fixed parts, volumes and caps are arrays (one value per
graph): a policy builds a template once and fills its parameters in vectorised. `simulate` runs a
batch of them in one kernel call and returns `Schedules`: per graph its `EventSchedule` (start/end per
task, the critical path), makespan, busy time per engine class and the critical path's seconds by
task category.
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


def _refuse(label: str, fixed_s: object, volume: object, cap: object) -> None:
    raise EinsimError(f"task {label!r}: fixed_s and volume must be >= 0 and cap > 0 (got {fixed_s}, {volume}, {cap})")


@dataclass
class TaskGraph:
    """Tasks in insertion order (their index is their dispatch priority). With ``count`` > 1, ``count``
    graphs of this structure: a task's ``fixed_s``, ``volume`` and ``cap`` are each a float (every graph)
    or an array of ``count`` values (one per graph)."""

    count: int = 1
    engine: list[int] = field(default_factory=list)
    fixed_s: list[float | np.ndarray] = field(default_factory=list)
    pool: list[int] = field(default_factory=list)
    volume: list[float | np.ndarray] = field(default_factory=list)
    cap: list[float | np.ndarray] = field(default_factory=list)
    deps: list[tuple[int, ...]] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    hold: list[int] = field(default_factory=list)

    def add(self, engine: int, label: str, *, fixed_s: float | np.ndarray = 0.0, pool: int = NONE,
            volume: float | np.ndarray = 0.0, cap: float | np.ndarray = np.inf, deps: Sequence[int] = (),
            hold: int = NONE) -> int:
        """A task: ``fixed_s`` seconds on its server, then ``volume`` units of ``pool`` at <= ``cap``/s
        (with pool NONE, ``volume`` is more seconds); with ``hold`` it also holds a server of that
        engine class for its whole duration (a thread blocked in a synchronous call). Returns its index."""
        # a float is checked here, an array of a template's values at once by `simulate` (exact float types pass
        # through; anything else, np.float64 included, is converted by `_value`)
        if type(fixed_s) is not float:
            fixed_s = self._value(fixed_s)
        if type(volume) is not float:
            volume = self._value(volume)
        if type(cap) is not float:
            cap = self._value(cap)
        if not ((fixed_s >= 0 if type(fixed_s) is float else True) and (volume >= 0 if type(volume) is float else True)
                and (cap > 0 if type(cap) is float else True)):
            _refuse(label, fixed_s, volume, cap)
        if hold == engine:
            raise EinsimError(f"task {label!r}: the held engine class must differ from the task's own")
        deps = tuple(deps)
        n = len(self.engine)
        if deps and (min(deps) < 0 or max(deps) >= n):
            raise EinsimError(f"task {label!r}: a dependency must be an earlier task")
        self.engine.append(engine)
        self.fixed_s.append(fixed_s)
        self.pool.append(pool)
        self.volume.append(volume)
        self.cap.append(cap)
        self.deps.append(deps)
        self.label.append(label)
        self.hold.append(hold)
        return n

    def _value(self, x: float | np.ndarray) -> float | np.ndarray:
        """A float, or an array of one value per graph of this template."""
        if isinstance(x, (float, int)):
            return float(x)
        x = np.asarray(x, float)
        if x.shape != (self.count,):
            raise EinsimError(f"a template of {self.count} graphs takes {self.count} values per task, got {x.shape}")
        return x

    def add_copies(self, count: int, engine: int, label: str, *, fixed_s: float | np.ndarray = 0.0, pool: int = NONE,
                   volume: float | np.ndarray = 0.0, cap: float | np.ndarray = np.inf, deps: Sequence[int] = (),
                   hold: int = NONE) -> list[int]:
        """``count`` identical tasks (as ``count`` calls of `add`, checked once): one block split over
        servers. Returns their indices."""
        if count <= 0:
            return []
        first = self.add(engine, label, fixed_s=fixed_s, pool=pool, volume=volume, cap=cap, deps=deps, hold=hold)
        for column in (self.engine, self.fixed_s, self.pool, self.volume, self.cap, self.deps, self.label, self.hold):
            column.extend([column[-1]] * (count - 1))
        return list(range(first, first + count))

    def pool_volume(self, pool: int) -> np.ndarray:
        """Per graph, the volume of its tasks on ``pool``, summed in task order."""
        total = np.zeros(self.count)
        for v, p in zip(self.volume, self.pool):
            if p == pool:
                total = total + v
        return total

    def graph(self, i: int) -> TaskGraph:
        """Graph ``i`` of this template on its own (``count`` 1)."""
        one = lambda column: [v if isinstance(v, float) else float(v[i]) for v in column]  # noqa: E731
        return TaskGraph(1, list(self.engine), one(self.fixed_s), list(self.pool), one(self.volume), one(self.cap),
                         list(self.deps), list(self.label), list(self.hold))

    def __len__(self) -> int:
        return len(self.engine)


@dataclass(frozen=True)
class EventSchedule:
    """One graph's schedule (``graph`` its template when it is one of several)."""

    graph: TaskGraph
    start: np.ndarray
    end: np.ndarray

    @property
    def makespan(self) -> float:
        return float(self.end.max()) if self.end.size else 0.0

    def busy(self, engine: int) -> float:
        """Seconds the servers of ``engine`` hold tasks (summed over servers)."""
        e, held = np.asarray(self.graph.engine), self.end - self.start
        return float(held[e == engine].sum())

    def critical_path(self) -> list[int]:
        """Tasks from the last to finish back to the start, each the one whose end let its successor
        start: the latest-ending dependency, else the task that freed a server (of its engine class or
        of the class it holds). The walk the kernel does for `Schedules.critical`, listing the tasks."""
        if not len(self.graph):
            return []
        tol = EPS * max(self.makespan, 1e-12) * 10
        start, end = self.start.tolist(), self.end.tolist()
        uses = [{e, h} - {NONE} for e, h in zip(self.graph.engine, self.graph.hold)]
        i = int(np.argmax(self.end))
        path = [i]
        while start[i] > tol:
            cand = [d for d in self.graph.deps[i] if end[d] >= start[i] - tol]
            if not cand:  # waited for a server of its engine class
                cand = [j for j, used in enumerate(uses) if j != i and used & uses[i] and abs(end[j] - start[i]) <= tol]
            if not cand:
                break
            i = max(cand, key=lambda j: (end[j], -j))
            path.append(i)
        return path


@dataclass(frozen=True)
class Schedules(Sequence[EventSchedule]):
    """The schedules of a batch of graphs, in order (a template counts ``count`` graphs)."""

    templates: tuple[TaskGraph, ...]
    graph_ptr: np.ndarray  # graph g's tasks are start[graph_ptr[g]:graph_ptr[g + 1]]
    start: np.ndarray
    end: np.ndarray
    categories: tuple[str, ...]  # the columns of `critical`: the category names given, then "other"
    critical: np.ndarray  # (graphs, categories) seconds of each graph's critical path by category

    def __len__(self) -> int:
        return len(self.graph_ptr) - 1

    def __getitem__(self, g: int) -> EventSchedule:  # type: ignore[override]
        if not -len(self) <= g < len(self):
            raise IndexError(g)
        g %= len(self)
        a, b = self.graph_ptr[g], self.graph_ptr[g + 1]
        return EventSchedule(self._template(g), self.start[a:b], self.end[a:b])

    def _template(self, g: int) -> TaskGraph:
        for t in self.templates:
            if g < t.count:
                return t
            g -= t.count
        raise IndexError(g)

    @property
    def makespan(self) -> np.ndarray:
        """Per graph, its last task's end (0 for an empty graph)."""
        out = np.zeros(len(self))
        full = np.diff(self.graph_ptr) > 0
        if full.any():
            out[full] = np.maximum.reduceat(self.end, self.graph_ptr[:-1][full])
        return out

    def busy(self, engines: Sequence[int]) -> np.ndarray:
        """(graphs, len(engines)) seconds the servers of each of ``engines`` hold tasks (summed over servers)."""
        out, g = [], 0
        for t in self.templates:
            a, b = self.graph_ptr[g], self.graph_ptr[g + t.count]
            held = (self.end[a:b] - self.start[a:b]).reshape(t.count, len(t))
            e = np.asarray(t.engine)
            # a contiguous copy: its row sums are each row's own sum (a strided view reduces in another order)
            out.append(np.stack([np.ascontiguousarray(held[:, e == engine]).sum(axis=1) for engine in engines], axis=1))
            g += t.count
        return np.concatenate(out) if out else np.zeros((0, len(engines)))

    def critical_s(self, category: str) -> np.ndarray:
        """Per graph, the seconds of its critical path in tasks of ``category``."""
        return self.critical[:, self.categories.index(category)]


def simulate(graphs: Sequence[TaskGraph], platform: Platform,
             category: dict[str, str] | None = None) -> Schedules:
    """The schedules of ``graphs`` (independent, each from time 0) in one kernel call; their critical paths
    split by ``category`` (a task's label up to ':' -> its category name; other labels: "other").

    The kernel's task arrays are gathered from the templates' columns at once: per task of the batch, the
    template task it copies (``src``), whatever the number of templates."""
    category = category or {}
    names = tuple(dict.fromkeys(category.values())) + ("other",)
    servers, kind, dram = platform.arrays()
    graphs = tuple(graphs)
    counts = np.array([g.count for g in graphs], np.int64)
    tasks = np.array([len(g) for g in graphs], np.int64)
    sizes = np.repeat(tasks, counts)
    graph_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(graph_ptr[-1])
    first_graph = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)  # template k's first graph
    first_task = np.concatenate([[0], np.cumsum(tasks)]).astype(np.int64)  # template k's first column entry
    firsts = np.repeat(graph_ptr[:-1], sizes)  # per task, its graph's first task
    src = np.repeat(first_task[:-1][np.repeat(np.arange(len(graphs)), counts)], sizes) + (np.arange(n) - firsts)

    def column(name: str) -> list:
        return list(chain.from_iterable(g.__dict__[name] for g in graphs))

    engine, hold, pool = (np.array(column(name), np.int64).reshape(-1)[src] for name in ("engine", "hold", "pool"))
    code: dict[str, int] = {}  # a label's category code (labels recur across tasks and templates)
    codes = [code.get(label) if label in code else code.setdefault(
        label, names.index(category.get(label.split(":", 1)[0], "other"))) for label in column("label")]
    deps = column("deps")
    template_deps = np.fromiter(map(len, deps), np.int64, len(deps))
    template_dep_at = np.concatenate([[0], np.cumsum(template_deps)])[:-1]
    flat = np.fromiter(chain.from_iterable(deps), np.int64, int(template_deps.sum()))
    n_deps = template_deps[src]
    dep_ptr = np.concatenate([[0], np.cumsum(n_deps)]).astype(np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), n_deps)  # per dependency, the task that has it
    dep_idx = flat[template_dep_at[src[owner]] + (np.arange(owner.size) - dep_ptr[owner])] + firsts[owner]
    fixed_s, volume, cap = (_values(column(name), graphs, graph_ptr, first_graph, first_task, src)
                            for name in ("fixed_s", "volume", "cap"))
    bad = np.flatnonzero(~((fixed_s >= 0) & (volume >= 0) & (cap > 0)))
    if bad.size:
        j = int(bad[0])
        _refuse(column("label")[int(src[j])], fixed_s[j], volume[j], cap[j])
    if engine.size and (engine.min() < 0 or engine.max() >= len(servers) or hold.max() >= len(servers)):
        raise EinsimError("a task names an engine class the platform does not have")
    used = np.unique(kind[engine[pool == DRAM]]) if engine.size else []
    if any(np.isnan(dram[k]) for k in used):
        raise EinsimError("a task streams from DRAM on an engine kind with no measured bandwidth")
    start, end, critical = _simulate(graph_ptr, engine, servers, kind, fixed_s, pool, volume, cap, dep_ptr, dep_idx,
                                     np.nan_to_num(dram, nan=1.0), int(platform.ufs_queues),
                                     float(platform.ufs_degradation), hold, np.array(codes, np.int64)[src], len(names))
    return Schedules(graphs, graph_ptr, start, end, names, critical)


def _values(values: list, graphs: tuple[TaskGraph, ...], graph_ptr: np.ndarray, first_graph: np.ndarray,
            first_task: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Per task of the batch, its value from the templates' concatenated columns ``values`` (a float for every
    graph of a template, or an array of one value per graph)."""
    is_float = [type(v) is float for v in values]
    if all(is_float):
        return np.array(values, float).reshape(-1)[src]
    out = np.array([v if f else 0.0 for v, f in zip(values, is_float)], float)[src]
    at = np.flatnonzero(~np.array(is_float, bool))  # column entries holding one value per graph
    template = np.searchsorted(first_task, at, side="right") - 1
    reps = np.array([g.count for g in graphs], np.int64)[template]
    graph = np.repeat(first_graph[template], reps) + (np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps))
    out[graph_ptr[graph] + np.repeat(at - first_task[template], reps)] = np.concatenate([values[i] for i in at])
    return out
