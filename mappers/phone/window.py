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


@dataclass(frozen=True)
class WindowSeries:
    """The same counts per (token, sampled layer), tokens with a full window only: int64 arrays of
    shape (tokens - k, layers). Read-only (shared by every budget and device)."""

    predicted: np.ndarray
    loaded: np.ndarray
    evicted: np.ndarray
    resident: np.ndarray


def window_counts(trace: Trace, k: int) -> WindowCounts:
    """Counts for a window of the last ``k`` tokens' predicted neurons (k = 0: no window, every
    predicted neuron is loaded and dropped after use)."""
    s = window_series(trace, k)
    return WindowCounts(float(s.predicted.mean()), float(s.loaded.mean()), float(s.evicted.mean()),
                        float(s.resident.mean()))


def window_series(trace: Trace, k: int) -> WindowSeries:
    """Per (token, layer) counts of a window of the last ``k`` tokens (see `window_counts`)."""
    if k < 0 or trace.tokens <= k:
        raise EinsimError(f"a window of {k} tokens needs a trace longer than {k} tokens (has {trace.tokens})")
    return _window_series(trace, int(k))


def loaded_from_start(trace: Trace, k: int) -> np.ndarray:
    """Neurons loaded per (token, sampled layer) from the trace's first token, the window starting empty
    (the first token loads every neuron it predicts; k = 0: every predicted neuron). int64, shape
    (tokens, layers)."""
    if k < 0:
        raise EinsimError(f"a window of {k} tokens: the window length must be >= 0")
    pred = trace.predicted
    if k == 0:
        return pred.sum(axis=2).astype(np.int64)
    empty = np.zeros((k,) + pred.shape[1:], dtype=pred.dtype)
    return window_kernel(np.concatenate([empty, pred]), k)[0]


@by_identity(maxsize=64)
def _window_series(trace: Trace, k: int) -> WindowSeries:
    # a pure function of the (read-only) trace: the budget search tries the same windows per budget
    pred = trace.predicted
    predicted = pred[k:].sum(axis=2).astype(np.int64)
    if k == 0:
        out = (predicted, predicted, predicted, np.zeros_like(predicted))
    else:
        out = (predicted, *window_kernel(pred, k))
    for a in out:
        a.flags.writeable = False
    return WindowSeries(*out)
