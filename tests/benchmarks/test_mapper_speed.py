"""benchmarks/mapper_speed.py: the einsim side on the smallest case, and AccelForge live when its venv exists."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mapper_speed", ROOT / "benchmarks" / "mapper_speed.py")
mapper_speed = importlib.util.module_from_spec(_spec)
sys.modules["mapper_speed"] = mapper_speed  # dataclasses look their module up
_spec.loader.exec_module(mapper_speed)

SMALLEST = "gemm4_pe4"
KEYS = {"name", "einsim_seconds", "einsim_energy_J", "einsim_latency_s", "peer", "peer_seconds", "peer_energy_J",
        "peer_latency_s", "peer_live"}


def test_required_cases_are_listed() -> None:
    names = set(mapper_speed.BY_NAME)
    assert {"gemm1024_pe16", "chain4_1024_pe16", "qkav_1024_pe16", "gpt3_6p7b_layer_fused"} <= names
    # every case but the test-only smallest one has a recorded AccelForge figure or is new (chain8 at 1024)
    assert [c.name for c in mapper_speed.CASES if c.recorded is None] == [SMALLEST, "chain8_1024_pe16"]


def test_einsim_side_of_the_smallest_case_is_the_exhaustive_optimum(capsys) -> None:
    assert mapper_speed.main(["--json", "--case", SMALLEST]) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["cases"]
    assert KEYS <= set(row)
    assert row["name"] == SMALLEST and row["peer"] == "accelforge" and row["peer_live"] is False
    assert row["optimal"] and row["einsim_seconds"] > 0
    full = mapper_speed.run_einsim_case(SMALLEST, method="exhaustive")
    assert full["evaluated"] + full["capacity_pruned"] == full["mapspace_size"]  # every point scored or proven invalid
    assert row["einsim_energy_J"] == pytest.approx(full["einsim_energy_J"], rel=1e-12)
    # 4x4 GEMM on 4x4 MACs: DRAM reads A and B and writes Z once (48 x 8 bit at 7.03 pJ/bit), the
    # buffer is bypassed, and 64 MACs at 0.084 pJ: the compulsory minimum
    assert row["einsim_energy_J"] == pytest.approx(48 * 8 * 7.03e-12 + 64 * 0.084e-12, rel=1e-12)


def test_recorded_figures_are_accelforge_md_s() -> None:
    row = mapper_speed.recorded_side(mapper_speed.BY_NAME["gemm1024_pe16"])
    assert row == {"peer_seconds": 2.8, "peer_energy_J": 3.3108e-03, "peer_latency_s": 3.9946e-03, "peer_live": False,
                   "peer_source": mapper_speed.RECORDED_SOURCE}


def test_accelforge_live_agrees_on_the_smallest_case() -> None:
    py, why = mapper_speed.peer_python(build=False)
    if py is None:
        pytest.skip(f"AccelForge is not installed ({why}); `python benchmarks/mapper_speed.py --peers` builds it")
    peer = mapper_speed.peer_side(mapper_speed.BY_NAME[SMALLEST], py)
    ours = mapper_speed.run_einsim_case(SMALLEST)
    assert peer["peer_live"]
    assert ours["einsim_energy_J"] == pytest.approx(peer["peer_energy_J"], rel=1e-6)
    assert ours["einsim_latency_sum_s"] == pytest.approx(peer["peer_latency_s"], rel=1e-6)
