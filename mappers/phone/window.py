"""Sliding-window residency (LLM in a flash): per token, the neurons to load, keep and evict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from einsim.errors import EinsimError
from einsim.memo import by_identity
from einsim.sim.kernels.traces import window_counts as window_kernel
from einsim.mappers.phone.activations import Trace


@dataclass(frozen=True)
class WindowCounts:
    """Mean neurons per token and per sampled layer, over tokens with a full window."""

    predicted: float
    loaded: float  # predicted now and not in the window of the last k tokens
    evicted: float  # left the window
    resident: float  # window size after the token


def window_counts(trace: Trace, k: int) -> WindowCounts:
    """Counts for a window of the last ``k`` tokens' predicted neurons (k = 0: no window, every
    predicted neuron is loaded and dropped after use)."""
    if k < 0 or trace.tokens <= k:
        raise EinsimError(f"a window of {k} tokens needs a trace longer than {k} tokens (has {trace.tokens})")
    return _window_counts(trace, int(k))


@by_identity(maxsize=64)
def _window_counts(trace: Trace, k: int) -> WindowCounts:
    # a pure function of the (read-only) trace: the budget search tries the same windows per budget
    pred = trace.predicted
    if k == 0:
        n = pred.sum(axis=2).mean()
        return WindowCounts(float(n), float(n), float(n), 0.0)
    loaded, evicted, resident = (x.mean(axis=1) for x in window_kernel(pred, k))
    return WindowCounts(float(pred[k:].sum(axis=2).mean()), float(np.mean(loaded)), float(np.mean(evicted)),
                        float(np.mean(resident)))
