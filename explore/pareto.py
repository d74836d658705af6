"""Pareto fronts by vectorized non-dominated sorting (numpy); every objective is minimized."""

from __future__ import annotations

import numpy as np

_BLOCK = 512  # rows compared at once: bounds memory at _BLOCK x n x objectives booleans


def dominated(values: np.ndarray) -> np.ndarray:
    """``out[i]`` is True when some row is <= row i everywhere and < somewhere (NaN rows lose)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("values must be a 2-D array: one row per point, one column per objective")
    v = np.where(np.isnan(v), np.inf, v)
    out = np.zeros(len(v), dtype=bool)
    for start in range(0, len(v), _BLOCK):
        block = v[start:start + _BLOCK, None, :]  # (b, 1, k) against (1, n, k)
        le = (v[None, :, :] <= block).all(axis=2)
        lt = (v[None, :, :] < block).any(axis=2)
        out[start:start + _BLOCK] = (le & lt).any(axis=1)
    return out


def front_mask(values: np.ndarray) -> np.ndarray:
    """Rows on the Pareto front (not dominated by any other row)."""
    return ~dominated(values)


def ranks(values: np.ndarray) -> np.ndarray:
    """Non-dominated rank of every row: 0 for the front, 1 for the front of the rest, ..."""
    v = np.asarray(values, dtype=float)
    out = np.full(len(v), -1, dtype=int)
    left = np.arange(len(v))
    r = 0
    while len(left):
        on = ~dominated(v[left])
        out[left[on]] = r
        left = left[~on]
        r += 1
    return out


def crowding(values: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each row within its set (boundary rows get inf)."""
    v = np.asarray(values, dtype=float)
    n, k = v.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(k):
        order = np.argsort(v[:, j], kind="stable")
        col = v[order, j]
        span = col[-1] - col[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if np.isfinite(span) and span > 0:
            dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist
