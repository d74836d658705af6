"""Slow twin of `einsim.sim.kernels.systolic`: steps an R×C systolic array cycle by cycle.

It multiplies real matrices, moving every operand and partial sum one PE per cycle, and counts cycles,
MACs, SRAM reads (an element entering the array from an edge feeder) and SRAM writes (a result leaving
it) without using any closed form. Small sizes only.

Timing follows SCALE-Sim's conventions: an edge feeder pushes a token into its lane every cycle of the
stream, a null token ("bubble", SCALE-Sim's -1 request) where the fold leaves the lane unused, so the
wavefront always crosses the whole array; a fold ends when the array is empty again, and the next fold
starts on the following cycle. `cycles` is the 0-based index of the last cycle in which any token was
still inside the array, the number SCALE-Sim reports as "Total Cycles".
"""

from __future__ import annotations

from dataclasses import dataclass, field

BUBBLE = None  # the payload of a null token


@dataclass
class Token:
    """A value travelling through the array; `step` is its index in the stream (k for OS, m or n else)."""

    step: int
    value: int | None  # BUBBLE for SCALE-Sim's null requests


@dataclass
class TwinResult:
    """What the stepped array did, in the fields of `einsim.sim.systolic.SystolicResult`, plus the product."""

    cycles: int
    folds: int
    mapping_efficiency: float
    compute_utilization: float
    overall_utilization: float
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    product: list[list[int]] = field(repr=False)  # the M×N result the array computed


@dataclass
class _Fold:
    cycles: int = 0
    macs: int = 0
    pes_used: set[tuple[int, int]] = field(default_factory=set)


def _empty(rows: int, cols: int) -> list[list[Token | None]]:
    return [[None] * cols for _ in range(rows)]


def _busy(*grids: list[list[Token | None]]) -> bool:
    return any(t is not None for grid in grids for row in grid for t in row)


class _Counters:
    def __init__(self, M: int, N: int) -> None:
        self.reads = {"ifmap": 0, "filter": 0}
        self.ofmap_writes = 0
        self.product = [[0] * N for _ in range(M)]


def _feed(lane: list[int] | None, step: int, length: int, operand: str, counters: _Counters) -> Token | None:
    """The token an edge feeder pushes for `step` of a stream of `length`: nothing outside the stream,
    a bubble on an unused lane, else an element read from the operand's SRAM."""
    if not 0 <= step < length:
        return None
    if lane is None:
        return Token(step, BUBBLE)
    counters.reads[operand] += 1
    return Token(step, lane[step])


def _output_stationary(a_lanes, b_lanes, length, rows, cols, write, counters: _Counters) -> _Fold:
    """OS: PE (r, c) accumulates one output in place. Lane r of the left operand enters from the left
    edge at cycle r + k and moves right; lane c of the right operand enters from the top at cycle
    c + k and moves down, so PE (r, c) holds the k-th pair at cycle r + c + k."""
    fold = _Fold()
    acc = [[0] * cols for _ in range(rows)]
    a, b = _empty(rows, cols), _empty(rows, cols)
    t = 0
    while True:
        a = [[_feed(a_lanes[r], t - r, length, "ifmap", counters)] + a[r][:-1] for r in range(rows)]
        b = [[_feed(b_lanes[c], t - c, length, "filter", counters) for c in range(cols)]] + b[:-1]
        if not _busy(a, b):
            break
        for r in range(rows):
            for c in range(cols):
                ta, tb = a[r][c], b[r][c]
                if ta is None or tb is None:
                    continue
                assert ta.step == tb.step, "skew broken: PE holds operands of different k"
                if ta.value is not BUBBLE and tb.value is not BUBBLE:
                    acc[r][c] += ta.value * tb.value
                    fold.macs += 1
                    fold.pes_used.add((r, c))
                    if ta.step == length - 1:  # last MAC: the finished output leaves for the SRAM
                        write(r, c, acc[r][c])
        t += 1
    fold.cycles = t
    # SCALE-Sim adds the padded fold's rows + cols to its OFMAP write count on top of the outputs.
    counters.ofmap_writes += rows + cols
    return fold


