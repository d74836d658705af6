"""LLM in a flash (Alizadeh et al., ACL 2024) as a policy, with its I/O ablation steps.

Each step adds to the previous one (fpga_phone.md 3(a)-(b)):

- ``naive``: every weight streams from flash each token, sequentially;
- ``hybrid``: the DRAM budget holds part of the model; the rest streams sequentially;
- ``predictor``: selective persistence (embeddings, attention and predictors stay in DRAM) and
  a low-rank predictor: only predicted FFN neurons are read, one row (or column) per request;
- ``windowing``: neurons predicted in the last k tokens stay in DRAM; only new ones are read;
- ``bundling``: a neuron's up column and down row (gate too, if gated) are stored together and
  read as one request (the paper's full method).

Given a memory budget (``memory_B``), DRAM left after the resident parts and the window holds a
fixed share of the FFN neurons (chosen without activation knowledge; the paper's memory-latency
trade-off, fpga_phone.md 3(c) Fig. 7): loads fall by that share.

The paper reports I/O, memory management and compute **additively**; so does this policy.
Memory management is the preallocated-matrix cost: an evicted neuron is deleted by copying the
last row over it (read + write of one bundle); new neurons are written in place by the read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from einsim.errors import EinsimError
from einsim.mappers.phone.activations import Trace, generate
from einsim.mappers.phone.cost import TokenCost, device_energy
from einsim.mappers.phone.footprint import Footprint
from einsim.mappers.phone.formats import RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.mappers.phone.window import window_counts

CONFIGS = ("naive", "hybrid", "predictor", "windowing", "bundling")
WINDOW = 5  # source: fpga_phone.md 3(a): k = 5 in the main experiments [S×2]
READ_THREADS = 32  # source: fpga_phone.md 3(a)/(d): 32-thread parallel reads [S×2]; each thread issues its own reads


@dataclass(frozen=True)
class Run:
    """How the model is deployed: weight bytes on flash, DRAM share, compute engine, context."""

    weight_B: float = 2.0  # fp16 on flash (Table 2: 13.4 GB for 6.7 B params)
    dram_fraction: float = 0.5  # source: fpga_phone.md 3(a): ≈50% of the model fits in DRAM
    engine: Literal["cpu", "gpu"] = "cpu"
    context_len: int = 128
    window: int = WINDOW


def llm_in_a_flash(device: Device, fp: Footprint, config: str = "bundling", run: Run = Run(),
                   trace: Trace | None = None, tokens: int = 48, sample_layers: int = 2, seed: int = 0,
                   memory_B: float | None = None) -> TokenCost:
    """Mean per-token cost of one ablation step (``config`` in CONFIGS)."""
    if config not in CONFIGS:
        raise EinsimError(f"unknown LLM in a flash config {config!r} (valid: {', '.join(CONFIGS)})")
    step = CONFIGS.index(config)
    row_B = fp.d_model * run.weight_B
    model_B = fp.params * run.weight_B
    bw = device.bandwidth(["GPU" if run.engine == "gpu" else "CPU"])
    flash_B, io_s, mem_s = 0.0, 0.0, 0.0
    ffn_macs = fp.ffn_params / fp.experts * fp.top_k
    if step <= 1:
        streamed = model_B if step == 0 else model_B * (1.0 - run.dram_fraction)
        resident_B = model_B - streamed
        layer_B = model_B / fp.layers
        io_s = device.stream_time(Stream(streamed / layer_B, layer_B, "sequential"))
        flash_B = streamed
    else:
        trace = trace or generate(fp, sample_layers, tokens, seed=seed)
        scale = fp.layers * fp.neurons_per_layer / trace.neurons  # sampled layers -> whole model
        k = run.window if step >= 3 else 0
        while True:  # the longest window (at most run.window) that fits the budget
            counts = window_counts(trace, k)
            window_B = counts.resident * scale * fp.matrices * row_B
            if k == 0 or _fits(fp, run, memory_B, window_B):
                break
            k -= 1
        static = _static_share(fp, run, memory_B, window_B)
        resident_B = _resident_B(fp, run, window_B) - RUNTIME_B + static * fp.ffn_params * run.weight_B
        loaded = counts.loaded * scale * (1.0 - static)
        per_req = fp.matrices if step < 4 else 1
        block = row_B * fp.matrices / per_req
        span = fp.top_k * fp.ffn_dim * fp.matrices * row_B  # one layer's routed FFN on flash
        io_s = device.stream_time(Stream(loaded * per_req, block, "random", range_B=span, threads=READ_THREADS,
                                         issuers=READ_THREADS))
        flash_B = loaded * fp.matrices * row_B
        if k:
            mem_s = counts.evicted * scale * 2.0 * fp.matrices * row_B / bw
        ffn_macs = counts.predicted * scale * fp.matrices * fp.d_model
    compute_s, dram_B = _compute(device, fp, run, ffn_macs, bw, predictor=step >= 2)
    total = io_s + mem_s + compute_s
    return TokenCost("llm-in-a-flash", fp.model_id, device.name, total, compute_s, io_s, mem_s, flash_B, dram_B,
                     device_energy(device.power_W, total), {"config": config, "engine": run.engine,
                                                            "memory_B": memory_B, "window": k if step >= 2 else None,
                                                            "resident_B": resident_B})


def _resident_B(fp: Footprint, run: Run, window_B: float) -> float:
    return (fp.attn_params + fp.embed_params) * run.weight_B + fp.facts.predictor_B.value + window_B + RUNTIME_B


def _fits(fp: Footprint, run: Run, memory_B: float | None, window_B: float) -> bool:
    return memory_B is None or _resident_B(fp, run, window_B) <= memory_B


def _static_share(fp: Footprint, run: Run, memory_B: float | None, window_B: float) -> float:
    """Share of the FFN held resident beside the window, within the budget (0 without one)."""
    if memory_B is None:
        return 0.0
    spare = memory_B - _resident_B(fp, run, window_B)
    return min(1.0, max(0.0, spare) / (fp.ffn_params * run.weight_B))


def _compute(device: Device, fp: Footprint, run: Run, ffn_macs: float, bw: float, predictor: bool) -> tuple[float, float]:
    """Roofline time of one token's GEMVs on the CPU (fp32) or GPU (fp16): weights touched are read
    once from DRAM; the low-rank predictors run when ``predictor``, those of the routed experts only
    (a predictor ranks one expert's neurons, and the router has chosen the experts before the FFN)."""
    pred_params = fp.facts.predictor_B.value / run.weight_B * fp.top_k / fp.experts if predictor else 0.0
    macs = fp.attn_params + fp.head_params + ffn_macs + pred_params + fp.attention_macs(run.context_len)
    weights = fp.attn_params + fp.head_params + ffn_macs + pred_params
    dram_B = weights * run.weight_B + fp.kv_B(run.context_len)
    if run.engine == "gpu":
        if device.gpu is None or "fp16" not in device.gpu.peak_ops_per_s:
            raise EinsimError(f"{device.name} has no fp16 GPU rate")
        rate = device.gpu.peak_ops_per_s["fp16"] / 2.0
    else:
        rate = device.cpu_macs_per_s({n: c.cores for n, c in device.cpu.clusters.items()}, "fp32")
    return max(macs / rate, dram_B / bw), dram_B
