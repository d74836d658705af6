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


# --- N:M in the timing path: instruction cycles from the chain's per-block behaviour ---------------

from einsim.mappers.fpga.csd import BlockMix, expected_max_sum  # noqa: E402


@pytest.mark.parametrize("n", [2, 4, 8, 16])
def test_uniform_nm_mv_on_whole_columns_costs_its_kept_fraction(n: int) -> None:
    """8 outputs per chain (512 over 64 chains) fill the M/N sub-chains exactly: N/16 of the dense cycles."""
    chain = CSDChain(length=16)
    dense = chain.mv_cycles(256, 512, 64)
    assert chain.mv_cycles(256, 512, 64, BlockMix.uniform(n, 16)) == dense * n / 16


def test_outputs_that_do_not_fill_the_sub_chains_leave_dsps_idle() -> None:
    """128 chains own 4 outputs each; a 2:16 chain has 8 sub-chains, so a K block still takes a cycle."""
    chain = CSDChain(length=16)
    assert chain.mv_cycles(256, 512, 128) == 1024
    assert chain.mv_cycles(256, 512, 128, BlockMix.uniform(2, 16)) == 256  # the mean would say 128


def test_a_sub_chain_is_at_least_one_dsp_group() -> None:
    """1:16 needs one DSP per output, but the RNs cut only between groups of 2: it costs as 2:16."""
    chain = CSDChain(length=16, group=2)
    assert chain.block_cycles(1, 16, 8) == chain.block_cycles(2, 16, 8) == 1
    assert CSDChain(length=16, group=4).block_cycles(2, 16, 8) == 2


def test_a_mixed_pattern_waits_for_the_slowest_chain_in_mv_but_not_in_mm() -> None:
    chain = CSDChain(length=16)
    mix = BlockMix.of_kept(0.7, (2, 4, 8, 16), 16)
    assert [n for n, _ in mix.shares] == [8, 16] and [f for _, f in mix.shares] == pytest.approx([0.6, 0.4])
    assert mix.kept == pytest.approx(0.7)
    mean = chain.mv_cycles(256, 512, 64) * 0.7
    mv = chain.mv_cycles(256, 512, 64, mix)
    assert mean < mv < 1.1 * mean  # 32 block columns, one per pair of chains: the fullest sets the time
    wider = chain.mv_cycles(256, 512, 64, BlockMix.of_kept(0.7, (2, 4, 8, 16), 16, "extreme"))
    assert wider > mv  # more spread between blocks, more imbalance
    mm = chain.mm_cycles(128, 256, 512, 4096, 128, mix)
    assert mm == pytest.approx(chain.mm_cycles(128, 256, 512, 4096, 128) * 0.7)  # lanes share every block


@pytest.mark.parametrize("seed", [0, 1])
def test_expected_max_sum_agrees_with_sampling(seed: int) -> None:
    """The exact convolution against a direct simulation of chains drawing their blocks."""
    rng = np.random.default_rng(seed)
    costs, blocks, groups = ((4, 0.6), (8, 0.4)), 64, 16
    draws = rng.choice([4, 8], p=[0.6, 0.4], size=(20000, groups, blocks)).sum(axis=2).max(axis=1)
    assert expected_max_sum(costs, blocks, groups) == pytest.approx(draws.mean(), rel=2e-3)
    assert expected_max_sum(costs, blocks, 1) == pytest.approx(blocks * 5.6)


def test_bad_block_mixes_are_refused() -> None:
    with pytest.raises(ValueError):
        BlockMix(16, ((3, 1.0),))
    with pytest.raises(ValueError):
        BlockMix(16, ((8, 0.5), (16, 0.4)))
    with pytest.raises(ValueError):
        BlockMix.of_kept(0.05, (2, 4, 8, 16), 16)
