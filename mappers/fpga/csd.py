"""FlightLLM's configurable sparse DSP chain (CSD-chain), the VPU of the MPE (§3.2.1).

A chain of ``length`` DSP48s is cut into DSP groups (DG) of ``group`` DSPs on a fixed cascade; the
links between DGs are configurable and a reduction node (RN) at the end of each DG can break the
cascade to emit a partial result. Each DSP48 does two INT8 MACs a cycle by sharing one weight
across two activations (WP487 packing), so the two lanes need two activation rows: MM mode uses
both, MV mode (one activation vector) one.

N:M sparsity (M a power of two, N | M, each M-block of a weight row holds N nonzeros): every DSP
picks its activation from M inputs through the sparse MUX, so an output's K block needs
length·N/M DSPs instead of ``length``, and the chain is cut (by its RNs, which sit only between
DSP groups) into sub-chains of that many DSPs, each finishing one output a cycle (the paper's drawn
2:4 VPU: 2 outputs). N = 0 blocks are skipped. The timing path prices each instruction from this
per-block behaviour (:meth:`CSDChain.mv_cycles`, :meth:`CSDChain.mm_cycles`), not from the mean
kept fraction:

- a sub-chain is at least one DSP group long, so N below the group's share (1:16 on groups of 2)
  costs as the group;
- the outputs a chain owns per block column fill its sub-chains in whole cycles: a chain owning 4
  outputs of a 2:16 column (8 sub-chains) spends 1 cycle where the mean says 0.5;
- a weight whose blocks mix several N (the artifact's FSB: N per 16×16 block, a layer's
  ``sparse_ratio`` their mean, :class:`BlockMix`) loads its chains unevenly: in MV mode each chain
  sums its own column's blocks and the instruction waits for the slowest
  (:func:`expected_max_sum`); in MM mode the output lanes split each column and see the same blocks,
  so the mix costs its mean.

The sparse MUX and the index decoder sit in the pipeline before the DSP: they add latency, not
throughput, and their index stream (4 bits per nonzero) is priced as HBM bytes
(`mappers/fpga/memory.py`). A chain's pipeline depth (cascaded DSPs + RN + OAU) is latency too:
back-to-back instructions stream through it, as the artifact's timing model assumes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CSDChain:
    length: int = 16  # DSPs per chain = p_K of the artifact's MV/MM instructions
    group: int = 2  # DSPs per DG
    lanes: int = 2  # INT8 MACs per DSP per cycle (packed activations)
    oau_max_cascade: int = 8

    def __post_init__(self) -> None:
        if self.length % self.group:
            raise ValueError(f"a chain of {self.length} DSPs is not a whole number of {self.group}-DSP groups")

    @property
    def groups(self) -> int:
        return self.length // self.group

    def subchain_length(self, n: int, m: int) -> int:
        """DSPs cascaded per output for an N:M block pattern (at least one DG, at most the chain)."""
        _check_nm(n, m)
        if n == 0:
            return 0
        return min(self.length, max(self.group, self.length * n // m))

    def outputs_per_cycle(self, n: int, m: int) -> float:
        """Outputs a chain of M DSPs finishes per cycle: 1 dense, M/N when N:M sparse (empty blocks are skipped)."""
        _check_nm(n, m)
        if n == 0:
            return math.inf  # an all-zero block costs nothing
        return m / n

    def oau_needed(self, n: int, m: int) -> bool:
        """The OAU is inserted only when a sub-chain cascades more than 8 DSPs."""
        return self.subchain_length(n, m) > self.oau_max_cascade

    def pipeline_depth(self, n: int, m: int) -> int:
        """Cycles from an activation entering to its output leaving: one per cascaded DSP, + RN, + OAU."""
        k = self.subchain_length(n, m)
        return k + 1 + int(self.oau_needed(n, m))

    def macs_per_cycle(self, active_lanes: int) -> int:
        """Useful MACs per cycle of the chain with 1 (MV) or 2 (MM) activation rows packed per DSP."""
        return self.length * min(active_lanes, self.lanes)

    def dsps(self, macs_per_cycle: int, active_lanes: int) -> int:
        """DSP48s a mode of ``macs_per_cycle`` dense MACs occupies (whole chains)."""
        return math.ceil(macs_per_cycle / self.macs_per_cycle(active_lanes)) * self.length

    def subchains(self, n: int, m: int) -> int:
        """Sub-chains one chain splits into for an N:M block (1 dense; the RNs break the cascade
        only between DSP groups, so a sub-chain is at least one group long)."""
        k = self.subchain_length(n, m)
        return self.length // k if k else 0

    def block_cycles(self, n: int, m: int, outputs: int) -> int:
        """Cycles one chain spends on ``outputs`` outputs of one K block (``length`` weights deep)
        whose blocks keep N of M: the chain is cut into :meth:`subchains`, each finishing one
        output a cycle, so ``ceil(outputs / subchains)``; an empty block (N = 0) is skipped."""
        s = self.subchains(n, m)
        return -(-outputs // s) if s else 0

    def mv_cycles(self, k_blocks: int, outputs: Any, chains: int, mix: BlockMix | None = None) -> Any:
        """Cycles of an MV instruction: ``outputs`` dot products of ``k_blocks`` blocks of ``length``
        weights over ``chains`` chains (one lane: a single activation vector).

        Dense, a chain finishes one output per K block per cycle: ``k_blocks · outputs / chains``.
        With an N:M ``mix`` each chain owns ``outputs / chains`` outputs, grouped by the weight's
        ``length``-wide sparse blocks (FSB columns); every K block of a column costs
        :meth:`block_cycles` for that block's N, so a chain's time is the sum over its blocks, and
        the instruction ends when its slowest chain does (:func:`expected_max_sum`: chains that own
        different columns draw their blocks' N independently from the mix; chains sharing a column
        see the same blocks).
        """
        if mix is None or mix.dense:
            return k_blocks * outputs / chains
        per_chain = -(-int(outputs) // chains)
        if per_chain <= self.length:  # several chains share one column of blocks
            per_col, cols, groups = per_chain, 1, max(1, int(outputs) // self.length)
        else:
            per_col, cols, groups = self.length, -(-per_chain // self.length), chains
        costs = tuple((self.block_cycles(n, mix.m, per_col), f) for n, f in mix.shares)
        return expected_max_sum(costs, k_blocks * cols, groups)

    def mm_cycles(self, rows: int, k_blocks: int, outputs: int, macs_per_cycle: int, p_m: int,
                  mix: BlockMix | None = None) -> float:
        """Cycles of an MM instruction: ``rows`` activation rows (a multiple of ``p_m``, both DSP
        lanes packed) through a mode of ``macs_per_cycle`` MACs, weight stationary.

        The mode's p_N = macs / (p_M · length) output lanes split each column of sparse blocks
        between them, so every lane sees the same blocks and the mix costs its mean
        :meth:`block_cycles` (no imbalance between lanes), for ``rows / p_m`` row passes."""
        if mix is None or mix.dense:
            return rows * k_blocks * self.length * outputs / macs_per_cycle
        p_n = max(1, macs_per_cycle // (p_m * self.length))
        full, rest = divmod(outputs, self.length)
        cycles = 0.0
        for width, count in ((self.length, full), (rest, 1 if rest else 0)):
            per_lane = -(-width // p_n)
            cycles += count * sum(f * self.block_cycles(n, mix.m, per_lane) for n, f in mix.shares)
        return rows / p_m * k_blocks * cycles


@dataclass(frozen=True)
class BlockMix:
    """The N:M pattern of a weight, per sparse block: the share of its blocks (``length`` K × ``length``
    outputs, the artifact's FSB) that keep each N of M. A uniform N:M weight is one share of 1."""

    m: int
    shares: tuple[tuple[int, float], ...]  # (N, fraction of blocks); fractions sum to 1

    def __post_init__(self) -> None:
        for n, f in self.shares:
            _check_nm(n, self.m)
            if not 0 <= f <= 1:
                raise ValueError(f"share {f} of {n}:{self.m} blocks is not a fraction")
        if abs(sum(f for _, f in self.shares) - 1) > 1e-9:
            raise ValueError(f"the block shares of an N:{self.m} mix sum to {sum(f for _, f in self.shares):g}, not 1")

    @classmethod
    def uniform(cls, n: int, m: int) -> BlockMix:
        return cls(m, ((n, 1.0),))

    @classmethod
    def of_kept(cls, kept: float, ns: tuple[int, ...], m: int, spread: str = "adjacent") -> BlockMix:
        """A mix of per-block N from ``ns`` whose mean kept fraction is ``kept``: the two values
        bracketing it (``adjacent``, the least spread a per-block choice allows) or the sparsest and
        densest (``extreme``, the most)."""
        ns = tuple(sorted(ns))
        if not ns[0] / m <= kept <= ns[-1] / m:
            raise ValueError(f"kept fraction {kept} is outside the patterns {ns} of M = {m}")
        if spread == "extreme":
            lo, hi = ns[0], ns[-1]
        elif spread == "adjacent":
            hi = next(n for n in ns if n / m >= kept)
            lo = max((n for n in ns if n / m <= kept), default=hi)
        else:
            raise ValueError(f"spread must be 'adjacent' or 'extreme', got {spread!r}")
        if lo == hi:
            return cls.uniform(hi, m)
        f_hi = (kept - lo / m) / ((hi - lo) / m)
        return cls(m, ((lo, 1 - f_hi), (hi, f_hi)))

    @property
    def kept(self) -> float:
        """Mean kept fraction (the MACs and values that remain)."""
        return sum(f * n / self.m for n, f in self.shares)

    @property
    def dense(self) -> bool:
        return all(n == self.m or f == 0 for n, f in self.shares)


@functools.lru_cache(maxsize=4096)
def expected_max_sum(costs: tuple[tuple[int, float], ...], blocks: int, groups: int) -> float:
    """E[max over ``groups`` independent chains of the sum of ``blocks`` block costs], each block's
    cost drawn independently from ``costs`` ((cycles, probability) pairs). Exact: the sum's
    distribution is the cost distribution convolved ``blocks`` times, and
    E[max] = sum over x >= 0 of (1 - F(x)^groups)."""
    values = [c for c, p in costs if p > 0]
    if len(values) == 1:
        return float(values[0] * blocks)
    pmf = np.zeros(max(values) + 1)
    for c, p in costs:
        pmf[c] += p
    total, power, k = np.ones(1), pmf, blocks
    while k:  # pmf ** blocks by repeated squaring
        if k & 1:
            total = np.convolve(total, power)
        k >>= 1
        if k:
            power = np.convolve(power, power)
    cdf = np.minimum(np.cumsum(total), 1.0)
    return float(np.sum(1.0 - cdf[:-1] ** groups))


def _check_nm(n: int, m: int) -> None:
    if m < 1 or m & (m - 1):
        raise ValueError(f"M = {m} must be a power of two")
    if n < 0 or n > m or (n and m % n):
        raise ValueError(f"N = {n} must be 0 or a divisor of M = {m}")


def utilization(nnz: np.ndarray, n: int) -> float:
    """Fraction of DSP-cycles doing useful MACs for rows that share a chain in lockstep.

    ``nnz[row, block]`` counts the nonzeros of each M-block; the rows are the M/N sub-chains of one
    chain, fed by one activation broadcast, so they advance block by block together. A sub-chain of
    N DSPs takes ceil(nnz / N) cycles for a block and the step lasts as long as the slowest row's.
    With N:M every block has exactly N nonzeros and the utilization is 1; irregular sparsity of the
    same density leaves the other sub-chains idle while the fullest block finishes.
    """
    useful = nnz.sum()
    if useful == 0:
        return 1.0
    steps = np.ceil(nnz / n).max(axis=0)
    return float(useful / (steps.sum() * nnz.shape[0] * n))


def nm_mask(rows: int, cols: int, n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """A random N:M mask: exactly N nonzeros in every M-block of every row."""
    _check_nm(n, m)
    mask = np.zeros((rows, cols // m, m), dtype=bool)
    for r in range(rows):
        for b in range(cols // m):
            mask[r, b, rng.choice(m, size=n, replace=False)] = True
    return mask.reshape(rows, cols)


def irregular_mask(rows: int, cols: int, density: float, rng: np.random.Generator) -> np.ndarray:
    """Unstructured sparsity: each weight kept independently with probability ``density``."""
    return rng.random((rows, cols)) < density


def block_nnz(mask: np.ndarray, m: int) -> np.ndarray:
    """Nonzeros of each M-block of each row."""
    rows, cols = mask.shape
    return mask.reshape(rows, cols // m, m).sum(axis=2)
