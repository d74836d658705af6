"""The default ("ideal") mapper on degenerate input: tiny problems, tiny buffers, fractional op cycles.

Each test fails on the old code: a 1x1x1 GEMM took 0.105 cycles there (the point spread over
65,536 PEs), a 1-byte global buffer gave the 16 MiB result, and ``cycles: 0.5`` was clamped to 1
by the mapper while ``arch show`` used 0.5.
"""

from __future__ import annotations

import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.errors import EinsimError
from einsim.mappers import registry
from einsim.mappers.hierarchy import hierarchy_for, op_cost_per_point

FUSEMAX = "fusemax"
ideal = registry.get("ideal")


def _arch(*sets: str):
    from einsim import designs

    return load_arch(designs.path("arch", "fusemax.yaml"), list(sets))


def test_default_mapper_is_the_ideal_one() -> None:
    assert registry.DEFAULT == "ideal"


def test_one_point_takes_one_op_of_cycles_not_a_fraction() -> None:
    arch = _arch()
    gemm = load_workload("gemm", {"M": 1, "K": 1, "N": 1})
    result = ideal(arch, gemm)
    mac_cycles = arch.op_cost("Array2D", "mac").cycles
    # memory: 3 two-byte words at 400 GiB/s is far below one cycle at 940 MHz
    assert result.cycles == pytest.approx(mac_cycles)
    assert result.latency_s == pytest.approx(mac_cycles / arch.clock_of("Array2D"))


def test_a_buffer_that_cannot_hold_one_element_per_tensor_is_refused() -> None:
    arch = _arch("GlobalBuffer.capacity_B=1B")
    with pytest.raises(EinsimError) as info:
        ideal(arch, load_workload("gemm"))
    message = str(info.value)
    assert "GlobalBuffer holds 1 B" in message and "needs 6 B" in message
    assert "gemm.yaml:13:3" in message  # the Einsum's line
    assert "\n" not in message


def test_a_buffer_that_holds_one_element_per_tensor_gives_the_bound() -> None:
    small = ideal(_arch("GlobalBuffer.capacity_B=6B"), load_workload("gemm", {"M": 64, "K": 64, "N": 64}))
    large = ideal(_arch(), load_workload("gemm", {"M": 64, "K": 64, "N": 64}))
    assert small.latency_s == large.latency_s  # a lower bound: capacities beyond the minimum do not enter


def test_fractional_op_cycles_are_used_as_given_by_arch_show_and_eval() -> None:
    arch = _arch("Array2D.ops.mac.cycles=0.5")
    gemm = load_workload("gemm", {"M": 2048, "K": 4096, "N": 2048})  # compute-bound even at 0.5 cycles
    assert arch.op_cost("Array2D", "mac").cycles == 0.5
    assert op_cost_per_point(arch, "Array2D", gemm.einsums[0])[0] == 0.5
    assert hierarchy_for(arch, "Array2D", gemm.einsums[0]).op_cycles == 0.5
    whole = ideal(_arch(), gemm)
    half = ideal(arch, gemm)
    assert half.cycles == pytest.approx(whole.cycles / 2)


def test_a_copy_point_still_takes_one_cycle() -> None:
    from einsim.einsum import parse_workload

    copy = parse_workload("ranks: {M: 8}\ntensors: {A: [M], Z: [M]}\neinsums: |\n  Z[m] = A[m]\n")
    assert op_cost_per_point(_arch(), "Array2D", copy.einsums[0])[0] == 1.0
