"""Tile pipeline: the numba event simulation equals its simpy twin; the closed form bounds it from
above (equal where the upper and lower bounds meet, e.g. a chain on distinct units with free ports,
or every stage on one unit)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.kernels.pipeline import latency_bound, latency_lower, simulate
from einsim.sim.pipeline import Stage, TileSchedule, bound, run
from einsim.sim.reference.pipeline import simulate as twin


@st.composite
def schedules(draw):
    S = draw(st.integers(1, 4))
    P = draw(st.integers(1, 5))
    R = draw(st.integers(1, 2))
    unit = np.array(draw(st.lists(st.integers(0, 2), min_size=S, max_size=S)), dtype=np.int64)
    t = np.array(draw(st.lists(st.integers(1, 6), min_size=S, max_size=S)), dtype=np.float64)
    m = np.zeros((S, R))
    for s in range(S):
        for r in range(R):
            m[s, r] = draw(st.integers(0, int(t[s])))
    slots = np.zeros((S, S), dtype=np.int64)
    for c in range(1, S):
        slots[c - 1, c] = draw(st.integers(1, 2))  # a chain, as the search fuses
        if c >= 2 and draw(st.booleans()):
            slots[0, c] = draw(st.integers(1, 2))  # and sometimes a second producer
    return P, unit, t, m, slots


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_event_simulation_equals_simpy_twin(case) -> None:
    P, unit, t, m, slots = case
    start, end = np.zeros((P, len(t))), np.zeros((P, len(t)))
    makespan = simulate(P, unit, t, m, slots, start, end)
    span2, start2, end2 = twin(P, unit.tolist(), t.tolist(), m.tolist(), slots.tolist())
    assert makespan == span2
    assert np.array_equal(start, np.array(start2)) and np.array_equal(end, np.array(end2))


@settings(max_examples=300, deadline=None)
@given(schedules())
def test_closed_form_bounds_the_event_simulation(case) -> None:
    P, unit, t, m, slots = case
    start, end = np.zeros((P, len(t))), np.zeros((P, len(t)))
    makespan = simulate(P, unit, t, m, slots, start, end)
    upper = latency_bound(P, unit, t, m, slots)
    lower = latency_lower(P, unit, t, m, slots)
    assert lower <= makespan + 1e-9
    assert makespan <= upper + 1e-9  # never below the simulation
    if upper <= lower + 1e-9:
        assert makespan == upper  # exact where the bounds meet
    assert makespan <= P * t.sum() + 1e-9  # never worse than running every job one after another


def _chain(times, units, ports, P, slots):
    stages = tuple(Stage(f"E{i}", u, tt, tt, p) for i, (tt, u, p) in enumerate(zip(times, units, ports)))
    return TileSchedule(stages, P, {(i, i + 1): k for i, k in enumerate(slots)})


def test_distinct_units_double_buffered_overlap_exactly() -> None:
    """Fill + (P - 1) x the slowest stage + drain: 3 + 2 + 4 + 3 x 4 = 21, exact."""
    s = _chain([3.0, 2.0, 4.0], ["A", "B", "C"], [{}, {}, {}], 4, [2, 2])
    assert bound(s) == (21.0, 21.0)
    assert run(s).makespan_s == 21.0


def test_single_buffer_serialises_the_pair() -> None:
    """One slot between A and B: A's next tile waits for B to finish the last one, period 3 + 2."""
    s = _chain([3.0, 2.0], ["A", "B"], [{}, {}], 4, [1])
    upper, lower = bound(s)
    assert upper == 5.0 + 3 * 5.0
    assert run(s).makespan_s == 20.0 and lower <= 20.0


def test_same_unit_serialises() -> None:
    s = _chain([3.0, 2.0], ["A", "A"], [{}, {}], 4, [2])
    assert bound(s) == (20.0, 20.0) and run(s).makespan_s == 20.0


def test_shared_port_and_unit_report() -> None:
    """Both stages move 2 s per tile on the DRAM port: B's transfer of tile p delays A's of p + 1."""
    s = _chain([3.0, 3.0], ["A", "B"], [{"DRAM.read": 2.0}, {"DRAM.read": 2.0}], 3, [2])
    r = run(s)
    # A: 0-3, B: 3-6 (port 3-5); A tile 1 waits for the port until 5: 5-8; B 8-11 (port to 10); A 10-13; B 13-16
    assert r.makespan_s == 16.0
    a, b = r.units
    assert (a.busy_s, a.stall_s) == (9.0, 4.0) and (b.busy_s, b.stall_s) == (9.0, 4.0)
    assert a.bound == "compute"
    lower, upper = bound(s)[1], bound(s)[0]
    assert lower <= 16.0 <= upper
