"""Fused variants of large spaces, searched per key (einsim.mappers.fused.keyed), and the pruning of open
fusion groups: each checked against enumeration of every point or against the join that prunes nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.mappers.cascade_mapping import SharedLoop
from einsim.mappers.fused import evaluate_mapping, map_cascade
from einsim.mappers.fused import search as fused_search
from einsim.mappers.fused.keyed import KeyedSpace, candidate_keys
from einsim.mappers.fused.search import Choice, Variant, _keys, _open_summary, group_latency
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Constraints, Mapspace
from einsim.sim.nest import NestProblem, evaluate_encoded

from test_cascade_search import ARCH, CHAIN, HOME, TWO, brute

HERE = Path(__file__).parent
CHAIN3 = load_workload(str(HERE / "chain3.yaml"))
SMALL = load_arch(HERE / "tiny_arch.yaml", {"components.GlobalBuffer.capacity_B": "12 B"})  # H (8 words) does not fit


def _costs_by_key(space, homes, depth):
    """Per key: the sorted (cycles, energy, valid) of every point of ``space`` with ``homes`` applied."""
    problem, hier = space.problem, space.hierarchy
    names = hier.names()
    out = {}
    for g in space.genomes(4096):
        enc = space.encode(g)
        for t, lv in homes.items():
            ti, h = problem.tensors.index(t), names.index(lv)
            enc.keep[:, :h, ti] = False
            enc.keep[:, h, ti] = True
        kid, keys = _keys(enc, depth, names, problem.dims)
        counts = evaluate_encoded(problem, hier, enc)
        rows = np.column_stack([counts.cycles, counts.energy_J.sum(axis=1), counts.valid])
        for k, key in enumerate(keys):
            out.setdefault(key, []).append(rows[kid == k])
    return {k: np.array(sorted(map(tuple, np.concatenate(v)))) for k, v in out.items()}


@pytest.mark.parametrize("arch", [ARCH, SMALL], ids=["tiny", "small_buffer"])
@pytest.mark.parametrize("einsum,bypass", [("H", False), ("Y", True)])
def test_keyed_space_holds_exactly_the_points_with_its_key(arch, einsum, bypass) -> None:
    """Every key of the full fused variant: the keyed subspace has the same points (cycles, energy,
    validity, one for one) as the full space's points with that key."""
    e = CHAIN.einsum(einsum)
    hier = hierarchy_for(arch, "Array", e)
    problem = NestProblem.from_einsum(e)
    homes = {"H": HOME}
    constraints = Constraints(enumerate_keep=bypass)
    depth = hier.names().index(HOME)
    full = _costs_by_key(Mapspace(problem, hier, constraints), homes, depth)
    assert len(full) > 3
    for key, rows in full.items():
        sub = KeyedSpace(problem, hier, constraints, HOME, key, homes)
        got = _costs_by_key(sub, homes, depth)
        assert list(got) == [key]
        assert sub.size() == len(rows)
        np.testing.assert_allclose(got[key], rows, rtol=1e-12)


def test_candidate_keys_leave_out_only_keys_whose_slice_overflows() -> None:
    """With H (8 words) in a 6-word buffer, the keys offered are the loops over m or i whose slice
    fits; every point of the keys left out (no loop at all) overflows the buffer."""
    e, consumer = CHAIN.einsum("H"), CHAIN.einsum("Y")
    hier = hierarchy_for(SMALL, "Array", e)
    problem = NestProblem.from_einsum(e)
    assert candidate_keys(problem, hier, consumer, "H", HOME, steps=3) == [
        (SharedLoop("m", 2, "DRAM"),), (SharedLoop("m", 4, "DRAM"),), (SharedLoop("i", 2, "DRAM"),)]
    assert candidate_keys(problem, hier, consumer, "H", HOME, steps=1) == [(SharedLoop("m", 2, "DRAM"),), (SharedLoop("i", 2, "DRAM"),)]
    assert candidate_keys(problem, hierarchy_for(ARCH, "Array", e), consumer, "H", HOME) == [()]
    rows = _costs_by_key(KeyedSpace(problem, hier, Constraints(), HOME, (), {"H": HOME}), {"H": HOME}, 1)[()]
    assert not rows[:, 2].any()


