"""The results store: SIGKILL then resume, no duplicates, locks, one spec per directory, failures kept."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from einsim.errors import EinsimError
from einsim.explore import load_sweep, sweep
from einsim.explore.points import initial_points
from einsim.explore.store import TIMING_COLUMNS, Store


def values(db) -> list[tuple]:
    """Every column but the timings, by key."""
    with sqlite3.connect(db) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(points)") if r[1] not in TIMING_COLUMNS]
        return conn.execute(f"SELECT {', '.join(cols)} FROM points ORDER BY key").fetchall()


def count(db) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM points").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def test_sigkill_then_resume_matches_an_uninterrupted_run(big_spec, tmp_path) -> None:
    spec_path = big_spec
    spec = load_sweep(spec_path)
    total = len(initial_points(spec))
    assert total == 2048
    reference = sweep(spec, tmp_path / "reference", jobs=2)

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "einsim.explore.cli", "sweep", str(spec_path), "--out", str(out), "-j", "1", "--quiet"]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while count(out / "results.sqlite") < 100 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    stored = count(out / "results.sqlite")
    assert 0 < stored < total, "the child was not killed mid-run"

    resumed = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert count(out / "results.sqlite") == total
    assert values(out / "results.sqlite") == values(reference.db)
    # the resumed run computed only what was missing: rows from before the kill kept their timings
    with sqlite3.connect(out / "results.sqlite") as conn:
        workers = {w for (w,) in conn.execute("SELECT DISTINCT worker FROM points")}
    assert len(workers) >= 2  # the killed process's rows and the resumed process's rows
    failed = reference.rows("error")
    assert len(failed) == 256 and all("rank M1 must have a positive whole size" in r["error"] for r in failed)


def test_rerun_computes_nothing_and_duplicates_nothing(small_spec, tmp_path) -> None:
    spec = load_sweep(small_spec)
    first = sweep(spec, tmp_path / "run")
    before = values(first.db)
    again = sweep(spec, tmp_path / "run")
    assert values(again.db) == before and len(again) == 12


def test_a_locked_directory_is_refused(small_spec, tmp_path) -> None:
    spec = load_sweep(small_spec)
    with Store(tmp_path / "run", spec.digest):
        with pytest.raises(EinsimError, match=r"is in use by another sweep \(pid \d+\)"):
            sweep(spec, tmp_path / "run")
    assert len(sweep(spec, tmp_path / "run")) == 12  # the lock went with its holder


def test_a_directory_holds_one_spec(spec_file, small_spec, tmp_path) -> None:
    sweep(load_sweep(small_spec), tmp_path / "run")
    other = load_sweep(spec_file(small_spec.read_text().replace("[16, 64, 256]", "[16, 64]"), "other.yaml"))
    with pytest.raises(EinsimError, match="holds the results of a different sweep spec"):
        sweep(other, tmp_path / "run")


def test_failing_points_are_recorded_and_the_sweep_goes_on(small_spec, tmp_path) -> None:
    res = sweep(load_sweep(small_spec), tmp_path / "run")
    failed = res.rows("error")
    assert len(res) == 12 and len(failed) == 6
    assert all(r["axes"]["tokens"] == 1000 and r["latency_s"] is None for r in failed)
    assert all(r["error"] for r in failed)
    assert all(r["latency_s"] > 0 for r in res.rows("ok"))
