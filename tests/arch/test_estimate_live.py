"""Bundled numbers against a fresh hwcomponents estimate; skipped where hwcomponents is absent.

Runs when hwcomponents is importable (Python >= 3.12 with einsim[components]) or einsim's cached
environment exists (built by the first `einsim arch estimate`); it never builds one itself.
"""

import pytest

from einsim.arch import load_arch
from einsim.arch.estimate import env, estimate_arch
from einsim.arch.load import bundled_dir

AVAILABLE = env.importable_here() or (env.environment_dir() / "einsim-ready.json").is_file()
pytestmark = pytest.mark.skipif(
    not AVAILABLE,
    reason="hwcomponents is not installed here and einsim's cached 3.12 environment is not "
    "built (run `einsim arch estimate designs/arch/fusemax.yaml` once, or pip install "
    "'einsim[components]' on Python >= 3.12)",
)


@pytest.mark.parametrize("name", ["fusemax", "flat", "unfused", "edge", "edge_systolic"])
def test_bundled_memories_equal_a_fresh_estimate(name):
    arch = load_arch(str(bundled_dir() / f"{name}.yaml"))
    est = estimate_arch(arch, log=lambda m: None)
    assert len(est.values) >= 12
    for v in est.values:
        assert getattr(arch.component(v.component), v.field) == pytest.approx(v.value, rel=1e-5), v


def test_cacti_sram_at_45nm():
    # issue 16: SRAM(width=4096, depth=32768) at 45 nm -> 84.2 mm^2, 12.5 nJ per read
    arch = load_arch(str(bundled_dir() / "fusemax.yaml"))
    est = estimate_arch(arch, log=lambda m: None)
    assert est.value("GlobalBuffer", "area_per_bit_m2") * 16 * 2**23 == pytest.approx(84.2e-6, rel=1e-3)
    assert est.value("GlobalBuffer", "read_energy_J") == pytest.approx(12.5e-9, rel=3e-3)
