"""Sweeps that notice: a run's identity includes the content of every file its points read, a
resume after an edit refuses and names the file, --force starts over, a clean finish leaves no
lock file, and a sweep whose points all failed exits 2 with the first errors."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from einsim.errors import EinsimError
from einsim.explore import load_sweep, sweep
from einsim.explore.cli import main
from einsim.explore.inputs import input_files

REPO = Path(__file__).parents[2]

SPEC = """\
name: edited
base: {arch: arch.yaml, workload: work.yaml, set: {rank.H: 12, rank.P: 1024}}
axes:
  tokens: {path: rank.M, values: [1024, 4096]}
"""


@pytest.fixture
def run_files(tmp_path) -> Path:
    shutil.copy(REPO / "designs/arch/fusemax.yaml", tmp_path / "arch.yaml")
    shutil.copy(REPO / "designs/workloads/attention_1pass.yaml", tmp_path / "work.yaml")
    (tmp_path / "sweep.yaml").write_text(SPEC)
    return tmp_path


def _slower_clock(arch: Path) -> None:
    text = arch.read_text()
    assert "\nclock_Hz: 940 MHz\n" in text, "the test edits fusemax's clock"
    arch.write_text(text.replace("\nclock_Hz: 940 MHz\n", "\nclock_Hz: 94 MHz\n"))


def test_the_inputs_are_the_files_the_points_read(run_files) -> None:
    assert input_files(load_sweep(run_files / "sweep.yaml")) == sorted([run_files / "arch.yaml", run_files / "work.yaml"])


def test_a_model_sweep_reads_the_models_workloads() -> None:
    files = {p.name for p in input_files(load_sweep("fpga_dsp_hbm_sparsity"))}
    assert {"u280.yaml"} <= files and any(name.startswith("attention") for name in files) and len(files) >= 4


def test_an_edited_architecture_is_noticed_and_force_starts_over(run_files) -> None:
    spec_path = run_files / "sweep.yaml"
    before = sweep(spec_path, run_files / "run")
    _slower_clock(run_files / "arch.yaml")
    with pytest.raises(EinsimError, match=r"input file .*arch\.yaml changed since these results were computed; pass --force"):
        sweep(spec_path, run_files / "run")
    fresh = sweep(spec_path, run_files / "fresh")
    forced = sweep(spec_path, run_files / "run", force=True)
    lat = lambda res: [r["latency_s"] for r in res.rows()]  # noqa: E731
    assert lat(forced) == lat(fresh) and lat(forced) != lat(before)  # not the stale results
    assert all(a > b for a, b in zip(lat(forced), lat(before)))  # a 10x slower clock


def test_an_edited_workload_is_noticed_through_the_cli(run_files, capsys) -> None:
    args = ["sweep", str(run_files / "sweep.yaml"), "--out", str(run_files / "run"), "--quiet", "-j", "1"]
    assert main(args) == 0
    work = run_files / "work.yaml"
    work.write_text(work.read_text() + "\n# edited\n")
    capsys.readouterr()
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "work.yaml changed" in err and "--force" in err
    assert main(args + ["--force"]) == 0


def test_a_clean_finish_leaves_no_lock_and_no_log(run_files) -> None:
    res = sweep(run_files / "sweep.yaml", run_files / "run")
    assert len(res) == 2
    assert sorted(p.name for p in (run_files / "run").iterdir()) == ["results.sqlite"]
    again = sweep(run_files / "sweep.yaml", run_files / "run")  # a resume takes the directory again
    assert [r["key"] for r in again.rows()] == [r["key"] for r in res.rows()]


def test_results_in_a_read_only_folder_are_reported(run_files, capsys) -> None:
    sweep(run_files / "sweep.yaml", run_files / "run")
    run = run_files / "run"
    run.chmod(0o555)
    try:
        probe = run / "probe"
        try:  # root writes into read-only folders: then the write must simply succeed
            probe.write_text("")
            probe.unlink()
            writable = True
        except PermissionError:
            writable = False
        assert main(["report", str(run), "--json"]) == 0
        assert '"points": 2' in capsys.readouterr().out
        rc = main(["report", str(run), "--html", str(run / "report.html")])
        out, err = capsys.readouterr()
        if writable:
            assert rc == 0 and (run / "report.html").is_file()
        else:
            assert rc == 2 and out == "" and "--html" in err and len(err.strip().splitlines()) == 1
        rc = main(["sweep", str(run_files / "sweep.yaml"), "--out", str(run / "inner"), "--quiet", "-j", "1"])
        out, err = capsys.readouterr()
        if writable:
            assert rc == 0 and (run / "inner" / "results.sqlite").is_file()
        else:
            assert rc == 2 and "--out" in err and "cannot write" in err and out == ""
    finally:
        run.chmod(0o755)


def test_a_run_dir_whose_parent_is_a_file_is_one_line(run_files, capsys) -> None:
    (run_files / "afile").write_text("")
    assert main(["sweep", str(run_files / "sweep.yaml"), "--out", str(run_files / "afile" / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "cannot write" in err and len(err.strip().splitlines()) == 1


def test_a_sweep_whose_points_all_failed_exits_2_with_the_first_errors(run_files, capsys) -> None:
    (run_files / "sweep.yaml").write_text(SPEC.replace("[1024, 4096]", "[-4, 0]"))
    rc = main(["sweep", str(run_files / "sweep.yaml"), "--out", str(run_files / "run"), "--quiet", "-j", "1"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert "all 2 points failed" in err and "got -4" in err and "got 0" in err
    with sqlite3.connect(run_files / "run" / "results.sqlite") as conn:  # the failures are kept
        assert conn.execute("SELECT count(*) FROM points WHERE status = 'error'").fetchone()[0] == 2


def test_a_sweep_with_some_failures_still_succeeds(run_files, capsys) -> None:
    (run_files / "sweep.yaml").write_text(SPEC.replace("[1024, 4096]", "[-4, 1024]"))
    assert main(["sweep", str(run_files / "sweep.yaml"), "--out", str(run_files / "run"), "--quiet", "-j", "1"]) == 0
    assert "1 failed" in capsys.readouterr().out
