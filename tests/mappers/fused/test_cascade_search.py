"""The whole-cascade search returns exactly the brute-force optimum and front on small cases (timed
by the tile pipeline); the tile schedule built from a CascadeMapping agrees with the brute force's
own construction, and its event simulation never exceeds the closed form the search uses."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.mappers.cascade_mapping import CascadeMapping, FusionGroup, nest_loops
from einsim.mappers.fused import evaluate_mapping, map_cascade, simulate_mapping
from einsim.mappers.fused.evaluate import einsum_cost
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Mapspace
from einsim.sim.kernels.pipeline import latency_bound
from einsim.sim.nest import NestProblem

HERE = Path(__file__).parent
ARCH = load_arch(HERE / "tiny_arch.yaml")
TWO = load_arch(HERE / "two_units_arch.yaml")
CHAIN = load_workload(str(HERE / "chain2.yaml"))
HOME = "GlobalBuffer"


def _all_mappings(arch, unit, einsum):
    hier = hierarchy_for(arch, unit, einsum)
    space = Mapspace(NestProblem.from_einsum(einsum), hier)
    return [space.to_mapping(enc, k) for enc in space.chunks(4096) for k in range(len(enc.keep))]


def _stage(arch, einsum, mapping, cost, fused):
    """What the pipeline needs of one Einsum besides its time: the seconds it moves on each shared
    port (the buffer's and DRAM's read and write sides with a finite bandwidth) and whether the
    buffer holds a second tile of the fused tensor H beside its own tiles."""
    hier = hierarchy_for(arch, mapping.unit, einsum)
    names = hier.names()
    ports = {}
    for lv, level in enumerate(hier.levels):
        if level.name in ("DRAM", HOME):
            for side, words, bw in (("read", cost.counts.reads[lv].sum(), level.read_bw_words),
                                    ("write", (cost.counts.fills[lv] + cost.counts.updates[lv]).sum(), level.write_bw_words)):
                if bw < np.inf and words > 0:
                    ports[f"{level.name}.{side}"] = words / bw / hier.clock_Hz
    room = True
    if fused:
        tile = [math.prod(lm.temporal.get(d, 1) * lm.spatial.get(d, 1) for lm in mapping.levels
                          if names.index(lm.target) >= names.index(HOME)) for d in ("m", "i")]
        room = cost.counts.tile_words[names.index(HOME)] + math.prod(tile) <= hier.levels[names.index(HOME)].capacity_words
    return ports, room


def _brute_force(arch):
    """Every full mapping of the chain on ``arch``: per pair of units, both Einsums unfused (their
    latencies add), or H fused at the buffer with every loop above the buffer shared, timed by the
    pipeline's closed form over the shared loops' tiles. Returns (latency, energy, CascadeMapping or
    None if invalid) per mapping."""
    e1, e2 = CHAIN.einsum("H"), CHAIN.einsum("Y")
    units = [u.name for u in arch.compute_units()]
    above = lambda m, e: tuple(lp for lp in nest_loops(m, tuple(e.space)) if lp.level == "DRAM")  # noqa: E731
    out = []
    for u1, u2 in itertools.product(units, units):
        m1, m2 = _all_mappings(arch, u1, e1), _all_mappings(arch, u2, e2)
        for homes in ({}, {"H": HOME}):
            c1 = [(m, einsum_cost(arch, e1, m, homes)) for m in m1]
            c2 = [(m, einsum_cost(arch, e2, m, homes)) for m in m2]
            s1 = [(m, c, above(m, e1), *_stage(arch, e1, m, c, bool(homes))) for m, c in c1]
            s2 = [(m, c, above(m, e2), *_stage(arch, e2, m, c, bool(homes))) for m, c in c2]
            for (a, ca, ka, pa, ra), (b, cb, kb, pb, rb) in itertools.product(s1, s2):
                if homes and ka != kb:
                    continue
                valid = ca.counts.valid and cb.counts.valid
                if homes:
                    tiles = math.prod(lp.factor for lp in ka)
                    ports = sorted(set(pa) | set(pb)) or ["none"]
                    m = np.array([[pa.get(p, 0.0) / tiles for p in ports], [pb.get(p, 0.0) / tiles for p in ports]])
                    slots = np.array([[0, 2 if ra and rb else 1], [0, 0]], dtype=np.int64)
                    unit = np.array([0, 0 if u1 == u2 else 1])
                    latency = latency_bound(tiles, unit, np.array([ca.latency_s, cb.latency_s]) / tiles, m, slots)
                else:
                    latency = ca.latency_s + cb.latency_s
                groups = (FusionGroup(("H", "Y"), ka, dict(homes)),) if homes else ()
                out.append((latency, ca.energy_J + cb.energy_J, CascadeMapping("chain2", (a, b), groups) if valid else None))
    return out


BRUTE = {}


def brute(arch=ARCH):
    if id(arch) not in BRUTE:  # by object: variants of one arch file share its name
        BRUTE[id(arch)] = _brute_force(arch)
    return BRUTE[id(arch)]


@pytest.mark.parametrize("arch", [ARCH, TWO], ids=["one_unit", "two_units"])
@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_search_returns_the_brute_force_optimum(objective, arch) -> None:
    rows = brute(arch)
    score = lambda lat, en: {"latency": lat, "energy": en, "edp": lat * en}[objective]  # noqa: E731
    best = min(score(lat, en) for lat, en, cm in rows if cm is not None)
    res = map_cascade(CHAIN, arch, objective)
    assert res.optimal
    assert res.mapspace_size == len(rows)
    assert res.score == pytest.approx(best, rel=1e-12)
    cost = evaluate_mapping(res.best, CHAIN, arch)  # the mapping it prints is valid and scores as reported
    assert cost.valid
    assert score(cost.latency_s, cost.energy_J) == pytest.approx(res.score, rel=1e-12)


@pytest.mark.parametrize("arch", [ARCH, TWO], ids=["one_unit", "two_units"])
def test_front_is_the_brute_force_front(arch) -> None:
    rows = [(lat, en) for lat, en, cm in brute(arch) if cm is not None]
    lat, en = np.array(rows).T
    front = sorted({(a, b) for a, b in rows if not np.any((lat <= a) & (en <= b) & ((lat < a) | (en < b)))})
    res = map_cascade(CHAIN, arch, "edp")
    got = [(a, b) for a, b, _ in res.pareto]
    assert len(got) == len(front)
    np.testing.assert_allclose(np.array(got), np.array(front), rtol=1e-12)


def test_fusion_is_chosen_when_it_saves_dram_traffic() -> None:
    res = map_cascade(CHAIN, ARCH, "energy")
    unfused = map_cascade(CHAIN, ARCH, "energy", fuse=False)
    assert res.best.fusion and res.best.fusion[0].homes == {"H": HOME}
    assert res.energy_J < unfused.energy_J


def test_one_or_two_workers_give_the_same_answer() -> None:
    one = map_cascade(CHAIN, ARCH, "edp", workers=1)
    two = map_cascade(CHAIN, ARCH, "edp", workers=2)
    assert one.best == two.best and one.score == two.score
    assert [(a, b) for a, b, _ in one.pareto] == [(a, b) for a, b, _ in two.pareto]


@pytest.mark.parametrize("objective,einsum,budget,prunes", [
    ("latency", None, 60, True), ("latency", "H", 60, True), ("latency", "Y", 60, True),
    ("edp", "H", 60, True), ("edp", "Y", 60, True), ("energy", None, 90, False)])
def test_branch_and_bound_returns_the_exhaustive_optimum(objective, einsum, budget, prunes) -> None:
    """A budget below the space size: the climb's best bounds out the factorizations whose compute
    time or energy floor alone exceeds it, the rest are enumerated, and the optimum equals full
    enumeration. (On this toy the energy floor alone prunes nothing: DRAM refills it does not count
    dominate; on GEMM-1024 it leaves 0.8 % of the space, see docs/mapper.md.)"""
    full = map_cascade(CHAIN, ARCH, objective, einsum=einsum, fuse=False)
    bounded = map_cascade(CHAIN, ARCH, objective, einsum=einsum, fuse=False, budget=budget)
    assert full.optimal and bounded.optimal and not bounded.front_exact
    if prunes:  # the climb plus what the bound left is less than everything
        assert bounded.evaluated + bounded.capacity_pruned < full.evaluated + full.capacity_pruned
    assert bounded.score == pytest.approx(full.score, rel=1e-12)


def test_a_bound_that_leaves_too_much_says_so() -> None:
    """Budget 1: the bound may leave at most 4 points to enumerate; it leaves more, so the result is
    the climb's and says it is not proven optimal."""
    res = map_cascade(CHAIN, ARCH, "energy", fuse=False, budget=1)
    assert not res.optimal and not res.front_exact


