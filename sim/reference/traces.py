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
             rng: np.random.Generator, shift_shape: float = 0.0,
             shift_mean: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One sequence's (active, predicted, token shares), (tokens, layers, experts x neurons): activation chain,
    false-positive chain, predictor drops, uniform top-k routing, then (with ``shift_mean``) each token's
    share min(1, gamma(shift_shape, shift_mean / shift_shape)) of the chain's states redrawn at the layer's
    per-expert mean of ``p``."""
    a = markov(p, rho, tokens, rng)
    s = markov(q, rho, tokens, rng)
    u_fn = rng.random(a.shape)
    layers, n = p.shape
    mask = np.ones(a.shape, bool)
    if experts > 1:
        keys = rng.random((tokens, layers, experts))
        routed = keys <= np.sort(keys, axis=2)[:, :, top_k - 1:top_k]
        mask = np.repeat(routed, n // experts, axis=2)
    share = None
    if shift_mean is not None:
        share = np.minimum(1.0, rng.gamma(shift_shape, shift_mean / shift_shape, tokens))
        flat = np.repeat(p.reshape(layers, experts, n // experts).mean(axis=2), n // experts, axis=1)
        u = rng.random(a.shape)
        a = shift(a.reshape(tokens, -1), u.reshape(tokens, -1), share, flat.ravel()).reshape(a.shape)
    pred = (a & (u_fn >= fn_rate)) | (s & ~a)
    return a & mask, pred & mask, share


def shift(a: np.ndarray, u: np.ndarray, share: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """(tokens, n) states with each token's ``share`` of them (``u < share``) redrawn at ``flat``."""
    return np.where(u < share[:, None], u < share[:, None] * flat[None, :], a)
