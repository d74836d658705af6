"""Trace-driven LRU cache: which accesses of a per-token access stream hit.

Ids are dense integers in [0, n_ids); each entry has the same size, so the capacity is in entries
(neurons for a neuron-granularity cache, clusters for a cluster-granularity one). Within a token
the ids are accessed in the given order; a miss inserts the id at the MRU end and evicts from the
LRU end. O(1) per access with an array-backed doubly-linked list.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit

_NIL = -1


@njit(inline="always")
def _push_front(prev, nxt, head, tail, i):
    """Link entry ``i`` at the MRU end; returns the new (head, tail)."""
    prev[i] = _NIL
    nxt[i] = head
    if head != _NIL:
        prev[head] = i
    if tail == _NIL:
        tail = i
    return i, tail


@njit
def lru_hits(ids: np.ndarray, n_ids: int, capacity: int, warm: np.ndarray) -> np.ndarray:
    """Hit flag (uint8) per access of ``ids``. ``warm`` lists distinct ids resident at the start,
    MRU first; the first ``capacity`` of them are kept."""
    prev = np.full(n_ids, _NIL, np.int64)
    nxt = np.full(n_ids, _NIL, np.int64)
    present = np.zeros(n_ids, np.uint8)
    head = _NIL
    tail = _NIL
    size = 0
    for j in range(min(warm.shape[0], max(capacity, 0)) - 1, -1, -1):  # LRU-first: warm[0] ends at the head
        i = warm[j]
        present[i] = 1
        head, tail = _push_front(prev, nxt, head, tail, i)
        size += 1
    hits = np.zeros(ids.shape[0], np.uint8)
    if capacity <= 0:
        return hits
    for a in range(ids.shape[0]):
        i = ids[a]
        if present[i]:
            hits[a] = 1
            if i == head:
                continue
            p = prev[i]  # unlink (i is not the head, so p exists)
            q = nxt[i]
            nxt[p] = q
            if q != _NIL:
                prev[q] = p
            else:
                tail = p
        else:
            if size == capacity:  # evict the LRU entry
                t = tail
                present[t] = 0
                tail = prev[t]
                if tail != _NIL:
                    nxt[tail] = _NIL
                else:
                    head = _NIL
                size -= 1
            present[i] = 1
            size += 1
        head, tail = _push_front(prev, nxt, head, tail, i)
    return hits
