"""Op tables: composite ops, op_cost, require_ops, peaks, energy tables."""

import pytest

from einsim.arch import (
    energy_breakdown,
    energy_table,
    load_arch,
    npu_throughput,
    peak_throughput,
    total_energy_J,
)
from einsim.arch.load import bundled_dir
from einsim.errors import EinsimError


def bundled(name: str):
    return load_arch(str(bundled_dir() / f"{name}.yaml"))


def test_fusemax_exp_is_six_macs_and_an_add():
    arch = bundled("fusemax")
    cycles, energy = arch.op_cost("Array2D", "exp")
    assert cycles == 7
    assert energy == pytest.approx(6 * 17.1645e-12 + 8.3395e-12)


def test_flat_exp_unit_is_one_pipelined_cycle():
    arch = bundled("flat")
    assert arch.op_cost("Array1D", "exp") == (1.0, pytest.approx(94.65e-12))
    assert arch.component("Array1D").ops["exp"].pipelined


def test_require_ops_names_the_missing_op():
    arch = bundled("flat")
    arch.require_ops("Array1D", ["exp", "max", "divide"])
    with pytest.raises(EinsimError) as exc:
        arch.require_ops("Array2D", ["mac", "max"])
    message = str(exc.value)
    assert "flat.yaml:" in message
    assert "compute unit 'Array2D' has no op 'max'" in message and "workload needs it" in message
    assert "valid: add, mac, mul" in message


def test_op_cost_on_unknown_unit_and_storage():
    arch = bundled("fusemax")
    with pytest.raises(EinsimError, match=r"no component 'Array3D'.*did you mean Array2D"):
        arch.op_cost("Array3D", "mac")
    with pytest.raises(EinsimError, match="'GlobalBuffer' is a sram, not a compute unit"):
        arch.op_cost("GlobalBuffer", "mac")


def test_peak_throughput_fusemax():
    arch = bundled("fusemax")
    peak = peak_throughput(arch, "Array2D")
    assert peak["mac"] == pytest.approx(65536 * 940e6)
    assert peak["exp"] == pytest.approx(65536 * 940e6 / 7)


def test_vhk158_parallel_speedup_is_the_artifact_factor():
    arch = bundled("vhk158")
    mpe = arch.component("MPE")
    assert mpe.parallel_speedup == pytest.approx(3.2)
    assert mpe.mode_macs_per_cycle("mm") == 4096 and mpe.mode_macs_per_cycle("mv") == 1024
    peak = peak_throughput(arch, "MPE")
    assert peak["mm_mac"] == pytest.approx(4096 * 225e6 * 3.2)
    hbm = arch.component("HBM")
    assert hbm.channel_bandwidth_Bps(32) == pytest.approx(819.2e9 * 0.7)
    assert hbm.channel_bandwidth_Bps(1, cross_channel=True) == pytest.approx(819.2e9 / 32 * 0.35)


def test_dsp_chain_overflow_rule():
    mpe = bundled("u280").component("MPE")
    assert not mpe.overflow_adjust_needed(8)
    assert mpe.overflow_adjust_needed(9)


def test_shared_dram_bandwidth_by_engine_mix():
    dram = bundled("oneplus12").component("DRAM")
    mixes = {frozenset(m.engines): m.bandwidth_Bps for m in dram.bandwidth_by_engines}
    assert mixes[frozenset({"CPU"})] == 43.9e9
    assert mixes[frozenset({"NPU"})] == 56e9
    assert mixes[frozenset({"CPU", "NPU"})] == 59.6e9


def test_cpu_peak_per_cluster():
    peak = peak_throughput(bundled("oneplus12"), "CPU")
    assert peak["big_fp32_mac"] == pytest.approx(1 * 3.3e9 * 16)
    assert peak["all_fp32_mac"] == pytest.approx(3.3e9 * 16 + 5 * 3.0e9 * 8 + 2 * 2.2e9 * 8)


def test_npu_interpolates_in_log2_batch():
    text = """
name: n
components:
  NPU:
    kind: npu
    throughput_by_batch:
      - {batch: 1, ops_per_s: 1 TOP/s}
      - {batch: 16, ops_per_s: 5 TOP/s}
"""
    npu = load_arch(text).component("NPU")
    assert npu_throughput(npu, 4) == pytest.approx(3e12)
    assert npu_throughput(npu, 0.5) == 1e12 and npu_throughput(npu, 64) == 5e12


def test_energy_table_and_breakdown():
    arch = bundled("fusemax")
    table = energy_table(arch)
    assert table["DRAM"]["access"] == pytest.approx(249.6e-12)
    assert table["DRAM"]["byte"] == pytest.approx(249.6e-12 / 8)
    assert table["Array2D"]["exp"] == pytest.approx(6 * 17.1645e-12 + 8.3395e-12)
    breakdown = energy_breakdown(arch, {"Array2D": {"mac": 1e6}, "RF2D": {"read": 2e6}})
    assert breakdown["Array2D"]["mac"] == pytest.approx(17.1645e-6)
    assert total_energy_J(breakdown) == pytest.approx(17.1645e-6 + 2e6 * 0.440613e-12)
    with pytest.raises(EinsimError, match="no energy for action 'exp' of 'RF2D'"):
        energy_breakdown(arch, {"RF2D": {"exp": 1}})
