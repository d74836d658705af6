"""The published phone numbers, computed through the policies, at the issue's tolerances.

Targets that the mechanisms miss are strict expected failures naming the missing mechanism
(docs/phone.md, "Gaps").
"""

from __future__ import annotations

import pytest

from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.llmcad import llmcad
from einsim.mappers.phone.llmflash import CONFIGS, Run, llm_in_a_flash
from einsim.mappers.phone.naive import llama_cpp
from einsim.mappers.phone.powerinfer2 import ffn_offload_budget, powerinfer2
from einsim.reproduce.llm_in_a_flash import RUNS, TABLE2_IO_MS, TABLE3_MS
from einsim.reproduce.llmcad import S_PER_TOKEN, SPEEDUP_PHONES
from einsim.reproduce.powerinfer2 import ABLATION_PAPER, CURVE, CURVE_RATIOS, MIXTRAL

MIXTRAL_19GB = ("Mixtral at 19 GB runs 7.36 vs 11.68 tokens/s (136 vs 86 ms): the cold pipeline is I/O bound "
                "(~590 4 KiB reads per layer, half the predicted cold neurons miss a 12 GB cache) and its first "
                "read waits for the first cluster's predict stage; clusters here are chunks of predicted-active "
                "neurons (2 per layer), so each predicts for ~9000 cold columns on one thread. The paper's "
                "clusters are static neuron sets that pass through Pred (static 512-neuron clusters give 9.9 "
                "here, but Bamboo 18.2); the run-time cluster size and the 19 GB miss rate are not published")
MIXTRAL_19GB_MODEL = 7.36  # what the model gives (regression pin), not a published number
BAMBOO_XPU_MODEL = 13.58  # what the model gives (regression pin), not a published number
LLMFLASH_RESIDENCY = ("LLM in a flash at 19 GB: 2.34 vs 3.74 tokens/s. The 7 GB point fixes its I/O throughput "
                      "(dropping the 40% multi-issuer loss gives 1.31x there, paper 1.84x), so the gap is how the "
                      "re-implementation fills DRAM beyond its window: a random fixed share gives 2.34 tokens/s, "
                      "the hottest neurons ~6.1, a window grown to the budget ~7.7; it is not described")


@pytest.fixture(scope="module")
def op12():
    return load_device("oneplus12")


@pytest.mark.parametrize("config", CONFIGS)
def test_llm_in_a_flash_io_per_token(config):
    cost = llm_in_a_flash(load_device("m1max"), footprint("opt_6p7b"), config)
    assert cost.io_s * 1e3 == pytest.approx(TABLE2_IO_MS[config], rel=0.15)


LLMFLASH_TABLE3 = ("M1 Max CPU end to end 276 vs 669 ms (memory management 7.4 vs 58): the GEMVs at the CPU "
                   "cores' bandwidth with fp32 casts, the matrix's copies at that bandwidth and PyTorch dispatch "
                   "leave ~390 ms of the paper's compute and ~50 ms of its memory management unexplained "
                   "(docs/phone.md, Gaps 4)")
LLMFLASH_TABLE3_MODEL = {"cpu": (275.8, 7.39), "gpu": (142.8, 7.22)}  # ms, what the model gives (regression pin)


@pytest.fixture(scope="module")
def m1max_bundling():
    dev, fp = load_device("m1max"), footprint("opt_6p7b")
    return {engine: llm_in_a_flash(dev, fp, "bundling", run) for engine, run in RUNS.items()}


@pytest.mark.xfail(strict=True, reason=LLMFLASH_TABLE3)
def test_llm_in_a_flash_table3_cpu(m1max_bundling):
    c = m1max_bundling["cpu"]
    assert c.latency_s * 1e3 == pytest.approx(TABLE3_MS[("M1 Max CPU", "total")], rel=0.25)
    assert c.mem_s * 1e3 == pytest.approx(TABLE3_MS[("M1 Max CPU", "memory management")], rel=0.25)


