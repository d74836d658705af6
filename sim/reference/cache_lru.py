"""Slow twins of `einsim.sim.kernels.cache_lru`: an LRU with an OrderedDict, and stack distances
from a most-recent-first list."""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

NEVER = 2**63 - 1


def lru_hits(ids: Sequence[int], capacity: int, warm: Sequence[int] = ()) -> list[int]:
    cache: OrderedDict[int, None] = OrderedDict()  # last = most recently used
    for i in reversed(list(warm)[:max(capacity, 0)]):  # warm: distinct ids, MRU first
        cache[i] = None
    out = []
    for i in ids:
        if capacity <= 0:
            out.append(0)
            continue
        if i in cache:
            cache.move_to_end(i)
            out.append(1)
        else:
            if len(cache) == capacity:
                cache.popitem(last=False)
            cache[i] = None
            out.append(0)
    return out


def stack_distances(ids: Sequence[int], warm: Sequence[int] = ()) -> list[int]:
    stack = list(warm)  # most recently used first
    out = []
    for i in ids:
        if i in stack:
            out.append(stack.index(i))
            stack.remove(i)
        else:
            out.append(NEVER)
        stack.insert(0, i)
    return out
