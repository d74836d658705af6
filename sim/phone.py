"""Phone back-end simulations: trace-driven LRU caches and the per-layer cluster pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from einsim.sim.kernels.cache_lru import lru_stack_distances
from einsim.sim.kernels.phone_pipeline import STAGE_UNIT, STAGES, pipeline


def stack_distances(accesses: Sequence[np.ndarray], n_ids: int, warm: np.ndarray | None = None) -> list[np.ndarray]:
    """Per token, the LRU stack distance of each accessed id (``warm``: distinct ids resident at the
    start, MRU first). An LRU of capacity C hits where the distance is below C (``hits_at``)."""
    flat = np.concatenate([np.asarray(a, np.int64) for a in accesses]) if accesses else np.zeros(0, np.int64)
    warm = np.zeros(0, np.int64) if warm is None else np.asarray(warm, np.int64)
    dist = lru_stack_distances(flat, n_ids, warm)
    dist.flags.writeable = False
    return np.split(dist, np.cumsum([len(a) for a in accesses])[:-1])


def hits_at(distances: Sequence[np.ndarray], capacity: int) -> list[np.ndarray]:
    """Per token, the hit flags (bool) under one LRU of ``capacity`` entries."""
    return [d < capacity for d in distances]


def cache_hits(accesses: Sequence[np.ndarray], n_ids: int, capacity: int,
               warm: np.ndarray | None = None) -> list[np.ndarray]:
    """Per token, the hit flags (bool) of its accessed ids under one LRU of ``capacity`` entries."""
    return hits_at(stack_distances(accesses, n_ids, warm), int(capacity))


@dataclass(frozen=True)
class Schedule:
    """Start/end times (clusters x STAGES) of one pipelined FFN block."""

    start: np.ndarray
    end: np.ndarray

    @property
    def makespan(self) -> float:
        return float(self.end.max()) if self.end.size else 0.0

    def busy(self, unit: int) -> float:
        """Seconds of work on thread kind ``unit`` (0 compute, 1 I/O)."""
        return float((self.end - self.start)[:, STAGE_UNIT == unit].sum())


def cluster_pipeline(durations: np.ndarray, n_compute: int, n_io: int = 1) -> Schedule:
    """Schedule of clusters (rows of ``durations``, columns STAGES) on the pipeline's threads."""
    d = np.ascontiguousarray(durations, dtype=float).reshape(-1, len(STAGES))
    start, end = pipeline(d, STAGE_UNIT, int(n_compute), int(n_io))
    return Schedule(start, end)