def test_llm_in_a_flash_table3_model_values_regression(m1max_bundling):
    # pins the model while the Table 3 target is an expected failure; the CPU and GPU rows differ by mechanism
    for engine, (total_ms, mem_ms) in LLMFLASH_TABLE3_MODEL.items():
        c = m1max_bundling[engine]
        assert c.latency_s * 1e3 == pytest.approx(total_ms, rel=0.01)
        assert c.mem_s * 1e3 == pytest.approx(mem_ms, rel=0.02)


@pytest.fixture(scope="module")
def mixtral(op12):
    fp = footprint(MIXTRAL)
    return {gb: (powerinfer2(op12, fp, gb * 1e9), llm_in_a_flash(op12, fp, "bundling", Run(weight_B=INT4_B),
                                                                   memory_B=gb * 1e9)) for gb in (7, 19)}


def test_powerinfer2_mixtral_tokens_per_s_at_7GB(mixtral):
    assert mixtral[7][0].tokens_per_s == pytest.approx(CURVE[("powerinfer2", 7)], rel=0.20)


@pytest.mark.xfail(strict=True, reason=MIXTRAL_19GB)
def test_powerinfer2_mixtral_tokens_per_s_at_19GB(mixtral):
    assert mixtral[19][0].tokens_per_s == pytest.approx(CURVE[("powerinfer2", 19)], rel=0.20)


def test_powerinfer2_mixtral_at_19GB_model_value(mixtral):
    # pins the model while the 19 GB target is an expected failure
    assert mixtral[19][0].tokens_per_s == pytest.approx(MIXTRAL_19GB_MODEL, rel=0.02)


def test_powerinfer2_over_llm_in_a_flash_at_7GB(mixtral):
    # at 7 GB LLM in a flash has no DRAM beyond its window: this point checks its UFS throughput
    # (bundle reads from 32 threads, the 40% single-queue loss) and its additive compute
    p, f = mixtral[7]
    assert p.tokens_per_s / f.tokens_per_s == pytest.approx(CURVE_RATIOS[("llm-in-a-flash", 7)], rel=0.20)


def test_powerinfer2_over_llm_in_a_flash_at_19GB(mixtral):
    # passes through two errors of the same sign: PowerInfer-2 -27%, LLM in a flash -37% (docs/phone.md, Gaps)
    p, f = mixtral[19]
    assert p.tokens_per_s / f.tokens_per_s == pytest.approx(CURVE_RATIOS[("llm-in-a-flash", 19)], rel=0.20)


@pytest.mark.xfail(strict=True, reason=LLMFLASH_RESIDENCY)
def test_llm_in_a_flash_mixtral_at_19GB(mixtral):
    assert mixtral[19][1].tokens_per_s == pytest.approx(CURVE[("llm-in-a-flash", 19)], rel=0.20)


def test_llama_cpp_mixtral_at_19GB(op12):
    c = llama_cpp(op12, footprint(MIXTRAL), 19e9)
    assert c.tokens_per_s == pytest.approx(CURVE[("llama.cpp", 19)], rel=0.20)


@pytest.fixture(scope="module")
def bamboo(op12):
    fp = footprint("bamboo_7b")
    return op12, fp, ffn_offload_budget(fp, 0.5)


def test_ablation_baseline(bamboo):
    op12, fp, budget = bamboo
    assert llama_cpp(op12, fp, budget).tokens_per_s == pytest.approx(ABLATION_PAPER["baseline"], rel=0.25)


def test_ablation_endpoint(bamboo):
    # 14.5 before the synchronous NPU call, the cache bookkeeping and the token shift (docs/phone.md, Gaps 1)
    op12, fp, budget = bamboo
    assert powerinfer2(op12, fp, budget).tokens_per_s == pytest.approx(ABLATION_PAPER["+xpu"], rel=0.25)


def test_ablation_endpoint_model_value(bamboo):
    op12, fp, budget = bamboo
    assert powerinfer2(op12, fp, budget).tokens_per_s == pytest.approx(BAMBOO_XPU_MODEL, rel=0.02)


def test_llmcad_speedup_in_the_phone_range():
    cad, std = llmcad(load_device("xiaomi11"), footprint("llama2_7b"), footprint("llama2_13b"))
    lo, hi = SPEEDUP_PHONES
    assert lo <= std.latency_s / cad.latency_s <= hi
    assert cad.latency_s == pytest.approx(S_PER_TOKEN, rel=0.25)
