"""Constraint files (designs/mappings): the bundled configurations load, and a bad file is one located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim.designs import names, path as designs_path
from einsim.errors import EinsimError
from einsim.explore import evaluate
from einsim.mappers.constraint_file import is_constraint_file, load_constraints

FUSEMAX = designs_path("mappings", "fusemax.yaml").read_text()


def test_the_five_configurations_are_bundled_and_resolve_by_name() -> None:
    assert names("mappings") == ["architecture", "cascade", "flat", "fusemax", "unfused"]
    for name in names("mappings"):
        spec = load_constraints(name)
        assert spec.name == name and spec.source
        assert all(g.source for g in spec.fusion) and all(f.source for f in spec.factors)
        assert is_constraint_file(designs_path("mappings", f"{name}.yaml"))
    assert load_constraints("fusemax").fusion[0].slots == "fit"
    assert load_constraints("architecture").fusion[0].slots == 1
    assert load_constraints("flat").factor("GlobalBuffer", "p").max == 1024


def test_a_constraint_file_is_not_a_mapping_of_one_einsum() -> None:
    assert not is_constraint_file(Path(__file__).parent / "fused" / "chain2.yaml")


@pytest.mark.parametrize("old, new, message, line", [
    ("staged:", "stagged:", "unknown key 'stagged'", 34),
    ("    slots: fit", "    slots: 0", "fusion.0.slots: a whole number from 1 to 64, or fit", 40),
    ("    slots: fit", "    slots: deep", "fusion.0.slots: a whole number from 1 to 64, or fit", 40),
    ("SPNV, RNV, AV]", "SPNV, RNV]", "Einsum.s. AV are in no fusion group", None),
    ("tiling: fused", "tiling: blocked", "tiling", 7),
])
def test_a_bad_file_is_one_located_error(tmp_path: Path, old: str, new: str, message: str, line: int | None) -> None:
    assert old in FUSEMAX
    bad = tmp_path / "bad.yaml"
    bad.write_text(FUSEMAX.replace(old, new, 1))
    with pytest.raises(EinsimError, match=message) as err:
        load_constraints(str(bad))
    assert err.value.location is not None and err.value.location.file == str(bad)
    if line is not None:
        assert err.value.location.line == line


@pytest.mark.parametrize("old, new, message", [
    ("  RNV: Array1D", "  RNV: Array3D", "bindings.RNV: unknown unit 'Array3D'"),
    ("  AV: Array1D", "  AV: Array2D", "bindings.AV: unit Array2D has no op divide"),
    ("  SLD: StageRF", "  SLD: StageRFF", "homes.SLD: unknown level 'StageRFF'"),
    ("staged: [Q, BK, BV]", "staged: [Q, BK, BW]", "staged names tensor 'BW'"),
])
def test_bindings_and_homes_are_checked_against_cascade_and_design(tmp_path: Path, old: str, new: str,
                                                                   message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FUSEMAX.replace(old, new, 1))
    with pytest.raises(EinsimError, match=message) as err:
        evaluate("fusemax", "attention_1pass", "constraints", mapper_options={"file": str(bad)}, M=1024, P=1024)
    assert err.value.location is not None and err.value.location.file.endswith("bad.yaml")


def test_the_constraints_mapper_is_the_bundled_configuration() -> None:
    a = evaluate("fusemax", "attention_1pass", "constraints", mapper_options={"file": "fusemax"}, M=4096, P=4096)
    b = evaluate("fusemax", "attention_1pass", "fusemax", M=4096, P=4096)
    assert a.latency_s == b.latency_s and a.energy_J == b.energy_J


def test_a_fixed_factor_is_used(tmp_path: Path) -> None:
    fixed = tmp_path / "p1.yaml"
    fixed.write_text(FUSEMAX.replace("loop_orders:", "factors:\n  - {level: GlobalBuffer, index: p, fixed: 2, "
                                     "source: a test}\nloop_orders:"))
    free = evaluate("fusemax", "attention_1pass", "fusemax", M=4096, P=4096)
    two = evaluate("fusemax", "attention_1pass", "constraints", mapper_options={"file": str(fixed)}, M=4096, P=4096)
    # P1 = 2 instead of 16: K and V are re-read for every 512 queries instead of every 4096
    assert two.dram_bytes > 2 * free.dram_bytes
