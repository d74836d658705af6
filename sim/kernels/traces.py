"""Synthetic activation traces: two-state Markov chains per neuron drawn from a numpy Generator, and the
union of a batch's sequences under the token shift, the predictor and the MoE routing
(mappers/phone/activations.py).

The chains draw their uniforms from the Generator itself (numba's ``Generator.random`` is the bit
generator's ``next_double``, as numpy's), in the order the step-by-step numpy twin
(``sim/reference/traces.py``) draws them, so a trace does not depend on which builds it; the routed
blocks' uniforms are drawn by the caller (skipping the others' with ``advance``).
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit


@njit
def markov_draws(rng: np.random.Generator, tokens: int, p: np.ndarray, stay: np.ndarray,
                 enter: np.ndarray) -> np.ndarray:
    """(tokens, n) states from ``tokens`` x n uniforms of ``rng`` drawn in that (row-major) order: token 0
    is ``u < p``; then ``u < stay`` after a 1, ``< enter`` after a 0. No array of uniforms is held."""
    n = p.shape[0]
    out = np.empty((tokens, n), np.bool_)
    for i in range(n):
        out[0, i] = rng.random() < p[i]
    for t in range(1, tokens):
        for i in range(n):
            # the threshold without a branch on the (random) previous state; exact for the finite
            # probabilities here: x * 1 + y * 0 == x
            on = out[t - 1, i]
            out[t, i] = rng.random() < stay[i] * on + enter[i] * (1 - on)
    return out


@njit
def add_routed(active: np.ndarray, predicted: np.ndarray, a: np.ndarray, s: np.ndarray, u_fn: np.ndarray,
               fn_rate: float, u_shift: np.ndarray, share: np.ndarray, flat: np.ndarray, routed: np.ndarray,
               per_expert: int) -> None:
    """OR one sequence into the batch's (tokens, layers, neurons) ``active`` (and ``predicted``, unless
    ``u_fn`` is empty), only in the ``routed`` (tokens, layers, experts) experts' blocks of ``per_expert``
    neurons. ``u_fn`` and ``u_shift`` hold one uniform per neuron of the routed blocks, in row-major order.
    A neuron's state is the chain ``a``; with a shift (``u_shift`` not empty), where ``u < share[t]`` it
    becomes ``u < share[t] * flat[layer, i]`` (the token's share redrawn at the flat pattern). A neuron is
    predicted when on and not dropped (``u_fn >= fn_rate``), or when its false-positive chain ``s`` is on
    while it is off."""
    tokens, layers, n = a.shape
    experts = routed.shape[2]
    shifting = u_shift.shape[0] > 0
    predicting = u_fn.shape[0] > 0
    k = 0
    for t in range(tokens):
        for layer in range(layers):
            for e in range(experts):
                if not routed[t, layer, e]:
                    continue
                for i in range(e * per_expert, (e + 1) * per_expert):
                    on = a[t, layer, i]
                    if shifting and u_shift[k] < share[t]:
                        on = u_shift[k] < share[t] * flat[layer, i]
                    if on:
                        active[t, layer, i] = True
                    if predicting and ((on and u_fn[k] >= fn_rate) or (s[t, layer, i] and not on)):
                        predicted[t, layer, i] = True
                    k += 1


@njit
def window_counts(pred: np.ndarray, k: int) -> tuple:
    """For a sliding window of the last ``k >= 1`` tokens' predictions, per token t = k ... tokens - 1
    and layer: neurons loaded (predicted at t, not in tokens t - k ... t - 1), evicted (in that
    window, not in t - k + 1 ... t) and resident after t (in t - k + 1 ... t). Three int64 arrays
    of shape (tokens - k, layers)."""
    tokens, layers, n = pred.shape
    m = tokens - k
    loaded = np.zeros((m, layers), np.int64)
    evicted = np.zeros((m, layers), np.int64)
    resident = np.zeros((m, layers), np.int64)
    last = np.full((layers, n), -1, np.int64)  # latest token before t that predicted the neuron
    for t in range(tokens):
        for layer in range(layers):
            for i in range(n):
                lt = last[layer, i]
                on = pred[t, layer, i]
                if t >= k:
                    if on and lt < t - k:
                        loaded[t - k, layer] += 1
                    if not on and lt == t - k:
                        evicted[t - k, layer] += 1
                    if on or lt > t - k:
                        resident[t - k, layer] += 1
                if on:
                    last[layer, i] = t
    return loaded, evicted, resident
