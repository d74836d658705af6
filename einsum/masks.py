"""Which tiles of a filtered (masked) iteration space hold any work.

A filter such as the causal ``m1*M0 + m0 <= p`` removes points of an Einsum's iteration space.
When a mapping cuts the space into tiles (``tile[v]`` consecutive values of each index ``v``), a
tile none of whose points passes the filters can be skipped, while a tile with at least one
passing point runs whole. ``active_tile_fraction`` is the fraction of tiles that run.

A tile is a box of integer points; a linear condition ``D(x) op 0`` holds somewhere in a box iff
it holds at the box corner that minimises (or maximises) ``D``, so one condition is decided
exactly. For a conjunction of conditions each one is decided on its own: a tile where every
condition holds somewhere but no point satisfies all of them at once is counted as running (an
over-estimate, never a skipped tile that has work). ``!=`` conditions never empty a tile of more
than one point and are not used to skip. With every tile size 1 the fraction times the dense
point count is the exact filtered count of ``einsim.einsum.analysis.points``.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from einsim.einsum.affine import Condition
from einsim.errors import EinsimError

_GRID_LIMIT = 20_000_000  # tiles of the non-solved filter indices enumerated at most


def _forms(conditions: Sequence[Condition]) -> list[tuple[dict[str, int], int]]:
    """Each condition as ``min over the tile of (coef . x) + const <= 0``: [(coef, const)].

    ``D <= 0`` stays; ``D < 0`` is ``D <= -1`` on integers; ``D >= 0`` is ``-D <= 0``; ``==``
    gives both; ``!=`` gives nothing (it never empties a tile of more than one point)."""
    out = []
    for c in conditions:
        d = dict(c.left.terms)
        for v, k in c.right.terms:
            d[v] = d.get(v, 0) - k
        const = c.left.const - c.right.const
        neg = {v: -k for v, k in d.items()}
        forms = {"<=": [(d, const)], "<": [(d, const + 1)], ">=": [(neg, -const)], ">": [(neg, -const + 1)],
                 "==": [(d, const), (neg, -const)], "!=": []}[c.op]
        out.extend(({v: k for v, k in coef.items() if k}, k0) for coef, k0 in forms)
    return out


def active_tile_fraction(conditions: Sequence[Condition], space: Mapping[str, int], tile: Mapping[str, int]) -> float:
    """Fraction of the tiles of ``space`` (``tile[v]`` values of index ``v`` per tile; an index not
    in ``tile`` is not tiled, a tile spans all of it) that hold at least one point passing every
    condition. 1.0 when there are no conditions."""
    forms = _forms(conditions)
    if any(not coef and const > 0 for coef, const in forms):
        return 0.0  # a condition on constants only that fails everywhere
    forms = [(coef, const) for coef, const in forms if coef]
    if not forms:
        return 1.0
    fvars = sorted({v for coef, _ in forms for v in coef})
    size = {v: int(space[v]) for v in fvars}
    step = {v: max(1, min(int(tile.get(v, size[v])), size[v])) for v in fvars}
    count = {v: -(-size[v] // step[v]) for v in fvars}
    solved = max(fvars, key=lambda v: count[v])
    others = [v for v in fvars if v != solved]
    grid = math.prod(count[v] for v in others)
    if grid > _GRID_LIMIT:
        raise EinsimError(f"masked tiles: {grid} tile combinations of {', '.join(others)} are too many to count")
    lo_x: dict[str, np.ndarray] = {}
    hi_x: dict[str, np.ndarray] = {}
    for axis, v in enumerate(others):
        shape = [1] * len(others)
        shape[axis] = count[v]
        start = np.arange(count[v], dtype=np.int64).reshape(shape) * step[v]
        lo_x[v], hi_x[v] = start, np.minimum(start + step[v] - 1, size[v] - 1)
    shape = tuple(count[v] for v in others)
    n, t, J = size[solved], step[solved], count[solved]
    first = np.zeros(shape, dtype=np.int64)  # the solved index's running tiles: first..last
    last = np.full(shape, J - 1, dtype=np.int64)
    for coef, const in forms:
        rest = np.full(shape, const, dtype=np.int64)  # min over the others' box of their part + const
        for v in others:
            k = coef.get(v, 0)
            if k:
                rest = rest + k * (lo_x[v] if k > 0 else hi_x[v])
        a = coef.get(solved, 0)
        if a > 0:  # min at the tile's first value j*t: a*j*t + rest <= 0
            last = np.minimum(last, np.floor_divide(-rest, a * t))
        elif a < 0:  # min at the tile's last value x_j = min(j*t + t-1, n-1): x_j >= ceil(rest / -a)
            need = -np.floor_divide(-rest, -a)
            j = -np.floor_divide(-(need - t + 1), t)
            first = np.where(need > n - 1, J, np.maximum(first, np.minimum(np.maximum(j, 0), J - 1)))
        else:
            last = np.where(rest <= 0, last, -1)
    running = np.clip(last - first + 1, 0, None)
    return float(running.sum()) / float(grid * J)
