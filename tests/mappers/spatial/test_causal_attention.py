"""Causal attention on the spatial mappers: wholly masked array steps are skipped (einsim.mappers.masking)."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim.designs import path as designs_path
from einsim.errors import EinsimError
from einsim.explore import evaluate
from einsim.mappers.spatial.attention import evaluate_attention
from einsim.mappers.spatial.strategies import STRATEGIES


@pytest.mark.parametrize("config", ["flat", "unfused"])
@pytest.mark.parametrize("n", [1024, 4096, 16384])
def test_every_einsum_masked_costs_half_plus_the_diagonal(config: str, n: int) -> None:
    # every Einsum of the 3-pass cascade is masked; one array step spans 256 keys (x 256 queries on
    # the 2D array, x 1 query on the 1D lanes): n/256 tiles a side, 1/2 + 1/(2 tiles) of them run
    dense = evaluate_attention(STRATEGIES[config], 2, n, n, 64, 64)
    causal = evaluate_attention(STRATEGIES[config], 2, n, n, 64, 64, causal=True)
    run = 0.5 + 0.5 / (n // 256)
    assert {c.name: c.active_fraction for c in causal.costs} == {c.name: pytest.approx(run) for c in dense.costs}
    # the tile pipeline's steady state scales with the work; its fill and the 2D array's reduction
    # drain (one tile's path, 256 cycles for AV's sum over the rows) do not, hence 1 % at H = 2
    assert causal.latency_s == pytest.approx(run * dense.latency_s, rel=0.01)
    assert causal.latency_s > run * dense.latency_s
    assert causal.energy_J == pytest.approx(run * dense.energy_J, rel=0.01)
    assert causal.dram_bytes == pytest.approx(run * dense.dram_bytes, rel=1e-9)
    assert causal.utilization == pytest.approx(dense.utilization, rel=0.01)


@pytest.mark.parametrize("config", ["fusemax", "architecture", "cascade"])
def test_fusemax_skips_the_masked_block_einsums_only(config: str) -> None:
    n = 16384
    dense = evaluate_attention(STRATEGIES[config], 2, n, n, 64, 64)
    causal = evaluate_attention(STRATEGIES[config], 2, n, n, 64, 64, causal=True)
    by = {c.name: c for c in dense.costs}
    masked = {"BQK", "LM", "SLN", "SLD", "SLNV"}  # the Einsums over (m1, m0, p) that carry m1*M0 + m0 <= p
    for c in causal.costs:
        run = 0.5 + 0.5 / 64 if c.name in masked else 1.0
        assert c.active_fraction == pytest.approx(run), c.name
        assert c.compute_s == pytest.approx(run * by[c.name].compute_s, rel=1e-9)
        assert c.energy_J == pytest.approx(run * by[c.name].energy_J, rel=1e-9)
        assert c.dram_bytes == pytest.approx(run * by[c.name].dram_bytes, rel=1e-9)
    assert causal.energy_J < 0.6 * dense.energy_J
    assert causal.latency_s <= dense.latency_s
    assert len(causal.notes) == len(masked) and not dense.notes


def test_fusemax_causal_latency_stays_bound_by_the_unmasked_recurrence() -> None:
    # regression: on fusemax.yaml the 1D array runs the running-max/denominator/numerator updates
    # over every (m1, p), masked or not (the cascade's recurrences reach step M1 for every query),
    # and those bound FuseMax's latency, so the causal latency equals the dense one
    dense = evaluate_attention(STRATEGIES["fusemax"], 2, 16384, 16384, 64, 64)
    causal = evaluate_attention(STRATEGIES["fusemax"], 2, 16384, 16384, 64, 64, causal=True)
    # (the fill of the tile pipeline is a little shorter with the 2D stages' masked tiles skipped)
    assert causal.latency_s == pytest.approx(dense.latency_s, rel=1e-3)
    assert causal.utilization["Array2D"] == pytest.approx((0.5 + 0.5 / 64) * dense.utilization["Array2D"], rel=1e-3)


def test_the_registered_mappers_read_the_mask_from_the_cascade_and_say_so() -> None:
    dense = evaluate("fusemax", "attention_1pass", "fusemax", M=1024, P=1024)
    causal = evaluate("fusemax", "attention_1pass_causal", "fusemax", M=1024)
    assert not [n for n in dense.notes if n.startswith("mask:")]
    assert dense.notes == ["tile pipeline [BQK, LM, RM, SLN, SLD, SLNV, PRM, SPD, RD, SPNV, RNV, AV]: 12,288 tiles, "
                           "8-tile buffers, 154 cycles per tile, 0.00201358 s (1.0002 x its busiest resource)"]
    assert "mask: BQK skips 37.50% of its array steps (wholly masked); partly masked steps run whole" in causal.notes
    assert causal.energy_J < 0.7 * dense.energy_J
    flat = evaluate("flat", "attention_1pass_causal", "flat", M=1024)  # FLAT's own 3-pass cascade, masked
    flat_dense = evaluate("flat", "attention_1pass", "flat", M=1024, P=1024)
    assert flat.latency_s == pytest.approx(0.625 * flat_dense.latency_s, rel=1e-3)
    assert causal.to_dict()["notes"] == causal.notes


@pytest.mark.parametrize("workload, mask, wrong", [("attention_3pass_causal", "m <= p", "m >= p"),
                                                   ("attention_3pass_causal", "m <= p", "2*m <= p"),
                                                   ("attention_1pass_causal", "m1*M0 + m0 <= p", "m1 + m0 <= p")])
def test_a_mask_other_than_causal_is_refused(tmp_path: Path, workload: str, mask: str, wrong: str) -> None:
    text = designs_path("workloads", f"{workload}.yaml").read_text()
    assert mask in text
    path = tmp_path / "other_mask.yaml"
    path.write_text(text.replace(mask, wrong))
    with pytest.raises(EinsimError, match=r"models the causal mask m <= p only; .* has the filter"):
        evaluate("fusemax", str(path), "fusemax" if "1pass" in workload else "flat", M=1024)
