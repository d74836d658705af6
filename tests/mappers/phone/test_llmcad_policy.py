"""LLMCad's policy (mappers/phone/llmcad.py): drafting statistics, the memory-bound pipeline, NAV,
StdPL, by hand calculation; and regression pins of its Xiaomi 11 output."""

from __future__ import annotations

import math

import pytest

from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B, RUNTIME_B
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.llmcad import (ALPHA0, CONCENTRATION, CONCENTRATION_RANGE, DRAFTED_PER_VERIFICATION,
                                         LOAD_CONTENTION, VERIFICATIONS_WITH_ERRORS, Techniques,
                                         autoregressive_verification_speedup, calibrate_concentration, forward_time,
                                         llmcad, simulate_drafting, std_pipelined)
from einsim.mappers.phone.naive import llama_cpp
from einsim.mappers.phone.overheads import INT4_GEMV_EFFICIENCY


@pytest.fixture(scope="module")
def phone():
    return load_device("xiaomi11"), footprint("llama2_7b"), footprint("llama2_13b")


def test_constant_confidence_drafts_until_the_product_falls_below_alpha():
    # c = 0.8 on every token (concentration -> infinity): never a runner-up above 30%, so no branch;
    # with alpha fixed the chain is the first n with 0.8^n < 0.01, and the accepted prefix is geometric.
    d = simulate_drafting(4000, concentration=1e9, adaptive_fallback=False, seed=1)
    n = math.ceil(math.log(ALPHA0) / math.log(0.8))
    assert d.drafted == pytest.approx(n)
    assert d.verified == pytest.approx(d.drafted)
    expected_prefix = sum(0.8 ** k for k in range(1, n + 1))
    assert d.accepted == pytest.approx(expected_prefix + 1.0, rel=0.05)


def test_the_tree_adds_branch_sequences_to_the_verification_batch():
    with_tree = simulate_drafting(2000, concentration=2.0)
    chain = simulate_drafting(2000, concentration=2.0, tree=False)
    assert chain.verified == pytest.approx(chain.drafted)
    assert with_tree.verified > with_tree.drafted
    assert with_tree.accepted > chain.accepted  # a branch rescues a position the top-1 got wrong


def test_forward_time_is_the_longer_of_weight_reads_and_macs(phone):
    device, _, large = phone
    weights_s = large.params * INT4_B / device.bandwidth(["CPU"])
    rate = device.cpu_macs_per_s({n: c.cores for n, c in device.cpu.clusters.items()}, "int8") * INT4_GEMV_EFFICIENCY
    macs = large.params - large.embed_params + large.head_params
    assert forward_time(device, large, 1) == pytest.approx(weights_s)
    assert forward_time(device, large, 100) == pytest.approx(100 * macs / rate)


def test_the_whole_target_is_read_from_flash_every_verification(phone):
    # fpga_phone.md 4(d): the target only partly fits, so it is reloaded each verification: the memory
    # bound decides how much of that load hides under drafting, not how much is read.
    device, small, large = phone
    for memory_B in (4.0e9, 5.0e9, 7.0e9):
        cad, _ = llmcad(device, small, large, memory_B)
        assert cad.flash_B * cad.extra["accepted_per_verify"] == pytest.approx(large.params * INT4_B)


def test_the_pipeline_hides_drafting_under_the_load_below_the_memory_bound(phone):
    device, small, large = phone
    on, _ = llmcad(device, small, large, 5.0e9)
    off, _ = llmcad(device, small, large, 5.0e9, techniques=Techniques(pipeline=False))
    t_draft = on.extra["drafted_per_verify"] * forward_time(device, small, 1)
    below_B = 5.0e9 - RUNTIME_B - small.params * INT4_B
    assert t_draft < below_B / 2.1e9 * LOAD_CONTENTION  # the drafting fits under the load (UFS 3.1 512 KiB row)
    # loading slowed by the contention while the draft runs: the pipeline saves t_draft / contention per cycle
    saved = (off.latency_s - on.latency_s) * on.extra["accepted_per_verify"]
    assert saved == pytest.approx(t_draft / LOAD_CONTENTION)


def test_no_room_below_the_bound_leaves_nothing_to_pipeline(phone):
    device, small, large = phone
    memory_B = RUNTIME_B + small.params * INT4_B  # the draft model fills the budget
    on, _ = llmcad(device, small, large, memory_B)
    off, _ = llmcad(device, small, large, memory_B, techniques=Techniques(pipeline=False))
    assert on.latency_s == pytest.approx(off.latency_s)


