"""Bounded resources: sweep sizes are checked before anything runs, points are generated a chunk
at a time, and worker counts are capped at the machine's cores and the points (all in seconds)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from einsim.errors import EinsimError
from einsim.explore import load_sweep, sweep
from einsim.explore.backends import cap_workers, machine_cores
from einsim.explore.cli import main
from einsim.explore.points import DEFAULT_MAX_POINTS, assignment_at, assignments, check_size, planned_points, point_chunks

HUGE = """\
name: huge
base: {arch: fusemax, workload: attention_1pass, set: {rank.H: 12}}
axes:
  tokens: {path: rank.M, values: [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288]}
  side: {path: arch.Array2D.shape.0, low: 16, high: 1024, num: 1000, integer: true}
  buffer: {path: arch.GlobalBuffer.capacity_B, low: 1048576, high: 67108864, num: 1000, integer: true}
  embed: {path: rank.E, low: 64, high: 163, num: 100, integer: true}
"""

TWO = """\
name: two
base: {arch: fusemax, workload: attention_1pass, set: {rank.H: 12, rank.P: 1024}}
axes:
  tokens: {path: rank.M, values: [1024, 4096]}
"""


def test_a_billion_point_grid_is_refused_with_its_size_before_it_is_built(spec_file) -> None:
    spec = load_sweep(spec_file(HUGE))
    assert planned_points(spec) == 10**9
    t0 = time.perf_counter()
    with pytest.raises(EinsimError, match=r"grid of 10 x 1000 x 1000 x 100 = 1,000,000,000 points, more than the limit of 10,000,000"):
        sweep(spec, None)
    assert time.perf_counter() - t0 < 2.0


def test_the_cap_is_configurable(spec_file, tmp_path) -> None:
    spec = load_sweep(spec_file(TWO))
    with pytest.raises(EinsimError, match=r"2 points, more than the limit of 1 "):
        sweep(spec, tmp_path / "run", max_points=1)
    assert not (tmp_path / "run").exists()  # refused before the run directory is made
    assert check_size(spec, 2) == 2 and DEFAULT_MAX_POINTS == 10**7


def test_grid_points_come_lazily_in_order(spec_file) -> None:
    spec = load_sweep(spec_file(HUGE))
    t0 = time.perf_counter()
    first = next(point_chunks(spec, chunk=100))
    assert time.perf_counter() - t0 < 2.0  # a materialised grid would take minutes and 10s of GiB
    assert [p.idx for p in first] == list(range(100))
    assert first[0].axes["tokens"] == 1024 and first[0].axes["side"] == 16 and first[1].axes["embed"] == 65


def test_random_samples_drawn_in_chunks_equal_one_draw(spec_file) -> None:
    spec = load_sweep(spec_file(HUGE.replace("name: huge", "name: r") + "strategy: {kind: random, samples: 9000, seed: 5}\n"))
    chunked = list(assignments(spec))
    one_draw = [assignment_at(spec, row) for row in np.random.default_rng(5).random((9000, 4))]
    assert len(chunked) == 9000 and chunked == one_draw


def test_equal_designs_in_a_grid_are_one_point(spec_file, tmp_path) -> None:
    spec = load_sweep(spec_file(TWO.replace("[1024, 4096]", "[1024, 4096, 1024]")))
    res = sweep(spec, tmp_path / "run", max_points=3)
    assert len(res) == 2 and [r["idx"] for r in res.rows()] == [0, 1]


@pytest.mark.parametrize("jobs, points, expected", [(300, 2, None), (100000, 10**6, None), (1, 5, 1), (2, 1, 1)])
def test_workers_are_capped_at_cores_and_points(jobs, points, expected) -> None:
    n, note = cap_workers(jobs, points)
    cores = machine_cores()
    assert n == (expected if expected is not None else min(cores, points))
    assert n <= cores and n <= points
    assert (note is None) == (n == jobs)
    if note:
        assert note.startswith(f"-j {jobs}: running {n} worker")


def test_dash_j_huge_runs_the_sweep_and_says_so(spec_file, tmp_path, capsys) -> None:
    t0 = time.perf_counter()
    rc = main(["sweep", str(spec_file(TWO)), "--out", str(tmp_path / "run"), "-j", "100000", "--quiet", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0 and '"points": 2' in out
    assert f"-j 100000: running {min(2, machine_cores())} worker" in err
    assert time.perf_counter() - t0 < 60


def test_nsga2_budget_is_bounded(spec_file) -> None:
    text = TWO + "strategy: {kind: nsga2, objectives: [latency_s, energy_J], population: 1000, generations: 1000}\n"
    text = text.replace("values: [1024, 4096]", "low: 1024, high: 4096, integer: true")
    with pytest.raises(EinsimError, match=r"nsga2 population x generations = 1,000,000 points, more than the limit of 100,000"):
        check_size(load_sweep(spec_file(text)), 100_000)


def test_pool_never_has_more_processes_than_points(spec_file, tmp_path, monkeypatch) -> None:
    from einsim.explore import engine

    made = []
    real = engine.make_backend
    monkeypatch.setattr(engine, "make_backend", lambda root, jobs, dask: made.append(jobs) or real(root, jobs, dask))
    sweep(load_sweep(spec_file(TWO)), tmp_path / "run", jobs=300)
    assert made == [min(2, machine_cores())]


def test_chunks_cover_the_grid_once(spec_file) -> None:
    spec = load_sweep(spec_file(TWO.replace("[1024, 4096]", "[1024, 2048, 4096, 8192, 16384]")))
    keys = [p.key for p in itertools.chain.from_iterable(point_chunks(spec, chunk=2))]
    assert len(keys) == len(set(keys)) == 5
