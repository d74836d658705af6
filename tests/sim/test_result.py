"""Result composition: seq/par add busy time and count each unit's PEs over the whole run."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim.arch import load_arch
from einsim.arch.load import bundled_dir
from einsim.explore import evaluate
from einsim.sim.result import Result, par, scaled, seq


def _part(name: str, latency: float, unit: str, pes: int, busy_fraction: float, notes=()) -> Result:
    return Result(name, latency, 1.0, latency * 1e9, {"DRAM": 8.0}, {unit: busy_fraction * pes * latency},
                  {unit: pes * latency}, [], list(notes))


def test_seq_counts_a_unit_idle_while_others_run() -> None:
    gemm = _part("gemm", 9.0, "Array2D", 64, 0.5)
    relu = _part("relu", 1.0, "Array1D", 8, 0.9)
    s = seq(gemm, relu)
    assert s.latency_s == 10.0
    assert s.utilization["Array2D"] == pytest.approx(0.5 * 9 / 10)
    assert s.utilization["Array1D"] == pytest.approx(0.9 * 1 / 10)  # not 0.9: it idled 9 of the 10 s
    assert s.capacity_s == pytest.approx({"Array2D": 640.0, "Array1D": 80.0})


def test_seq_of_one_unit_keeps_its_busy_fraction_and_par_stretches() -> None:
    a, b = _part("a", 2.0, "U", 4, 1.0), _part("b", 6.0, "U", 4, 0.5)
    assert seq(a, b).utilization["U"] == pytest.approx((2 + 3) / 8)
    p = par(a, _part("c", 4.0, "V", 2, 1.0))
    assert p.utilization == pytest.approx({"U": 0.5, "V": 1.0})
    nested = seq(p, _part("d", 4.0, "V", 2, 1.0))  # U idles in d
    assert nested.utilization == pytest.approx({"U": 2 / 8, "V": 1.0})


def test_notes_survive_composition_once_each() -> None:
    a = _part("a", 1.0, "U", 1, 1.0, ["mask: A skips 50.00%"])
    b = _part("b", 1.0, "U", 1, 1.0, ["mask: A skips 50.00%", "other"])
    assert seq(a, b).notes == ["mask: A skips 50.00%", "other"]
    assert par(a, b).notes == ["mask: A skips 50.00%", "other"]
    assert scaled(a, 0.5).notes == a.notes and scaled(a, 0.5).latency_s == 0.5


def test_leakage_row_charges_every_built_instance_over_the_run(tmp_path: Path) -> None:
    # a 64x64x64 GEMM uses at most 4,096 of the 65,536 PEs; every PE's registers leak all the same
    path = tmp_path / "gemm.yaml"
    path.write_text("name: gemm\nranks: {M: 64, N: 64, K: 64}\ntensors: {A: [M, K], B: [K, N], Z: [M, N]}\n"
                    "einsums: |\n  Z[m, n] = A[m, k] * B[k, n]\n")
    r = evaluate("flat", str(path), "search", mapper_options={"budget": 40})
    arch = load_arch(bundled_dir() / "flat.yaml")
    leak = {b["component"]: b for b in r.breakdown if b["action"] == "leakage"}
    assert set(leak) == {"GlobalBuffer", "RF2D"}  # the buffers with a leakage figure on the 2D array's path
    for name, row in leak.items():
        comp = arch.component(name)
        assert row["energy_J"] == pytest.approx(comp.leakage_W * arch.instances(name) * r.latency_s, rel=1e-9)
    assert arch.instances("RF2D") == 65536
    assert r.energy_J == pytest.approx(sum(b["energy_J"] for b in r.breakdown), rel=1e-12)
