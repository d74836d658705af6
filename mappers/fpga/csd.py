"""FlightLLM's configurable sparse DSP chain (CSD-chain), the VPU of the MPE (§3.2.1).

A chain of ``length`` DSP48s is cut into DSP groups (DG) of ``group`` DSPs on a fixed cascade; the
links between DGs are configurable and a reduction node (RN) at the end of each DG can break the
cascade to emit a partial result. Each DSP48 does two INT8 MACs a cycle by sharing one weight
across two activations (WP487 packing), so the two lanes need two activation rows: MM mode uses
both, MV mode (one activation vector) one.

N:M sparsity (M a power of two, N | M, each M-block of a weight row holds N nonzeros): every DSP
picks its activation from M inputs through the sparse MUX, so a block costs N DSP-cycles instead of
M, and a chain of M DSPs splits into M/N sub-chains that each finish one output per cycle (for the
paper's drawn 2:4 VPU that is 2 outputs). N = 0 blocks are skipped. Dense (N = M) is 1 output.

An 18-bit lane cannot overflow summing at most 8 products of 16 bits, so the overflow adjust unit
(OAU) is only inserted when more than 8 DSPs cascade; it adds a pipeline stage, not throughput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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

    def mv_cycles(self, k_blocks: int, outputs: int, chains: int, kept: float = 1.0) -> float:
        """Cycles of an MV instruction: ``outputs`` dot products of ``k_blocks`` blocks of ``length``
        weights over ``chains`` chains (one lane: a single activation vector).

        A dense block takes one chain-cycle. An N:M block takes N/M of one (the chain splits into
        M/N sub-chains, :meth:`outputs_per_cycle`), so a weight whose blocks mix N:M patterns costs
        its mean kept fraction ``kept`` = mean N/M: the DSP-cycles are the nonzeros it holds.
        """
        return k_blocks * outputs * kept / chains

    def mm_cycles(self, rows: int, k_blocks: int, outputs: int, kept: float, macs_per_cycle: int) -> float:
        """Cycles of an MM instruction: ``rows`` activation rows (both DSP lanes packed) through a
        mode of ``macs_per_cycle`` MACs; N:M blocks cost their kept fraction as in :meth:`mv_cycles`."""
        return rows * k_blocks * self.length * outputs * kept / macs_per_cycle


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
