"""The general FPGA lowering: any cascade, Einsum by Einsum by its op kind, and whole models."""

from __future__ import annotations

import math

import pytest

from einsim.einsum import load_workload
from einsim.einsum.models import expand
from einsim.errors import EinsimError
from einsim.explore.cli import main
from einsim.explore.design import evaluate
from einsim.mappers.fpga.cascade import ModelPolicy, Residency, finish, lower_cascade, lower_model
from einsim.mappers.tensor_roles import mac_shape
from einsim.mappers.fpga.flightllm import MIXED_U280, U280, VHK158, decode_step
from einsim.mappers.fpga.memory import WeightFormat
from einsim.sim.fpga_program import QUEUES

INT8 = WeightFormat("INT8 dense", 8)


def test_mac_shape_finds_m_k_n_and_the_streamed_operand() -> None:
    gemm = load_workload("gemm", {"M": 64, "K": 256, "N": 512})
    assert mac_shape(gemm, gemm.einsum("Z")) == (64, 256, 512, "B")
    att = load_workload("attention_decode", {"M": 512})
    m, k, n, streamed = mac_shape(att, att.einsum("BQK"))  # per block of keys (iterative m1)
    assert (m, k, streamed) == (1, att.ranks["E"], "BK")
    assert n == att.ranks["H"] * att.ranks["M0"]


def test_gemm_is_mm_instructions_at_the_engines_mac_rate() -> None:
    """One core of the artifact's VHK158 stream: 4096 MAC/cycle, times divided by 3.2."""
    d = VHK158.device
    c = load_workload("gemm", {"M": 128, "K": 1024, "N": 2048})
    low, _ = lower_cascade(c, d, INT8, Residency())
    run = finish(low).run(d)
    assert run.busy_s["MM"] == pytest.approx(128 * 1024 * 2048 / d.mm_macs / d.clock_Hz / d.speedup, rel=1e-12)
    assert low.act_bytes == 128 * 1024 + 1024 * 2048 + 128 * 2048  # A, B loaded once, Z stored
    loads = [t for t, q in zip(low.p.tag, low.p.queue) if QUEUES[q] == "LD"]
    assert loads.count("Z.w") == 2048 // 512  # B streamed in double-buffered tiles of 512 columns


SMALL = {"gemm": {"M": 64, "K": 256, "N": 256}, "gemv": {}, "ffn_gated": {"M": 16}, "attention_decode": {"M": 512},
         "attention_1pass_causal": {"M": 512, "P": 512}, "mamba1_s6": {"T": 32}, "mamba2_ssd": {"T": 512},
         "linear_attention": {"T": 32}, "gla": {"T": 32}, "based": {"T": 32}, "mom": {"T": 16},
         "gla_chunked": {"T": 256}, "linear_attention_chunked": {"T": 256}, "moe_ffn": {"M": 16}}


@pytest.mark.parametrize("workload", list(SMALL))
def test_every_scan_and_attention_lowers(workload: str) -> None:
    """Each lowers; the stream is no faster than its busiest queue, and every MAC Einsum whose
    reduction fills a chain is on the MPE (MM or MV), every other Einsum on the SFU."""
    c = load_workload(workload, SMALL[workload])
    low, _ = lower_cascade(c, U280.device, INT8, Residency())
    run = finish(low).run(U280.device)
    assert run.latency_s >= max(run.busy_s[q] for q in ("MM", "MV", "MISC")) > 0
    units: dict[str, str] = {}
    for t, q in zip(low.p.tag, low.p.queue):
        if QUEUES[q] not in ("LD", "ST"):
            units.setdefault(t.split(".")[0], QUEUES[q])  # the first: a K-split's reduce follows on the SFU
    for e in c.einsums:
        if e.name in units:
            shape = mac_shape(c, e)
            on_chains = shape is not None and shape[1] >= U280.device.chain.length
            assert (units[e.name] in ("MM", "MV")) == on_chains, e.name


def test_a_decode_scan_step_loads_and_writes_back_its_state() -> None:
    """Mamba-2 decode (T = 1): the [H, P, N] state in and out; the rank-1 update (K = 1, shorter than
    a chain) is an SFU pass, C·h (K = N = 128) runs on the chains in MV mode."""
    c = load_workload("mamba2_ssd", {"T": 1, "Q": 1})
    low, _ = lower_cascade(c, VHK158.device, INT8, Residency(standalone=False, carried_state=True, state_bytes=1.0))
    state = 80 * 64 * 128
    assert low.kv_bytes == 2 * state
    units = {t: QUEUES[q] for t, q in zip(low.p.tag, low.p.queue)}
    assert (units["SP.state"], units["SP"]) == ("ST", "MISC") and units["SL"] == "MISC" and units["SL"] == "MISC" and units["CS"] == "MV"


