"""`einsim map`: prints a valid mapping that round-trips and evaluates to the printed cost."""

from __future__ import annotations

import json

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.explore.cli import main
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


def test_map_needs_a_unit_when_several_fit(capsys) -> None:
    assert main(["map", "--arch", "designs/arch/edge.yaml", "--workload", "gemm"]) == 2
    err = capsys.readouterr().err
    assert "Array2D" in err and "Array1D" in err and err.count("\n") == 1
