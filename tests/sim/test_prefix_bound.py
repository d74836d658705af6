"""The energy-floor scan's prefix bound (einsim.sim.kernels.energy_floor._prefix_bound): with the
first indices of a factorization known, it never exceeds the floor of any completion (checked
against every completion on toy GEMMs, a four-index contraction and fused variants), and it is not
vacuous: on every space some prefix's bound is more than half-way from the compute energy to its
completions' least floor (so doubling its traffic terms would prune a completion it must keep), and
the scan walks fewer rows than the fan-out-legal ones."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.mappers.fused.keyed import FusedSpace
from einsim.mappers.mapspace import Constraints, Mapspace
from einsim.sim.kernels.energy_floor import prefix_bounds
from einsim.sim.nest import Hierarchy, Level, NestProblem

GEMM = NestProblem("Z", ("m", "n", "k"), (4, 6, 4), ("A", "B", "Z"),
                   (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)
# Y[m, n] = A[m, k, l] * B[k, l, n]: two reduction indices
CONTRACT = NestProblem("Y", ("m", "n", "k", "l"), (4, 2, 4, 2), ("A", "B", "Y"),
                       (((1, 0, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)), ((0, 0, 1, 0), (0, 0, 0, 1), (0, 1, 0, 0)),
                        ((1, 0, 0, 0), (0, 1, 0, 0))), 2)
PLAIN = Hierarchy((Level("DRAM", read_J=1e-12, write_J=1.1e-12, update_J=1.2e-12, read_bw_words=4.0),
                   Level("Buf", fanout=4, axes=(2, 2), capacity_words=24, read_J=2e-13, write_J=3e-13, update_J=2.5e-13),
                   Level("Reg", capacity_words=4, read_J=1e-14, write_J=2e-14, update_J=1e-14)), "MAC", 1e-13)
FOUR = Hierarchy((Level("DRAM", read_J=1e-12, write_J=1.1e-12, update_J=1.2e-12),
                  Level("GB", capacity_words=40, read_J=3e-13, write_J=4e-13, update_J=3.5e-13),
                  Level("Buf", fanout=4, axes=(2, 2), capacity_words=12, read_J=2e-13, write_J=3e-13, update_J=2.5e-13,
                        leak_J_per_cycle=1e-16),
                  Level("Reg", capacity_words=3, read_J=1e-14, write_J=2e-14, update_J=1e-14, may_keep=("B",))),
                 "MAC", 1e-13)


def _spaces():
    yield "gemm", Mapspace(GEMM, PLAIN, Constraints(enumerate_keep=True))
    yield "gemm_four", Mapspace(GEMM, FOUR, Constraints(enumerate_keep=True))
    yield "contract", Mapspace(CONTRACT, PLAIN, Constraints(enumerate_keep=True))
    yield "contract_four", Mapspace(CONTRACT, FOUR, Constraints())
    yield "gemm_fused_out", FusedSpace(GEMM, FOUR, Constraints(enumerate_keep=True), {"Z": "GB"})
    yield "gemm_fused_in", FusedSpace(GEMM, FOUR, Constraints(enumerate_keep=True), {"A": "Buf"})


SPACES = dict(_spaces())


def _bounds(space: Mapspace, prefixes: np.ndarray, known: int) -> np.ndarray:
    absc, rel, _simple, is_out, opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle, leak_used, base, op_cycles = \
        space._floor_args()
    return prefix_bounds(prefixes, known, space._t.astype(np.float64), space._s.astype(np.float64),
                         np.array(space.n_factorizations, dtype=np.int64), absc, rel, is_out, opts, n_opt, combo,
                         e_r, e_w, e_u, cap, leak_idle, leak_used, base, op_cycles)


@pytest.mark.parametrize("name", list(SPACES))
def test_prefix_bound_is_below_every_completion_and_not_vacuous(name) -> None:
    space = SPACES[name]
    every = np.concatenate([f for f, _ in space.factorizations()])
    floors = space.energy_floor(every)
    base = space._floor_args()[13]
    tight = 0.0
    for known in range(1, space.D):
        uniq, inverse = np.unique(every[:, :known], axis=0, return_inverse=True)
        least = np.full(len(uniq), np.inf)
        np.minimum.at(least, inverse.reshape(-1), floors)
        prefixes = np.zeros((len(uniq), space.D), dtype=np.int64)
        prefixes[:, :known] = uniq
        bound = _bounds(space, prefixes, known)
        assert np.all(bound <= least * (1 + 1e-12)), (known, np.max(bound / least))
        fin = np.isfinite(least) & np.isfinite(bound)
        tight = max(tight, float(np.max((bound[fin] - base) / (least[fin] - base))))
    assert tight > 0.5  # doubling the bound's terms would exceed some prefix's least completion


@pytest.mark.parametrize("name", list(SPACES))
def test_scan_with_prefix_bound_keeps_the_least_floors(name) -> None:
    space = SPACES[name]
    every = np.concatenate([f for f, _ in space.factorizations()])
    floors = space.energy_floor(every)
    fidx, floor, least, walked = space.floor_scan(slack=0.0)
    assert least == pytest.approx(floors[np.isfinite(floors)].min(), rel=1e-12)
    want = {tuple(r) for r in every[floors <= floors.min()]}
    assert want <= {tuple(r) for r in fidx[floor <= least]}
    assert walked <= len(every)


def test_the_prefix_bound_prunes() -> None:
    """On the four-level GEMM the scan for the least floor walks fewer rows than there are legal ones."""
    space = SPACES["gemm_four"]
    legal = sum(len(f) for f, _ in space.factorizations())
    assert space.floor_scan(slack=0.0)[3] < legal
