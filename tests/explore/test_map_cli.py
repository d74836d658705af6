"""`einsim map`: prints a valid mapping that round-trips and evaluates to the printed cost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.explore.cli import main
from einsim.mappers.cascade_mapping import CascadeMapping
from einsim.mappers.fused import evaluate_mapping
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapping import Mapping, validate_factors
from einsim.sim.nest import NestProblem, encode, evaluate_encoded

ARGS = ["map", "--arch", "designs/arch/edge.yaml", "--workload", "gemm", "--unit", "Array2D",
        "--set", "M=32", "--set", "K=16", "--set", "N=32", "--budget", "20000"]


def test_map_json_mapping_round_trips_and_matches_its_cost(capsys) -> None:
    assert main(ARGS + ["--objective", "latency", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mapspace_size"] > 0 and out["evaluations"] > 0 and out["evals_per_s"] > 0
    mapping = Mapping.from_dict(out["mapping"])
    assert Mapping.from_yaml(mapping.to_yaml()) == mapping
    einsum = load_workload("gemm", {"M": 32, "K": 16, "N": 32}).einsum("Z")
    validate_factors(mapping, einsum.space, ["A", "B", "Z"])
    h = hierarchy_for(load_arch("designs/arch/edge.yaml"), "Array2D", einsum)
    p = NestProblem.from_einsum(einsum)
    counts = evaluate_encoded(p, h, encode(p, h, [mapping])).one(0)
    assert counts.valid
    assert counts.cycles / h.clock_Hz == out["latency_s"]
    assert set(out["level_bytes"]) == {"DRAM", "GlobalBuffer", "RF2D"}
    assert out["pareto"]


def test_map_text_prints_size_cost_and_yaml(capsys) -> None:
    assert main(ARGS + ["--search", "random", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "mapspace" in text and "evaluations/s" in text and "latency" in text
    Mapping.from_yaml(text.split("mapping:\n", 1)[1])


def test_map_without_unit_maps_the_cascade_optimally(capsys) -> None:
    """Two units run the GEMM: the search picks one itself; the space fits the budget, so the answer
    is optimal, and the printed cascade mapping evaluates to the printed cost."""
    sets = {"M": 8, "K": 4, "N": 8}
    assert main(["map", "--arch", "designs/arch/edge.yaml", "--workload", "gemm", "--objective", "energy", "--json",
                 *[f"--set={k}={v}" for k, v in sets.items()]]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("latency_s", "energy_J", "mapping", "mapspace_size", "evaluated", "seconds", "optimal"):
        assert key in out
    pruned = sum(s["capacity_pruned"] for s in out["search"].values())  # proven invalid in every loop order
    assert out["optimal"] is True and out["evaluated"] + pruned == out["mapspace_size"]  # one Einsum: every point scored
    cm = CascadeMapping.from_dict(out["mapping"])
    cost = evaluate_mapping(cm, load_workload("gemm", sets), load_arch("designs/arch/edge.yaml"))
    assert cost.valid and cost.energy_J == pytest.approx(out["energy_J"], rel=1e-12)
    assert out["einsums"][0]["unit"] in ("Array2D", "Array1D")
    assert out["pareto"] and min(p["energy_J"] for p in out["pareto"]) == pytest.approx(out["energy_J"], rel=1e-12)


def test_map_text_shows_the_fusion_and_the_front(capsys) -> None:
    fixture = Path(__file__).parents[1] / "mappers" / "fused"
    assert main(["map", "--arch", str(fixture / "tiny_arch.yaml"), "--workload", str(fixture / "chain2.yaml"),
                 "--objective", "energy"]) == 0
    text = capsys.readouterr().out
    assert "; optimal" in text and "fused: [H, Y] at H@GlobalBuffer" in text and "Pareto front" in text
    CascadeMapping.from_yaml(text.split("mapping:\n", 1)[1])


def test_map_unknown_einsum_is_one_line(capsys) -> None:
    assert main(["map", "--arch", "designs/arch/edge.yaml", "--workload", "gemm", "--einsum", "Q"]) == 2
    err = capsys.readouterr().err
    assert "no Einsum 'Q'" in err and err.count("\n") == 1
