"""`einsim reproduce lightmamba`: Mamba2-2.7B decode on the VCK190 from its per-layer traffic, at the issue's 10%."""

from __future__ import annotations

import json

import pytest

from einsim.explore.cli import main
from einsim.reproduce import lightmamba as lm
from einsim.reproduce.compare import CompareRow
from einsim.mappers.fpga.lightmamba import FORMATS, W4A4, decode_token, lower_decode, vck190

# Misses, with what was tried (ms per token, W4A4 / W8A8). The model moves the repo's 680,861 beats
# per layer (weights and scales, conv weights and state, SSM state in and out) through the one port
# at the measured 12 GB/s, busy 0.961 of the token: 8.27 / 4.39 tok/s (120.9 / 227.9 ms), where the
# board takes 138.7 / 277.0. Modelled: the conv traffic (+0.37), RMSNorm 1/2 (+0.19), the Hadamard
# rotation before out_proj (+0.61 at the estimated 64-wide 40-point unit; +4.2 at 8 wide); the scan,
# norm and rotation tail before out_proj is 4.7 of the 121. Ruled out (adds ~0): the HLS m_axi side
# (repo: 32 reads outstanding of 256 beats, 128-256 KB in flight), the LPDDR4 (2 controllers x 2 x 32
# bit at 3933 MT/s, 62.9 GB/s), the NoC links (15 GB/s at 1 GHz). The board is not bound by its PL
# clock (repo notebook: 141.6 ms at 425 MHz against 138.7 at 400), so the gap is the memory path's
# rate, which for one NoC master is 2 KB in flight (PG313 read re-order buffer, 64 x 32 B) over its
# read round trip: 12 GB/s is 171 ns; both formats come within 10 % for 190-219 ns (9.35-10.78 GB/s,
# the regression test below), the exact fits being 197 ns (W4A4) and 209 ns (W8A8). That round trip
# under this stream (or how the paper measured 12 GB/s) is not in the facts, so nothing is fitted;
# CHARM's profile of one 512-bit master on the same board (12 GB/s, its CDSE/cdse.py) supports 12 GB/s
# as one NoC master's streaming rate, and the NMU's read latency under the repo's bitstream would settle it.
# LPDDR4 all-bank refresh (tRFCab 280 ns per tREFI 3.904 us, repo memba_bd.tcl) would give 0.928,
# 7.70 / 4.08 tok/s, but only if the 12 GB/s excluded it, which a measured figure does not. tokens/J
# carry the throughput's error: the board power is only known as the paper's throughput over its tokens/J.
MISSES = {
    "VCK190 W4A4 tokens/s": "read round trip of the one NoC master not recovered (190-219 ns needed, 12 GB/s is 171)",
    "VCK190 W8A8 tokens/s": "same; W8A8's MMU and scale layout not recovered",
    "VCK190 W4A4 tokens/J": "carries the W4A4 throughput miss (power derived from the paper's pair)",
    "VCK190 W4A4 tokens/J vs RTX 2070": "carries the W4A4 throughput miss",
    "VCK190 W4A4 tokens/J vs RTX 4090": "carries the W4A4 throughput miss",
}
NMU_READS_IN_FLIGHT_B = 64 * 32  # source: PG313, NMU read re-order buffer: 64 entries of 32 B


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


@pytest.mark.parametrize("round_trip_ns", [190, 219])
def test_regression_one_read_round_trip_brings_both_formats_within_tolerance(round_trip_ns: int,
                                                                            measured: dict[str, float]) -> None:
    """The whole miss is the read rate (docs/backends.md): with one NoC master's 2 KB in flight over a
    round trip at either end of 190-219 ns both formats are within 10 %; at the measured 12 GB/s
    (171 ns) neither is. A pin of the model's sensitivity, not a fit: the round trip is not an input."""
    d = vck190()
    assert d.ld_Bps() == pytest.approx(NMU_READS_IN_FLIGHT_B / 170.7e-9, rel=1e-3)
    slow = d.with_(channel_Bps=NMU_READS_IN_FLIGHT_B / (round_trip_ns * 1e-9))
    for fmt in ("W4A4", "W8A8"):
        name = f"VCK190 {fmt} tokens/s"
        value, tol, _ = lm.PUBLISHED[name]
        assert decode_token(slow, FORMATS[fmt]).tokens_per_s == pytest.approx(value, rel=tol)
        assert measured[name] != pytest.approx(value, rel=tol)


ABLATION_NO_REORDER_TOKENS_PER_S = lm.QUANTISATION_STEP[1]  # Fig. 10: after quantisation, before reordering


