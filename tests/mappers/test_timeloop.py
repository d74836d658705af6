"""Every Timeloop reference set in shared/peer_vectors, through the importer and the batch kernel:
cycles and per-level access counts equal Timeloop's exactly, energy within 1 %."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim.mappers.timeloop import find_sets, load_timeloop, read_stats
from einsim.sim.nest import encode, evaluate_encoded

PEER_VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "peer_vectors"
SETS = find_sets(PEER_VECTORS) if PEER_VECTORS.is_dir() else []


def test_all_reference_sets_are_found() -> None:
    if not PEER_VECTORS.is_dir():
        pytest.skip("shared/peer_vectors is not beside this checkout")
    assert len(SETS) == 5  # conv1d os/ws, conv1d+oc cp/kp, simple_output_stationary (see its README)


@pytest.mark.parametrize("ref", SETS, ids=[s["name"].split("/")[-2] + "/" + s["name"].split("/")[-1] for s in SETS])
def test_reference_set_reproduces(ref) -> None:
    imported = load_timeloop(ref["arch"], ref["problem"], ref["mapping"], ref["ert"])
    stats = read_stats(ref["stats"])
    counts = evaluate_encoded(imported.problem, imported.hierarchy,
                              encode(imported.problem, imported.hierarchy, [imported.mapping])).one(0)
    assert counts.valid
    assert counts.cycles == stats.cycles
    assert counts.computes * counts.instances[-1] == stats.computes
    compared = 0
    for li, level in enumerate(imported.hierarchy.levels):
        for ti, tensor in enumerate(imported.problem.tensors):
            got = {k: int(a[li, ti] * counts.instances[li]) for k, a in
                   (("reads", counts.reads), ("fills", counts.fills), ("updates", counts.updates))}
            want = stats.counts.get(level.name, {}).get(tensor, {"reads": 0, "fills": 0, "updates": 0})
            assert got == want, (level.name, tensor)
            compared += 1
        fj = counts.energy_J[li] / stats.computes * 1e15
        assert fj == pytest.approx(stats.energy_fJ_per_compute[level.name], rel=0.01), level.name
    total = counts.energy_J.sum() / stats.computes * 1e15
    assert total == pytest.approx(stats.energy_fJ_per_compute["Total"], rel=0.01)
    assert compared >= 6


MAPPER_SETS = [s for s in SETS if s["mapping"].name.startswith("timeloop-mapper")]


@pytest.mark.parametrize("ref", MAPPER_SETS, ids=[s["name"].split("/")[-3] for s in MAPPER_SETS])
def test_search_matches_or_beats_the_timeloop_mapper(ref) -> None:
    """Under the architecture's own constraints (spatial indices and mesh sides, factor-1 indices,
    keep lists), einsim's search finds an EDP at least as good as the mapping Timeloop's mapper
    (random search, EDP objective) reported."""
    from einsim.mappers.mapspace import Constraints, Mapspace
    from einsim.mappers.search import search

    imported = load_timeloop(ref["arch"], ref["problem"], ref["mapping"], ref["ert"])
    stats = read_stats(ref["stats"])
    keeps = {lv.name: lv.may_keep for lv in imported.hierarchy.levels if lv.may_keep is not None}
    space = Mapspace(imported.problem, imported.hierarchy,
                     Constraints(spatial=imported.spatial_allowed, ones=imported.fixed_ones, keep=keeps))
    found = search(space, objective="edp", method="hill", budget=200_000, seed=0)
    clock = imported.hierarchy.clock_Hz
    timeloop_edp = stats.energy_fJ_per_compute["Total"] * 1e-15 * stats.computes * stats.cycles / clock
    assert found.best is not None
    assert found.score <= timeloop_edp
