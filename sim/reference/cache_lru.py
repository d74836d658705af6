"""Slow twin of `einsim.sim.kernels.cache_lru`: the same LRU with an OrderedDict."""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence


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
