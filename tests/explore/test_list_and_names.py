"""`einsim list`, bundled names accepted wherever a file is, and "did you mean" for misspelled names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from einsim.designs import names, path, resolve
from einsim.errors import EinsimError
from einsim.explore.cli import main

DESIGNS = Path(__file__).resolve().parents[2] / "designs"


def test_list_json_has_every_bundled_file_with_its_source(capsys) -> None:
    assert main(["list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    for kind, folder in (("workloads", "workloads"), ("models", "models"), ("designs", "arch"), ("sweeps", "sweeps"),
                         ("mappings", "mappings")):
        assert [it["name"] for it in listed[kind]] == sorted(p.stem for p in (DESIGNS / folder).glob("*.yaml"))
        assert all(it["source"] and "\n" not in it["source"] for it in listed[kind]), kind
    gemm = next(it for it in listed["workloads"] if it["name"] == "gemm")
    assert gemm["source"].startswith("Z[m, n] = sum_k A[m, k] B[k, n]")
    fusemax = next(it for it in listed["designs"] if it["name"] == "fusemax")
    assert fusemax["source"].startswith("Nayak et al., FuseMax, MICRO 2024")


def test_list_one_kind_prints_one_line_per_item(capsys) -> None:
    assert main(["list", "designs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == names("arch")
    edge = next(line for line in lines if line.split()[0] == "edge")
    assert "flat_validation.csv" in edge


@pytest.mark.parametrize("kind", ["workloads", "models", "arch", "sweeps", "mappings"])
def test_every_bundled_name_resolves_to_its_file(kind: str) -> None:
    for name in names(kind):
        assert resolve(name, kind) == path(kind, f"{name}.yaml")


def test_a_local_file_wins_over_a_bundled_name(tmp_path) -> None:
    (tmp_path / "gemm").write_text("x")
    assert resolve("gemm", "workloads", tmp_path) == (tmp_path / "gemm").resolve()


@pytest.mark.parametrize("argv", [
    ["arch", "show", "fusemax", "--json"],
    ["map", "--arch", "edge", "--workload", "gemm", "--unit", "Array2D", "--set", "M=4", "--set", "K=4",
     "--set", "N=4", "--json"],
    ["eval", "--arch", "edge", "--workload", "gemm", "--set", "M=64", "--set", "K=64", "--set", "N=64", "--json"],
    ["check", "gemm", "--json"],
])
def test_commands_take_bundled_names(capsys, argv: list[str]) -> None:
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)


def test_arch_show_by_name_equals_by_path(capsys) -> None:
    main(["arch", "show", "edge", "--json"])
    by_name = json.loads(capsys.readouterr().out)
    main(["arch", "show", str(DESIGNS / "arch" / "edge.yaml"), "--json"])
    assert by_name == json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("argv, message", [
    (["arch", "show", "fusemx"], "no arch file or bundled design 'fusemx' (valid: a100, edge, "),
    (["map", "--arch", "edg", "--workload", "gemm"], "did you mean edge?"),
    (["eval", "--arch", "edge", "--workload", "gemmm"], "no workload file or bundled workload 'gemmm' (valid: "),
    (["eval", "--arch", "edge", "--model", "bert_bse", "--seq", "8"], "did you mean bert_base?"),
    (["check", "attention_1pas"], "did you mean attention_1pass"),
    (["sweep", "fusemax_pe_bufer"], "did you mean fusemax_pe_buffer"),
])
def test_misspelled_names_list_the_valid_ones(capsys, argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert "did you mean" in err


def test_a_missing_path_is_named() -> None:
    with pytest.raises(EinsimError, match="no such file: nowhere/gemm.yaml"):
        resolve("nowhere/gemm.yaml", "workloads")
