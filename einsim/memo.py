"""Memoisation for pure functions of loaded specs (Architectures, Einsums), which are not hashable:
they are keyed by identity, plain values (names, numbers) by value. Entries keep their arguments
alive, so an id is never reused for another object while its entry exists. Specs must not be
mutated after loading (overrides build new ones)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_PLAIN = (str, int, float, bool, type(None))


def by_identity(maxsize: int = 4096) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        cache: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()

        @functools.wraps(fn)
        def cached(*args: Any) -> Any:
            key = tuple(a if isinstance(a, _PLAIN) else ("id", id(a)) for a in args)
            hit = cache.get(key)
            if hit is not None and all(x is y or isinstance(y, _PLAIN) for x, y in zip(hit[0], args)):
                cache.move_to_end(key)
                return hit[1]
            value = fn(*args)
            cache[key] = (args, value)
            if len(cache) > maxsize:
                cache.popitem(last=False)
            return value

        return cached  # type: ignore[return-value]

    return wrap
