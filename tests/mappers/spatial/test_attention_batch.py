"""Scoring N attention points of one design at once gives each the numbers it gets alone."""

from __future__ import annotations

import pytest

from einsim.arch import load_arch
from einsim.designs import path as designs_path
from einsim.errors import EinsimError
from einsim.mappers.spatial import STRATEGIES, evaluate_attention
from einsim.mappers.spatial.attention import evaluate_attention_batch, workload
from einsim.mappers.spatial.cost import Variant, evaluate_einsums
from einsim.mappers.spatial.loops import LevelPlan, mapping_for

POINTS = [
    {"H": 2, "M": 256, "P": 256, "E": 64, "F": 64, "causal": False},
    {"H": 3, "M": 100, "P": 100, "E": 64, "F": 64, "causal": False},  # 100 is no multiple of the 16-wide array
    {"H": 5, "M": 1024, "P": 512, "E": 64, "F": 64, "causal": False},
    {"H": 2, "M": 512, "P": 512, "E": 64, "F": 64, "causal": True},
    {"H": 7, "M": 2048, "P": 2048, "E": 64, "F": 64, "causal": False},
]


def _arch():
    return load_arch(designs_path("arch", "fusemax.yaml"),
                     overrides={"components.Array2D.shape": [16, 16], "components.Array1D.shape": [16],
                                "components.GlobalBuffer.capacity_B": 1 << 20})


@pytest.mark.parametrize("config", ["fusemax", "flat"])
def test_batch_equals_one_at_a_time(config: str) -> None:
    arch = _arch()
    batch = evaluate_attention_batch(STRATEGIES[config], POINTS, arch=arch)
    for p, got in zip(POINTS, batch):
        try:
            alone = evaluate_attention(STRATEGIES[config], p["H"], p["M"], p["P"], p["E"], p["F"], arch=arch,
                                       causal=p["causal"])
        except EinsimError as exc:
            assert isinstance(got, EinsimError) and str(got) == str(exc)
            continue
        assert not isinstance(got, EinsimError)
        assert got.to_dict() == alone.to_dict()
        assert got.energy == alone.energy
    assert isinstance(batch[1], EinsimError)
    assert batch[3].notes  # the causal point is masked, the others are not
    assert not batch[0].notes


def test_einsums_of_other_structure_are_refused() -> None:
    arch = _arch()
    cascade = workload("attention_1pass", {"H": 2, "E": 64, "F": 64, "M": 256, "P": 256, "M0": 16})
    by = {e.name: e for e in cascade.einsums}
    plan = [LevelPlan("DRAM", {"h": 2, "p": 256, "m1": 16, "m0": 16, "e": 64, "f": 64}, ("h", "p", "m1", "m0", "e", "f"))]
    bqk = Variant(mapping_for(arch, by["BQK"], "Array2D", plan, {}))
    slnv = Variant(mapping_for(arch, by["SLNV"], "Array2D", plan, {}))
    assert len(evaluate_einsums(arch, "Array2D", [(by["BQK"], bqk), (by["BQK"], bqk)])) == 2
    with pytest.raises(ValueError, match="beyond its sizes"):
        evaluate_einsums(arch, "Array2D", [(by["BQK"], bqk), (by["SLNV"], slnv)])
