"""Slow twin of `einsim.sim.kernels.traces.window_counts`: the window as boolean unions of tokens."""

from __future__ import annotations

import numpy as np


def window_counts(pred: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    loaded, evicted, resident = [], [], []
    for t in range(k, pred.shape[0]):
        before = pred[t - k:t].any(axis=0)
        after = pred[t - k + 1:t + 1].any(axis=0)
        loaded.append(np.count_nonzero(pred[t] & ~before, axis=1))
        evicted.append(np.count_nonzero(before & ~after, axis=1))
        resident.append(np.count_nonzero(after, axis=1))
    shape = (0, pred.shape[1])
    return tuple(np.array(x).reshape(-1, pred.shape[1]) if x else np.zeros(shape, np.int64)
                 for x in (loaded, evicted, resident))