@pytest.mark.parametrize("arch", [ARCH, SMALL, TWO], ids=["tiny", "small_buffer", "two_units"])
def test_energy_bound_proves_the_fused_optimum_of_large_spaces(arch) -> None:
    """A budget below every per-Einsum space: the fused variants are searched key by key, best first
    over the per-key energy floors (einsim.mappers.fused.exact), and the unfused ones by the
    best-first bound; the result is proven optimal and is the brute-force optimum (with a 6-word
    buffer H fits only under a loop, so the keys listed must include loops)."""
    rows = brute(arch)
    best = min(en for _, en, cm in rows if cm is not None)
    fused_best = min(en for _, en, cm in rows if cm is not None and cm.fusion)
    res = map_cascade(CHAIN, arch, "energy", budget=200)
    assert res.optimal
    assert res.energy_J == pytest.approx(best, rel=1e-12)
    assert bool(res.best.fusion) == (fused_best <= best * (1 + 1e-12))
    cost = evaluate_mapping(res.best, CHAIN, arch)
    assert cost.valid and cost.energy_J == pytest.approx(res.energy_J, rel=1e-12)


@pytest.mark.parametrize("arch", [SMALL, TWO], ids=["small_buffer", "two_units"])
def test_energy_bound_on_a_three_einsum_group_equals_enumeration(arch) -> None:
    """Three chained Einsums (a middle member fused on both sides shares the group's key): with a
    budget below every space the best-first join is proven and equals the join of every point."""
    every = map_cascade(CHAIN3, arch, "energy", method="exhaustive", bypass=True)
    res = map_cascade(CHAIN3, arch, "energy", budget=1000, bypass=True)  # spaces of 13,504-21,952 points
    assert every.optimal and res.optimal
    assert res.energy_J == pytest.approx(every.energy_J, rel=1e-12)
    assert evaluate_mapping(res.best, CHAIN3, arch).energy_J == pytest.approx(res.energy_J, rel=1e-12)


def test_an_inadmissible_key_bound_loses_the_optimum(monkeypatch) -> None:
    """The brute-force comparison above has teeth: with every key's bound doubled (inadmissible) the
    best-first join stops at a worse mapping on the small-buffer case."""
    from einsim.mappers.fused import exact

    best = min(en for _, en, cm in brute(SMALL) if cm is not None)
    inner = exact._list_keys
    monkeypatch.setattr(exact, "_list_keys", lambda slot, limit: {k: 2 * b for k, b in inner(slot, limit).items()})
    res = map_cascade(CHAIN, SMALL, "energy", budget=200)
    assert res.energy_J > best * (1 + 1e-6)


def _counting(monkeypatch) -> list[int]:
    removed = [0]
    inner = fused_search._open_pruned

    def counted(front):
        out = inner(front)
        removed[0] += len(front.items) - len(out.items)
        return out

    monkeypatch.setattr(fused_search, "_open_pruned", counted)
    return removed


@pytest.mark.parametrize("arch", [ARCH, TWO], ids=["one_unit", "two_units"])
@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_open_group_pruning_keeps_the_optimum_and_front(monkeypatch, arch, objective) -> None:
    """A three-Einsum chain (keep/bypass searched) whose group can stay open over two members: the
    join that prunes open states returns the same optimum and the same front as the join that keeps
    every combination (the exact join: tests/mappers/fused/test_cascade_search.py), and it does
    prune. (Pruning on closed latency and energy alone, without the open tail's summary,
    fails this test.)"""
    removed = _counting(monkeypatch)
    pruned = map_cascade(CHAIN3, arch, objective, bypass=True)
    assert removed[0] > 0
    monkeypatch.setattr(fused_search, "OPEN_GROUP_PRUNING", False)
    full = map_cascade(CHAIN3, arch, objective, bypass=True)
    assert pruned.optimal and full.optimal
    assert pruned.score == pytest.approx(full.score, rel=1e-12)
    assert len(pruned.pareto) == len(full.pareto)
    assert [x for a, b, _ in pruned.pareto for x in (a, b)] == pytest.approx([x for a, b, _ in full.pareto for x in (a, b)], rel=1e-12)
    assert any(len(g.einsums) == 3 for _, _, cm in full.pareto for g in cm.fusion)


