"""The tile pipeline over a dependency DAG (einsim.sim.tile_dag) on hand-timed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.tile_dag import DagEdge, DagStage, TileDag, latency, recurrence_period, simulate


def two(units=("a", "b"), slots=2, times=(1.0, 2.0), drain=0.0, tiles=4, distance=0):
    stages = (DagStage("A", units[0], times[0], latency_s=drain), DagStage("B", units[1], times[1]))
    return TileDag(stages, (DagEdge(0, 1, distance, slots),), tiles)


def test_double_buffer_overlaps_two_units() -> None:
    # fill (A's first tile), then B back to back: 1 + 4 x 2
    assert simulate(two(slots=2)).makespan_s == 9.0


def test_single_buffer_makes_the_next_tile_wait_for_the_consumer() -> None:
    # A of tile p + 1 overwrites the tile B still reads: P x (1 + 2)
    assert simulate(two(slots=1)).makespan_s == 12.0


def test_one_unit_serialises_everything() -> None:
    assert simulate(two(units=("a", "a"), slots=2)).makespan_s == 12.0


@pytest.mark.parametrize("slots, makespan", [(2, 14.0), (3, 9.0)])
def test_a_drain_is_hidden_only_by_deep_enough_buffers(slots: int, makespan: float) -> None:
    # A's result reaches B 5 after A ends. Two slots: A of tile 2 waits for B of tile 0 (at 7);
    # three: A runs ahead and B's tiles follow at 6, 7, 8
    dag = two(slots=slots, times=(1.0, 1.0), drain=5.0, tiles=3)
    assert simulate(dag).makespan_s == makespan


def test_dram_transfers_are_staged_and_serialised() -> None:
    # 2 s of transfer and 1 s of compute per tile, two staging buffers: DRAM-bound, 3 x 2 + 1
    dag = TileDag((DagStage("A", "a", 1.0, transfer_s=2.0),), (), 3, staging=2)
    run = simulate(dag)
    assert run.makespan_s == 7.0
    assert run.busy_s["DRAM"] == 6.0 and run.busy_s["a"] == 3.0


def test_a_loop_carried_read_serialises_the_cycle() -> None:
    # A of tile p reads what B wrote in tile p - 1 (a running state): every tile is A then B
    stages = (DagStage("A", "a", 1.0), DagStage("B", "b", 2.0))
    dag = TileDag(stages, (DagEdge(0, 1, 0, 2), DagEdge(1, 0, distance=1)), 200)
    assert recurrence_period(dag) == 3.0
    assert simulate(dag).makespan_s == 600.0
    assert latency(dag, window=16) == (pytest.approx(600.0), pytest.approx(3.0))


@st.composite
def dags(draw):
    S = draw(st.integers(1, 5))
    stages = tuple(DagStage(f"s{i}", draw(st.sampled_from("ab")), draw(st.floats(0.1, 3.0)),
                            draw(st.sampled_from([0.0, 0.5])), draw(st.sampled_from([0.0, 2.0]))) for i in range(S))
    edges = []
    for c in range(1, S):
        for q in draw(st.lists(st.integers(0, c - 1), max_size=2, unique=True)):
            edges.append(DagEdge(q, c, 0, draw(st.integers(1, 3))))
    return TileDag(stages, tuple(edges), draw(st.integers(40, 120)), draw(st.integers(1, 2)))


@settings(max_examples=40, deadline=None)
@given(dags())
def test_extrapolated_latency_tracks_the_full_simulation(dag: TileDag) -> None:
    full = simulate(dag)
    assert full.makespan_s >= dag.lower_bound_s() * (1 - 1e-12)
    serial = sum(s.time_s + s.transfer_s + s.latency_s for s in dag.stages) * dag.tiles
    assert full.makespan_s <= serial * (1 + 1e-12)
    assert np.all(full.end >= full.start)
    est, period = latency(dag, window=16)
    assert est == pytest.approx(full.makespan_s, rel=0.05)
    assert period * dag.tiles >= dag.lower_bound_s() * (1 - 1e-12)


@st.composite
def general_dags(draw):
    """Stages with transfers and drains, buffered, DRAM and loop-carried edges, 1-3 staging buffers."""
    S = draw(st.integers(1, 6))
    stages = tuple(DagStage(f"s{i}", draw(st.sampled_from("abc")), draw(st.sampled_from([0.5, 1.0, 1.5, 2.25])),
                            draw(st.sampled_from([0.0, 0.0, 0.75, 1.0])), draw(st.sampled_from([0.0, 0.5, 2.0])))
                   for i in range(S))
    edges = []
    for c in range(1, S):
        for q in draw(st.lists(st.integers(0, c - 1), max_size=3, unique=True)):
            edges.append(DagEdge(q, c, 0, draw(st.integers(0, 3)), draw(st.booleans())))
    for q in draw(st.lists(st.integers(0, S - 1), max_size=2, unique=True)):
        edges.append(DagEdge(q, draw(st.integers(0, q)), distance=draw(st.integers(1, 4))))
    return TileDag(stages, tuple(edges), draw(st.integers(1, 40)), draw(st.integers(1, 3)))


@settings(max_examples=150, deadline=None)
@given(general_dags())
def test_the_kernel_schedules_exactly_as_its_slow_twin(dag: TileDag) -> None:
    from einsim.sim.reference.tile_dag import simulate as twin

    try:
        slow = twin(dag)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="deadlocked"):
            simulate(dag)
        return
    fast = simulate(dag)
    assert fast.makespan_s == slow.makespan_s
    assert np.array_equal(fast.start, slow.start) and np.array_equal(fast.end, slow.end)
    assert fast.busy_s == slow.busy_s
