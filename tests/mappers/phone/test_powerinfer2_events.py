"""PowerInfer-2 on the event simulation: prefill's layer pipeline, latency percentiles, per-engine energy."""

from __future__ import annotations

import numpy as np
import pytest

import einsim.mappers.phone.powerinfer2 as pi
from einsim.errors import EinsimError
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.power import BASELINE_W, DRAM_J_PER_B, ENGINE_W, decode_energy


@pytest.fixture(scope="module")
def bamboo():
    return load_device("oneplus12"), footprint("bamboo_7b")


def _npu_layer_s(dev, fp, prompt):
    expert = fp.ffn_dim * fp.matrices * fp.d_model
    ops = 2.0 * prompt * (fp.attn_params / fp.layers + fp.top_k * expert) + 2.0 * fp.q_dim * prompt * prompt
    return pi.NPU_INVOCATION_S + ops / dev.npu_ops_per_s(prompt)


def test_in_memory_prefill_is_the_npu_layers_back_to_back(bamboo):
    dev, fp = bamboo
    p = pi.prefill(dev, fp, pi.ffn_offload_budget(fp, 0.0), prompt=512, chunk=512)
    assert p.busy_s["io"] == 0.0
    assert p.latency_s == pytest.approx(fp.layers * _npu_layer_s(dev, fp, 512), rel=1e-6)
    # in chunks of 128 the same ops (the NPU's rate is clamped below 512) and 4 x the graph executions
    p4 = pi.prefill(dev, fp, pi.ffn_offload_budget(fp, 0.0), prompt=512, chunk=128)
    assert p4.latency_s == pytest.approx(p.latency_s + 3 * fp.layers * pi.NPU_INVOCATION_S, rel=1e-6)


def test_offloaded_prefill_reads_the_offloaded_weights_once_per_chunk(bamboo):
    dev, fp = bamboo
    one, four = (pi.prefill(dev, fp, pi.ffn_offload_budget(fp, 0.5), prompt=512, chunk=c) for c in (512, 128))
    assert four.busy_s["io"] == pytest.approx(4 * one.busy_s["io"], rel=1e-9)
    assert four.latency_s > one.latency_s + 2 * one.busy_s["io"]  # the reads no longer hide under the NPU


def test_offloaded_prefill_loads_layers_under_the_npu(bamboo):
    dev, fp = bamboo
    p = pi.prefill(dev, fp, pi.ffn_offload_budget(fp, 0.5), prompt=512, chunk=512)
    npu_s = fp.layers * _npu_layer_s(dev, fp, 512)
    assert p.busy_s["io"] > 0.3  # ~1.4 GB at 4 GB/s
    # the first layer's read is exposed, the rest hide under the previous layers' compute
    assert npu_s < p.latency_s < npu_s + 2 * p.busy_s["io"] / fp.layers
    # a short prompt computes less per layer than it reads: the reads become the bound
    short = pi.prefill(dev, fp, pi.ffn_offload_budget(fp, 0.5), prompt=16)
    assert short.latency_s == pytest.approx(short.busy_s["io"], rel=0.05)
    with pytest.raises(EinsimError, match="at least 1 token"):
        pi.prefill(dev, fp, pi.ffn_offload_budget(fp, 0.5), chunk=0)
    with pytest.raises(EinsimError, match="at least 1 token"):
        pi.prefill(dev, fp, pi.ffn_offload_budget(fp, 0.5), prompt=0)


def test_token_distribution_sums_independent_layers():
    const = pi._token_distribution(np.full((2, 8), 1e-3), 32)
    assert np.allclose(const, 32e-3)
    rng = np.random.default_rng(1)
    layer = rng.exponential(1e-3, (2, 24))
    tokens = pi._token_distribution(layer, 32)
    assert tokens.mean() == pytest.approx(32 * layer.mean(), rel=0.05)
    # spread of a sum of 32 independent layers, not 16 x the sum of the 2 sampled ones
    assert tokens.std() == pytest.approx(np.sqrt(32) * layer.std(), rel=0.15)


def test_token_distribution_follows_the_token_shift():
    # layers = 1 ms + 2 ms x the token's shift (shared by its layers) + independent noise: a token is 32 x
    # the effect at a shift drawn from the generator's distribution, plus 32 independent residuals
    from einsim.mappers.phone.activations import token_shifts

    rng = np.random.default_rng(2)
    shift = token_shifts(0.1, 24, rng)
    layer = 1e-3 + 2e-3 * shift[None, :] + rng.normal(0, 1e-5, (2, 24))
    tokens = pi._token_distribution(layer, 32, shift, 0.1)
    want = 32 * (1e-3 + 2e-3 * token_shifts(0.1, 200_000, np.random.default_rng(3)))
    for q in (50, 90, 99):
        assert np.percentile(tokens, q) == pytest.approx(np.percentile(want, q), rel=0.05)
    assert pi._token_distribution(layer, 32).std() < 0.3 * tokens.std()  # the layers taken as independent


def test_decode_percentiles_are_ordered_around_the_mean(bamboo):
    from einsim.mappers.phone.calibration import with_activation

    dev, fp = bamboo
    c = pi.powerinfer2(dev, fp, pi.ffn_offload_budget(fp, 0.5), hot_fractions=(0.25,))
    p50, p90, p99 = (c.extra[f"latency_P{q}_s"] for q in (50, 90, 99))
    # the token shift (a gamma of shape 0.2) skews the tokens: most near the unshifted time, a long tail
    assert p50 < c.latency_s < p90 < p99
    assert 0 < c.io_s < c.latency_s  # flash reads on the critical path at 50 % offload
    # without a shift a token is 32 independent layers: narrow, the median at the mean
    plain = pi.powerinfer2(dev, with_activation(fp, fp.facts.activation.zipf_exponent.value, None),
                           pi.ffn_offload_budget(fp, 0.5), hot_fractions=(0.25,))
    q50, q99 = (plain.extra[f"latency_P{q}_s"] for q in (50, 99))
    assert q50 == pytest.approx(plain.latency_s, rel=0.05) and q99 < 1.2 * q50 < p99 / 2


def test_energy_is_busy_time_times_engine_power(bamboo):
    e = decode_energy({"compute": 0.1, "io": 0.02, "npu": 0.01}, 0.05, 1e9, 1e8)
    assert e.total_J == pytest.approx(0.1 * ENGINE_W["compute"] + 0.02 * ENGINE_W["io"] + 0.01 * ENGINE_W["npu"]
                                      + 1.1e9 * DRAM_J_PER_B + 0.05 * BASELINE_W)
    dev, fp = bamboo
    c = pi.powerinfer2(dev, fp, pi.ffn_offload_budget(fp, 0.0), hot_fractions=(0.25,))
    parts = c.extra["energy_parts_J"]
    assert parts["io"] == 0.0 and c.energy_J == pytest.approx(sum(parts.values()))
    busy = c.extra["busy_s"]
    assert parts["npu"] == pytest.approx(busy["npu"] * ENGINE_W["npu"])
    assert 0 < busy["npu"] <= c.latency_s + 1e-12  # one NPU: never busy longer than the token
    assert busy["compute"] <= 5 * c.latency_s + 1e-12  # five compute threads