def test_general_lowering_of_llama_agrees_with_flightllms_decoder_lowering() -> None:
    """Cross-check of two lowerings of one decode step: the general one has no norms, RoPE or
    residuals (they are not in the model's cascades), so it is a little faster, within 10%."""
    d = U280.device
    low = lower_model(expand("llama2_7b", "decode", context_len=512), d, ModelPolicy(MIXED_U280, retile=True))
    general = low.run(d).latency_s
    decoder = decode_step("U280", "llama2_7b", 512).latency_s
    assert general < decoder
    assert general == pytest.approx(decoder, rel=0.10)
    assert low.mv_chains == 32  # the same re-tiling rule (docs/flightllm.md)


def test_mamba2_decode_moves_its_weights_and_states() -> None:
    d = U280.device
    low = lower_model(expand("mamba2_2p7b", "decode", context_len=512), d, ModelPolicy(INT8, retile=True))
    per_layer = 2560 * 10576 + 5120 * 2560 + 80 * 3  # in_proj, out_proj, A / dt bias / D
    assert low.weight_bytes == pytest.approx(64 * per_layer + 2560 * 50288, rel=1e-9)
    assert low.kv_bytes == 64 * 2 * 80 * 64 * 128
    assert low.act_bytes == 0  # always on chip


def test_flightllm_mapper_runs_mamba2_and_the_default_mapper_a_gemm_on_the_u280(capsys: pytest.CaptureFixture[str]) -> None:
    """The two refusals of issue #14 ("FlightLLM lowering handles decoder LLMs, not Mamba2"; "no compute
    unit of FlightLLM-U280 has all of its ops (mac)")."""
    assert main(["eval", "--arch", "u280", "--model", "mamba2_2p7b", "--phase", "decode", "--seq", "512",
                 "--mapper", "flightllm"]) == 0
    assert "mamba2_2p7b decode:flightllm@FlightLLM-U280" in capsys.readouterr().out
    r = evaluate("u280", "gemm", "ideal", M=1024, K=1024, N=1024)
    # the MAC lanes' roofline, in whole steps of every lane
    assert r.latency_s == pytest.approx(-(-1024**3 // (9024 * 2)) / 225e6, rel=1e-12)
    f = evaluate("u280", "gemm", "fpga", M=1024, K=1024, N=1024)
    assert f.latency_s > r.latency_s  # the lowered program is slower than the bound
    # the design's default mappers (flightllm, fpga): a workload skips the whole-model flightllm
    assert evaluate("u280", "gemm", M=1024, K=1024, N=1024).latency_s == f.latency_s


def test_fpga_mapper_refuses_a_model_and_unknown_options() -> None:
    with pytest.raises(EinsimError, match="unknown option"):
        evaluate("u280", "gemm", "fpga", mapper_options={"tile": 3})


def test_a_design_whose_modes_need_more_dsps_than_it_has_is_refused() -> None:
    from einsim.arch import bundled_dir, load_arch
    from einsim.mappers.fpga.device import device_from_arch

    arch = load_arch(bundled_dir() / "u280.yaml")
    arch.components["MPE"] = arch.component("MPE").model_copy(update={"dsp_count": 4096})
    with pytest.raises(ValueError, match="need 6144 DSPs"):
        device_from_arch(arch, "board")
    assert math.isclose(device_from_arch(load_arch(bundled_dir() / "u280.yaml"), "board").chain.length, 16)


def test_the_engine_and_memory_are_found_by_kind() -> None:
    """The VCK190 names them MMU and LPDDR4: a GEMV streams its 4096 x 4096 INT8 weights at 12 GB/s,
    plus the last 512-column tile's MV (512 x 4096 / 64 MAC per cycle at 400 MHz) after the stream."""
    r = evaluate("vck190", "gemv", "fpga", K=4096, N=4096)
    assert r.latency_s == pytest.approx(4096 * 4096 / 12e9 + 512 * 4096 / 64 / 400e6, rel=0.001)


def test_a_moe_decode_token_loads_the_router_and_its_topk_experts_only() -> None:
    """Mixtral decode on the U280: one token reads the router and 2 of its 8 SwiGLU experts per layer,
    so the weight traffic beyond attention is 2/8 of the dense-all-experts FFN."""
    one = evaluate("u280", mapper="flightllm", model="mixtral_8x7b", phase="decode", seq_len=256)
    dense = evaluate("u280", mapper="flightllm", model="mistral_7b", phase="decode", seq_len=256)
    # same attention as Mistral-7B (GQA, d 4096), FFN of 2 experts of 14336: more bytes than Mistral, far fewer than 8 experts
    assert dense.dram_bytes < one.dram_bytes < 2 * dense.dram_bytes