@pytest.mark.parametrize("fused", [False, True], ids=["unfused", "fused"])
@pytest.mark.parametrize("arch,bypass", [(ARCH, False), (ARCH, True), (TWO, True)], ids=["tiny", "tiny_bypass", "two_units"])
def test_energy_floor_is_below_every_point(arch, bypass, fused) -> None:
    """Mapspace.energy_floor is admissible: no valid point of a factorization (any order, any keep
    choice) costs less energy than the floor of its factorization, on every point of the chain's
    spaces on every unit (an invalid point scores inf whatever its energy), unfused and with H
    fused at the buffer (a FusedSpace: what the whole-cascade energy bound scans); it is not trivial
    (above the compute energy somewhere) and it counts refills: it is the least valid energy of
    its factorization exactly for most factorizations (where one loop order serves every
    tensor best). Doubling any term of the floor breaks the first assertion."""
    from einsim.mappers.fused.keyed import FusedSpace
    from einsim.mappers.mapspace import Constraints
    from einsim.sim.nest import evaluate_encoded

    above_compute = exact = factorizations = 0
    for e in CHAIN:
        for unit in [u.name for u in arch.compute_units()]:
            hier = hierarchy_for(arch, unit, e)
            constraints = Constraints(enumerate_keep=bypass)
            problem = NestProblem.from_einsum(e)
            space = FusedSpace(problem, hier, constraints, {"H": HOME}) if fused else Mapspace(problem, hier, constraints)
            fidx, energy, floor = [], [], []
            for g in space.genomes(4096):
                counts = evaluate_encoded(space.problem, hier, space.encode(g))
                fidx.append(g.fidx)
                energy.append(np.where(counts.valid, counts.energy_J.sum(axis=1), np.inf))
                floor.append(space.energy_floor(g.fidx))
            fidx, energy, floor = np.concatenate(fidx), np.concatenate(energy), np.concatenate(floor)
            assert np.all(floor <= energy * (1 + 1e-12))
            above_compute += int(np.sum(floor > space.problem.points * hier.op_energy_J * (1 + 1e-9)))
            _, first, rows = np.unique(fidx, axis=0, return_index=True, return_inverse=True)
            least = np.full(len(first), np.inf)
            np.minimum.at(least, rows.reshape(-1), energy)
            finite = np.isfinite(least)
            exact += int(np.sum(np.isclose(floor[first][finite], least[finite], rtol=1e-12)))
            factorizations += int(finite.sum())
    assert above_compute > 0
    assert exact > factorizations / 2


