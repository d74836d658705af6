"""The trace kernels, fed one draw of all uniforms, equal the step-by-step numpy twin that draws a
token at a time from a Generator of the same seed (so the traces do not depend on which builds them)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.kernels.traces import add_sequence, markov_chains, shift_tokens, window_counts
from einsim.sim.reference.traces import sequence, shift
from einsim.sim.reference.window import window_counts as window_twin


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 4), st.integers(1, 6), st.integers(1, 9),
       st.floats(0.0, 0.95), st.floats(0.0, 0.5))
def test_kernels_equal_twin(seed, layers, experts, per, tokens, rho, fn_rate):
    probe = np.random.default_rng(seed + 1)
    p = probe.random((layers, experts * per))
    q = probe.random((layers, experts * per)) * 0.3
    top_k = 1 + seed % experts
    want_a, want_pred = sequence(p, q, rho, fn_rate, tokens, experts, top_k, np.random.default_rng(seed))

    rng = np.random.default_rng(seed)
    chains = [markov_chains(rng.random((tokens, x.size)), x.ravel(), (x + rho * (1.0 - x)).ravel(),
                            (x * (1.0 - rho)).ravel()).reshape(tokens, *x.shape) for x in (p, q)]
    u_fn = rng.random(chains[0].shape)
    if experts > 1:
        keys = rng.random((tokens, layers, experts))
        routed = keys <= np.sort(keys, axis=2)[:, :, top_k - 1:top_k]
    else:
        routed = np.zeros((tokens, layers, 0), bool)
    active = np.zeros_like(chains[0])
    predicted = np.zeros_like(active)
    add_sequence(active, predicted, chains[0], chains[1], u_fn, fn_rate, routed, per)
    assert np.array_equal(active, want_a)
    assert np.array_equal(predicted, want_pred)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 9))
def test_shift_kernel_equals_twin(seed, tokens, n):
    rng = np.random.default_rng(seed)
    a, u, share, flat = rng.random((tokens, n)) < 0.3, rng.random((tokens, n)), rng.random(tokens), rng.random(n)
    want = shift(a, u, share, flat)
    shift_tokens(a, u, share, flat)
    assert np.array_equal(a, want)


def test_a_persistent_chain_keeps_its_first_state():
    u = np.array([[0.2, 0.9], [0.99, 0.01], [0.5, 0.5]])
    p = np.array([0.5, 0.5])
    out = markov_chains(u, p, np.ones(2), np.zeros(2))  # rho = 1: stay = 1, enter = 0
    assert out.tolist() == [[True, False]] * 3


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
