"""Design points of a sweep: axis assignments -> resolved parameters, a stable key and a seed."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np

from einsim.errors import EinsimError
from einsim.explore import derive
from einsim.explore.spec import NSGA2, Grid, Random, SweepSpec


@dataclass(frozen=True)
class Point:
    idx: int  # position in the sweep's deterministic order
    generation: int  # 0 for grid and random; the NSGA-II generation otherwise
    key: str  # hash of the resolved parameters
    axes: dict[str, Any]  # axis and derived values by name
    params: dict[str, Any]  # the resolved design: see einsim.explore.design.evaluate_params

    @property
    def seed(self) -> int:
        """Deterministic per-point seed (whatever process evaluates the point)."""
        return int(self.key[:8], 16)


def canonical(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def point_key(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(params).encode()).hexdigest()[:24]


def _base_params(spec: SweepSpec) -> dict[str, Any]:
    b = spec.base
    params: dict[str, Any] = {"arch": b.arch}
    if b.mapper is not None:
        params["mapper"] = b.mapper
    if b.workload is not None:
        params["workload"] = b.workload
    else:
        params.update(model=b.model, phase=b.phase, seq=b.seq, batch=b.batch)
    for key, value in b.set.items():
        params[key] = value
    return params


def resolve(spec: SweepSpec, assignment: Mapping[str, Any], idx: int, generation: int = 0) -> Point:
    """The Point of one axis assignment: base, then axis paths, then derived values in order."""
    params = _base_params(spec)
    env = dict(assignment)
    for name, axis in spec.axes.items():
        if axis.path is not None:
            params[axis.path] = assignment[name]
    for name, d in spec.derived.items():
        try:
            env[name] = derive.evaluate(derive.parse(d.expr), env)
        except EinsimError as exc:
            raise EinsimError(f"derived {name} = {d.expr}: {exc.bare_message} (axes {dict(assignment)})") from None
        if d.path is not None:
            params[d.path] = env[name]
    return Point(idx, generation, point_key(params), env, params)


DEFAULT_MAX_POINTS = 10**7  # the largest sweep run without --max-points: its keys alone take about a GiB


def grid(spec: SweepSpec) -> Iterator[dict[str, Any]]:
    names = list(spec.axes)
    for combo in itertools.product(*(spec.axes[n].grid() for n in names)):
        yield dict(zip(names, combo))


def planned_points(spec: SweepSpec) -> int:
    """How many design points the strategy asks for (before equal designs are merged)."""
    strategy = spec.strategy
    if isinstance(strategy, Grid):
        return math.prod(len(a.values) if a.values is not None else (a.num or 0) for a in spec.axes.values())
    if isinstance(strategy, Random):
        return strategy.samples
    return strategy.population * strategy.generations


def parallel_points(spec: SweepSpec) -> int:
    """How many points can run at once: a generation of NSGA-II, every point otherwise."""
    return spec.strategy.population if isinstance(spec.strategy, NSGA2) else planned_points(spec)


def check_size(spec: SweepSpec, max_points: int = DEFAULT_MAX_POINTS) -> int:
    """The planned number of points, refused when above ``max_points``."""
    n = planned_points(spec)
    if n > max_points:
        what = {"grid": "grid of " + " x ".join(str(len(a.values) if a.values is not None else a.num)
                                               for a in spec.axes.values()),
                "random": "random.samples", "nsga2": "nsga2 population x generations"}[spec.strategy.kind]
        raise EinsimError(f"sweep {spec.name}: {what} = {n:,} points, more than the limit of {max_points:,} "
                          "(raise it with --max-points N, or shrink the sweep)")
    return n


def assignments(spec: SweepSpec) -> Iterator[dict[str, Any]]:
    """The axis assignments of a grid or random sweep, one at a time."""
    if isinstance(spec.strategy, Grid):
        yield from grid(spec)
    elif isinstance(spec.strategy, Random):
        rng = np.random.default_rng(spec.strategy.seed)
        left = spec.strategy.samples
        while left:  # consecutive draws of a Generator equal one large draw, so chunks change nothing
            n = min(left, _CHUNK)
            for row in rng.random((n, len(spec.axes))):
                yield assignment_at(spec, row)
            left -= n
    else:
        raise ValueError("NSGA-II points come generation by generation (einsim.explore.nsga2)")


def assignment_at(spec: SweepSpec, u: np.ndarray) -> dict[str, Any]:
    """Axis values at a point ``u`` of the unit cube (one coordinate per axis, in spec order)."""
    return {name: axis.at(float(x)) for (name, axis), x in zip(spec.axes.items(), u)}


_CHUNK = 4096  # points resolved and handed to the backend at a time


def point_chunks(spec: SweepSpec, chunk: int = _CHUNK) -> Iterator[list[Point]]:
    """The points of a grid or random sweep in order, ``chunk`` at a time (never all in memory).

    Two assignments with the same design are one point: within a chunk the later one is dropped;
    across chunks the store keeps the first (chunks are stored in order).
    """
    out: list[Point] = []
    seen: set[str] = set()
    for i, a in enumerate(assignments(spec)):
        p = resolve(spec, a, i)
        if p.key not in seen:
            seen.add(p.key)
            out.append(p)
        if len(out) == chunk:
            yield out
            out, seen = [], set()
    if out:
        yield out


def initial_points(spec: SweepSpec) -> list[Point]:
    """Every point of a grid or random sweep (for small sweeps; the engine uses ``point_chunks``)."""
    out: list[Point] = []
    seen: set[str] = set()
    for chunk in point_chunks(spec):
        for p in chunk:
            if p.key not in seen:
                seen.add(p.key)
                out.append(p)
    return out
