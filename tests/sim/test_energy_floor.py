"""The energy-floor kernel agrees with its slow twin, never exceeds the energy of a valid point of
its factorization (on toy spaces with sliding windows, strides, blocks, leakage, bypass choices and
a capacity that binds), and its scan keeps exactly the factorizations near the least floor."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.mappers.mapspace import Constraints, Mapspace
from einsim.sim.nest import Hierarchy, Level, NestProblem, evaluate_encoded
from einsim.sim.reference.energy_floor import energy_floor as twin

GEMM = NestProblem("Z", ("m", "n", "k"), (4, 6, 4), ("A", "B", "Z"),
                   (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)
# Y[p, k] = X[2p + r] * W[r, k]: a strided sliding window (X is not indexed plainly)
CONV = NestProblem("Y", ("p", "r", "k"), (4, 3, 2), ("X", "W", "Y"),
                   (((2, 1, 0),), ((0, 1, 0), (0, 0, 1)), ((1, 0, 0), (0, 0, 1))), 2)
PLAIN = Hierarchy((Level("DRAM", read_J=1e-12, write_J=1.1e-12, update_J=1.2e-12, read_bw_words=4.0),
                   Level("Buf", fanout=4, axes=(2, 2), capacity_words=24, read_J=2e-13, write_J=3e-13, update_J=2.5e-13),
                   Level("Reg", capacity_words=4, read_J=1e-14, write_J=2e-14, update_J=1e-14)), "MAC", 1e-13)
# blocks of two words, leakage on idle and used instances, a register that may hold only W
ODD = Hierarchy((Level("DRAM", block_words=2, read_J=2e-12, write_J=2e-12, update_J=2e-12, leak_J_per_cycle=1e-15),
                 Level("Buf", fanout=2, capacity_words=16, read_J=2e-13, write_J=3e-13, update_J=2.5e-13,
                       leak_J_per_cycle=2e-16, idle_leaks=False),
                 Level("Reg", capacity_words=3, read_J=1e-14, write_J=2e-14, update_J=1e-14, may_keep=("W", "B"))),
                "MAC", 1e-13, op_cycles=2.0)
CASES = [(GEMM, PLAIN), (GEMM, ODD), (CONV, PLAIN), (CONV, ODD)]
IDS = ["gemm", "gemm_odd", "conv", "conv_odd"]


def _every_point(space: Mapspace):
    fidx, energy = [], []
    for g in space.genomes(1 << 14):
        counts = evaluate_encoded(space.problem, space.hierarchy, space.encode(g))
        fidx.append(g.fidx)
        energy.append(np.where(counts.valid, counts.energy_J.sum(axis=1), np.inf))
    return np.concatenate(fidx), np.concatenate(energy)


@pytest.mark.parametrize("problem,hier", CASES, ids=IDS)
def test_floor_is_below_every_valid_point_and_matches_its_twin(problem, hier) -> None:
    space = Mapspace(problem, hier, Constraints(enumerate_keep=True))
    fidx, energy = _every_point(space)
    floor = space.energy_floor(fidx)
    assert np.all(floor <= energy * (1 + 1e-12))  # admissible: fails if any term were over-counted
    t, s, _, _ = space._factor_arrays(fidx)
    np.testing.assert_allclose(floor, twin(problem, hier, space._keeps, t, s), rtol=1e-12)
    _, first, rows = np.unique(fidx, axis=0, return_index=True, return_inverse=True)
    least = np.full(len(first), np.inf)
    np.minimum.at(least, rows.reshape(-1), energy)
    valid = np.isfinite(least)
    # not trivial: the floor is the exact least energy of many factorizations, and on average close
    # (a windowed tensor's refills are bounded more loosely: the conv cases are near 0.79)
    assert np.mean(np.isclose(floor[first][valid], least[valid], rtol=1e-12)) > 0.2
    assert np.mean(floor[first][valid] / least[valid]) > 0.7


@pytest.mark.parametrize("problem,hier", CASES, ids=IDS)
@pytest.mark.parametrize("slack", [0.0, 0.05, np.inf])
def test_scan_keeps_every_factorization_near_the_least_floor(problem, hier, slack) -> None:
    """floor_scan returns every factorization whose floor is within ``slack`` of the least (its
    prefix skips must never drop one), and the least floor is the least of all."""
    space = Mapspace(problem, hier, Constraints(enumerate_keep=True))
    every = np.concatenate([f for f, _ in space.factorizations()])
    floors = space.energy_floor(every)
    fidx, floor, least, _ = space.floor_scan(slack=slack)
    assert least == pytest.approx(floors.min(), rel=1e-12)
    want = {tuple(r) for r in every[floors <= floors.min() * (1 + slack)]}
    got = {tuple(r) for r in fidx[floor <= least * (1 + slack)]}
    assert want <= got
    assert np.all(floor >= space.energy_floor(fidx) * (1 - 1e-12))  # the scan's floor is never the weaker one
