"""`einsim reproduce lightmamba`: Mamba2-2.7B decode on the VCK190 from its per-layer traffic, at the issue's 10%."""

from __future__ import annotations

import json

import pytest

from einsim.explore.cli import main
from einsim.reproduce import lightmamba as lm
from einsim.mappers.fpga.lightmamba import W4A4, lower_decode, vck190

# Misses, with the mechanism believed missing. The model streams the layer's 21.7 MB (weights,
# scales, state in and out) at 97% of the measured 12 GB/s (port busy 0.967 of the token): it is the
# memory-bound bound of lightmamba.md §4 (8.61 tok/s less the modelled stalls: the out_proj wait for
# the last head group's scan, the state read and write on the one in-order port). The board reaches
# 10.05 GB/s, 84% of the 12 GB/s. What closes the gap is not in the facts: the NoC/LPDDR4 efficiency
# of this read pattern (or how the 12 GB/s was measured). W8A8 misses by more because its MMU is
# assumed to stay at 64 MACs fed by the same port (its layout was not recovered). tokens/J carry the
# throughput's error: the board power is only known as the paper's throughput over its tokens/J.
MISSES = {
    "VCK190 W4A4 tokens/s": "DRAM/NoC efficiency of the weight stream (84% of 12 GB/s on board) not recovered",
    "VCK190 W8A8 tokens/s": "same; W8A8's MMU and scale layout not recovered",
    "VCK190 W4A4 tokens/J": "carries the W4A4 throughput miss (power derived from the paper's pair)",
    "VCK190 W4A4 tokens/J vs RTX 2070": "carries the W4A4 throughput miss",
    "VCK190 W4A4 tokens/J vs RTX 4090": "carries the W4A4 throughput miss",
}


@pytest.fixture(scope="module")
def measured() -> dict[str, float]:
    return lm.measured()


@pytest.mark.parametrize("name", [n for n in lm.PUBLISHED if n not in MISSES])
def test_published_figure(name: str, measured: dict[str, float]) -> None:
    value, tol, _ = lm.PUBLISHED[name]
    assert measured[name] == pytest.approx(value, rel=tol)


@pytest.mark.parametrize("name", list(MISSES))
@pytest.mark.xfail(strict=True, reason="a known miss; see MISSES")
def test_published_figure_missed(name: str, measured: dict[str, float]) -> None:
    value, tol, _ = lm.PUBLISHED[name]
    assert measured[name] == pytest.approx(value, rel=tol)


def test_per_layer_traffic_is_the_repos() -> None:
    """repo case/M_AXI_STATIC.cpp: weights + scales 20,326,368 B, state 696,320 B in and out per
    layer (the conv weights and state, 3 x 714 beats, are not in the model's cascades)."""
    one = lower_decode(vck190(), W4A4, layers=1)
    assert one.weight_bytes == pytest.approx(20_326_368, rel=1e-4)
    assert one.kv_bytes == 2 * 696_320


def test_a_token_is_its_layers_extrapolated_from_one_and_two() -> None:
    d = vck190()
    one, two, three = (lower_decode(d, W4A4, layers=n).run(d).latency_s for n in (1, 2, 3))
    assert three == pytest.approx(one + 2 * (two - one), rel=1e-9)


def test_the_port_feeds_one_weight_tile_per_mmu_cycle() -> None:
    """64 4-bit weights per 256-bit beat, 64 MACs per cycle: the design is sized to its port."""
    d = vck190()
    assert d.mm_macs * 4 == 256 and d.mv_pk * d.mv_pn_max == d.mm_macs


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "lightmamba", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    decode = {(r["format"], r["reordering"]): r["tokens_per_s"] for r in rows if r["kind"] == "decode"}
    assert decode["W4A4", True] > decode["W4A4", False]  # reordering hides the scan behind in_proj
    assert decode["W4A4", True] / decode["W8A8", True] == pytest.approx(2, rel=0.1)  # twice the bytes
    u280 = [r for r in rows if r["kind"] == "u280"]
    assert sum(r["assumed"] for r in u280) == 1 and len(u280) == 12
    assert {r["name"] for r in rows if r["kind"] == "check"} == set(lm.PUBLISHED)
