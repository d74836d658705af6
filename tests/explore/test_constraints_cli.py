"""`einsim map --constraints FILE` and `einsim eval --mapping FILE` with constraint files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from einsim.designs import path as designs_path
from einsim.explore import evaluate
from einsim.explore.cli import main

SIZES = ["--set", "M=4096", "--set", "P=4096"]


def test_map_constraints_evaluates_the_bundled_configuration(capsys) -> None:
    assert main(["map", "--constraints", "fusemax", *SIZES, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = evaluate("fusemax", "attention_1pass", "fusemax", M=4096, P=4096)
    assert out["constraints"] == "fusemax" and out["workload"] == "attention_1pass"
    assert out["latency_s"] == direct.latency_s and out["energy_J"] == direct.energy_J
    assert out["mapping"]["bindings"]["BQK"] == "Array2D" and out["mapping"]["fusion"][0]["slots"] == "fit"
    assert any(n.startswith("tile pipeline [BQK") and "8-tile buffers" in n for n in out["notes"])


def test_eval_mapping_accepts_a_constraint_file(capsys) -> None:
    assert main(["eval", "--mapping", str(designs_path("mappings", "architecture.yaml")), *SIZES, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    fusemax = evaluate("fusemax", "attention_1pass", "fusemax", M=4096, P=4096)
    assert out["latency_s"] > 2 * fusemax.latency_s  # the single-buffer stall of +Architecture
    assert out["energy_J"] == pytest.approx(fusemax.energy_J, rel=0.01)  # same accesses, more leakage time


def test_map_text_names_the_configuration(capsys) -> None:
    assert main(["map", "--constraints", "flat", *SIZES]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FLAT (flat) on flat, attention_3pass: latency")
    assert "tile pipeline [QK, GM, SN, SD, A, AV]" in out


@pytest.mark.parametrize("args, message", [
    (["map", "--constraints", "fusemx"], "no constraint file or bundled configuration 'fusemx'"),
    (["map", "--constraints", "fusemax", "--unit", "Array2D"], "--unit cannot be combined with --constraints"),
    (["map", "--constraints", "fusemax", "--workload", "gemm"], "maps attention cascades with ranks"),
    (["map", "--workload", "gemm"], "map needs --arch (or --constraints FILE)"),
])
def test_bad_constraint_flags_are_one_line(capsys, args: list[str], message: str) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_bad_constraint_file_names_file_line_and_field(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(designs_path("mappings", "fusemax.yaml").read_text().replace("  RNV: Array1D", "  RNV: Array9D"))
    assert main(["eval", "--mapping", str(bad), *SIZES]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{bad}:19:8:" in err and "bindings.RNV: unknown unit 'Array9D'" in err and len(err.splitlines()) == 1
