"""Synthetic activation traces: two-state Markov chains per neuron from pre-drawn uniforms, and the
union of a batch's sequences under the predictor and the MoE routing (mappers/phone/activations.py).

The uniforms are drawn by the caller in the generator's order, so a trace does not depend on
whether these kernels or the step-by-step numpy twin (``sim/reference/traces.py``) build it.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit


@njit
def markov_chains(u: np.ndarray, p: np.ndarray, stay: np.ndarray, enter: np.ndarray) -> np.ndarray:
    """(tokens, n) states: token 0 is ``u[0] < p``; then ``u[t] < stay`` after a 1, ``< enter`` after a 0."""
    tokens, n = u.shape
    out = np.empty((tokens, n), np.bool_)
    for i in range(n):
        out[0, i] = u[0, i] < p[i]
    for t in range(1, tokens):
        for i in range(n):
            # the threshold without a branch on the (random) previous state, ~1/3 faster; exact for the finite
            # probabilities here: x * 1 + y * 0 == x
            on = out[t - 1, i]
            out[t, i] = u[t, i] < stay[i] * on + enter[i] * (1 - on)
    return out


@njit
def shift_tokens(a: np.ndarray, u: np.ndarray, share: np.ndarray, flat: np.ndarray) -> None:
    """Redraw in place each token's ``share[t]`` of the (tokens, n) states ``a`` at the frequencies ``flat``:
    where ``u[t, i] < share[t]`` the state becomes ``u[t, i] < share[t] * flat[i]``."""
    tokens, n = a.shape
    for t in range(tokens):
        s = share[t]
        for i in range(n):
            if u[t, i] < s:
                a[t, i] = u[t, i] < s * flat[i]


@njit
def add_sequence(active: np.ndarray, predicted: np.ndarray, a: np.ndarray, s: np.ndarray, u_fn: np.ndarray,
                 fn_rate: float, routed: np.ndarray, per_expert: int) -> None:
    """OR one sequence into the batch's (tokens, layers, neurons) ``active`` and ``predicted``: a
    neuron is predicted when active and not dropped (``u_fn >= fn_rate``), or when its
    false-positive chain ``s`` is on while inactive; neurons of experts not ``routed`` (tokens,
    layers, experts) are neither. ``routed`` with no experts axis entries (shape[2] == 0): dense."""
    tokens, layers, n = a.shape
    dense = routed.shape[2] == 0
    for t in range(tokens):
        for layer in range(layers):
            for i in range(n):
                if not dense and not routed[t, layer, i // per_expert]:
                    continue
                on = a[t, layer, i]
                if on:
                    active[t, layer, i] = True
                if (on and u_fn[t, layer, i] >= fn_rate) or (s[t, layer, i] and not on):
                    predicted[t, layer, i] = True


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
