"""The general phone lowering (mappers/phone/cascade.py) and the policies' rules over it, against hand calculations."""

from __future__ import annotations

import pytest

from einsim.einsum import load_workload
from einsim.einsum.models import expand
from einsim.explore.design import evaluate
from einsim.mappers.phone.cascade import ACT_B, STATE_B, Rule, _pipeline, lower_op, lower_plan
from einsim.mappers.phone.formats import INT4_B, RUNTIME_B
from einsim.mappers.phone.hardware import load_device

# Mamba-2 2.7B (d 2560, E 5120, 80 heads x 64, N 128, G 1, 64 layers, vocab 50288), by hand
IN_PROJ = 2560 * (2 * 5120 + 2 * 128 + 80)  # [z, x, B, C, dt]
OUT_PROJ = 5120 * 2560
SCAN_WEIGHTS = 3 * 80  # A, dt bias, D skip per head
LM_HEAD = 2560 * 50288
WEIGHTS = 64 * (IN_PROJ + OUT_PROJ + SCAN_WEIGHTS) + LM_HEAD
STATE = 80 * 64 * 128  # elements of one layer's SSD state
# activations of one decode token through DRAM, op by op: in_proj in/out, scan in (x, dt, B, C) / out, out_proj in/out
ACTS = 64 * (2560 + 10576 + 5120 + 80 + 128 + 128 + 5120 + 5120 + 2560) + 2560 + 50288


@pytest.fixture(scope="module")
def phone():
    return load_device("oneplus12")


def test_mamba2_decode_moves_its_weights_and_reads_and_writes_its_state(phone) -> None:
    low = lower_plan(expand("mamba2_2p7b", "decode", context_len=1024), phone, Rule("test"), 19e9)
    assert low.weights_B == pytest.approx(WEIGHTS * INT4_B, rel=1e-12)
    assert low.resident_B == low.weights_B and low.flash_B == 0.0  # 1.52 GB fits the 19 GB
    assert low.state_B == pytest.approx(64 * STATE * STATE_B)  # the state decode keeps in DRAM (168 MB)
    assert low.kv_B == 0.0  # a scan has no KV cache
    assert low.dram_B == pytest.approx(WEIGHTS * INT4_B + 64 * 2 * STATE * STATE_B + ACTS * ACT_B, rel=1e-12)


def test_mamba2_decode_streams_exactly_the_weights_not_resident(phone) -> None:
    plan = expand("mamba2_2p7b", "decode", context_len=1024)
    buffers = (2560 + 50288) * ACT_B  # the largest op's activations: the LM head's
    budget = RUNTIME_B + 64 * STATE * STATE_B + buffers + 0.5e9
    low = lower_plan(plan, phone, Rule("test"), budget)
    assert low.resident_B == pytest.approx(0.5e9)
    assert low.flash_B == pytest.approx(WEIGHTS * INT4_B - 0.5e9)
    # sequential 512 KiB reads at 4 GB/s (UFS 4.0 table), prefetched under compute: the flash bounds the token
    flash_s = low.flash_B / 4e9
    assert flash_s < low.latency_s < flash_s + low.compute_s
    assert low.busy_s()["flash"] == pytest.approx(flash_s)
    with pytest.raises(Exception, match="exceed the .* GB of DRAM before any weight"):
        lower_plan(plan, phone, Rule("test"), RUNTIME_B)


