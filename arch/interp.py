"""Piecewise-linear interpolation in log2 of the abscissa, clamped at the table's ends."""

from __future__ import annotations

import bisect
import math
from typing import Sequence


def interp_log2(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """y at ``x`` from points (xs ascending, positive); no extrapolation beyond the ends."""
    if not xs:
        raise ValueError("empty table")
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, x)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    t = (math.log2(x) - math.log2(x0)) / (math.log2(x1) - math.log2(x0))
    return y0 + t * (y1 - y0)
