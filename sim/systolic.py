"""Systolic-array cycle model for GEMMs: output-, weight- and input-stationary on R×C arrays.

Cycle counts and SRAM access counts equal SCALE-Sim v3's "Total Cycles" and DETAILED_ACCESS_REPORT
(stall-free, InterfaceBandwidth CALC). M = rows of the left operand (SCALE-Sim's ifmap), K = reduction,
N = output columns (SCALE-Sim's number of filters). The mechanism lives in `einsim.sim.kernels.systolic`;
`einsim.sim.reference.systolic` steps the array cycle by cycle to check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import math

import numpy as np

from einsim.einsum import Einsum, ops_per_point
from einsim.sim.kernels import systolic as kernel

DATAFLOWS = {"os": kernel.OS, "ws": kernel.WS, "is": kernel.IS}


@dataclass(frozen=True)
class SystolicResult:
    """SCALE-Sim's report for one GEMM. Utilizations are fractions in [0, 1]."""

    cycles: int  # SCALE-Sim's "Total Cycles": index of the last busy cycle, i.e. elapsed cycles - 1
    folds: int
    mapping_efficiency: float  # mean over folds of used PEs / all PEs
    compute_utilization: float  # mean over folds of MACs / (PEs × SCALE-Sim's cycles of that fold)
    overall_utilization: float  # M·K·N / (max(cycles, 1) × PEs)
    ifmap_sram_reads: int  # left operand (M×K)
    filter_sram_reads: int  # right operand (K×N)
    ofmap_sram_writes: int  # output (M×N), partial sums included


@dataclass(frozen=True)
class SystolicBatch:
    """Results of `systolic_gemm_batch`, one array entry per GEMM (same fields as SystolicResult)."""

    cycles: np.ndarray
    folds: np.ndarray
    mapping_efficiency: np.ndarray
    compute_utilization: np.ndarray
    overall_utilization: np.ndarray
    ifmap_sram_reads: np.ndarray
    filter_sram_reads: np.ndarray
    ofmap_sram_writes: np.ndarray


def dataflow_code(dataflow: str) -> int:
    """Kernel code of a dataflow name ("os", "ws" or "is")."""
    try:
        return DATAFLOWS[dataflow]
    except KeyError:
        raise ValueError(f"unknown dataflow {dataflow!r}; valid: {', '.join(DATAFLOWS)}") from None


def _check_sizes(**sizes: np.ndarray) -> None:
    for name, values in sizes.items():
        if np.any(values < 1):
            raise ValueError(f"{name} must be a positive integer, got {values.min()}")


def systolic_gemm(M: int, K: int, N: int, rows: int, cols: int, dataflow: str) -> SystolicResult:
    """Cycles, utilization and SRAM accesses of an M×K by K×N GEMM on a rows×cols array."""
    sizes = {"M": M, "K": K, "N": N, "rows": rows, "cols": cols}
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    cycles, ifmap, filt, ofmap, folds, mapping, compute, overall = kernel.gemm_one(
        int(M), int(K), int(N), int(rows), int(cols), dataflow_code(dataflow))
    return SystolicResult(cycles=cycles, folds=folds, mapping_efficiency=mapping, compute_utilization=compute,
                          overall_utilization=overall, ifmap_sram_reads=ifmap, filter_sram_reads=filt,
                          ofmap_sram_writes=ofmap)


def systolic_gemm_batch(M: Sequence[int] | np.ndarray, K: Sequence[int] | np.ndarray, N: Sequence[int] | np.ndarray,
                        rows: Sequence[int] | np.ndarray, cols: Sequence[int] | np.ndarray,
                        dataflow: Sequence[str] | np.ndarray) -> SystolicBatch:
    """Evaluate many GEMMs in one kernel call; `dataflow` holds names or kernel codes, arrays broadcast."""
    codes = np.asarray(dataflow)
    if codes.dtype.kind in "US":
        codes = np.vectorize(dataflow_code, otypes=[np.int64])(codes)
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=np.int64) for x in (M, K, N, rows, cols, codes)))
    flat = [np.ascontiguousarray(a.ravel()) for a in arrays]
    _check_sizes(M=flat[0], K=flat[1], N=flat[2], rows=flat[3], cols=flat[4])
    if not np.isin(flat[5], list(DATAFLOWS.values())).all():
        raise ValueError(f"dataflow codes must be in {sorted(DATAFLOWS.values())}")
    counts, utilization = kernel.gemm_batch(*flat)
    shape = arrays[0].shape
    return SystolicBatch(cycles=counts[:, 0].reshape(shape), ifmap_sram_reads=counts[:, 1].reshape(shape),
                         filter_sram_reads=counts[:, 2].reshape(shape), ofmap_sram_writes=counts[:, 3].reshape(shape),
                         folds=counts[:, 4].reshape(shape), mapping_efficiency=utilization[:, 0].reshape(shape),
                         compute_utilization=utilization[:, 1].reshape(shape),
                         overall_utilization=utilization[:, 2].reshape(shape))


@dataclass(frozen=True)
class GemmShape:
    """A GEMM-like Einsum as ``batch`` independent M×K by K×N GEMMs (extents are index products)."""

    batch: int
    M: int
    K: int
    N: int


def gemm_shape(einsum: Einsum) -> GemmShape | None:
    """The GEMM an Einsum is, or None: one multiply-accumulate of two operands indexed by plain variables.

    The first operand is the left (SCALE-Sim's ifmap): its indices not in the second are M, the
    second's not in the first are N, the summed ones K, those in all three tensors the batch. An
    Einsum with a filter, an iterative rank, an index expression or an index in only one tensor is
    not GEMM-like.
    """
    if ops_per_point(einsum) != {"mac": 1} or len(einsum.operands) != 2 or einsum.filters or einsum.iteration_var:
        return None
    indices = [tuple(a.is_var for a in acc) for acc in (einsum.operands[0].index, einsum.operands[1].index)]
    out = tuple(a.is_var for a in einsum.out_index)
    if None in out or any(None in ix for ix in indices):
        return None
    left, right, out_set = set(indices[0]), set(indices[1]), set(out)
    groups = {"batch": left & right & out_set, "M": (left & out_set) - right, "N": (right & out_set) - left,
              "K": (left & right) - out_set}
    if set().union(*groups.values()) != set(einsum.space) or groups["K"] != set(einsum.reduced):
        return None
    return GemmShape(**{g: math.prod(einsum.space[v] for v in vs) for g, vs in groups.items()})


def einsum_cycles(einsum: Einsum, rows: int, cols: int, dataflow: str) -> int | None:
    """Elapsed cycles of a GEMM-like Einsum on a rows×cols array, its batch run back to back; None if
    the Einsum is not GEMM-like.

    One GEMM takes SCALE-Sim's "Total Cycles" + 1: SCALE-Sim reports the 0-based index of the last
    busy cycle, so a GEMM that keeps the array busy for cycles 0..T takes T + 1 cycles.
    """
    shape = gemm_shape(einsum)
    if shape is None:
        return None
    return shape.batch * (systolic_gemm(shape.M, shape.K, shape.N, rows, cols, dataflow).cycles + 1)
