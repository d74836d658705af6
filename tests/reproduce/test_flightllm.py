"""`einsim reproduce flightllm`: the published FlightLLM figures through the model, at the issue's tolerances."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from einsim.explore.cli import main
from einsim.reproduce import flightllm as fl

# Misses, with the mechanism believed missing (docs/flightllm.md, "Misses"):
MISSES = {
    # the board's points are 17.00 ms + 3.88 us/key; the model's 19.22 ms + 2.05 us/key. The
    # context-free part needs 1,643 MAC/cycle or 202 GB/s, which no configuration the facts allow
    # gives (~12 ms memory-bound or ~19 ms at 32 chains/core): the U280 build's per-core MV
    # parallelism, HBM ports per core or per-layer sparsity (resource table, reference 6.1) is missing
    "U280 decode s/token, context 128": (
        "19.48 vs 17.50 ms (+11.3 %): the board is 17.00 ms + 3.88 us/key, the model 19.22 ms + 2.05 us/key; "
        "the context-free part needs 1,643 MAC/cycle or 202 GB/s, which no configuration in the facts gives: "
        "the U280 build's per-core MV parallelism / HBM ports per core / per-layer sparsity are not recovered"),
    # the bundled A100 (40 GB PCIe, 250 W) meets 1.2x and 4.2x tokens/J only for eta in [0.30, 0.32]:
    # any per-GPU efficiency would be fitted; the A100 variant and measured power (Table 2) are missing
    "VHK158 throughput vs A100": (
        "1.43x vs 1.2x (+19 %) at the GPU bandwidth utilization 0.29 (FlightLLM's 29-43 %): the bundled "
        "A100 40 GB PCIe meets 1.2x only at >= 0.30 and the U280/A100 tokens/J only at <= 0.32, so any "
        "value in that window would be fitted; the paper's A100 variant and measured power are not recovered"),
    # with the V100S at Fig. 1's ~220 W (not its 250 W TDP) the ratio is 4.74x: the model's U280 decodes
    # the Fig. 11 cases at 45-50 token/s (Fig. 1: 55; the U280 decode miss above) and spends up to 1.3 s in
    # prefill where the GPU spends 0.03 s; the V100S roofline runs 45-48 token/s (Fig. 1: ~45)
    "U280 energy efficiency vs V100S": (
        "4.74x vs 6.0x (-21.1 %): the V100S side is Fig. 1's (0.204-0.219 token/J at 220 W, Fig. 1: 0.205); "
        "the U280 side is 0.94-1.07 token/J at 45 W against Fig. 1's 1.22 (55 token/s), because the model's "
        "U280 decodes at 45-50 token/s (the U280 decode miss) and prefills for 0.32-1.32 s where the V100S "
        "takes 0.02-0.03 s"),
}


@pytest.fixture(scope="module")
def measured() -> dict[str, float]:
    return fl.measured()


@pytest.mark.parametrize("name", [n for n in fl.PUBLISHED if n not in MISSES])
def test_published_figure(name: str, measured: dict[str, float]) -> None:
    value, tol, _ = fl.PUBLISHED[name]
    assert measured[name] == pytest.approx(value, rel=tol)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=why))
                                  for n, why in MISSES.items()])
def test_published_figure_missed(name: str, measured: dict[str, float]) -> None:
    value, tol, _ = fl.PUBLISHED[name]
    assert measured[name] == pytest.approx(value, rel=tol)


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "flightllm", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    cases = [r for r in rows if r["kind"] == "case"]
    keys = {"device", "model", "prefill_len", "decode_len", "prefill_s", "decode_s", "total_s",
            "decode_tokens_per_s", "tokens_per_J"}
    assert all(keys <= set(r) for r in cases)
    assert {(r["prefill_len"], r["decode_len"]) for r in cases} == set(fl.FIG11)
    assert {r["device"] for r in cases} == {"U280", "VHK158", "V100S", "A100"}
    assert {r["model"] for r in cases} == {"llama2_7b", "opt_6p7b"}
    for r in cases:
        assert r["total_s"] == pytest.approx(r["prefill_s"] + r["decode_s"])
    hbm = {(r["device"], r["always_on_chip_decode"]): r for r in rows if r["kind"] == "hbm"}
    assert hbm["U280", True]["hbm_utilization"] > hbm["U280", False]["hbm_utilization"]
    assert {r["context_len"] for r in rows if r["kind"] == "decode"} == {128, 256, 512, 1024, 2048}
    assert {r["name"] for r in rows if r["kind"] == "check"} == set(fl.PUBLISHED)


def test_cli_text_fits_100_columns_and_explains_the_utilization_above_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "flightllm"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 100
    rows = fl.run()
    headers = {word for line in text.splitlines() for word in line.split()}
    assert {k for r in rows for k in r if k not in ("kind", "source")} <= headers
    vhk = next(r for r in rows if r["kind"] == "hbm" and r["device"] == "VHK158")
    d = fl.TARGETS["VHK158"].device
    implied = d.ld_channels / d.channels * d.same_eff * d.speedup
    assert vhk["hbm_utilization_while_loading"] == pytest.approx(implied, rel=1e-3) and implied > 1
    assert f"{d.ld_channels}/{d.channels} x {d.same_eff:g} x {d.speedup:g} = {implied:.3g}" in " ".join(text.split())
    assert all(r["hbm_utilization_while_loading"] <= 1 for r in rows if r["kind"] == "hbm" and r["device"] == "U280")


def test_text_tables_split_wide_rows_and_repeat_the_identifying_columns() -> None:
    from einsim.explore.commands.reproduce import tables

    rows = [{"kind": "case", "device": "U280", "model": "m", "n": 4, **{f"metric_{i:02d}": 1.5 for i in range(12)},
             "source": "a long citation " * 4}]
    text = tables(rows, width=60)
    lines = text.splitlines()
    assert max(len(line) for line in lines if not line.startswith("  [")) <= 60
    header_lines = [line for line in lines if line.startswith("device")]
    assert len(header_lines) > 1 and all(line.split()[:3] == ["device", "model", "n"] for line in header_lines)
    assert sum(line.count("metric_") for line in lines) == 12
    assert lines[-1].strip() == "[1] " + rows[0]["source"].strip()


def test_sensitivity_rows_span_each_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "flightllm", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    checks = {r["name"]: r["value"] for r in rows if r["kind"] == "check"}
    sens = [r for r in rows if r["kind"] == "sensitivity"]
    for constant, (low, high, _, moved) in fl.RANGED.items():
        mine = {(r["end"], r["name"]): r for r in sens if r["constant"] == constant}
        assert set(mine) == {(end, name) for end in ("low", "high") for name in moved}
        assert {r["value"] for r in mine.values()} == {low, high}
        for name in moved:
            # the chosen value sits at one end or inside: the published check lies between the ends
            lo, hi = sorted((mine["low", name]["ratio"], mine["high", name]["ratio"]))
            assert lo <= checks[name] * (1 + 1e-12) and checks[name] <= hi * (1 + 1e-12)
            assert lo < hi  # the constant moves the ratio
    # a faster GPU (more of its bandwidth) lowers every FPGA-over-GPU ratio
    eta = {(r["end"], r["name"]): r["ratio"] for r in sens if r["constant"] == "GPU decode bandwidth utilization"}
    for name in fl.GPU_RATIOS:
        assert eta["high", name] < eta["low", name]
    # the A100 at 220 W instead of 250 W: U280/A100 tokens/J falls by exactly 220/250
    a100 = {r["end"]: r["ratio"] for r in sens if r["constant"] == "A100 power W"}
    assert a100["low"] / a100["high"] == pytest.approx(220 / 250)


def test_regression_json_is_bit_identical(capsys: pytest.CaptureFixture[str]) -> None:
    """Every number of ``einsim reproduce flightllm --json`` as pinned in the golden file (the GPU step
    cache, the contexts cache and the queue kernel's incremental heads must not move one bit)."""
    golden = json.loads((Path(__file__).resolve().parents[1] / "golden" / "flightllm_reproduce.json").read_text())
    assert main(["reproduce", "flightllm", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == golden["rows"]
