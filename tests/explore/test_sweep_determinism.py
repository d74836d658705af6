"""One spec gives the same database on 1 process, 2 processes and a Dask LocalCluster."""

from __future__ import annotations

import sqlite3

import pytest

from einsim.explore import load_sweep, sweep
from einsim.explore.store import TIMING_COLUMNS

RANDOM = """\
name: rnd
base: {arch: fusemax, workload: attention_1pass, set: {rank.H: 12, rank.M: 4096, rank.P: 4096}}
axes:
  side: {path: arch.Array2D.shape.0, low: 8, high: 600, integer: true}
  buffer_MiB: {low: 1, high: 64, log: true}
derived:
  cols: {path: arch.Array2D.shape.1, expr: side}
  buffer_B: {path: arch.GlobalBuffer.capacity_B, expr: buffer_MiB * 1048576}
strategy: {kind: random, samples: 40, seed: 7}
"""


def table(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(points)") if r[1] not in TIMING_COLUMNS]
        return conn.execute(f"SELECT {', '.join(cols)} FROM points ORDER BY key").fetchall()


def test_one_process_n_processes_and_dask_agree(small_spec, spec_file, tmp_path) -> None:
    pytest.importorskip("dask.distributed")
    for path in (small_spec, spec_file(RANDOM, "random.yaml")):
        spec = load_sweep(path)
        one = table(sweep(spec, tmp_path / f"{spec.name}-1", jobs=1).db)
        two = table(sweep(spec, tmp_path / f"{spec.name}-2", jobs=2).db)
        dask = table(sweep(spec, tmp_path / f"{spec.name}-dask", jobs=2, dask="local").db)
        assert len(one) == {"small": 12, "rnd": 40}[spec.name]
        assert one == two == dask


def test_random_sampling_is_seeded(spec_file, tmp_path) -> None:
    a = sweep(load_sweep(spec_file(RANDOM, "a.yaml")), tmp_path / "a")
    b = sweep(load_sweep(spec_file(RANDOM, "b.yaml")), tmp_path / "b")
    c = sweep(load_sweep(spec_file(RANDOM.replace("seed: 7", "seed: 8"), "c.yaml")), tmp_path / "c")
    assert [r["axes"] for r in a.rows()] == [r["axes"] for r in b.rows()]
    assert [r["axes"] for r in a.rows()] != [r["axes"] for r in c.rows()]
    assert all(8 <= r["axes"]["side"] <= 600 and 1 <= r["axes"]["buffer_MiB"] <= 64 for r in a.rows())


def test_nsga2_search_is_deterministic_and_improves(spec_file, tmp_path) -> None:
    text = RANDOM.replace("strategy: {kind: random, samples: 40, seed: 7}",
                          "strategy: {kind: nsga2, objectives: [latency_s, area_m2], population: 12, generations: 4, seed: 3}")
    spec = load_sweep(spec_file(text, "nsga.yaml"))
    one = sweep(spec, tmp_path / "one", jobs=1)
    two = sweep(spec, tmp_path / "two", jobs=2)
    assert table(one.db) == table(two.db)
    gens = {r["generation"] for r in one.rows()}
    assert gens == {0, 1, 2, 3}
    front = one.pareto(["latency_s", "area_m2"])
    assert len(front) >= 3
    # the last generation reaches the front
    assert any(r["generation"] > 0 for r in front)
