"""The fraction of a masked iteration space's tiles that hold work (einsim.einsum.masks)."""

from __future__ import annotations

import itertools
import random

import pytest

from einsim.einsum import load_workload, resize
from einsim.einsum.affine import Affine, Condition
from einsim.einsum.analysis import points
from einsim.einsum.masks import active_tile_fraction

CAUSAL = Condition(Affine((("m", 1),)), "<=", Affine((("p", 1),)))  # m <= p


def brute_force(conditions, space, tile) -> float:
    """Tiles enumerated one by one, every point of each tested against every condition."""
    fvars = sorted({v for c in conditions for v in c.vars})
    running = total = 0
    for starts in itertools.product(*(range(0, space[v], tile[v]) for v in fvars)):
        total += 1
        box = [range(s, min(s + tile[v], space[v])) for s, v in zip(starts, fvars)]
        running += any(all(bool(c.holds(dict(zip(fvars, pt)))) for c in conditions) for pt in itertools.product(*box))
    return running / total


@pytest.mark.parametrize("n, t", [(1024, 256), (16384, 256), (4096, 64), (512, 512), (96, 32), (64, 1)])
def test_triangular_mask_runs_half_plus_the_diagonal(n: int, t: int) -> None:
    tiles = n // t
    assert active_tile_fraction([CAUSAL], {"m": n, "p": n}, {"m": t, "p": t}) == pytest.approx(0.5 + 0.5 / tiles, rel=1e-12)


def test_blocked_causal_mask_of_the_1pass_cascade() -> None:
    # FuseMax's mask m1*M0 + m0 <= p with one M0 x P0 array step per tile: the same triangle of tiles
    cond = Condition(Affine((("m0", 1), ("m1", 256))), "<=", Affine((("p", 1),)))
    frac = active_tile_fraction([cond], {"m1": 64, "m0": 256, "p": 16384, "e": 64}, {"m1": 1, "m0": 256, "p": 256})
    assert frac == pytest.approx(0.5 + 1 / 128, rel=1e-12)


def test_a_tile_spanning_a_whole_rank_and_untiled_ranks() -> None:
    assert active_tile_fraction([CAUSAL], {"m": 8, "p": 8}, {"m": 8, "p": 8}) == 1.0
    assert active_tile_fraction([CAUSAL], {"m": 8, "p": 8}, {}) == 1.0  # untiled: one tile, it has work
    assert active_tile_fraction([CAUSAL], {"m": 8, "p": 8}, {"p": 1}) == 1.0  # every query row has m = 0
    assert active_tile_fraction([CAUSAL], {"m": 8, "p": 8}, {"m": 1}) == 1.0  # every key meets p = 7
    assert active_tile_fraction([], {"m": 8}, {"m": 1}) == 1.0


def test_constant_conditions() -> None:
    never = Condition(Affine((), 1), "<=", Affine((), 0))
    always = Condition(Affine((), 0), "<=", Affine((), 1))
    assert active_tile_fraction([never], {"m": 4}, {"m": 1}) == 0.0
    assert active_tile_fraction([always, CAUSAL], {"m": 4, "p": 4}, {"m": 1, "p": 1}) == pytest.approx(10 / 16)


@pytest.mark.parametrize("name", ["attention_1pass_causal", "attention_2pass_causal", "attention_3pass_causal"])
@pytest.mark.parametrize("odd", [False, True])
def test_tiles_of_one_point_give_the_exact_masked_count(name: str, odd: bool) -> None:
    cascade = load_workload(name)
    sizes = {k: int(v) for k, v in cascade.check_sizes.items()}
    if odd:
        sizes["M"] = 20
    cascade = resize(cascade, sizes)
    masked = [e for e in cascade.einsums if e.filters]
    assert masked
    for e in masked:
        frac = active_tile_fraction(e.filters, e.space, {v: 1 for v in e.space})
        assert frac * e.dense_points == pytest.approx(points(e), abs=1e-6)
        assert points(e) < e.dense_points


def test_random_conditions_against_brute_force() -> None:
    rng = random.Random(7)
    for _ in range(300):
        vs = ["a", "b", "c"][: rng.randint(1, 3)]
        space = {v: rng.randint(1, 9) for v in vs}
        conds = []
        for _ in range(rng.randint(1, 2)):
            terms = tuple((v, k) for v in sorted(rng.sample(vs, rng.randint(1, len(vs)))) if (k := rng.randint(-3, 3)))
            conds.append(Condition(Affine(terms, rng.randint(-5, 5)), rng.choice(["<", "<=", ">", ">=", "=="]),
                                   Affine(((rng.choice(vs), 1),))))
        tile = {v: rng.randint(1, space[v]) for v in vs}
        got, want = active_tile_fraction(conds, space, tile), brute_force(conds, space, tile)
        if len(conds) == 1 and conds[0].op != "==":
            assert got == pytest.approx(want, abs=1e-12), (conds, space, tile)
        else:  # each condition decided alone: never a skipped tile that has work
            assert got >= want - 1e-12, (conds, space, tile)
        ones = {v: 1 for v in vs}
        assert active_tile_fraction(conds, space, ones) == pytest.approx(brute_force(conds, space, ones), abs=1e-12)
