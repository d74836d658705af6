"""Per-Einsum mappings from a loop plan: what the PE registers hold."""

from __future__ import annotations

from einsim.mappers.spatial.attention import GB, RF2D, _flat_plan, design, workload
from einsim.mappers.spatial.loops import mapping_for

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
