"""Architecture specs: YAML schema, loader with located errors, energy/area/peak helpers.

Public API::

    arch = load_arch("designs/arch/fusemax.yaml", overrides=["GlobalBuffer.capacity_B=8MiB"])
    arch.component("Array2D").pe_count            # 65536
    arch.op_cost("Array2D", "exp")                # OpCost(cycles=7.0, energy_J=...)
    arch.require_ops("Array1D", ["max", "divide"])   # EinsimError naming a missing op
    arch.clock_of("Array2D"), arch.instances("RF2D"), arch.compute_units(), arch.storage_levels()
    total_area_m2(arch), area_breakdown(arch), energy_table(arch), peak_throughput(arch, "Array2D")
    read_throughput_Bps(arch.component("UFS"), "random", 4096, range_B=2**27)
    describe(arch)                                # the JSON of `einsim arch show --json`
    parse_quantity("16 MiB", "B") -> 16777216.0 ; format_quantity(16777216.0, "B") -> "16 MiB"
"""

from einsim.arch.architecture import Architecture, OpCost
from einsim.arch.area import area_breakdown, component_area_m2, pe_area_m2, total_area_m2
from einsim.arch.compute import CPU, GPU, NPU, ComputeUnit, DSPEngine, OpSpec, PEArray, SystolicArray
from einsim.arch.describe import describe
from einsim.arch.energy import energy_breakdown, energy_table, total_energy_J
from einsim.arch.flash import read_throughput_Bps
from einsim.arch.load import bundled_dir, check_sources, dump_arch, load_arch
from einsim.arch.overrides import apply_overrides, parse_override, valid_paths
from einsim.arch.peak import npu_throughput, peak_throughput
from einsim.arch.spec import Component
from einsim.arch.storage import DRAM, Buffer, Flash
from einsim.arch.units import UnitError, format_quantity, parse_quantity

__all__ = [
    "Architecture",
    "Buffer",
    "CPU",
    "Component",
    "ComputeUnit",
    "DRAM",
    "DSPEngine",
    "Flash",
    "GPU",
    "NPU",
    "OpCost",
    "OpSpec",
    "PEArray",
    "SystolicArray",
    "UnitError",
    "apply_overrides",
    "area_breakdown",
    "bundled_dir",
    "check_sources",
    "dump_arch",
    "component_area_m2",
    "describe",
    "energy_breakdown",
    "energy_table",
    "format_quantity",
    "load_arch",
    "npu_throughput",
    "parse_override",
    "parse_quantity",
    "pe_area_m2",
    "peak_throughput",
    "read_throughput_Bps",
    "total_area_m2",
    "total_energy_J",
    "valid_paths",
]
