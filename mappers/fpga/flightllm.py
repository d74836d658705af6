"""FlightLLM's configurations of the U280 board and the artifact's VHK158, and its end-to-end rule.

A target is a design plus FlightLLM's choices on it: the weight format (mixed precision on the
U280, INT8 with q/k N:16 sparsity in the artifact) and how several cores run (board or artifact
semantics). End-to-end latency is one prefill program (length rounded up to the 128 bucket) plus,
for every generated token, one decode program at that token's context rounded up to the 16 bucket
(the artifact's ``run.py``). The published figures and the GPU baselines are in
`einsim.reproduce.flightllm`.
"""

from __future__ import annotations

import functools

import numpy as np
from dataclasses import dataclass

from einsim.arch import bundled_dir, load_arch
from einsim.mappers.fpga.csd import BlockMix
from einsim.mappers.fpga.device import FPGADevice, Semantics, device_from_arch
from einsim.mappers.fpga.lower import DECODE_BUCKET, PREFILL_BUCKET, bucket, lower
from einsim.mappers.fpga.memory import WeightFormat
from einsim.sim.fpga import QueueRun

ARTIFACT_KEPT = 0.7  # source: artifact .compiler_output/ir_output: q/k sparse_ratio 0.7 [A]
FSB_NS = (2, 4, 8, 16)  # source: artifact IR_linear_mv.py: a 16x16 FSB block keeps N in {2, 4, 8, 16} of 16 [A]
# Which N each FSB block of q/k keeps was not recovered (the IR gives only the mean 0.7). Estimate from
# the range of mixes with that mean: ``adjacent`` (8:16 and 16:16 blocks, 60/40, the least spread) to
# ``extreme`` (2:16 and 16:16, the most). The adjacent end is chosen; the spread only moves the MV
# chains' imbalance (docs/flightllm.md, "N:M on the CSD chain", gives both ends' latencies).
ARTIFACT_SPARSITY = {op: BlockMix.of_kept(ARTIFACT_KEPT, FSB_NS, 16, "adjacent") for op in ("q_proj", "k_proj")}
INT8_SPARSE = WeightFormat("INT8, q/k N:16 at 0.7", 8, ARTIFACT_SPARSITY,
                           source="artifact IR: every tensor INT8, q/k sparse_ratio 0.7 [A]")
MIXED_U280 = WeightFormat("mixed precision, 4.1 bit/param", 8, ARTIFACT_SPARSITY, bits_per_param=4.1,
                          source="U280 case files: LLaMA2-7B parameters 3.43 GB, ~4.1 bit/param with metadata [S]; "
                                 "sparsity as the artifact IR (the U280 files' pattern was not recovered)")


@dataclass(frozen=True)
class Target:
    key: str
    arch_file: str
    semantics: Semantics
    fmt: WeightFormat
    ld_channels: int | None = None

    @functools.cached_property
    def device(self) -> FPGADevice:
        return device_from_arch(load_arch(bundled_dir() / self.arch_file), self.semantics, self.ld_channels)


U280 = Target("U280", "u280.yaml", "board", MIXED_U280)
# ld_channels 16: derived [D] from the artifact's LD queue time, 7.11 ms for ~6.4 GB at context 512:
# bytes / (BW/32 · n · 0.7) / 3.2 gives n ≈ 16, one HBM2e stack (the decode is MV-bound either way)
VHK158 = Target("VHK158", "vhk158.yaml", "artifact", INT8_SPARSE, ld_channels=16)
TARGETS = {t.key: t for t in (U280, VHK158)}


def run_decode(device: FPGADevice, fmt: WeightFormat, model: str, context_len: int, on_chip: bool = True) -> QueueRun:
    """One decode step at the context's bucket on any device and weight format."""
    ctx = bucket(context_len, DECODE_BUCKET)
    return lower(model, device, fmt, "decode", context_len=ctx, on_chip=on_chip).run(device)


@functools.lru_cache(maxsize=None)
def decode_step(target: str, model: str, context_len: int, on_chip: bool = True) -> QueueRun:
    t = TARGETS[target]
    return run_decode(t.device, t.fmt, model, context_len, on_chip)


@functools.lru_cache(maxsize=None)
def prefill(target: str, model: str, seq_len: int) -> QueueRun:
    t = TARGETS[target]
    return lower(model, t.device, t.fmt, "prefill", seq_len=bucket(seq_len, PREFILL_BUCKET)).run(t.device)


@functools.lru_cache(maxsize=None)
def contexts(prefill_len: int, decode_len: int) -> dict[int, int]:
    """Decode buckets an end-to-end run visits, with how many tokens fall in each (computed once per
    lengths: callers read it, never change it)."""
    out: dict[int, int] = {}
    for i in range(decode_len):
        b = bucket(prefill_len + i + 1, DECODE_BUCKET)
        out[b] = out.get(b, 0) + 1
    return out


@functools.lru_cache(maxsize=None)
def decode_latency_table(target: str, model: str, max_context: int) -> dict[int, float]:
    """Decode-step latency at every bucket up to ``max_context``: one lowering (at the largest, so the
    HBM check covers them all), re-priced per bucket and simulated in one batched kernel call."""
    from einsim.sim.fpga import latencies

    t = TARGETS[target]
    buckets = np.arange(DECODE_BUCKET, bucket(max_context, DECODE_BUCKET) + 1, DECODE_BUCKET)
    low = lower(model, t.device, t.fmt, "decode", context_len=int(buckets[-1]))
    return dict(zip(buckets.tolist(), latencies(low.program, low.decode_seconds(buckets)).tolist()))


def end_to_end(target: str, model: str, prefill_len: int, decode_len: int) -> dict[str, float]:
    p = prefill(target, model, prefill_len).latency_s
    span = contexts(prefill_len, decode_len)
    table = decode_latency_table(target, model, max(2048, 1 << (max(span) - 1).bit_length()))
    d = sum(n * table[ctx] for ctx, n in span.items())
    return {"prefill_s": p, "decode_s": d, "total_s": p + d, "decode_tokens_per_s": decode_len / d}
