"""Trace-driven LRU cache as LRU stack distances: one pass serves every capacity.

Ids are dense integers in [0, n_ids); each entry has the same size, so a capacity is in entries
(neurons for a neuron-granularity cache, clusters for a cluster-granularity one). An access's stack
distance is the number of distinct other ids used since the id's previous use. LRU is a stack
algorithm (Mattson et al., 1970): an LRU of capacity C always holds the C most recently used ids, so
an access hits exactly when its distance is below C, and the distances of a stream are computed
once for all the capacities a planner or a sweep tries. O(log n) per access with a Fenwick tree over
the time of each id's latest use.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit

NEVER = np.iinfo(np.int64).max  # distance of an id's first use: a miss at every capacity


@njit(inline="always")
def _add(tree, pos, delta):
    pos += 1
    while pos < tree.shape[0]:
        tree[pos] += delta
        pos += pos & -pos


@njit(inline="always")
def _prefix(tree, pos):
    """Sum of the marks at times 0 ... pos."""
    total = 0
    pos += 1
    while pos > 0:
        total += tree[pos]
        pos -= pos & -pos
    return total


@njit
def lru_stack_distances(ids: np.ndarray, n_ids: int, warm: np.ndarray) -> np.ndarray:
    """Stack distance (int64) per access of ``ids``; ``NEVER`` for an id not used before. ``warm``
    lists distinct ids used before the stream, MRU first (an LRU of capacity C starts holding the
    first C of them)."""
    w = warm.shape[0]
    size = w + ids.shape[0] + 1
    tree = np.zeros(size, np.int64)  # a mark at the time of each id's latest use
    for node in range(1, size):  # times 0 ... w - 1 marked: node covers (node - lowbit, node]
        low = node & -node
        tree[node] = max(0, min(node, w) - (node - low))
    last = np.full(n_ids, -1, np.int64)
    for j in range(w):  # warm[0] is the most recent: the latest of the times 0 ... w - 1
        last[warm[j]] = w - 1 - j
    marked = w  # ids used so far: every mark lies before the current access
    out = np.empty(ids.shape[0], np.int64)
    for a in range(ids.shape[0]):
        i = ids[a]
        p = last[i]
        if p < 0:
            out[a] = NEVER
            marked += 1
        else:
            out[a] = marked - _prefix(tree, p)  # ids used after p
            _add(tree, p, -1)
        _add(tree, w + a, 1)
        last[i] = w + a
    return out
