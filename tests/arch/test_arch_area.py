"""Area model: per-component areas from sourced numbers, and the FuseMax-vs-FLAT comparison.

The paper says FuseMax is 6.4% smaller than FLAT. Our component areas come from the artifact's
ART (mac, max, divide, exp) and from CACTI 7 runs at 45 nm (global buffers, register files);
with them FuseMax comes out 15.1% smaller. The gap is in the register files and the SRAM
periphery, whose Accelergy areas the reference calls unstable; nothing is fitted to 6.4%.
"""

import pytest

from einsim.arch import area_breakdown, load_arch, pe_area_m2, total_area_m2
from einsim.arch.load import bundled_dir


def bundled(name: str, **kw):
    return load_arch(str(bundled_dir() / f"{name}.yaml"), **kw)


def reduction() -> float:
    return 1 - total_area_m2(bundled("fusemax")) / total_area_m2(bundled("flat"))


def test_fusemax_is_smaller_than_flat():
    assert 0 < reduction() < 0.25


def test_measured_reduction_is_pinned():
    assert reduction() == pytest.approx(0.1506, abs=5e-4)


@pytest.mark.xfail(strict=True, reason="sourced component areas give 15.1%, not the paper's 6.4% (see module doc)")
def test_paper_six_point_four_percent():
    assert reduction() == pytest.approx(0.064, abs=0.01)


def test_pe_area_sums_distinct_datapaths():
    fusemax, flat = bundled("fusemax"), bundled("flat")
    assert pe_area_m2(fusemax.component("Array2D")) == pytest.approx((1545 + 49.3) * 1e-12)
    assert pe_area_m2(flat.component("Array1D")) == pytest.approx((1545 + 49.3 + 23741 + 8240) * 1e-12)


def test_buffer_area_follows_capacity():
    small = bundled("fusemax", overrides=["GlobalBuffer.capacity_B=16MiB"])
    big = bundled("fusemax", overrides=["GlobalBuffer.capacity_B=32MiB"])
    assert area_breakdown(small)["GlobalBuffer"] == pytest.approx(141.957e-6, rel=1e-4)
    assert area_breakdown(big)["GlobalBuffer"] == pytest.approx(196.050e-6, rel=1e-4)


def test_array_sweep_prices_pes_and_per_pe_register_files():
    base = area_breakdown(bundled("fusemax"))
    half = area_breakdown(bundled("fusemax", overrides=["Array2D.shape=[128,128]"]))
    assert half["Array2D"] == pytest.approx(base["Array2D"] / 4)
    assert half["RF2D"] == pytest.approx(base["RF2D"] / 4)


def test_off_chip_memory_has_no_chip_area():
    areas = area_breakdown(bundled("fusemax"))
    assert "DRAM" not in areas
    assert all(a is not None for a in areas.values())


def test_unknown_area_is_none_not_zero():
    areas = area_breakdown(bundled("oneplus12"))
    assert areas["CPU"] is None
