"""`einsim check`: the acceptance lines of the foundation issue, through the real CLI entry point."""

from __future__ import annotations

import json

import pytest

from einsim.explore.cli import main


def check_json(capsys, *args: str) -> dict:
    code = main(["check", *args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.mark.parametrize(
    "workload, rank, passes",
    [
        ("designs/workloads/attention_1pass.yaml", "M", 1),
        ("designs/workloads/attention_2pass.yaml", "M", 2),
        ("designs/workloads/attention_3pass.yaml", "M", 3),
        ("designs/workloads/mamba2_ssd.yaml", "T", 1),
    ],
)
def test_check_reports_passes_and_verifies(capsys, workload: str, rank: str, passes: int) -> None:
    report = check_json(capsys, workload)
    assert report["passes"][rank] == passes
    assert report["verified"] is True
    names = [e["name"] for e in report["einsums"]]
    assert len(names) == len(set(names)) and all(e["points"] > 0 for e in report["einsums"])


def test_check_json_op_counts_follow_set(capsys) -> None:
    report = check_json(capsys, "attention_1pass", "--set", "M=2048", "--set", "P=512")
    bqk = next(e for e in report["einsums"] if e["name"] == "BQK")
    assert bqk["points"] == 768 * 64 * 2048 * 512
    assert bqk["ops"] == {"mac": 768 * 64 * 2048 * 512}
    assert report["ranks"]["M1"] == 2048 // 256


def test_check_text_output(capsys) -> None:
    assert main(["check", "designs/workloads/attention_3pass.yaml"]) == 0
    out = capsys.readouterr().out
    assert "passes: H=1, E=1, F=1, M=3, P=1" in out
    assert "re-read across passes over M: QK" in out
    assert "verified: matches the reference" in out


def test_bad_workload_is_one_line_and_status_2(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("ranks: {M: 4}\ntensors: {A: [M], B: [M]}\neinsums: |\n  B[m] = expp(A[m])\n")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{bad}:4:10: unknown operator expp()" in err


def test_unknown_set_name_is_an_error(capsys) -> None:
    assert main(["check", "attention_1pass", "--set", "Q=3"]) == 2
    assert "no rank or parameter" in capsys.readouterr().err
