"""Design points of a sweep: axis assignments -> resolved parameters, a stable key and a seed."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np

from einsim.errors import EinsimError
from einsim.explore import derive
from einsim.explore.spec import Grid, Random, SweepSpec


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
    params: dict[str, Any] = {"arch": b.arch, "mapper": b.mapper}
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


def grid(spec: SweepSpec) -> Iterator[dict[str, Any]]:
    names = list(spec.axes)
    for combo in itertools.product(*(spec.axes[n].grid() for n in names)):
        yield dict(zip(names, combo))


def random_assignments(spec: SweepSpec, samples: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    u = rng.random((samples, len(spec.axes)))
    return [assignment_at(spec, row) for row in u]


def assignment_at(spec: SweepSpec, u: np.ndarray) -> dict[str, Any]:
    """Axis values at a point ``u`` of the unit cube (one coordinate per axis, in spec order)."""
    return {name: axis.at(float(x)) for (name, axis), x in zip(spec.axes.items(), u)}


def initial_points(spec: SweepSpec) -> list[Point]:
    """Every point of a grid or random sweep (NSGA-II generations are made by the engine)."""
    if isinstance(spec.strategy, Grid):
        assignments = list(grid(spec))
    elif isinstance(spec.strategy, Random):
        assignments = random_assignments(spec, spec.strategy.samples, spec.strategy.seed)
    else:
        raise ValueError("NSGA-II points come generation by generation (einsim.explore.nsga2)")
    out: list[Point] = []
    seen: set[str] = set()
    for i, a in enumerate(assignments):
        p = resolve(spec, a, i)
        if p.key not in seen:  # two assignments with the same design are one point
            seen.add(p.key)
            out.append(p)
    return out
