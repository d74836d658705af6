"""HBM model: weight formats, the artifact's LD formula, MV re-tiling, always-on-chip decode."""

from __future__ import annotations

import pytest

from einsim.mappers.fpga.memory import ld_seconds, mv_chains
from einsim.mappers.fpga.flightllm import INT8_SPARSE, MIXED_U280, U280, VHK158


def test_sparse_weights_carry_a_4_bit_index_per_nonzero() -> None:
    assert INT8_SPARSE.bytes_per_weight("v_proj") == 1.0
    assert INT8_SPARSE.bytes_per_weight("q_proj") == pytest.approx(0.7 * 12 / 8)
    assert MIXED_U280.bytes_per_weight("q_proj") == pytest.approx(4.1 / 8)  # measured average incl. metadata


def test_ld_time_is_the_artifacts_formula() -> None:
    d = VHK158.device
    # bytes / (BW/32 · channels · eff), then the artifact's 3.2
    assert ld_seconds(1e9, d) == pytest.approx(1e9 / (819.2e9 / 32 * 16 * 0.7) / 3.2)
    assert ld_seconds(1e9, d, cross_channel=True) == pytest.approx(2 * ld_seconds(1e9, d))
    assert d.hbm_speedup_exceeds_peak()  # 286.7 GB/s x 3.2 = 917 GB/s > 819.2 GB/s
    u = U280.device
    assert (u.cores, u.ld_channels, u.speedup) == (3, 10, 1.0)  # 32 channels split over 3 SLR cores
    assert not u.hbm_speedup_exceeds_peak()
    # while loading, the U280 cores reach 30/32 x 0.7 = 65.6% of peak: the paper's 65.9%
    assert u.ld_Bps() * u.cores / u.peak_hbm_Bps == pytest.approx(0.656, abs=0.001)


def test_mv_retiling_keeps_compute_just_slower_than_memory() -> None:
    # VHK158: 1274 B/cycle of INT8 -> 64 chains (1024 MAC/cycle), the artifact's MV mode
    assert mv_chains(VHK158.device, 1.0, 1.0) == 64
    # U280 core: 447 B/cycle of 4.1-bit weights = 872 weights/cycle -> 32 chains, since 64 would outrun HBM
    assert mv_chains(U280.device, 4.1 / 8, 1.0) == 32
    for b in (0.25, 0.5, 1.0, 2.0):
        pn = mv_chains(U280.device, b, 1.0)
        t_mem = b / (U280.device.ld_Bps() / U280.device.clock_Hz)  # cycles per weight
        t_cmp = 1 / (U280.device.mv_pk * pn)
        assert pn & (pn - 1) == 0 and pn <= 64
        assert t_cmp > t_mem or pn == 1
        assert pn == 64 or 1 / (U280.device.mv_pk * 2 * pn) <= t_mem  # twice the chains would outrun HBM