def _random_tail(rng, start: int, n: int, P: int) -> list:
    """``n`` fused stages from stage ``start`` on: units a/b, ports p/q, small whole times, transfers
    at most the stage's time (a stage is never faster than its port traffic)."""
    out = []
    for s in range(start, start + n):
        t = float(rng.integers(1, 5))
        used = tuple(p for p in ("p", "q") if rng.random() < 0.5)
        rooms = tuple(sorted({(f"T{s - 1}", bool(rng.random() < 0.5)), (f"T{s}", bool(rng.random() < 0.5))}))
        out.append(Choice(f"E{s}", f"T{s}", Variant(str(rng.choice(["a", "b"])), "GB", "GB"),
                          (SharedLoop("m", P, "DRAM"),), None, (used, rooms), t,
                          tuple(float(rng.integers(1, t + 1)) for _ in used)))
    return out


def test_open_summary_decides_every_completion() -> None:
    """Two open tails of one shape, the first no larger in every summary column: for random
    completions the closed form U of the first group is never above the second's. Dropping any
    summary column (a unit's or port's span to the end, the last time, the buffer spans) makes
    this fail; the pruning of open states relies on exactly this."""
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(6000):
        P = int(rng.integers(2, 5))
        n = int(rng.integers(1, 4))
        a, b = _random_tail(rng, 0, n, P), _random_tail(rng, 0, n, P)
        t = float(rng.integers(1, 5))  # the last member of b: a's unit and signature, its own times
        b[-1] = dataclasses.replace(a[-1], latency_s=t, ports_s=tuple(float(rng.integers(1, t + 1)) for _ in a[-1].ports_s))
        (sa, ca), (sb, cb) = _open_summary(a), _open_summary(b)
        if sa != sb or not all(x <= y for x, y in zip(ca, cb)):
            continue
        for _ in range(4):
            rest = _random_tail(rng, n, int(rng.integers(0, 3)), P)
            if rest:
                u, v = group_latency([a + rest, b + rest])
                assert u <= v * (1 + 1e-12)
                checked += 1
    assert checked > 200


def test_open_summary_tells_single_from_double_buffers() -> None:
    """Two tails alike but for the first member's room for a second tile: over P = 3 tiles, the
    single-buffered one's buffer span (1/3 + 5/3 per tile) is its period, so its group is slower,
    and its summary is larger in that column although equal in every other."""
    key = (SharedLoop("m", 3, "DRAM"),)

    def stage(s, unit, t, rooms):
        return Choice(f"E{s}", f"T{s}", Variant(unit, "GB", "GB"), key, None, ((), tuple(sorted(rooms))), t, ())

    last = stage(1, "y", 5.0, {("T0", True), ("T1", True)})
    single = [stage(0, "x", 1.0, {("T-1", True), ("T0", False)}), last]
    double = [stage(0, "x", 1.0, {("T-1", True), ("T0", True)}), last]
    u_single, u_double = group_latency([single, double])
    assert u_single == pytest.approx(2 + 2 * 2) and u_double == pytest.approx(2 + 2 * 5 / 3)
    (shape_s, cols_s), (shape_d, cols_d) = _open_summary(single), _open_summary(double)
    assert shape_s == shape_d
    assert not all(x <= y for x, y in zip(cols_s, cols_d))