def test_autoregressive_verification_reloads_the_model_per_token(phone):
    device, _, large = phone
    t_load = large.params * INT4_B / 2.1e9
    expected = 10 * (t_load + forward_time(device, large, 1)) / (t_load + forward_time(device, large, 10))
    assert autoregressive_verification_speedup(device, large, 10) == pytest.approx(expected)
    assert autoregressive_verification_speedup(device, large, 1) == pytest.approx(1.0)


def test_stdpl_overlaps_std_reads_with_compute_layer_by_layer(phone):
    device, _, large = phone
    std = llama_cpp(device, large, device.available_B)
    pl = std_pipelined(device, large)
    longer, shorter = max(std.io_s, std.compute_s), min(std.io_s, std.compute_s)
    assert pl.latency_s == pytest.approx(longer + shorter / large.layers)
    assert pl.latency_s < std.latency_s


def test_regression_llmcad_xiaomi11(phone):
    """Regression pin of the model's own output (not a published target): LLaMA2-7B -> 13B at 5 GB."""
    device, small, large = phone
    cad, std = llmcad(device, small, large)
    assert cad.latency_s == pytest.approx(0.926, rel=2e-3)
    assert std.latency_s / cad.latency_s == pytest.approx(3.874, rel=2e-3)
    assert cad.extra["accepted_per_verify"] == pytest.approx(4.294, rel=2e-3)


def test_regression_speedup_at_the_ends_of_the_confidence_shape(phone):
    """Regression pin: the calibrated range (concentration 1.25-1.56) spans 3.92-3.94x."""
    device, small, large = phone
    ends = [std.latency_s / cad.latency_s
            for cad, std in (llmcad(device, small, large, concentration=k) for k in CONCENTRATION_RANGE)]
    assert ends == pytest.approx([3.940, 3.918], rel=2e-3)


def test_regression_speedup_barely_depends_on_the_free_memory(phone):
    """Regression pin: from the 4.1 GB the 7B needs (LLMCad Table 1) to 90% of the 8 GB."""
    device, small, large = phone
    speedups = [std.latency_s / cad.latency_s
                for cad, std in (llmcad(device, small, large, m) for m in (4.1e9, 5.0e9, 7.2e9))]
    assert speedups == pytest.approx([3.537, 3.874, 3.874], rel=3e-3)


def test_calibrated_concentration_meets_both_published_acceptance_statistics():
    """The bundled concentration is the one solved for the published drafted tokens per verification (midpoint
    of 5.3-5.6), and the other published statistic, the share of verifications that find an error (52.8-76.3%),
    holds there without being solved for (EdgeLLM IV.G, LLaMA2-Chat 7B -> 13B)."""
    lo, hi = DRAFTED_PER_VERIFICATION
    assert calibrate_concentration(0.5 * (lo + hi)) == pytest.approx(CONCENTRATION, rel=0.05)
    d = simulate_drafting(20000, concentration=CONCENTRATION)
    assert lo <= d.drafted <= hi
    assert VERIFICATIONS_WITH_ERRORS[0] <= d.error_share <= VERIFICATIONS_WITH_ERRORS[1]


def test_a_runner_up_opens_a_branch_only_above_30_percent_of_the_mass():
    # c ~ 0.5 on every token: the runner-up's share u * 0.5 exceeds 0.3 only for u > 0.6, so ~40% of the
    # positions branch (a rule that branched whenever the rest exceeded 30% would branch at every position)
    d = simulate_drafting(4000, agreement=0.5, concentration=1e6, adaptive_fallback=False)
    branch_sequences_per_position = (d.verified - d.drafted) / d.drafted
    n = d.drafted
    # a branch at depth i adds i tokens, so with branch probability q the branch tokens are q * n (n + 1) / 2
    q = branch_sequences_per_position / ((n + 1) / 2)
    assert q == pytest.approx(0.4, abs=0.05)


def test_bld_falls_back_on_the_first_token_below_its_threshold():
    from einsim.mappers.phone.llmcad import bld_techniques

    # every confidence 0.8 (concentration -> infinity): above a 0.7 threshold nothing falls back until the
    # product rule would, which BLD does not use, so only a threshold above 0.8 stops drafting at once
    d = simulate_drafting(2000, concentration=1e9, tree=False, adaptive_fallback=False, fallback_threshold=0.9)
    assert d.drafted == 0 and d.accepted == 1  # the large model emits every token itself
    t = bld_techniques(0.5)
    assert not (t.tree or t.pipeline or t.adaptive_fallback) and t.fallback_threshold == 0.5
    # a higher threshold falls back sooner: shorter drafts
    low, high = (simulate_drafting(4000, tree=False, adaptive_fallback=False, fallback_threshold=x, seed=3)
                 for x in (0.3, 0.9))
    assert high.drafted < low.drafted


