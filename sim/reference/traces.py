"""Slow twin of `einsim.sim.kernels.traces`: the step-by-step numpy generator of one sequence,
drawing one token's uniforms at a time."""

from __future__ import annotations

import numpy as np


def markov(p: np.ndarray, rho: float, tokens: int, rng: np.random.Generator) -> np.ndarray:
    """(tokens, *p.shape) booleans: stationary P(1) = p, lag-1 correlation rho."""
    out = np.empty((tokens, *p.shape), dtype=bool)
    stay = p + rho * (1.0 - p)
    enter = p * (1.0 - rho)
    out[0] = rng.random(p.shape) < p
    for t in range(1, tokens):
        u = rng.random(p.shape)
        out[t] = np.where(out[t - 1], u < stay, u < enter)
    return out


def sequence(p: np.ndarray, q: np.ndarray, rho: float, fn_rate: float, tokens: int, experts: int, top_k: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One sequence's (active, predicted), (tokens, layers, experts x neurons): activation chain,
    false-positive chain, predictor drops, then uniform top-k routing."""
    a = markov(p, rho, tokens, rng)
    s = markov(q, rho, tokens, rng)
    pred = (a & (rng.random(a.shape) >= fn_rate)) | (s & ~a)
    if experts > 1:
        keys = rng.random((tokens, p.shape[0], experts))
        routed = keys <= np.sort(keys, axis=2)[:, :, top_k - 1:top_k]
        mask = np.repeat(routed, p.shape[1] // experts, axis=2)
        a, pred = a & mask, pred & mask
    return a, pred


def shift(a: np.ndarray, u: np.ndarray, share: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """(tokens, n) states with each token's ``share`` of them (``u < share``) redrawn at ``flat``."""
    return np.where(u < share[:, None], u < share[:, None] * flat[None, :], a)