def _stationary(stationary, lanes, length, stationary_operand, stream_operand, rows, cols, write,
                counters: _Counters) -> _Fold:
    """WS and IS: `stationary[r][c]` (or BUBBLE) is shifted in from the top edge, one array row per
    cycle, for `rows` cycles. Then lane r of the streamed operand enters from the left at cycle
    rows + r + step and moves right; a partial sum starts at row 0 and moves down, meeting the same
    step in every row, and leaves the bottom of column c, where `write(c, step, value)` takes it."""
    fold = _Fold()
    held = _empty(rows, cols)
    for shifted_in in range(rows):
        top = [_feed(None if v is BUBBLE else [v], 0, 1, stationary_operand, counters)
               for v in stationary[rows - 1 - shifted_in]]
        held = [top] + held[:-1]
    start = rows
    t = start
    a, psum = _empty(rows, cols), _empty(rows, cols)
    while True:
        a = [[_feed(lanes[r], t - start - r, length, stream_operand, counters)] + a[r][:-1] for r in range(rows)]
        if not _busy(a):
            break
        new_psum = _empty(rows, cols)
        for r in range(rows):
            for c in range(cols):
                ta = a[r][c]
                if ta is None:
                    continue
                incoming = psum[r - 1][c] if r > 0 else Token(ta.step, 0)
                assert incoming is not None and incoming.step == ta.step, "skew broken: partial sum missed its row"
                total = incoming.value
                if ta.value is not BUBBLE and held[r][c].value is not BUBBLE:
                    total += ta.value * held[r][c].value
                    fold.macs += 1
                    fold.pes_used.add((r, c))
                new_psum[r][c] = Token(ta.step, total)
        for c, token in enumerate(new_psum[rows - 1]):
            if token is not None:
                write(c, token.step, token.value)
        psum = new_psum
        t += 1
    fold.cycles = t
    return fold


def simulate_gemm(A: list[list[int]], B: list[list[int]], rows: int, cols: int, dataflow: str) -> TwinResult:
    """Run A (M×K) @ B (K×N) on a rows×cols array, fold after fold, one cycle at a time."""
    if dataflow not in ("os", "ws", "is"):
        raise ValueError(f"unknown dataflow {dataflow!r}")
    M, K, N = len(A), len(B), len(B[0])
    counters = _Counters(M, N)
    folds = [_fold(A, B, r0, c0, rows, cols, counters, dataflow)
             for c0 in range(0, N if dataflow != "is" else M, cols)
             for r0 in range(0, M if dataflow == "os" else K, rows)]

    elapsed = sum(f.cycles for f in folds)
    pes = rows * cols
    # SCALE-Sim's per-fold cycles for WS/IS (stationary demand matrix height + width - 1) exceed the
    # fold length by cols - 1; its compute utilization uses them.
    extra = 0 if dataflow == "os" else cols - 1
    return TwinResult(
        cycles=elapsed - 1,
        folds=len(folds),
        mapping_efficiency=sum(len(f.pes_used) / pes for f in folds) / len(folds),
        compute_utilization=sum(f.macs / (pes * (f.cycles + extra)) for f in folds) / len(folds),
        overall_utilization=sum(f.macs for f in folds) / (max(elapsed - 1, 1) * pes),
        ifmap_sram_reads=counters.reads["ifmap"],
        filter_sram_reads=counters.reads["filter"],
        ofmap_sram_writes=counters.ofmap_writes,
        product=counters.product,
    )


def _fold(A, B, r0: int, c0: int, rows: int, cols: int, counters: _Counters, dataflow: str) -> _Fold:
    """One fold: array row r takes index r0 + r of the row extent, column c index c0 + c of the column
    extent (OS: M and N; WS: K and N; IS: K and M); lanes past the extent are unused."""
    M, K, N = len(A), len(B), len(B[0])
    product = counters.product

    def write(m: int, n: int, value: int) -> None:
        if m < M and n < N:
            product[m][n] += value  # partial sums of successive K folds add up in the output SRAM
            counters.ofmap_writes += 1

    if dataflow == "os":
        a_lanes = [A[r0 + r] if r0 + r < M else None for r in range(rows)]
        b_lanes = [[B[k][c0 + c] for k in range(K)] if c0 + c < N else None for c in range(cols)]
        return _output_stationary(a_lanes, b_lanes, K, rows, cols,
                                  lambda r, c, v: write(r0 + r, c0 + c, v), counters)
    k_lanes = range(r0, min(r0 + rows, K))
    if dataflow == "ws":
        stationary = [[B[k][c0 + c] if k in k_lanes and c0 + c < N else BUBBLE for c in range(cols)]
                      for k in range(r0, r0 + rows)]
        lanes = [[A[m][k] for m in range(M)] if k in k_lanes else None for k in range(r0, r0 + rows)]
        return _stationary(stationary, lanes, M, "filter", "ifmap", rows, cols,
                           lambda c, m, v: write(m, c0 + c, v), counters)
    stationary = [[A[c0 + c][k] if k in k_lanes and c0 + c < M else BUBBLE for c in range(cols)]
                  for k in range(r0, r0 + rows)]
    lanes = [B[k] if k in k_lanes else None for k in range(r0, r0 + rows)]
    return _stationary(stationary, lanes, N, "ifmap", "filter", rows, cols,
                       lambda c, n, v: write(c0 + c, n, v), counters)
