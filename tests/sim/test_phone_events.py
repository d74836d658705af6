"""The numba phone event simulation equals its simpy twin on random task graphs; closed-form cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.errors import EinsimError
from einsim.sim.phone_events import DRAM, NONE, UFS, Platform, TaskGraph, simulate
from einsim.sim.reference.phone_events import simulate as twin

KINDS = ("CPU", "CPU", "NPU")


@st.composite
def graphs(draw):
    servers = [draw(st.integers(1, 3)) for _ in KINDS]
    n = draw(st.integers(1, 9))
    tasks = []
    for i in range(n):
        pool = draw(st.sampled_from([NONE, DRAM, UFS]))
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        engine = draw(st.integers(0, len(KINDS) - 1))
        hold = draw(st.sampled_from([NONE, NONE] + [e for e in range(len(KINDS)) if e != engine]))
        tasks.append({"engine": engine, "fixed_s": draw(st.sampled_from([0, 0, 0.5, 1])),
                      "pool": pool, "volume": float(draw(st.integers(0, 6))),
                      "cap": draw(st.sampled_from([np.inf, 0.5, 1.0, 2.0, 3.0])), "deps": deps, "hold": hold})
    dram = {frozenset({"CPU"}): float(draw(st.integers(1, 4))), frozenset({"NPU"}): float(draw(st.integers(1, 4))),
            frozenset({"CPU", "NPU"}): float(draw(st.integers(1, 6)))}
    return servers, tasks, dram, draw(st.integers(1, 2)), draw(st.sampled_from([0.0, 0.4]))


def _platform(servers, dram, queues, degradation) -> Platform:
    return Platform(tuple((f"e{i}", s, k) for i, (s, k) in enumerate(zip(servers, KINDS))), dram, queues, degradation)


def _graph(tasks) -> TaskGraph:
    g = TaskGraph()
    for t in tasks:
        g.add(t["engine"], "t", fixed_s=t["fixed_s"], pool=t["pool"], volume=t["volume"], cap=t["cap"], deps=t["deps"],
              hold=t.get("hold", NONE))
    return g


@settings(max_examples=150, deadline=None)
@given(graphs(), st.integers(1, 3))
def test_kernel_equals_simpy_twin(case, copies):
    servers, tasks, dram, queues, degradation = case
    plat = _platform(servers, dram, queues, degradation)
    # the kernel runs the graph several times in one batch: graphs are independent
    schedules = simulate([_graph(tasks)] * copies, plat)
    _, _, dram_arr = plat.arrays()
    s2, e2 = twin(tasks, servers, plat.arrays()[1].tolist(), dram_arr.tolist(), queues, degradation)
    for s in schedules:
        np.testing.assert_allclose(s.start, s2, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(s.end, e2, rtol=1e-7, atol=1e-9)
        for i, t in enumerate(tasks):  # dependencies respected, fixed part and cap honoured
            assert all(s.start[i] >= s.end[d] - 1e-9 for d in t["deps"])
            least = t["fixed_s"] + (t["volume"] / min(t["cap"], 6.0) if t["pool"] != NONE else t["volume"])
            assert s.end[i] - s.start[i] >= least - 1e-9
        # a list schedule idles only while waiting for a task's end: the critical path covers the makespan
        path = s.critical_path()
        assert sum(s.end[i] - s.start[i] for i in path) == pytest.approx(s.makespan, rel=1e-6, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(graphs(), st.integers(1, 3), st.lists(st.sampled_from(["a", "b", "c"]), min_size=9, max_size=9))
def test_kernel_critical_split_equals_the_listed_critical_path(case, copies, labels):
    # the kernel's walk (summed by category) against EventSchedule.critical_path, on templates of copies
    servers, tasks, dram, queues, degradation = case
    plat = _platform(servers, dram, queues, degradation)
    g = TaskGraph(copies)
    scale = np.arange(1, copies + 1, dtype=float)
    for t, label in zip(tasks, labels):
        g.add(t["engine"], f"{label}:x", fixed_s=t["fixed_s"] * scale, pool=t["pool"], volume=t["volume"],
              cap=t["cap"], deps=t["deps"], hold=t.get("hold", NONE))
    batch = simulate([g], plat, {"a": "first", "b": "second"})
    assert len(batch) == copies and batch.categories == ("first", "second", "other")
    for k, s in enumerate(batch):
        want = dict.fromkeys(batch.categories, 0.0)
        for i in s.critical_path():
            want[{"a": "first", "b": "second"}.get(labels[i], "other")] += s.end[i] - s.start[i]
        assert batch.critical[k].tolist() == list(want.values())  # the same walk, summed in the same order
        assert batch.makespan[k] == s.makespan
        assert batch.busy(range(len(servers)))[k].tolist() == [s.busy(e) for e in range(len(servers))]
        one = simulate([g.graph(k)], plat)[0]  # graph k of the template on its own
        assert one.start.tolist() == s.start.tolist() and one.end.tolist() == s.end.tolist()


PLAT = Platform((("cpu", 5, "CPU"), ("io", 1, "CPU"), ("npu", 1, "NPU")),
                {frozenset({"CPU"}): 43.9e9, frozenset({"NPU"}): 56e9, frozenset({"CPU", "NPU"}): 59.6e9}, 1, 0.4)


def test_concurrent_streams_share_dram():
    g = TaskGraph()
    for _ in range(5):  # five threads of 10 GB/s each on a 43.9 GB/s pool: 8.78 GB/s each
        g.add(0, "cpu", pool=DRAM, volume=1e9, cap=10e9)
    (s,) = simulate([g], PLAT)
    assert s.makespan == pytest.approx(5e9 / 43.9e9)
    g = TaskGraph()
    g.add(0, "cpu", pool=DRAM, volume=1e9, cap=10e9)  # alone: its cap binds
    (s,) = simulate([g], PLAT)
    assert s.makespan == pytest.approx(0.1)


def test_npu_and_cpu_together_get_the_measured_mix():
    g = TaskGraph()
    g.add(0, "cpu", pool=DRAM, volume=29.8e9)
    g.add(2, "npu", pool=DRAM, volume=29.8e9)
    (s,) = simulate([g], PLAT)
    assert s.makespan == pytest.approx(1.0)  # 59.6 GB/s shared equally
    # a capped CPU stream leaves the rest of the pool to the NPU
    g = TaskGraph()
    g.add(0, "cpu", pool=DRAM, volume=9.6e9, cap=9.6e9)
    g.add(2, "npu", pool=DRAM, volume=50e9)
    (s,) = simulate([g], PLAT)
    assert s.end[0] == pytest.approx(1.0) and s.end[1] == pytest.approx(1.0)


def test_several_issuers_degrade_the_single_queue():
    one, two = TaskGraph(), TaskGraph()
    one.add(1, "io", pool=UFS, volume=1.0)
    one.add(1, "io", pool=UFS, volume=1.0)  # one I/O thread: serialised, 2 device-seconds
    two.add(0, "io", pool=UFS, volume=1.0)
    two.add(0, "io", pool=UFS, volume=1.0)  # two issuers at once: the device delivers 0.6 of its rate
    s1, s2 = simulate([one, two], PLAT)
    assert s1.makespan == pytest.approx(2.0)
    assert s2.makespan == pytest.approx(2.0 / 0.6)


def test_dispatch_order_dependencies_and_critical_path():
    g = TaskGraph()
    a = g.add(1, "io:read", pool=UFS, volume=2.0)
    b = g.add(0, "compute:gate", fixed_s=1.0)
    c = g.add(0, "compute:up", fixed_s=1.0, deps=[a])
    d = g.add(2, "sync:barrier", fixed_s=0.5, deps=[b, c])
    batch = simulate([g], PLAT, {"io": "io", "compute": "compute"})
    (s,) = batch
    assert list(s.start) == pytest.approx([0, 0, 2, 3]) and s.makespan == pytest.approx(3.5)
    assert s.critical_path() == [d, c, a]
    assert batch.categories == ("io", "compute", "other")
    assert batch.critical[0].tolist() == pytest.approx([2.0, 1.0, 0.5])
    assert s.busy(0) == pytest.approx(2.0)


def test_server_limit_and_index_priority():
    plat = Platform((("cpu", 1, "CPU"),), {frozenset({"CPU"}): 1.0})
    g = TaskGraph()
    g.add(0, "x", fixed_s=1.0)
    g.add(0, "y", fixed_s=1.0)
    (s,) = simulate([g], plat)
    assert list(s.start) == [0.0, 1.0]


def test_a_held_server_is_taken_for_the_whole_task():
    # an NPU call holding one of two CPU threads: the second CPU task waits for a thread, and the
    # critical path runs through the call that freed it
    plat = Platform((("cpu", 2, "CPU"), ("npu", 1, "NPU")), {frozenset({"CPU"}): 1.0, frozenset({"NPU"}): 1.0})
    g = TaskGraph()
    call = g.add(1, "npu", fixed_s=2.0, hold=0)
    g.add(0, "a", fixed_s=1.0)
    g.add(0, "b", fixed_s=1.0)
    (s,) = simulate([g], plat)
    assert list(s.start) == pytest.approx([0.0, 0.0, 1.0]) and s.makespan == pytest.approx(2.0)
    g.hold[call] = NONE  # without the hold both CPU tasks start at once
    (s,) = simulate([g], plat)
    assert list(s.start) == pytest.approx([0.0, 0.0, 0.0]) and s.makespan == pytest.approx(2.0)
    one = Platform((("cpu", 1, "CPU"), ("npu", 1, "NPU")), {frozenset({"CPU"}): 1.0, frozenset({"NPU"}): 1.0})
    g = TaskGraph()
    call = g.add(1, "npu", fixed_s=2.0, hold=0)
    a = g.add(0, "a", fixed_s=1.0)
    (s,) = simulate([g], one)
    assert s.start[a] == pytest.approx(2.0) and s.critical_path() == [a, call]


def test_bad_template_values_are_an_error():
    with pytest.raises(EinsimError, match="3 values per task"):
        TaskGraph(3).add(0, "x", fixed_s=np.ones(2))
    g = TaskGraph(2)
    g.add(0, "x", pool=DRAM, volume=1.0, cap=np.array([1.0, 0.0]))  # an array is checked when simulated
    with pytest.raises(EinsimError, match="task 'x'.*cap > 0"):
        simulate([g], PLAT)


def test_bad_task_is_an_error():
    with pytest.raises(EinsimError, match="cap > 0"):
        TaskGraph().add(0, "x", pool=DRAM, volume=1.0, cap=0.0)
    with pytest.raises(EinsimError, match="earlier task"):
        TaskGraph().add(0, "x", deps=[0])
    with pytest.raises(EinsimError, match="must differ"):
        TaskGraph().add(0, "x", hold=0)


@st.composite
def staged_graphs(draw):
    """Graphs shaped like LLM in a flash's and llama.cpp's layers: stages of parallel tasks on engines with
    many servers (up to 32 reader threads), every task of a stage after every task of the previous one, or
    per-server chains (fault, then compute); the UFS with one or many command queues."""
    servers = [draw(st.integers(1, 10)), draw(st.integers(1, 32)), 1]
    g_tasks, prev = [], []
    for _ in range(draw(st.integers(1, 5))):
        engine = draw(st.integers(0, 2))
        pool = draw(st.sampled_from([NONE, DRAM, UFS]))
        width = draw(st.integers(1, min(servers[engine] + 2, 12)))
        chained = prev and len(prev) == width and draw(st.booleans())
        stage = []
        for j in range(width):
            deps = [prev[j]] if chained else list(prev)
            g_tasks.append({"engine": engine, "fixed_s": draw(st.sampled_from([0.0, 1e-5, 0.25])), "pool": pool,
                            "volume": float(draw(st.integers(0, 4))), "cap": draw(st.sampled_from([np.inf, 0.7, 2.0])),
                            "deps": deps})
            stage.append(len(g_tasks) - 1)
        prev = stage
    dram = {frozenset({"CPU"}): float(draw(st.integers(1, 4))), frozenset({"NPU"}): 2.0,
            frozenset({"CPU", "NPU"}): 3.0}
    return servers, g_tasks, dram, draw(st.sampled_from([1, 32])), draw(st.sampled_from([0.0, 0.4]))


@settings(max_examples=60, deadline=None)
@given(staged_graphs())
def test_kernel_equals_simpy_twin_on_staged_graphs(case):
    servers, tasks, dram, queues, degradation = case
    plat = _platform(servers, dram, queues, degradation)
    (s,) = simulate([_graph(tasks)], plat)
    _, kind, dram_arr = plat.arrays()
    s2, e2 = twin(tasks, servers, kind.tolist(), dram_arr.tolist(), queues, degradation)
    np.testing.assert_allclose(s.start, s2, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(s.end, e2, rtol=1e-7, atol=1e-9)
