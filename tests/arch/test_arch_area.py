"""Area model: per-component areas from their own models, and the FuseMax-vs-FLAT comparison.

The paper says FuseMax is 6.4% smaller than FLAT. The op areas come from the artifact's ART
(mac, max, divide, exp); buffers and register files from hwcomponents (`einsim arch estimate`,
the artifact's smartbuffer_SRAM / smartbuffer_RF compounds, with the RF area scaled to its real
width and depth as the compound declares). With them FuseMax comes out 18.6% *larger*: its 16-entry
2D register files (204 mm^2) outweigh the halved global buffer. The paper's figure follows from
the artifact's Accelergy run that ignored the compound's area_share, pricing every RF as a full
32 b x 64-row array (16,849 um^2 for a 32-entry RF), so the RFs cancel and the L3 decides (see
docs/arch.md); nothing is fitted to 6.4%.
"""

import pytest

from einsim.arch import area_breakdown, load_arch, pe_area_m2, total_area_m2
from einsim.arch.load import bundled_dir


def bundled(name: str, **kw):
    return load_arch(str(bundled_dir() / f"{name}.yaml"), **kw)


def reduction() -> float:
    return 1 - total_area_m2(bundled("fusemax")) / total_area_m2(bundled("flat"))


def test_regression_measured_reduction():
    assert reduction() == pytest.approx(-0.1856, abs=5e-4)


@pytest.mark.xfail(strict=True, reason=(
    "FuseMax 400.9 vs FLAT 338.1 mm^2 (18.6% larger): its 16-entry 2D RFs are 204.1 mm^2 against FLAT's "
    "4-entry 51.8 (+152.3), more than the halved L3 saves (84.2 vs 175.7, -91.5); the paper's 6.4% needs the "
    "artifact's later Accelergy, which ignored smartbuffer_RF's area_share and priced every RF as the padded "
    "32 b x 64 array (16,849 um^2 at 32 entries, 40-nm primitives): then the RFs cancel and 1303.0 vs 1391.8 "
    "mm^2 is 6.4% (tests/arch/test_estimate_recorded.py). That RF area does not shrink below 64 entries, "
    "which the area model's rule (an area goes to zero with its capacity) excludes"))
def test_paper_six_point_four_percent():
    assert reduction() == pytest.approx(0.064, abs=0.01)


def test_pe_area_sums_distinct_datapaths():
    fusemax, flat = bundled("fusemax"), bundled("flat")
    assert pe_area_m2(fusemax.component("Array2D")) == pytest.approx((1545 + 49.3) * 1e-12)
    assert pe_area_m2(flat.component("Array1D")) == pytest.approx((1545 + 49.3 + 23741 + 8240) * 1e-12)


def test_buffer_area_is_its_model_at_the_nominal_capacity():
    # hwcomponents-cacti 1.0.40 SRAM 4096 b x 32768 rows at 45 nm: 84.2012 mm^2 (+ 2 address adders)
    assert area_breakdown(bundled("fusemax"))["GlobalBuffer"] == pytest.approx(84.2e-6, rel=1e-3)


def test_buffer_area_goes_to_zero_with_capacity():
    # the old line through two CACTI points charged an 8 KiB buffer its 87.9 mm^2 intercept
    tiny = area_breakdown(bundled("fusemax", overrides=["GlobalBuffer.capacity_B=8KiB"]))
    big = area_breakdown(bundled("fusemax", overrides=["GlobalBuffer.capacity_B=32MiB"]))
    assert tiny["GlobalBuffer"] == pytest.approx(84.2e-6 / 2048, rel=1e-3)
    assert big["GlobalBuffer"] == pytest.approx(2 * 84.2e-6, rel=1e-3)


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
