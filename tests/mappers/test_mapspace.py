"""The mapspace: its size equals what it enumerates, every row is legal, pruned orders are symmetric."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from einsim.mappers.mapspace import Constraints, Mapspace, _signature
from einsim.sim.nest import Encoded, Hierarchy, Level, NestProblem, encode, evaluate_encoded

GEMM = NestProblem("Z", ("m", "n", "k"), (4, 6, 8), ("A", "B", "Z"),
                   (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)
# O[p] = I[p + r] * W[r]: a sliding window
CONV = NestProblem("O", ("p", "r"), (6, 3), ("I", "W", "O"), (((1, 1),), ((0, 1),), ((1, 0),)), 2)


def hierarchy(fanout: int = 4) -> Hierarchy:
    return Hierarchy((Level("DRAM", read_J=1e-12, write_J=1e-12, update_J=1e-12, read_bw_words=4.0, write_bw_words=4.0),
                      Level("Buf", fanout=fanout, capacity_words=64, read_J=2e-13, write_J=2e-13, update_J=2e-13),
                      Level("Reg", capacity_words=8, read_J=1e-14, write_J=1e-14, update_J=1e-14)), "MAC", 1e-13)


CASES = [
    (GEMM, Constraints()),
    (GEMM, Constraints(enumerate_keep=True)),
    (GEMM, Constraints(spatial={"Buf": ["m"]}, ones={"DRAM": ["k"]}, keep={"Reg": ["Z"]})),
    (CONV, Constraints(enumerate_keep=True)),
]


def _all(space: Mapspace, chunk: int = 1000) -> Encoded:
    parts = list(space.chunks(chunk))
    assert all(len(p.keep) == chunk for p in parts[:-1])
    return Encoded(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("temporal", "spatial", "order", "keep")))


@pytest.mark.parametrize("problem,constraints", CASES)
def test_size_equals_rows_and_rows_are_legal(problem, constraints) -> None:
    h = hierarchy()
    space = Mapspace(problem, h, constraints)
    enc = _all(space)
    assert isinstance(space.size(), int)
    assert space.size() == len(enc.keep)
    # factors multiply to the sizes; spatial factors fit the fan-out
    assert np.all((enc.temporal * enc.spatial).prod(axis=1) == np.array(problem.sizes))
    fan = np.array([lv.fanout for lv in h.levels])
    assert np.all(enc.spatial.prod(axis=2) <= fan)
    # a spatial split is the innermost split of its index
    for lv in range(len(h.levels)):
        split = enc.spatial[:, lv, :] > 1
        deeper = (enc.temporal[:, lv + 1:, :] * enc.spatial[:, lv + 1:, :]).prod(axis=1)
        assert np.all(deeper[split] == 1)
    # each order is a permutation; no row twice
    assert np.all(np.sort(enc.order, axis=2) == np.arange(len(problem.dims)))
    flat = np.concatenate([enc.temporal.reshape(len(enc.keep), -1), enc.spatial.reshape(len(enc.keep), -1),
                           enc.order.reshape(len(enc.keep), -1),
                           enc.keep.reshape(len(enc.keep), -1)], axis=1)
    assert len(np.unique(flat, axis=0)) == len(flat)


def test_constraints_are_respected() -> None:
    enc = _all(Mapspace(GEMM, hierarchy(), CASES[2][1]))
    assert np.all(enc.spatial[:, :, 1:] == 1)  # only m spatial
    assert np.all(enc.temporal[:, 0, 2] == 1)  # k is 1 at DRAM
    assert np.all(enc.keep[:, 2] == [False, False, True])


@pytest.mark.parametrize("problem", [GEMM, CONV])
def test_pruned_orders_evaluate_equal(problem) -> None:
    """Every permutation of a level's loops evaluates like the kept order with the same signature."""
    h = hierarchy()
    space = Mapspace(problem, h, Constraints(enumerate_keep=True))
    g = space.sample(np.random.default_rng(0), 60)
    enc = space.encode(g)
    coef = problem.coef
    relevant = np.any(coef != 0, axis=1)
    windowed = np.array([any(np.count_nonzero(r) > 1 for r in coef[t]) for t in range(len(problem.tensors))])
    for k in range(len(g)):
        for lv in range(len(h.levels)):
            loops = [d for d in enc.order[k, lv] if enc.temporal[k, lv, d] > 1]
            rest = [d for d in range(len(problem.dims)) if d not in loops]
            rows, sigs = [], []
            for perm in itertools.permutations(loops):
                order = enc.order[k].copy()
                order[lv] = list(perm) + rest
                rows.append(order)
                sigs.append(_signature(perm, relevant, windowed) if perm else ())
            n = len(rows)
            batch = Encoded(np.repeat(enc.temporal[k:k + 1], n, 0), np.repeat(enc.spatial[k:k + 1], n, 0),
                            np.array(rows), np.repeat(enc.keep[k:k + 1], n, 0))
            out = evaluate_encoded(problem, h, batch)
            for i, j in itertools.combinations(range(n), 2):
                if sigs[i] == sigs[j]:
                    np.testing.assert_array_equal(out.reads[i], out.reads[j])
                    np.testing.assert_array_equal(out.fills[i], out.fills[j])
                    np.testing.assert_array_equal(out.updates[i], out.updates[j])
                    assert out.cycles[i] == out.cycles[j]


