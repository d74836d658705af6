"""GPU baselines of FlightLLM as rooflines, and energy as board power × time.

The paper measures power (nvprof on the GPUs, xbutil on the FPGA) rather than modelling energy per
operation, so tokens per joule = tokens / (power × time). A GPU runs a decode step as a roofline
over its HBM and tensor cores with the software stack's weight format: W8A8 (vLLM + SmoothQuant,
"opt") keeps INT8 weights and fp16 KV. At batch 1 a GPU reaches only part of its bandwidth in
decode (29–43% measured by the paper, §1), which is an input here, not derived.
"""

from __future__ import annotations

from dataclasses import dataclass

from einsim.arch import DRAM, GPU, Architecture
from einsim.einsum.models import Model, expand
from einsim.mappers.fpga.lower import linear_ops, model_named

GPU_DECODE_BW_UTILIZATION = (0.29, 0.43)  # source: FlightLLM intro [P]: GPU decode uses 29-43% of its bandwidth


@dataclass(frozen=True)
class GPURoofline:
    name: str
    bandwidth_Bps: float
    int8_ops_per_s: float
    power_W: float

    @classmethod
    def from_arch(cls, arch: Architecture) -> "GPURoofline":
        mem = next(c for c in arch.components.values() if isinstance(c, DRAM))
        sm = next(c for c in arch.components.values() if isinstance(c, GPU))
        peak = sm.peak_ops_per_s
        int8 = peak.get("int8_tensor", 2 * peak["fp16_tensor"])  # V100S has no INT8 tensor cores: fp16 rate, 2 ops per MAC
        if arch.power_W is None:
            raise ValueError(f"{arch.name} needs power_W for energy")
        return cls(arch.name, mem.bandwidth_Bps, int8, arch.power_W)

    def step_s(self, model: Model | str, phase: str, bw_utilization: float, *, context_len: int | None = None,
               seq_len: int | None = None, weight_bytes: float = 1.0, kv_bytes: float = 2.0) -> float:
        """One decode step or one prefill: max(bytes / achieved bandwidth, MACs × 2 / INT8 peak)."""
        m = model if not isinstance(model, str) else model_named(model)
        plan = expand(m, phase, context_len=context_len, seq_len=seq_len)
        ops = linear_ops(plan)
        macs = sum(times * mm * k * n for _, mm, k, n, times in ops)
        weights = sum(times * k * n for _, _, k, n, times in ops)
        kv_heads = (getattr(m, "kv_heads", None) or m.heads).value
        keys = context_len if phase == "decode" else seq_len
        kv = plan.layers * 2 * kv_heads * m.head_dim.value * keys * kv_bytes
        attn = plan.layers * 2 * m.heads.value * m.head_dim.value * keys * (1 if phase == "decode" else seq_len)
        nbytes = weights * weight_bytes + kv
        return max(nbytes / (self.bandwidth_Bps * bw_utilization), 2 * (macs + attn) / self.int8_ops_per_s)