def test_schedule_of_a_mapping_matches_the_brute_force_and_bounds_the_simulation() -> None:
    fused = [(lat, cm) for lat, _, cm in brute(TWO) if cm is not None and cm.fusion]
    sample = fused[:: max(1, len(fused) // 150)]
    exact = 0
    for lat, cm in sample:
        cost = evaluate_mapping(cm, CHAIN, TWO)
        assert cost.latency_s == pytest.approx(lat, rel=1e-12)
        (row,) = simulate_mapping(cm, CHAIN, TWO)
        assert row["lower_bound_s"] <= row["simulated_s"] * (1 + 1e-12)
        assert row["simulated_s"] <= row["closed_form_s"] * (1 + 1e-12)
        if row["exact"]:
            exact += 1
            assert row["simulated_s"] == pytest.approx(row["closed_form_s"], rel=1e-12)
    assert 0 < exact < len(sample)  # both kinds occur in the sample


def test_latency_optimum_pipelines_two_units() -> None:
    """H on the 2x2 array and Y on the 2-PE vector overlap over 4 tiles of m, double buffered:
    1.5 ns + 2 ns + 3 x 2 ns = 9.5 ns, below the 14 ns of running them one after the other and
    the 10 ns best on one unit."""
    res = map_cascade(CHAIN, TWO, "latency")
    assert [m.unit for m in res.best.mappings] == ["Array", "Vec"]
    (row,) = simulate_mapping(res.best, CHAIN, TWO)
    assert row["tiles"] == 4 and row["buffers"] == {"H->Y": 2}
    assert row["exact"] and row["simulated_s"] == pytest.approx(9.5e-9, rel=1e-12)
    assert res.latency_s == pytest.approx(9.5e-9, rel=1e-12)
    cost = evaluate_mapping(res.best, CHAIN, TWO)
    assert sum(e.latency_s for e in cost.einsums) == pytest.approx(14e-9, rel=1e-12)
    vec = next(u for u in row["units"] if u["unit"] == "Vec")
    assert vec["busy_s"] == pytest.approx(8e-9) and vec["stall_s"] == pytest.approx(0.0, abs=1e-18)
    assert vec["bound"] == "compute"


@pytest.mark.parametrize("einsum", ["H", "Y"])
def test_energy_of_one_einsum_is_proven_by_the_best_first_bound(einsum) -> None:
    """A space above the budget is searched, for energy, by the exact best-first bound
    (einsim.mappers.search, method bound) without a climb: the exhaustive optimum, proven, with
    fewer points scored than the space holds (the floor counts refills; the floor it replaced,
    without them, pruned nothing on this toy and the space was enumerated whole)."""
    full = map_cascade(CHAIN, ARCH, "energy", einsum=einsum, fuse=False, method="exhaustive")
    auto = map_cascade(CHAIN, ARCH, "energy", einsum=einsum, fuse=False, budget=100)
    assert full.mapspace_size > 100 and auto.optimal and not auto.front_exact
    assert auto.evaluated < full.evaluated
    assert full.evaluated + full.capacity_pruned == full.mapspace_size  # every point scored or proven invalid
    assert auto.score == pytest.approx(full.score, rel=1e-12)


def test_capacity_pruning_leaves_out_only_invalid_points() -> None:
    """fits_capacity is the kernel's capacity test without the kernel: on both Einsums of the chain
    (the 48 B buffer and 4-word registers bind), fused at the buffer or not, every row it rejects
    is invalid and every row it accepts has the kernel's validity."""
    from einsim.mappers.fused.evaluate import homes_for
    from einsim.mappers.mapspace import fits_capacity
    from einsim.sim.nest import evaluate_encoded

    rejected = 0
    for e in CHAIN:
        hier = hierarchy_for(ARCH, "Array", e)
        space = Mapspace(NestProblem.from_einsum(e), hier)
        for homes in ({}, {"H": HOME}):
            h = homes_for(e, homes)
            for enc in space.chunks(4096):
                for t, lv in h.items():
                    i, k = space.problem.tensors.index(t), hier.names().index(lv)
                    enc.keep[:, :k, i] = False
                    enc.keep[:, k, i] = True
                fit = fits_capacity(space.problem, hier, enc)
                valid = evaluate_encoded(space.problem, hier, enc).valid
                np.testing.assert_array_equal(fit, valid)
                rejected += int((~fit).sum())
    assert rejected > 0
