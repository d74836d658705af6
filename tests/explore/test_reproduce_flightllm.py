"""`einsim reproduce flightllm`: the published FlightLLM figures through the model, at the issue's tolerances."""

from __future__ import annotations

import json

import pytest

from einsim.explore.cli import main
from einsim.sim import fpga_flightllm as fl

# Misses, with the mechanism believed missing (docs/flightllm.md):
MISSES = {
    # the U280 build's MV parallelism and sparsity were not recovered; the re-tiling rule on the
    # artifact's core gives 32 chains x 3 cores, 10.4% slower than the board at context 128
    "U280 decode s/token, context 128": "U280 per-core MV parallelism / sparsity not recovered",
    # the GPUs are rooflines at one measured bandwidth utilization; the 1.2x implies ~34% on the A100
    # while Fig. 1's V100 sits at ~27%: a per-GPU efficiency the roofline does not model
    "VHK158 throughput vs A100": "one GPU decode efficiency for both GPUs",
}


@pytest.fixture(scope="module")
def measured() -> dict[str, float]:
    return fl.measured()


@pytest.mark.parametrize("name", [n for n in fl.PUBLISHED if n not in MISSES])
def test_published_figure(name: str, measured: dict[str, float]) -> None:
    value, tol, _ = fl.PUBLISHED[name]
    assert measured[name] == pytest.approx(value, rel=tol)


@pytest.mark.parametrize("name", list(MISSES))
@pytest.mark.xfail(strict=True, reason="a known miss; see MISSES and docs/flightllm.md")
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
