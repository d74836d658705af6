"""Flash request streams, the shared DRAM pool, and the activation trace generator."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.errors import EinsimError
from einsim.mappers.phone.activations import generate, load_trace
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.hardware import Stream, load_device
from einsim.mappers.phone.window import window_counts


@pytest.fixture(scope="module")
def op12():
    return load_device("oneplus12")


def test_dram_pool_depends_on_the_engines(op12):
    assert [op12.bandwidth(e) for e in (["CPU"], ["NPU"], ["NPU", "CPU"])] == [43.9e9, 56e9, 59.6e9]


def test_stream_time_uses_block_range_core_and_issuers(op12):
    base = Stream(1000, 4096, "random", range_B=128 * 2**20, core="big")
    t = op12.stream_time(base)
    assert t == pytest.approx(1000 * 4096 / 1076.10e6)
    assert op12.stream_time(Stream(1000, 4096, "random", range_B=128 * 2**20, core="little")) > t
    assert op12.stream_time(Stream(1000, 4096, "random", range_B=512 * 2**20)) > op12.stream_time(
        Stream(1000, 4096, "random", range_B=128 * 2**20))
    many = Stream(1000, 4096, "random", range_B=128 * 2**20, core="big", issuers=4)
    assert op12.stream_time(many) == pytest.approx(t / 0.6)  # single command queue, 40% loss
    assert op12.stream_time(Stream(1, 512 * 1024, "sequential")) < op12.stream_time(Stream(128, 4096, "random",
                                                                                            range_B=2**27))


def test_footprint_matches_llm_in_a_flash_shares():
    fp = footprint("opt_6p7b")
    assert fp.attn_params / fp.params == pytest.approx(0.323, abs=0.002)
    assert fp.ffn_params / fp.params == pytest.approx(0.646, abs=0.002)
    assert fp.embed_params / fp.params == pytest.approx(0.03, abs=0.002)


def test_generator_is_seeded_and_matches_its_statistics():
    fp = footprint("opt_6p7b")
    a, b = generate(fp, 2, 40, seed=3), generate(fp, 2, 40, seed=3)
    assert np.array_equal(a.active, b.active) and np.array_equal(a.predicted, b.predicted)
    assert not np.array_equal(a.active, generate(fp, 2, 40, seed=4).active)
    tr = generate(fp, 2, 64, seed=0)
    assert tr.active.mean() == pytest.approx(0.03, rel=0.1)  # OPT: 97% sparse
    assert tr.predicted.mean() == pytest.approx(0.03 * 0.95 + 0.97 * 0.07, rel=0.1)  # fn 5%, fp 7%
    w = window_counts(tr, 5)  # LLM in a flash: window ≈24% of FFN, ≈2.4% loaded per token
    assert w.resident / tr.neurons == pytest.approx(0.24, rel=0.15)
    assert w.loaded / tr.neurons == pytest.approx(0.024, rel=0.15)


def test_union_sparsity_grows_with_batch():
    fp = footprint("bamboo_7b")
    fractions = [generate(fp, 1, 8, batch=b, seed=1).active.mean() for b in (1, 4, 32)]
    assert fractions == sorted(fractions) and fractions[-1] > 2 * fractions[0]


def test_moe_routing_masks_experts():
    fp = footprint("turbosparse_mixtral_47b")
    tr = generate(fp, 1, 6, seed=0)
    routed = tr.predicted.reshape(6, 1, fp.experts, fp.ffn_dim).any(axis=3).sum(axis=2)
    assert (routed <= fp.top_k).all()


def test_real_trace_from_npy(tmp_path):
    act = np.random.default_rng(0).random((6, 2, 32)) < 0.2
    np.save(tmp_path / "a.npy", act)
    tr = load_trace(tmp_path / "a.npy")
    assert np.array_equal(tr.predicted, act) and tr.tokens == 6
    np.save(tmp_path / "bad.npy", act[0])
    with pytest.raises(EinsimError, match="tokens, layers, neurons"):
        load_trace(tmp_path / "bad.npy")


@pytest.mark.parametrize("model", ["turbosparse_mixtral_47b", "bamboo_7b"])
def test_active_only_equals_the_full_traces_activations(model) -> None:
    from einsim.mappers.phone.activations import active_only, generate

    fp = footprint(model)
    assert np.array_equal(active_only(fp, 2, 6, seed=3), generate(fp, 2, 6, seed=3).active)


def _with_shift(fp, shift):
    from einsim.mappers.phone.calibration import with_activation

    return with_activation(fp, fp.facts.activation.zipf_exponent.value, shift)


def _cold_active_correlation(trace, cold) -> float:
    """Correlation between layers 0 and 1 of the per-token count of active neurons in ``cold``."""
    n = (trace.active & cold[None]).sum(axis=2)
    return float(np.corrcoef(n[:, 0], n[:, 1])[0, 1])


def test_a_token_shift_ties_a_tokens_layers_and_keeps_the_mean():
    from einsim.mappers.phone.activations import active_only, layer_frequencies

    fp = footprint("bamboo_7b")
    plain, shift = _with_shift(fp, None), _with_shift(fp, 0.1)
    a, b = generate(plain, 2, 200, seed=5), generate(shift, 2, 200, seed=5)
    assert b.active.mean() == pytest.approx(a.active.mean(), rel=0.03)
    # active neurons outside the profiled head (frequency below the expert's mean) per token and layer: with a
    # shift they move together across layers, without one the layers are independent
    cold = layer_frequencies(fp, 2) < fp.active_fraction
    assert abs(_cold_active_correlation(a, cold)) < 0.2 and _cold_active_correlation(b, cold) > 0.6
    assert np.array_equal(active_only(shift, 2, 6, seed=3), generate(shift, 2, 6, seed=3).active)


@pytest.mark.parametrize("model,batch", [("turbosparse_mixtral_47b", 1), ("bamboo_7b", 2), ("opt_6p7b", 1)])
def test_generator_equals_the_step_by_step_twin(model, batch) -> None:
    """The generator (chains drawn in numba, only the routed experts' drops and shift uniforms drawn, the rest
    skipped by advancing the bit generator) gives the twin's full draw, token shift and MoE routing included."""
    from einsim.mappers.phone.activations import TOKEN_SHIFT_SHAPE, _chain_frequencies
    from einsim.sim.reference.traces import sequence

    fp = footprint(model)
    st = fp.facts.activation
    p, q = _chain_frequencies(fp, 1, 0)
    rng = np.random.default_rng(11)
    runs = [sequence(p, q, st.persistence.value, st.predictor_fn.value, 5, fp.experts, fp.top_k, rng,
                     TOKEN_SHIFT_SHAPE, None if st.token_shift is None else st.token_shift.value) for _ in range(batch)]
    tr = generate(fp, 1, 5, batch=batch, seed=11)
    assert np.array_equal(tr.active, np.any([a for a, _, _ in runs], axis=0))
    assert np.array_equal(tr.predicted, np.any([pr for _, pr, _ in runs], axis=0))
    assert (tr.shift is None) == (st.token_shift is None)
    if tr.shift is not None:
        assert np.array_equal(tr.shift, np.mean([s for _, _, s in runs], axis=0))