def _ablation(device) -> dict[str, float]:
    with_reorder = decode_token(device, W4A4).tokens_per_s
    without = decode_token(device, W4A4, reorder=False).tokens_per_s
    return {"VCK190 W4A4 tokens/s": with_reorder, "VCK190 W8A8 tokens/s": decode_token(device, FORMATS["W8A8"]).tokens_per_s,
            "no reorder": without, "reordering speed-up (Fig. 10: 5.32 -> 7.21 tok/s)": with_reorder / without}


def _paper(name: str) -> float:
    return ABLATION_NO_REORDER_TOKENS_PER_S if name == "no reorder" else lm.PUBLISHED[name][0]


@pytest.mark.parametrize("round_trip_ns", [195, 219])
def test_regression_the_ablation_points_at_the_read_rate_not_the_scan(round_trip_ns: int) -> None:
    """docs/backends.md: one read rate (2 KB over a 191-219 ns round trip) brings W4A4, W8A8, the Fig. 10
    no-reorder throughput and the reordering speed-up within 10 %; at the measured 12 GB/s the three
    throughputs miss, and a scan unit slow enough to match the no-reorder point (its 8 lanes at 4.5,
    1.13 ms a layer) overshoots the speed-up and leaves both formats out. A pin of the model's
    sensitivity: neither the round trip nor the slower scan is an input."""
    d = vck190()
    slow_port = _ablation(d.with_(channel_Bps=NMU_READS_IN_FLIGHT_B / (round_trip_ns * 1e-9)))
    for name, value in slow_port.items():
        assert value == pytest.approx(_paper(name), rel=0.10), name
    measured_rate = _ablation(d)
    for name in ("VCK190 W4A4 tokens/s", "VCK190 W8A8 tokens/s", "no reorder"):
        assert measured_rate[name] != pytest.approx(_paper(name), rel=0.10), name
    slow_scan = _ablation(d.with_(sfu_lanes=4.5))
    assert slow_scan["no reorder"] == pytest.approx(ABLATION_NO_REORDER_TOKENS_PER_S, rel=0.01)
    for name in ("VCK190 W4A4 tokens/s", "VCK190 W8A8 tokens/s", "reordering speed-up (Fig. 10: 5.32 -> 7.21 tok/s)"):
        assert slow_scan[name] != pytest.approx(_paper(name), rel=0.10), name


@pytest.fixture(scope="module")
def compared() -> dict[str, CompareRow]:
    return {r.metric: r for r in lm.compare()}


def test_compare_states_the_u280_parallelism_and_its_sensitivity(compared: dict[str, CompareRow]) -> None:
    """The U280 93 tok/s is a prediction: its --compare row names the assumed parallelism and its note
    the range over the MMU x HBM-port sweep and the sweep point nearest the paper's figure."""
    sweep = [r for r in lm.run() if r["kind"] == "u280"]
    (assumed,) = [r for r in sweep if r["assumed"]]
    row = compared["U280 W4A4 tokens/s (cycle-accurate simulation)"]
    assert row.model_value == pytest.approx(assumed["tokens_per_s"])
    assert "2048 MACs, 32 HBM ports, 256 SSM lanes" in row.config
    lo, hi = (f(r["tokens_per_s"] for r in sweep) for f in (min, max))
    assert lo < lm.U280_PUBLISHED_TOKENS_PER_S < hi
    assert f"{lo:.0f}-{hi:.0f} over 512-2048 MACs x 8-32 HBM ports" in row.missing
    assert "nearest the paper's 93: 1280 MACs x 32 ports, 88 tok/s" in row.missing
    assert compared["U280 speed vs RTX 2070"].missing == row.missing


def test_regression_compare_has_the_tokens_per_joule_rows(compared: dict[str, CompareRow],
                                                          measured: dict[str, float]) -> None:
    for gpu, published in lm.GPU_TOKENS_PER_J.items():
        row = compared[f"VCK190 W4A4 tokens/J vs {gpu}"]
        assert row.model_value == pytest.approx(measured["VCK190 W4A4 tokens/J"] / published)
        assert row.paper_value == pytest.approx(2.25 / published)


def test_per_layer_traffic_is_the_repos() -> None:
    """repo case/M_AXI_STATIC.cpp: weights + scales 20,326,368 B, conv weights and conv state 714
    beats each in and the conv state out, SSM state 696,320 B in and out: 680,861 beats per layer."""
    one = lower_decode(vck190(), W4A4, layers=1)
    conv = 714 * 32
    assert one.weight_bytes == pytest.approx(20_326_368 + conv, rel=1e-5)
    assert one.kv_bytes == 2 * 696_320 + 2 * conv
    assert one.device_hbm_bytes / 32 == pytest.approx(680_861, rel=1e-5)


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
