"""Flash read throughput looked up in a device's measured table, with interpolation.

Rows fix a pattern (sequential/random) and a block size, and optionally an address range, an
issuing-core class and a thread count; an unset axis matches any query. A query is answered by
successive interpolation, piecewise-linear in log2, over threads, then range, then block size,
each clamped to the measured span; among rows that tie, the most specific one wins.
"""

from __future__ import annotations

from typing import Literal

from einsim.arch.interp import interp_log2
from einsim.arch.storage import Flash, FlashPoint
from einsim.errors import EinsimError
from einsim.memo import by_identity

_AXES = ("threads", "range_B", "block_B")


def read_throughput_Bps(
    flash: Flash,
    pattern: Literal["sequential", "random"],
    block_B: float,
    range_B: float | None = None,
    core: str | None = None,
    threads: int | None = None,
) -> float:
    """Read throughput in B/s of ``flash`` for one access pattern."""
    return _read_throughput_Bps(flash, pattern, block_B, range_B, core, threads)


@by_identity(maxsize=256)
def _read_throughput_Bps(flash: Flash, pattern: str, block_B: float, range_B: float | None, core: str | None,
                         threads: int | None) -> float:
    """`read_throughput_Bps`, once per flash spec and query: the policies ask the same few queries at every
    hot fraction and budget (a table walk with interpolation, ~0.1 ms)."""
    rows = [p for p in flash.read_throughput if p.pattern == pattern]
    if not rows:
        have = sorted({p.pattern for p in flash.read_throughput})
        raise EinsimError(f"{flash.name} has no {pattern} read throughput (measured: {', '.join(have)})")
    cores = {p.core for p in rows if p.core is not None}
    if core is not None and core not in cores:
        raise EinsimError(
            f"{flash.name} has no measurement for core {core!r} (measured: {', '.join(sorted(cores)) or 'none'})"
        )
    rows = [p for p in rows if p.core in (None, core)]
    query = {"threads": threads, "range_B": range_B, "block_B": block_B}
    return _lookup(rows, query, _AXES)


def _lookup(rows: list[FlashPoint], query: dict, axes: tuple[str, ...]) -> float:
    if not axes:
        return max(rows, key=_specificity).throughput_Bps
    axis, rest = axes[0], axes[1:]
    q = query[axis]
    values = sorted({getattr(p, axis) for p in rows if getattr(p, axis) is not None})
    if not values:
        return _lookup(rows, query, rest)
    if q is None:
        wild = [p for p in rows if getattr(p, axis) is None]
        return _lookup(wild or _slice(rows, axis, values[0]), query, rest)
    ys = [_lookup(_slice(rows, axis, v), query, rest) for v in values]
    return interp_log2(q, values, ys)


def _slice(rows: list[FlashPoint], axis: str, value: float) -> list[FlashPoint]:
    return [p for p in rows if getattr(p, axis) in (None, value)]


def _specificity(p: FlashPoint) -> int:
    return sum(getattr(p, a) is not None for a in ("range_B", "core", "threads"))