def test_the_scan_binds_to_the_cpu_and_its_projections_to_the_matrix_engine() -> None:
    ssd = lower_op("scan", load_workload("mamba2_ssd", {"T": 1, "Q": 1, "H": 80, "P": 64, "N": 128}), True, INT4_B)
    assert set(ssd.work) == {"CPU"} and ssd.state_B == 2 * STATE * STATE_B and ssd.kv_B == 0
    proj = lower_op("in_proj", load_workload("gemm", {"M": 1, "K": 2560, "N": IN_PROJ // 2560}), True, INT4_B)
    assert set(proj.work) == {"matrix"} and proj.work["matrix"].ops == IN_PROJ
    s6 = lower_op("scan", load_workload("mamba1_s6", {"T": 1, "E": 5120, "N": 16}), True, INT4_B)
    assert s6.state_B == 2 * 5120 * 16 * STATE_B
    # prefill carries the state across the scan's steps on chip and writes the last one for decode
    pre = lower_op("scan", load_workload("mamba2_ssd", {"T": 512, "Q": 256, "H": 80, "P": 64, "N": 128}), False, INT4_B)
    assert pre.state_B == STATE * STATE_B
    based = lower_op("la", load_workload("based", {"T": 1, "H": 16, "D2": 16, "DV": 112}), True, INT4_B)
    assert based.state_B == 2 * (16 * 112 + 16 * 16 * 112 + 16 * 256 * 112 + 1 + 16 * 16 + 16 * 256) * STATE_B


def test_decode_attention_reads_the_kv_cache_and_a_moe_reads_only_routed_experts() -> None:
    att = lower_op("attention", load_workload("attention_decode", {"H": 32, "E": 128, "F": 128, "M": 1024, "M0": 256}),
                   True, INT4_B)
    assert att.kv_B == 2 * 32 * 128 * 1024 * 2.0 and set(att.work) == {"CPU"}
    moe = lower_op("moe", load_workload("moe_ffn", {"M": 1, "D": 64, "I": 128, "R": 8, "TOPK": 2}), True, INT4_B)
    experts, router = 3 * 8 * 64 * 128 * INT4_B, 64 * 8 * INT4_B
    assert moe.stored_B == pytest.approx(experts + router)
    assert moe.weight_B == pytest.approx(experts * 2 / 8 + router)  # one token routes to 2 of 8 experts
    assert moe.work["matrix"].ops == pytest.approx(64 * 8 + 3 * 64 * 128 * 2)  # router dense, experts routed


def test_one_gemv_is_the_slower_of_its_macs_and_its_bytes_on_the_bound_engine(phone) -> None:
    gemv = load_workload("gemm", {"M": 1, "K": 4096, "N": 4096})
    nbytes = 4096 * 4096 * INT4_B + 2 * 4096 * ACT_B
    cpu = evaluate("oneplus12", gemv, "phone", mapper_options={"engine": "cpu"})
    macs_per_s = (1 * 3.3e9 * 64 + 5 * 3.0e9 * 32 + 2 * 2.2e9 * 32) * 0.35  # int8 SDOT x INT4 GEMV efficiency
    assert cpu.latency_s == pytest.approx(max(4096 * 4096 / macs_per_s, nbytes / 43.9e9), rel=1e-9)
    npu = evaluate("oneplus12", gemv, "phone")
    assert npu.latency_s == pytest.approx(max(2 * 4096 * 4096 / 10.78e12 + 120e-6, nbytes / 56e9), rel=1e-9)


def test_pipeline_prefetches_one_op_ahead_or_blocks() -> None:
    io, compute = [1.0, 1.0, 0.0], [2.0, 2.0, 2.0]
    # prefetch: read 1 runs under compute 0 (1-2), compute 1 at 3-5, compute 2 at 5-7
    assert _pipeline(io, compute, True, 1) == 7.0
    # faults: read 1 waits for compute 0 (3-4), compute 1 at 4-6, compute 2 at 6-8
    assert _pipeline(io, compute, False, 0) == 8.0


def test_policies_run_a_scan_and_say_what_they_do_without_activation_sparsity() -> None:
    # on main every phone policy refused a scan ("the phone policies need a decoder preset")
    pi2 = evaluate("oneplus12", model="mamba2_2p7b", phase="decode", seq_len=1024, mapper="powerinfer2")
    assert pi2.notes[0].startswith("powerinfer2: dense fallback, mamba2_2p7b has no activation statistics")
    assert "(mamba2: no sparse FFN)" in pi2.notes[0] and "no hot/cold neuron split" in pi2.notes[0]
    assert pi2.bytes_per_level["DRAM"] == pytest.approx(WEIGHTS * INT4_B + 64 * 2 * STATE * STATE_B + ACTS * ACT_B)
    assert pi2.energy_J == pytest.approx(5.095 * pi2.latency_s)
    # LLM in a flash without a budget: its hybrid step, half the weights resident as in the paper
    flash = evaluate("m1max", model="mamba2_2p7b", phase="decode", seq_len=1024, mapper="llm-in-a-flash")
    assert "runs as its hybrid step" in flash.notes[0]
    assert flash.bytes_per_level["flash"] == pytest.approx(0.5 * WEIGHTS * INT4_B)
    # llama.cpp's page cache under a budget below the model: a cyclic scan misses every page
    naive = evaluate("oneplus12", model="mamba2_2p7b", phase="decode", seq_len=1024, mapper="llama.cpp",
                     mapper_options={"memory_GB": 1.0})
    assert naive.bytes_per_level["flash"] == pytest.approx(WEIGHTS * INT4_B)
    # prefill: the token count is the batch of the NPU's dense pass
    pre = evaluate("oneplus12", model="mamba2_2p7b", phase="prefill", seq_len=512, mapper="powerinfer2")
    assert "prefill uses every neuron of the batch" in pre.notes[0] and pre.latency_s > pi2.latency_s


@pytest.mark.parametrize("model, memory_B", [("llama2_7b", 19e9), ("llama2_13b", 5e9)])
def test_llama_cpp_paper_path_is_the_general_lowering_under_its_rule(phone, model, memory_B) -> None:
    """Two independent computations: the page-by-page LRU simulation of naive.py and the lowering's
    op-by-op placement under llama.cpp's rule (at 5 GB LLaMA-2 13B streams 7.2 GB per token)."""
    from einsim.mappers.phone.footprint import footprint
    from einsim.mappers.phone.naive import llama_cpp
    from einsim.mappers.phone.rules import llama_cpp_rule

    plan = expand(model, "decode", context_len=1024)
    general = lower_plan(plan, phone, llama_cpp_rule(plan), memory_B)
    own = llama_cpp(phone, footprint(model), memory_B, context_len=1024)
    assert general.latency_s == pytest.approx(own.latency_s, rel=2e-3)
    assert general.flash_B == pytest.approx(own.flash_B, rel=2e-3, abs=1.0)
    assert general.dram_B == pytest.approx(own.dram_B, rel=2e-3)


def test_powerinfer2_prefill_runs_the_dense_layer_on_the_npu(phone) -> None:
    causal = load_workload("attention_1pass_causal", {"H": 32, "E": 128, "F": 128, "M": 512, "M0": 256})
    assert "matrix" not in lower_op("attention", causal, False, INT4_B).work  # by capability: activations on the CPU
    dense = lower_op("attention", causal, False, INT4_B, all_macs=True)  # PowerInfer-2's prefill rule
    assert set(dense.work) == {"matrix", "CPU"} and dense.work["matrix"].ops > dense.work["CPU"].ops
    pre = evaluate("oneplus12", model="bamboo_7b", phase="prefill", seq_len=512, mapper="powerinfer2")
    assert "every MAC (the dense layer) on the NPU" in pre.notes[0]
    assert max(pre.utilization, key=pre.utilization.get) == "NPU"
