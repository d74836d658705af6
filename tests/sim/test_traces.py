"""The trace kernels, drawing from a Generator (the chains) or fed the routed blocks' uniforms, equal the
step-by-step numpy twin that draws a token at a time from a Generator of the same seed (so the traces do
not depend on which builds them)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.kernels.traces import add_routed, markov_draws, window_counts
from einsim.sim.reference.traces import markov, sequence
from einsim.sim.reference.window import window_counts as window_twin


def _routed_blocks(u: np.ndarray, routed: np.ndarray) -> np.ndarray:
    """The uniforms of the routed (tokens, layers, experts) blocks of a full (tokens, layers, neurons) draw."""
    tokens, layers, experts = routed.shape
    return u.reshape(tokens, layers, experts, -1)[routed].ravel()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 4), st.integers(1, 6), st.integers(1, 9),
       st.floats(0.0, 0.95), st.floats(0.0, 0.5), st.booleans())
def test_kernels_equal_twin(seed, layers, experts, per, tokens, rho, fn_rate, shifted):
    probe = np.random.default_rng(seed + 1)
    p = probe.random((layers, experts * per))
    q = probe.random((layers, experts * per)) * 0.3
    top_k = 1 + seed % experts
    shape, mean = (0.2, 0.1 + 0.5 * probe.random()) if shifted else (0.0, None)
    twin_rng = np.random.default_rng(seed)
    want_a, want_pred, want_share = sequence(p, q, rho, fn_rate, tokens, experts, top_k, twin_rng, shape, mean)

    rng = np.random.default_rng(seed)
    chains = [markov_draws(rng, tokens, x.ravel(), (x + rho * (1.0 - x)).ravel(),
                           (x * (1.0 - rho)).ravel()).reshape(tokens, *x.shape) for x in (p, q)]
    u_fn = rng.random(chains[0].shape)
    if experts > 1:
        keys = rng.random((tokens, layers, experts))
        routed = keys <= np.sort(keys, axis=2)[:, :, top_k - 1:top_k]
    else:
        routed = np.ones((tokens, layers, 1), bool)
    share, u_shift, flat = np.zeros(0), np.zeros(0), np.zeros((0, 0))
    if shifted:
        share = np.minimum(1.0, rng.gamma(shape, mean / shape, tokens))
        u_shift = _routed_blocks(rng.random(chains[0].shape), routed)
        flat = np.repeat(p.reshape(layers, experts, per).mean(axis=2), per, axis=1)
    active = np.zeros_like(chains[0])
    predicted = np.zeros_like(active)
    add_routed(active, predicted, chains[0], chains[1], _routed_blocks(u_fn, routed), fn_rate, u_shift, share, flat,
               routed, per)
    assert np.array_equal(active, want_a)
    assert np.array_equal(predicted, want_pred)
    assert (want_share is None) == (not shifted) and (not shifted or np.array_equal(share, want_share))
    assert rng.bit_generator.state == twin_rng.bit_generator.state


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 9))
def test_markov_kernel_draws_as_the_twin(seed, tokens, n):
    p = np.random.default_rng(seed + 1).random(n)
    rng, twin_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    got = markov_draws(rng, tokens, p, p + 0.5 * (1.0 - p), p * 0.5)
    assert np.array_equal(got, markov(p, 0.5, tokens, twin_rng))
    assert rng.random() == twin_rng.random()


def test_a_persistent_chain_keeps_its_first_state():
    p = np.array([0.5, 0.5])
    first = np.random.default_rng(7).random(2) < p
    out = markov_draws(np.random.default_rng(7), 3, p, np.ones(2), np.zeros(2))  # rho = 1: stay = 1, enter = 0
    assert out.tolist() == [first.tolist()] * 3


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 3), st.integers(1, 7), st.integers(1, 6),
       st.floats(0.0, 1.0))
def test_window_kernel_equals_twin(seed, tokens, layers, n, k, density):
    pred = np.random.default_rng(seed).random((tokens + k, layers, n)) < density
    for got, want in zip(window_counts(pred, k), window_twin(pred, k)):
        assert got.tolist() == want.tolist()


def test_window_of_one_token_loads_what_is_new():
    pred = np.array([[[1, 0, 1]], [[1, 1, 0]], [[0, 1, 0]]], bool)
    loaded, evicted, resident = window_counts(pred, 1)
    assert loaded[:, 0].tolist() == [1, 0] and evicted[:, 0].tolist() == [1, 1] and resident[:, 0].tolist() == [2, 1]