def test_bld_on_the_phone_reloads_the_target_every_fallback_without_a_pipeline(phone):
    from einsim.mappers.phone.llmcad import bld_techniques

    device, small, large = phone
    cad, _ = llmcad(device, small, large, techniques=bld_techniques(0.6))
    load = large.params * INT4_B / 2.1e9  # the whole 13B, sequential 512 KiB reads (UFS 3.1 table: 2.1 GB/s)
    per_cycle = cad.latency_s * cad.extra["accepted_per_verify"]
    verify = forward_time(device, large, cad.extra["verified_per_verify"])
    drafting = cad.extra["drafted_per_verify"] * forward_time(device, small, 1)
    assert per_cycle == pytest.approx(load + verify + drafting, rel=1e-9)
    assert cad.extra["cpu_busy_s"] * cad.extra["accepted_per_verify"] == pytest.approx(drafting + verify, rel=1e-9)


def test_peak_memory_is_llama_cpp_weights_kv_and_runtime():
    from einsim.mappers.phone.llmcad import peak_memory_B

    fp = footprint("llama2_13b")
    assert peak_memory_B(fp, 512) == pytest.approx(fp.params * INT4_B + 2 * 40 * 5120 * 512 * 2 + RUNTIME_B)


def test_speed_gap_is_std_over_the_draft_step(phone):
    from einsim.mappers.phone.llmcad import speed_gap

    device, small, large = phone
    assert speed_gap(device, small, large) == pytest.approx(
        llama_cpp(device, large, device.available_B).latency_s / forward_time(device, small, 1))


def test_token_energy_counts_busy_engines_bytes_and_the_baseline(phone):
    from einsim.mappers.phone.llmcad_energy import XIAOMI11_POWER as P, token_energy

    device, small, large = phone
    cad, std = llmcad(device, small, large)
    x = cad.extra
    assert token_energy(cad) == pytest.approx(x["cpu_busy_s"] * P.cpu_W + x["flash_busy_s"] * P.flash_W
                                              + (cad.dram_B + cad.flash_B) * P.dram_J_per_B
                                              + cad.latency_s * P.baseline_W)
    assert token_energy(std) == pytest.approx(std.compute_s * P.cpu_W + std.io_s * P.flash_W
                                              + (std.dram_B + std.flash_B) * P.dram_J_per_B
                                              + std.latency_s * P.baseline_W)


def test_the_jetson_deployment_runs_pytorch_fp32_on_the_gpu():
    from einsim.mappers.phone.llmcad import JETSON, OPS_PER_LAYER, std

    tx2, small, large = load_device("jetson_tx2"), footprint("gpt2"), footprint("gpt2_large")
    step = small.params * 4.0 / 40e9 + (small.layers * OPS_PER_LAYER + 2) * JETSON.op_s  # bandwidth-bound
    assert forward_time(tx2, small, 1, JETSON) == pytest.approx(step)
    alone = std(tx2, large, deploy=JETSON)  # 3.3 GB of fp32 weights over a 2 GB budget: read in full
    assert alone.io_s == pytest.approx(large.params * 4.0 / 300e6)
    assert std(tx2, large, 6e9, JETSON).io_s == 0.0  # it fits in 6 GB
    with pytest.raises(Exception, match="no GPU"):
        forward_time(load_device("xiaomi11"), small, 1, JETSON)


def test_a_pair_that_fits_is_never_reloaded():
    from einsim.mappers.phone.llmcad import JETSON

    tx2, small, large = load_device("jetson_tx2"), footprint("gpt2"), footprint("gpt2_large")
    cad, _ = llmcad(tx2, small, large, 6e9, deploy=JETSON)  # 0.65 + 3.35 + 0.3 GB <= 6 GB
    assert cad.io_s == 0.0 and cad.extra["flash_busy_s"] == 0.0
    assert llmcad(tx2, small, large, 4e9, deploy=JETSON)[0].io_s > 0.0  # 4.3 GB do not fit in 4


def test_speculative_decoding_verifies_after_a_fixed_draft_length():
    from einsim.mappers.phone.llmcad import sp_techniques

    d = simulate_drafting(3000, tree=False, adaptive_fallback=False, draft_length=4, seed=2)
    assert d.drafted == 4 and d.verified == 4  # every verification checks exactly 4 drafted tokens
    assert 1 <= d.accepted <= 5
    t = sp_techniques(6)
    assert t.draft_length == 6 and not (t.tree or t.pipeline or t.adaptive_fallback)