def test_gemm_keeps_one_order_per_innermost_loop() -> None:
    space = Mapspace(GEMM, hierarchy())
    assert space.n_orders[0b111] == 3 and space.n_orders[0b011] == 2 and space.n_orders[0b001] == 1


def test_rows_round_trip_through_mappings() -> None:
    h = hierarchy()
    space = Mapspace(GEMM, h, Constraints(enumerate_keep=True))
    enc = space.encode(space.sample(np.random.default_rng(1), 200))
    mappings = [space.to_mapping(enc, k) for k in range(200)]
    back = encode(GEMM, h, mappings)
    a, b = evaluate_encoded(GEMM, h, enc), evaluate_encoded(GEMM, h, back)
    np.testing.assert_array_equal(a.reads, b.reads)
    np.testing.assert_array_equal(a.cycles, b.cycles)
    np.testing.assert_array_equal(enc.temporal, back.temporal)
    np.testing.assert_array_equal(enc.keep, back.keep)


def test_size_of_gemm_1024_on_a_32x32_array_is_exact() -> None:
    """Each 2^10 index: 66 temporal-only factorizations + 55 with a spatial split; the fan-out
    and the canonical orders (3, 2 or 1 per level) make the rest."""
    h = Hierarchy((Level("DRAM"), Level("GB", fanout=1024), Level("RF")), "MAC", 0.0)
    big = NestProblem("Z", GEMM.dims, (1024, 1024, 1024), GEMM.tensors, GEMM.projections, 2)
    space = Mapspace(big, h)
    assert space.n_factorizations == [121, 121, 121]
    assert space.size() == 15_261_180
    assert math.prod(space.n_factorizations) * 27 > space.size()


def test_two_axis_array_respects_each_axis() -> None:
    """On a 4x2 array no axis carries more than its side, and both axes are used: 8-way
    parallelism needs one index along each axis (the flat model allowed m=8 on one side).
    Every enumerated row evaluates valid on fan-out grounds, and the size counts the rows."""
    problem = NestProblem("Z", ("m", "n", "k"), (8, 4, 2), GEMM.tensors, GEMM.projections, 2)
    h = Hierarchy((Level("DRAM"), Level("Buf", fanout=8, axes=(4, 2)), Level("Reg")), "MAC", 1e-13)
    space = Mapspace(problem, h)
    parts = list(space.chunks(1000))
    spatial = np.concatenate([p.spatial for p in parts])
    axis = np.concatenate([p.axes() for p in parts])
    assert space.size() == len(spatial)
    for a, side in enumerate((4, 2)):
        along = np.where((axis[:, 1] == a) & (spatial[:, 1] > 1), spatial[:, 1], 1).prod(axis=1)
        assert along.max() == side
    assert spatial[:, 1].prod(axis=1).max() == 8
    assert not np.any(spatial[:, 1, 0] == 8)  # m = 8 along one axis of 4 or 2 is not in the space
    enc = Encoded(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("temporal", "spatial", "order", "keep")),
                  axis)
    assert evaluate_encoded(problem, h, enc).valid.all()
    best = space.to_mapping(enc, int(np.flatnonzero(spatial[:, 1].prod(axis=1) == 8)[0]))
    lv = best.level("Buf")
    assert lv.spatial_axis is not None and sorted(lv.spatial_axis.values()) == [0, 1]


def test_first_index_loops_outermost_in_enumerated_sampled_and_mutated_points() -> None:
    """``Constraints.first`` (an iterative rank): its loop is the outermost of the outermost level in
    every point a search can meet, enumerated or climbed (a climbed BK_init of attention_1pass once
    broke this and its mapping failed validation)."""
    space = Mapspace(GEMM, hierarchy(), Constraints(ones={"Buf": ["k"], "Reg": ["k"]}, first="k"))
    k = GEMM.dims.index("k")
    rng = np.random.default_rng(0)
    sampled = space.sample(rng, 500)
    for g in (next(space.genomes(2000)), sampled, space.mutate(rng, sampled)):
        enc = space.encode(g)
        assert np.all(enc.order[:, 0, 0] == k) and np.all(enc.temporal[:, 0, k] == 8)
