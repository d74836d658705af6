"""Batch cycle model of a GEMM on an R×C systolic array, as SCALE-Sim v3 times it (stall-free, CALC bandwidth).

GEMM convention (SCALE-Sim's GEMM mode): ifmap = left operand, M×K; filter = right operand, K×N;
ofmap = output, M×N. Each dataflow spreads two GEMM extents over the array rows and columns and streams
the third through it in time:

    dataflow  array rows  array cols  streamed  stationary in the PEs
    os        M           N           K         the outputs (accumulators)
    ws        K           N           M         the filter (weights)
    is        K           M           N         the ifmap (inputs)

When an extent exceeds the array it is cut into folds; SCALE-Sim runs the folds back to back, each one
draining completely before the next starts (no overlap), so a GEMM takes folds × (cycles per fold).
Folds differ only in how many rows and columns they use (full, or the remainder of the extent), so the
kernel visits at most four fold classes instead of every fold.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit

OS, WS, IS = 0, 1, 2


@njit
def fold_geometry(M: int, K: int, N: int, dataflow: int) -> tuple[int, int, int]:
    """(extent over the array rows, extent over the array columns, extent streamed in time)."""
    if dataflow == OS:
        return M, N, K
    if dataflow == WS:
        return K, N, M
    return K, M, N


@njit
def fold_cycles(stream: int, rows: int, cols: int, dataflow: int) -> int:
    """Cycles of one fold, from the first operand entering to the last value leaving the array."""
    # WS/IS first shift the stationary operand in from the top edge, one array row per cycle;
    # OS has nothing to preload (its outputs start at zero in the accumulators).
    preload = 0 if dataflow == OS else rows
    # Lane r of the streamed operand enters r cycles after lane 0 (the systolic skew); in WS/IS the
    # same r cycles carry a partial sum down to row r, so the last row starts rows-1 cycles late.
    fill = rows - 1
    # The last element of a stream then crosses the remaining cols-1 columns before it leaves.
    drain = cols - 1
    return preload + stream + fill + drain


@njit
def gemm_one(M: int, K: int, N: int, rows: int, cols: int, dataflow: int):
    """SCALE-Sim's report for one GEMM: (cycles, ifmap SRAM reads, filter SRAM reads, ofmap SRAM writes,
    folds, mapping efficiency, compute utilization, overall utilization); utilizations are fractions."""
    row_extent, col_extent, stream = fold_geometry(M, K, N, dataflow)
    per_fold = fold_cycles(stream, rows, cols, dataflow)
    # SCALE-Sim's compute utilization divides by its own per-fold cycle count: for OS the fold length,
    # for WS/IS the height + width - 1 of the stationary operand's demand matrix, which is the fold
    # length plus another cols-1.
    util_cycles = per_fold if dataflow == OS else per_fold + cols - 1
    pes = rows * cols

    full_r, rem_r = divmod(row_extent, rows)
    full_c, rem_c = divmod(col_extent, cols)
    row_classes = ((full_r, rows), (1 if rem_r else 0, rem_r))
    col_classes = ((full_c, cols), (1 if rem_c else 0, rem_c))

    folds = 0
    ifmap_reads = 0
    filter_reads = 0
    ofmap_writes = 0
    mapping_sum = 0.0
    compute_sum = 0.0
    for n_r, used_r in row_classes:
        for n_c, used_c in col_classes:
            n = n_r * n_c
            if n == 0:
                continue
            folds += n
            used = used_r * used_c
            mapping_sum += n * (used / pes)
            compute_sum += n * (used * stream / (pes * util_cycles))
            # Each fold reads every streamed element once per array lane it enters through, reads the
            # stationary operand once, and writes what leaves the array.
            if dataflow == OS:
                ifmap_reads += n * stream * used_r
                filter_reads += n * stream * used_c
                # SCALE-Sim also adds the fold's padded height + width (rows + cols) to its OFMAP write
                # count (systolic_compute_os.create_ofmap_demand_mat); kept to match its reports.
                ofmap_writes += n * (used + rows + cols)
            elif dataflow == WS:
                ifmap_reads += n * stream * used_r
                filter_reads += n * used
                ofmap_writes += n * stream * used_c
            else:
                ifmap_reads += n * used
                filter_reads += n * stream * used_r
                ofmap_writes += n * stream * used_c

    # SCALE-Sim's "Total Cycles" is max(ofmap_serviced_cycles): the 0-based index of the cycle that
    # services the last line of its demand matrices (one line per cycle). With no stalls that index
    # is (number of cycles) - 1, hence the -1.
    cycles = folds * per_fold - 1
    # SCALE-Sim divides by its Total Cycles, which is 0 for a one-cycle GEMM (1x1x1 OS on 1x1, where
    # SCALE-Sim itself fails with ZeroDivisionError); that cycle did its one MAC, so count it.
    overall = M * K * N / (max(cycles, 1) * pes)
    return (cycles, ifmap_reads, filter_reads, ofmap_writes, folds,
            mapping_sum / folds, compute_sum / folds, overall)


@njit
def gemm_batch(M: np.ndarray, K: np.ndarray, N: np.ndarray, rows: np.ndarray, cols: np.ndarray,
               dataflow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate n GEMMs (int64 arrays of length n; dataflow codes OS/WS/IS).

    Returns counts, an (n, 5) int64 array [cycles, ifmap reads, filter reads, ofmap writes, folds], and
    utilization, an (n, 3) float64 array [mapping efficiency, compute utilization, overall utilization].
    """
    n = M.shape[0]
    counts = np.empty((n, 5), dtype=np.int64)
    utilization = np.empty((n, 3), dtype=np.float64)
    for i in range(n):
        r = gemm_one(M[i], K[i], N[i], rows[i], cols[i], dataflow[i])
        counts[i, 0] = r[0]
        counts[i, 1] = r[1]
        counts[i, 2] = r[2]
        counts[i, 3] = r[3]
        counts[i, 4] = r[4]
        utilization[i, 0] = r[5]
        utilization[i, 1] = r[6]
        utilization[i, 2] = r[7]
    return counts, utilization
