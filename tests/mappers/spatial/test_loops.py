"""Per-Einsum mappings from a loop plan: what the PE registers hold."""

from __future__ import annotations

import pytest

from einsim.mappers.spatial import STRATEGIES
from einsim.mappers.spatial.attention import GB, RF2D, _flat_plan, _fused_plan, design, workload
from einsim.mappers.spatial.loops import mapping_for, with_outer

DIMS = {"H": 2, "E": 64, "F": 64, "M": 1024, "P": 1024, "M0": 256, "P0": 256}


def flat_mapping(name: str, inner: dict[str, str]):
    arch = design("flat.yaml")
    einsum = workload("attention_3pass", {k: DIMS[k] for k in ("H", "E", "F", "M", "P")}).einsum(name)
    return mapping_for(arch, einsum, "Array2D", _flat_plan(DIMS, 512, inner), {}, ())


def test_registers_hold_a_tensor_reused_by_their_own_loop() -> None:
    # QK with the E reduction inside the PE: the partial sum is updated 64 times in place
    assert "QK" in flat_mapping("QK", {"e": RF2D}).level(RF2D).keep


def test_registers_hold_what_the_loop_above_them_does_not_index() -> None:
    # AV with F iterated in the buffer just above the PEs: A[m, p] is reused across F ...
    keep = flat_mapping("AV", {"f": GB}).level(RF2D).keep
    assert "A" in keep
    # ... while V[f, m] and AV[f, p] change every step, so registers would only add a write and a
    # read per MAC: they bypass the PE registers (as an energy-minimising mapper would choose)
    assert "V" not in keep and "AV" not in keep


def test_with_outer_equals_mapping_for_at_other_dram_factors() -> None:
    """A fused point's Mappings taken from another point's with its DRAM factors (H, P2, M1) are the
    ones mapping_for builds, for every Einsum, including the P1 = 1 case where the registers' reuse
    looks through the buffer level to the DRAM loops."""
    s = STRATEGIES["fusemax"]
    arch = design(s.arch)
    M0, P0 = arch.component("Array2D").shape
    for P1 in (1, 2):
        def mappings(H: int, M1: int, P2: int):
            dims = {"H": H, "E": 64, "F": 64, "M0": M0, "M1": M1, "P0": P0, "P1": P1, "P2": P2}
            cascade = workload(s.workload, {"H": H, "E": 64, "F": 64, "M": M1 * M0, "P": P2 * P1 * P0, "M0": M0})
            return [mapping_for(arch, e, s.unit_of(e.name), _fused_plan(s, s.unit_of(e.name), dims), s.homes, s.staged)
                    for e in cascade.einsums if not e.init]

        base = mappings(2, 3, 4)
        other = mappings(5, 7, 2)
        assert [with_outer(m, {"h": 5, "p": 2, "m1": 7}) for m in base] == other
        assert base != other
        with pytest.raises(ValueError, match="do not all run"):
            with_outer(base[0], {"h": 1, "p": 2, "m1": 7})
