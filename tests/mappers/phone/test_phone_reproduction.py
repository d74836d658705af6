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
from einsim.mappers.phone.reproduce import MIXTRAL, PAPER

MISSING_COMPUTE = ("Bamboo at 50% offload runs 16.4 vs 11.07 tokens/s: the paper's ~90 ms token is 86% compute, "
                   "twice its in-memory time, and Mixtral at 19 GB (already 17% slow) leaves no room for a per-token "
                   "overhead common to both; fixing the predictor stage (its bytes are timed at the whole CPU's "
                   "bandwidth, then split over 5 threads) gives 14.8 but Mixtral 7.6 tokens/s; the per-access cost "
                   "of the neuron cache, NPU-CPU synchronisation and the Bamboo activation distribution "
                   "(<1% highly activated at batch 1, 20% in the generator) are not published in usable form")
LLMFLASH_RESIDENCY = ("LLM in a flash at 19 GB: 2.34 vs 3.74 tokens/s (4.13x, paper 3.12x). The 7 GB point fixes its "
                      "I/O throughput (dropping the 40% multi-issuer loss gives 1.31x there, paper 1.84x), so the "
                      "gap is how the re-implementation fills DRAM beyond its window: a random fixed share gives "
                      "4.13x, the hottest neurons 1.58x, a window grown to the budget less; it is not described")


@pytest.fixture(scope="module")
def op12():
    return load_device("oneplus12")


@pytest.mark.parametrize("config", CONFIGS)
def test_llm_in_a_flash_io_per_token(config):
    cost = llm_in_a_flash(load_device("m1max"), footprint("opt_6p7b"), config)
    assert cost.io_s * 1e3 == pytest.approx(PAPER["llmflash_io_ms"][config], rel=0.15)


@pytest.fixture(scope="module")
def mixtral(op12):
    fp = footprint(MIXTRAL)
    return {gb: (powerinfer2(op12, fp, gb * 1e9), llm_in_a_flash(op12, fp, "bundling", Run(weight_B=INT4_B),
                                                                   memory_B=gb * 1e9)) for gb in (7, 19)}


@pytest.mark.parametrize("gb", [19, 7])
def test_powerinfer2_mixtral_tokens_per_s(mixtral, gb):
    assert mixtral[gb][0].tokens_per_s == pytest.approx(PAPER[f"powerinfer2_{gb}GB"], rel=0.20)


def test_powerinfer2_over_llm_in_a_flash_at_7GB(mixtral):
    # at 7 GB LLM in a flash has no DRAM beyond its window: this point checks its UFS throughput
    # (bundle reads from 32 threads, the 40% single-queue loss) and its additive compute
    p, f = mixtral[7]
    assert p.tokens_per_s / f.tokens_per_s == pytest.approx(PAPER["speedup_vs_llmflash_7GB"], rel=0.20)


@pytest.mark.xfail(strict=True, reason=LLMFLASH_RESIDENCY)
def test_powerinfer2_over_llm_in_a_flash_at_19GB(mixtral):
    p, f = mixtral[19]
    assert p.tokens_per_s / f.tokens_per_s == pytest.approx(PAPER["speedup_vs_llmflash_19GB"], rel=0.20)


def test_llama_cpp_mixtral_at_19GB(op12):
    c = llama_cpp(op12, footprint(MIXTRAL), 19e9)
    assert c.tokens_per_s == pytest.approx(PAPER["llamacpp_19GB"], rel=0.20)


@pytest.fixture(scope="module")
def bamboo(op12):
    fp = footprint("bamboo_7b")
    return op12, fp, ffn_offload_budget(fp, 0.5)


def test_ablation_baseline(bamboo):
    op12, fp, budget = bamboo
    assert llama_cpp(op12, fp, budget).tokens_per_s == pytest.approx(PAPER["ablation"]["baseline"], rel=0.25)


@pytest.mark.xfail(strict=True, reason=MISSING_COMPUTE)
def test_ablation_endpoint(bamboo):
    op12, fp, budget = bamboo
    assert powerinfer2(op12, fp, budget).tokens_per_s == pytest.approx(PAPER["ablation"]["+xpu"], rel=0.25)


def test_llmcad_speedup_in_the_phone_range():
    cad, std = llmcad(load_device("xiaomi11"), footprint("llama2_7b"), footprint("llama2_13b"))
    lo, hi = PAPER["llmcad_speedup_phone"]
    assert lo <= std.latency_s / cad.latency_s <= hi
    assert cad.latency_s == pytest.approx(PAPER["llmcad_s_per_token"], rel=0.25)
