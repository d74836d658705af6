"""The loop-nest batch kernel against its slow twin (random small cases) and hand counts."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from einsim.sim.nest import Encoded, Hierarchy, Level, NestProblem, evaluate_encoded
from einsim.sim.reference.nest import walk


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def cases(draw):
    D = draw(st.integers(2, 4))
    sizes = tuple(draw(st.sampled_from([1, 2, 3, 4, 6])) for _ in range(D))
    dims = tuple("abcd"[:D])

    def projection(min_dims: int, window: bool = True):
        chosen = draw(st.lists(st.integers(0, D - 1), min_size=min_dims, max_size=D, unique=True))
        rows = []
        for d in chosen:
            row = [0] * D
            row[d] = 1
            rows.append(row)
        if window and rows and D > 1 and draw(st.booleans()):  # a sliding-window dimension: i + j
            other = draw(st.sampled_from([d for d in range(D) if d not in chosen] or [chosen[0]]))
            rows[0][other] += 1 if rows[0][other] == 0 else 0
        return tuple(tuple(r) for r in rows)

    # outputs index plain dims: a strided per-instance range under a sum has holes the
    # axis-aligned tiles do not model (see einsim.sim.kernels.nest)
    projs = (projection(1), projection(1), projection(0, window=False))
    problem = NestProblem("rand", dims, sizes, ("A", "B", "Z"), projs, 2)
    L = draw(st.integers(2, 4))
    fanout = [draw(st.sampled_from([1, 1, 2, 4])) for _ in range(L)]
    axes = [(2, 2) if f == 4 and draw(st.booleans()) else () for f in fanout]  # a 2x2 array or a flat pool
    levels = tuple(
        Level(f"L{i}", fanout=fanout[i], axes=axes[i], capacity_words=draw(st.sampled_from([math.inf, 40, 400])) if i else math.inf,
              block_words=draw(st.sampled_from([1, 2, 4])), read_J=draw(st.floats(0.1, 5)) * 1e-12,
              write_J=draw(st.floats(0.1, 5)) * 1e-12, update_J=draw(st.floats(0.1, 5)) * 1e-12,
              leak_J_per_cycle=draw(st.sampled_from([0.0, 1e-15])), idle_leaks=draw(st.booleans()),
              read_bw_words=draw(st.sampled_from([math.inf, 2.0])), write_bw_words=draw(st.sampled_from([math.inf, 3.0])))
        for i in range(L)
    )
    hierarchy = Hierarchy(levels, "MAC", 0.5e-12, op_cycles=draw(st.sampled_from([1.0, 2.0])))
    temporal = np.ones((L, D), dtype=np.int64)
    spatial = np.ones((L, D), dtype=np.int64)
    axis = np.zeros((L, D), dtype=np.int64)
    room = list(fanout)
    # dims of a sliding window (p + r) may be spread too: partly overlapping tiles of the instances
    # are sent separately (Timeloop's multicast), which kernel and twin must count alike
    for d, n in enumerate(sizes):
        left = n
        for lv in range(L):
            if lv == L - 1:
                temporal[lv, d] *= left
                break
            f = draw(st.sampled_from(_divisors(left)))
            left //= f
            if room[lv] % f == 0 and draw(st.booleans()):
                # a spatial split is the innermost split of its dim (the rest loops outside it)
                spatial[lv, d] = f
                axis[lv, d] = draw(st.integers(0, len(levels[lv].axis_sizes) - 1))  # may overfill an axis
                room[lv] //= f
                temporal[lv, d] *= left
                break
            temporal[lv, d] = f
    order = np.array([draw(st.permutations(range(D))) for _ in range(L)], dtype=np.int64)
    # the outermost keeper is DRAM, or (a fused intermediate) a level below it
    keep = np.array([[draw(st.booleans()) or draw(st.booleans()) for _ in range(3)]]
                    + [[draw(st.booleans()) for _ in range(3)] for _ in range(L - 1)])
    keep[0, ~keep.any(axis=0)] = True
    return problem, hierarchy, temporal, spatial, order, keep, axis


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_kernel_equals_twin(case) -> None:
    problem, hierarchy, temporal, spatial, order, keep, axis = case
    twin = walk(problem, hierarchy, temporal, spatial, order, keep, axis)
    enc = Encoded(temporal[None], spatial[None], order[None], keep[None], axis[None])
    got = evaluate_encoded(problem, hierarchy, enc).one(0)
    np.testing.assert_array_equal(got.reads, twin.reads)
    np.testing.assert_array_equal(got.fills, twin.fills)
    np.testing.assert_array_equal(got.updates, twin.updates)
    np.testing.assert_array_equal(got.instances, twin.instances)
    np.testing.assert_array_equal(got.tile_words, twin.tile_words)
    assert got.cycles == twin.cycles
    assert got.computes == twin.computes
    np.testing.assert_allclose(got.energy_J, twin.energy_J, rtol=1e-12)
    assert got.valid == twin.valid


def test_batch_rows_are_independent() -> None:
    """Evaluating mappings together gives the same numbers as one at a time."""
    problem = NestProblem("gemm", ("m", "n", "k"), (4, 6, 8), ("A", "B", "Z"),
                          (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)
    hierarchy = Hierarchy((Level("DRAM", fanout=4, read_J=1e-12), Level("Buf", capacity_words=64, read_J=0.1e-12)), "MAC", 1e-13)
    t1 = np.array([[[4, 1, 2], [1, 6, 4]]])
    s1 = np.array([[[1, 1, 1], [1, 1, 1]]])
    t2 = np.array([[[1, 6, 1], [1, 1, 8]]])
    s2 = np.array([[[4, 1, 1], [1, 1, 1]]])
    order = np.tile(np.arange(3), (1, 2, 1))
    keep = np.ones((1, 2, 3), dtype=bool)
    both = evaluate_encoded(problem, hierarchy, Encoded(np.concatenate([t1, t2]), np.concatenate([s1, s2]),
                                                        np.concatenate([order, order]), np.concatenate([keep, keep])))
    for k, (t, s) in enumerate([(t1, s1), (t2, s2)]):
        one = evaluate_encoded(problem, hierarchy, Encoded(t, s, order, keep))
        np.testing.assert_array_equal(both.reads[k], one.reads[0])
        assert both.cycles[k] == one.cycles[0]
    assert both.cycles.tolist() == [4 * 2 * 6 * 4, 6 * 8]  # the second mapping spreads m over 4 instances
    assert both.instances[1].tolist() == [1, 4, 4]


def test_gemm_dram_traffic_by_hand() -> None:
    """Z[m,n] = A[m,k] B[k,n], DRAM -> Buf -> MAC with n6, k2 at DRAM and m4, k4 in Buf.
    k is the innermost loop above Buf, so A is refetched once per n step (6 x 32); B streams
    once (48); Z's tile does not depend on k and is written back once per n step (24)."""
    problem = NestProblem("gemm", ("m", "n", "k"), (4, 6, 8), ("A", "B", "Z"),
                          (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)
    hierarchy = Hierarchy((Level("DRAM"), Level("Buf")), "MAC", 0.0)
    temporal = np.array([[[1, 6, 2], [4, 1, 4]]])
    order = np.array([[[1, 2, 0], [0, 2, 1]]])
    counts = evaluate_encoded(problem, hierarchy, Encoded(temporal, np.ones_like(temporal), order,
                                                          np.ones((1, 2, 3), dtype=bool))).one(0)
    assert counts.reads[0].tolist() == [6 * 32, 48, 0]
    assert counts.updates[0].tolist() == [0, 0, 24]
    assert counts.fills[1].tolist() == [6 * 32, 48, 0]
    assert counts.reads[1].tolist() == [192, 192, 192 - 24]
    assert counts.updates[1].tolist() == [0, 0, 192]
    assert counts.cycles == 192


def test_each_axis_fan_out_is_respected() -> None:
    """On a 4x4 array, 16 along one axis is refused and 4 x 4 across both axes is accepted; a flat
    pool of 16 (the old model of every array) accepts both."""
    problem = NestProblem("gemm", ("m", "n", "k"), (16, 4, 2), ("A", "B", "Z"),
                          (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)
    temporal = np.array([[[1, 1, 2], [1, 1, 1]], [[4, 1, 2], [1, 1, 1]]])
    spatial = np.array([[[16, 1, 1], [1, 1, 1]], [[4, 4, 1], [1, 1, 1]]])
    axis = np.array([[[0, 0, 0], [0, 0, 0]], [[0, 1, 0], [0, 0, 0]]])
    order = np.tile(np.arange(3), (2, 2, 1))
    keep = np.ones((2, 2, 3), dtype=bool)
    flat = np.zeros_like(axis)  # a flat pool has one axis
    for axes, along, expected in (((4, 4), axis, [False, True]), ((), flat, [True, True]), ((), axis, [True, False])):
        hierarchy = Hierarchy((Level("DRAM", fanout=16, axes=axes), Level("Reg")), "MAC", 1e-13)
        counts = evaluate_encoded(problem, hierarchy, Encoded(temporal, spatial, order, keep, along))
        assert counts.valid.tolist() == expected
        for k in range(2):
            assert walk(problem, hierarchy, temporal[k], spatial[k], order[k], keep[k], along[k]).valid == expected[k]
    assert counts.instances[:, 1].tolist() == [16, 16]
