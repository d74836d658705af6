"""CSD-chain: DSP groups, OAU rule, N:M throughput, and why N:M rather than irregular sparsity."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.arch import load_arch
from einsim.mappers.fpga.csd import CSDChain, block_nnz, irregular_mask, nm_mask, utilization


def test_chain_is_whole_dsp_groups_with_two_macs_per_dsp() -> None:
    chain = CSDChain(length=16)
    assert chain.groups == 8
    assert chain.macs_per_cycle(active_lanes=2) == 32  # MM: two activation rows share each weight
    assert chain.macs_per_cycle(active_lanes=1) == 16  # MV: one activation vector, one lane idle
    with pytest.raises(ValueError):
        CSDChain(length=15)


@pytest.mark.parametrize("n, outputs, oau", [(16, 1, True), (8, 2, False), (4, 4, False), (2, 8, False)])
def test_nm_outputs_and_overflow_adjust(n: int, outputs: float, oau: bool) -> None:
    chain = CSDChain(length=16)
    assert chain.outputs_per_cycle(n, 16) == outputs  # 1 dense, M/N sparse
    assert chain.oau_needed(n, 16) is oau  # only beyond 8 cascaded DSPs
    assert chain.pipeline_depth(n, 16) == chain.subchain_length(n, 16) + 1 + int(oau)


def test_drawn_2_of_4_vpu_gives_two_outputs_and_empty_blocks_are_free() -> None:
    assert CSDChain(length=4).outputs_per_cycle(2, 4) == 2
    assert CSDChain().outputs_per_cycle(0, 16) == float("inf")
    with pytest.raises(ValueError):
        CSDChain().outputs_per_cycle(3, 16)


def test_overflow_rule_agrees_with_the_arch_helper() -> None:
    mpe = load_arch("designs/arch/u280.yaml").component("MPE")
    chain = CSDChain(length=16, oau_max_cascade=mpe.overflow_adjust_max_cascade)
    for n in (2, 4, 8, 16):
        assert chain.oau_needed(n, 16) == mpe.overflow_adjust_needed(chain.subchain_length(n, 16))


@pytest.mark.parametrize("n", [2, 4, 8])
def test_nm_keeps_every_dsp_busy_but_irregular_sparsity_does_not(n: int) -> None:
    rng = np.random.default_rng(0)
    rows, cols, m = 16 // n, 4096, 16  # the M/N sub-chains of one chain, in lockstep over K blocks
    assert utilization(block_nnz(nm_mask(rows, cols, n, m, rng), m), n) == 1.0
    irregular = utilization(block_nnz(irregular_mask(rows, cols, n / m, rng), m), n)
    assert irregular < 0.8  # the same density, but the fullest block of each step sets its length
