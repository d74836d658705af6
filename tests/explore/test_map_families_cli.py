"""`einsim map` on attention: the whole-cascade search reaches the constraint-file families, so
it is never slower than the hand configurations timed by the same model (issue 13, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from einsim.explore.cli import main

SIZES = ["--set", "H=2", "--set", "M=1024", "--set", "P=1024"]


@pytest.mark.parametrize("arch, workload, hand", [("fusemax", "attention_1pass", "fusemax"),
                                                  ("flat", "attention_3pass", "flat")])
def test_unconstrained_map_is_at_least_as_fast_as_the_hand_configuration(capsys, tmp_path: Path, arch: str,
                                                                          workload: str, hand: str) -> None:
    assert main(["map", "--arch", f"designs/arch/{arch}.yaml", "--workload", workload, *SIZES,
                 "--objective", "latency", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert main(["map", "--constraints", hand, *SIZES, "--json"]) == 0
    file = json.loads(capsys.readouterr().out)
    assert found["latency_s"] <= file["latency_s"]
    row = next(c for c in found["configurations"] if c["name"] == hand)
    assert row["latency_s"] == file["latency_s"]  # the same model times both
    assert found["join"]["searched"] is False and found["join"]["lower_bound"] > found["latency_s"]
    assert found["optimal"] and found["evaluated"] < found["mapspace_size"]
    # the found mapping is a constraint file: evaluated alone, it gives the latency the search printed
    path = tmp_path / "found.yaml"
    path.write_text(yaml.safe_dump(found["mapping"], sort_keys=False))
    assert main(["map", "--constraints", str(path), *SIZES, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["latency_s"] == found["latency_s"] and again["energy_J"] == found["energy_J"]


def test_map_text_shows_the_configuration_and_how_it_differs(capsys) -> None:
    assert main(["map", "--arch", "designs/arch/flat.yaml", "--workload", "attention_3pass", *SIZES,
                 "--objective", "latency"]) == 0
    out = capsys.readouterr().out
    assert "constraint-file family points" in out and "tile DAG" in out
    assert "  flat (FLAT): latency" in out and "differs: binding SD: Array2D (the file: Array1D)" in out
    assert "mapping (a constraint file" in out and "tiling: flat" in out
