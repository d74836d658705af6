"""`einsim map --simulate` and `einsim eval --mapping FILE --simulate`: the event simulation of the
chosen mapping's tile schedule, per unit, beside the closed form."""

from __future__ import annotations

import json

import pytest

from einsim.explore.cli import main

ARCH = "tests/mappers/fused/two_units_arch.yaml"
CHAIN = "tests/mappers/fused/chain2.yaml"


def test_map_simulate_reports_the_pipeline_per_unit(capsys, tmp_path) -> None:
    assert main(["map", "--arch", ARCH, "--workload", CHAIN, "--objective", "latency", "--simulate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (row,) = out["simulation"]
    assert row["einsums"] == ["H", "Y"] and row["tiles"] == 4
    assert row["simulated_s"] == pytest.approx(out["latency_s"]) and row["exact"]
    assert {u["unit"]: u["bound"] for u in row["units"]} == {"Array": "compute", "Vec": "compute"}
    path = tmp_path / "cm.json"
    path.write_text(json.dumps(out["mapping"]))
    assert main(["eval", "--arch", ARCH, "--workload", CHAIN, "--mapping", str(path), "--simulate", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["simulation"] == out["simulation"] and again["latency_s"] == out["latency_s"]
    assert main(["eval", "--arch", ARCH, "--workload", CHAIN, "--mapping", str(path), "--simulate"]) == 0
    text = capsys.readouterr().out
    assert "[H, Y] 4 tile(s)" in text and "closed form 9.5e-09 s (exact)" in text


def test_simulate_needs_a_mapping(capsys) -> None:
    assert main(["eval", "--arch", ARCH, "--workload", CHAIN, "--simulate"]) == 2
    assert "--simulate needs --mapping" in capsys.readouterr().err
