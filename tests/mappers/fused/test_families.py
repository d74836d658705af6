"""The constraint-file families inside the whole-cascade search (einsim.mappers.fused.families,
einsim.mappers.fused.whole): every bundled file is a point of the searched space, the bounds
that prune it are admissible, and a file's restriction is its own point."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.mappers.fused import families as fam
from einsim.mappers.fused.search import map_cascade
from einsim.mappers.fused.whole import join_lower_bound
from einsim.mappers.search import objective_score
from einsim.mappers.spatial.attention import design
from einsim.mappers.spatial.registered import run_configuration
from einsim.mappers.spatial.strategies import CONFIGURATIONS, STRATEGIES

HERE = Path(__file__).parent
SMALL = {"H": 2, "M": 1024, "P": 1024}  # four 256-key blocks: every family and its pipeline, fast


def _case(name: str):
    spec = STRATEGIES[name]
    return spec, design(spec.arch), load_workload(spec.workload, SMALL)


@pytest.mark.parametrize("objective", ["latency", "edp"])
@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_the_unconstrained_search_is_never_worse_than_a_bundled_file(name: str, objective: str) -> None:
    spec, arch, cascade = _case(name)
    hand = run_configuration(spec, arch, cascade)
    found = fam.search_families(cascade, arch, objective)
    assert found is not None and found.best is not None
    assert found.best.score <= objective_score(objective, hand.latency_s, hand.energy_J) * (1 + 1e-12)
    if spec.tiling == "fused":  # 128 to 2,048 bindings a base: the bound leaves few to time
        assert found.evaluated < found.mapspace_size / 10


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_a_file_restricts_the_space_to_its_own_point(name: str) -> None:
    spec, arch, cascade = _case(name)
    hand = run_configuration(spec, arch, cascade)
    got = fam.search_families(cascade, arch, "latency", restrict=spec)
    assert got.mapspace_size == 1 and got.evaluated == 1
    assert got.best.result.latency_s == hand.latency_s and got.best.result.energy_J == hand.energy_J


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_each_file_is_a_point_of_its_base(name: str) -> None:
    """The file's bindings are choices of its base, the file rule gives back its homes under its
    bindings, and its slots are a choice: the point the file is, is enumerated."""
    spec, arch, cascade = _case(name)
    base = next(b for b in fam.bases_for(cascade, arch) if fam._base_key(b) == fam._base_key(spec))
    _, choices = fam._compute_table(base, fam.binding_choices(base, cascade, arch), cascade, arch)
    assert all(spec.bindings[n] in units for n, units in choices)
    assert fam.homes_for(base, "file", dict(spec.bindings), cascade, arch) == dict(spec.homes)
    assert all(g.slots in fam.SLOTS for g in spec.fusion)


def test_the_binding_bound_is_below_every_point() -> None:
    """The branch and bound's (latency, energy) bound is at most the tile DAG's latency and the
    energy of every point of a random sample of the fused family's space."""
    spec, arch, cascade = _case("fusemax")
    base = fam.bases_for(cascade, arch)[0]
    table, choices = fam._compute_table(base, fam.binding_choices(base, cascade, arch), cascade, arch)
    rng = random.Random(7)
    checked = 0
    for _ in range(12):
        binding = {n: rng.choice(units) for n, units in choices}
        lat, en = fam.lower_bound(base, binding, table, arch)
        for rule in fam.HOME_RULES:
            homes = fam.homes_for(base, rule, binding, cascade, arch)
            for slots in fam.SLOTS:
                res = fam.evaluate_point(fam.point_spec(base, binding, homes, slots, arch), arch, cascade)
                if res is None:
                    continue
                checked += 1
                assert lat <= res.latency_s * (1 + 1e-12) and en <= res.energy_J * (1 + 1e-12)
    assert checked >= 20


def test_differences_name_each_choice() -> None:
    fusemax, architecture = STRATEGIES["fusemax"], STRATEGIES["architecture"]
    assert fam.differences(fusemax, fusemax) == []
    assert fam.differences(fusemax, architecture) == [
        "slots of [BQK, LM, RM, SLN, SLD, SLNV, PRM, SPD, RD, SPNV, RNV, AV]: fit (the file: 1)"]
    assert fam.differences(STRATEGIES["flat"], fusemax)[0].startswith("family: flat on attention_3pass")


@pytest.mark.parametrize("workload", ["chain2.yaml", "causal.yaml"])
@pytest.mark.parametrize("objective", ["latency", "energy"])
def test_the_join_lower_bound_is_below_the_join_optimum(workload: str, objective: str) -> None:
    arch = load_arch(HERE / "two_units_arch.yaml")
    cascade = load_workload(HERE / workload)
    res = map_cascade(cascade, arch, objective)
    lat, en = join_lower_bound(cascade, arch)
    assert 0 < lat <= res.latency_s * (1 + 1e-12) and 0 < en <= res.energy_J * (1 + 1e-12)
    for _, (pl, pe) in ((cm, (pl, pe)) for pl, pe, cm in res.pareto):
        assert lat <= pl * (1 + 1e-12) and en <= pe * (1 + 1e-12)


def test_no_family_applies_to_a_gemm() -> None:
    cascade = load_workload("gemm", {"M": 64, "K": 64, "N": 64})
    assert fam.search_families(cascade, design("fusemax.yaml")) is None
