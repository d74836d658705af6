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

Timing: each (layer, token) is a task graph on the phone event simulation (`einsim.sim.phone_events`),
the steps one after another as the paper reports them (additively, no I/O-compute overlap):
attention, the predictor, the flash reads of the window's misses on ``READ_THREADS`` reader threads
(each request at the device's throughput for its size, pattern and thread count; more issuers than
command queues lose the device's multi-issuer share), the preallocated matrix's memory management
(delete = the last rows copied over the evicted ones, insert = the read rows appended), the FFN.
Hits and misses come from the window statistics of the trace (`window.py`), per token. Compute runs
on the CPU threads or the GPU at the engine's own DRAM bandwidth and MAC rate, each operator paying
its framework's dispatch cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from einsim.errors import EinsimError
from einsim.mappers.phone.activations import Trace, generate
from einsim.mappers.phone.cost import TokenCost, device_energy
from einsim.mappers.phone.footprint import Footprint
from einsim.mappers.phone.formats import RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.mappers.phone.window import loaded_from_start, window_counts, window_series
from einsim.sim.phone_events import DRAM, UFS, Platform, TaskGraph, simulate

Values = float | np.ndarray  # one value, or one per graph of a template

CONFIGS = ("naive", "hybrid", "predictor", "windowing", "bundling")
WINDOW = 5  # source: fpga_phone.md 3(a): k = 5 in the main experiments [S×2]
READ_THREADS = 32  # source: fpga_phone.md 3(a)/(d): 32-thread parallel reads [S×2]; each thread issues its own reads

# Operators per layer and token, from the forward pass of an OPT decoder layer (HF transformers
# OPTDecoderLayer) [D]: attention = layer norm, q, k, v, KV append, scores, softmax, values, output
# projection, residual; FFN = layer norm, fc1, ReLU, fc2, residual; the low-rank predictor = two GEMVs,
# the threshold and the index extraction; delete = the gather of the last rows, their scatter over the
# evicted rows, the pointer / num_used bookkeeping; insert = the copy of the read rows.
ATTENTION_OPS, FFN_OPS, PREDICTOR_OPS, DELETE_OPS, INSERT_OPS = 10, 5, 4, 3, 1
GEMVS = {"attention": 4, "ffn": 2, "predictor": 2, "head": 1}  # weight operands per block
# Dispatch cost of one eager operator. source: estimate; PyTorch's eager CPU dispatch is ~5-30 µs per op
# (Python, dispatcher, allocator), MPS adds command encoding (~10-100 µs); a native runtime (llama.cpp's
# graph) ~0. Ranges and their effect: docs/phone.md "LLM in a flash constants".
OP_DISPATCH_S = {("pytorch", "cpu"): 10e-6, ("pytorch", "gpu"): 30e-6, ("native", "cpu"): 0.0, ("native", "gpu"): 0.0}
# The GPU path reads the predicted indices back before the reads can be issued: one command-buffer commit
# and wait per layer. source: estimate, 0.05-1 ms (a Metal command buffer round trip).
GPU_SYNC_S = 0.2e-3


@dataclass(frozen=True)
class Run:
    """How the model is deployed: weight bytes on flash (and in DRAM), compute engine and framework,
    the precision compute reads, which FFN rows it multiplies, context."""

    weight_B: float = 2.0  # fp16 on flash (Table 2: 13.4 GB for 6.7 B params)
    dram_fraction: float = 0.5  # source: fpga_phone.md 3(a): ≈50% of the model fits in DRAM
    engine: Literal["cpu", "gpu"] = "cpu"
    context_len: int = 128
    window: int = WINDOW
    framework: Literal["native", "pytorch"] = "native"
    # bytes per weight the GEMV reads when the engine computes wider than the stored weights (the CPU's fp32
    # on fp16 rows): each operand is cast to a temporary first (read weight_B, write compute_B, read compute_B).
    # None: the GEMV reads the stored weights.
    compute_B: float | None = None
    # the FFN multiplies the predicted rows ("predicted", a sparse GEMV) or every used row of the window's
    # preallocated matrix ("window", a dense GEMV over its contiguous num_used rows)
    ffn_rows: Literal["predicted", "window"] = "predicted"


@dataclass(frozen=True)
class _Engine:
    """The compute engine as the graphs see it: servers, DRAM cap per server in bytes/s for a GEMV
    (MAC rate x bytes per weight), dispatch seconds per operator."""

    servers: int
    gemv_cap_Bps: float
    op_s: float
    sync_s: float


@dataclass(frozen=True)
class TokenGraphs:
    """One ablation step's work for a token: the (layer, token) task graphs (sampled layers x tokens with a
    full window; one graph when every layer and token is alike), the LM head's graph, their platform, and
    the flash bytes, DRAM held and window length they stand for."""

    platform: Platform
    layers: list[TaskGraph]  # templates: the (layer, token) graphs grouped by structure
    position: np.ndarray  # per (token, layer) graph in order, its index among the templates' graphs
    head: TaskGraph
    flash_B: float
    resident_B: float
    window: int | None

    def layer_graphs(self) -> list[TaskGraph]:
        """The (layer, token) graphs one by one, tokens in order, each token's layers in order."""
        flat = [t.graph(i) for t in self.layers for i in range(t.count)]
        return [flat[i] for i in self.position.tolist()]


def llm_in_a_flash(device: Device, fp: Footprint, config: str = "bundling", run: Run = Run(),
                   trace: Trace | None = None, tokens: int = 48, sample_layers: int = 2, seed: int = 0,
                   memory_B: float | None = None) -> TokenCost:
    """Mean per-token cost of one ablation step (``config`` in CONFIGS)."""
    w = token_graphs(device, fp, config, run, trace, tokens, sample_layers, seed, memory_B)
    batch = simulate(w.layers + [w.head], w.platform, _CATEGORY)
    # makespan, and the flash I/O, memory-management and predictor seconds on the critical path
    split = np.column_stack([batch.makespan] + [batch.critical_s(c) for c in ("io", "memory", "predictor")])
    parts = split[:-1][w.position].mean(axis=0) * fp.layers + split[-1]
    total, io_s, mem_s, pred_s = (float(x) for x in parts)
    layer_dram_B = np.concatenate([g.pool_volume(DRAM) for g in w.layers])[w.position]
    dram_B = float(np.mean(layer_dram_B)) * fp.layers + float(w.head.pool_volume(DRAM)[0])
    return TokenCost("llm-in-a-flash", fp.model_id, device.name, total, total - io_s - mem_s, io_s, mem_s, w.flash_B,
                     dram_B, device_energy(device.power_W, total),
                     {"config": config, "engine": run.engine, "memory_B": memory_B, "window": w.window,
                      "resident_B": w.resident_B, "predictor_s": pred_s})


def token_graphs(device: Device, fp: Footprint, config: str = "bundling", run: Run = Run(),
                 trace: Trace | None = None, tokens: int = 48, sample_layers: int = 2, seed: int = 0,
                 memory_B: float | None = None) -> TokenGraphs:
    """The task graphs of one ablation step (see `llm_in_a_flash`)."""
    if config not in CONFIGS:
        raise EinsimError(f"unknown LLM in a flash config {config!r} (valid: {', '.join(CONFIGS)})")
    step = CONFIGS.index(config)
    plat, eng = _platform(device, run)
    bundle_B = fp.matrices * fp.d_model * run.weight_B  # one neuron's rows as stored (flash and the DRAM matrix)
    model_B = fp.params * run.weight_B
    head = _head_graph(plat, eng, fp, run)
    if step <= 1:
        streamed = model_B if step == 0 else model_B * (1.0 - run.dram_fraction)
        layer_B = model_B / fp.layers
        read_dev_s = device.stream_time(Stream(streamed / layer_B, layer_B, "sequential")) / fp.layers
        routed_ffn = fp.ffn_params / fp.experts * fp.top_k / fp.layers  # FFN weights a token multiplies per layer
        graph = _layer_graph(plat, eng, fp, run, sequential_dev_s=read_dev_s, ffn_weights=routed_ffn)
        return TokenGraphs(plat, [graph], np.zeros(1, np.int64), head, streamed, model_B - streamed, None)
    trace = trace or generate(fp, sample_layers, tokens, seed=seed)
    per_layer = fp.neurons_per_layer / trace.neurons  # a sampled layer's counts -> one model layer's
    k = run.window if step >= 3 else 0
    while True:  # the longest window (at most run.window) that fits the budget
        window_B = window_counts(trace, k).resident * per_layer * fp.layers * bundle_B
        if k == 0 or _fits(fp, run, memory_B, window_B):
            break
        k -= 1
    static = _static_share(fp, run, memory_B, window_B)
    resident_B = _resident_B(fp, run, window_B) - RUNTIME_B + static * fp.ffn_params * run.weight_B
    series = window_series(trace, k)
    per_req = fp.matrices if step < 4 else 1
    span = fp.top_k * fp.ffn_dim * bundle_B  # one layer's routed FFN on flash
    # device-seconds of one request; issuers: the reader threads, in the schedule
    t_read_dev = device.stream_time(Stream(1, bundle_B / per_req, "random", range_B=span, threads=READ_THREADS))
    pred_weights = fp.facts.predictor_B.value / run.weight_B / fp.layers * fp.top_k / fp.experts
    keep = (1.0 - static) * per_layer  # statically resident neurons are neither read nor evicted
    ffn_rows = series.resident if run.ffn_rows == "window" and k else series.predicted
    loaded = series.loaded.ravel().astype(float)
    random_reads = loaded * keep * per_req
    evicted_B = series.evicted.ravel().astype(float) * keep * bundle_B if k else np.zeros_like(loaded)
    inserted_B = loaded * keep * bundle_B if k else np.zeros_like(loaded)
    ffn_weights = ffn_rows.ravel().astype(float) * per_layer * bundle_B / run.weight_B
    # a template per structure: the reader threads a graph uses, whether it deletes and inserts rows
    threads = np.where(random_reads != 0, np.minimum(READ_THREADS, np.maximum(1, np.ceil(random_reads))), 0)
    shapes: dict[tuple, list[int]] = {}
    for i, shape in enumerate(zip(threads.astype(int).tolist(), (evicted_B != 0).tolist(), (inserted_B != 0).tolist())):
        shapes.setdefault(shape, []).append(i)
    graphs = []
    for (n_threads, evicts, inserts), members in shapes.items():
        at = np.array(members)
        graphs.append(_layer_graph(plat, eng, fp, run, count=len(members), random_reads=random_reads[at],
                                   read_threads=n_threads, t_read_dev=t_read_dev, pred_weights=pred_weights,
                                   evicted_B=evicted_B[at] if evicts else 0.0,
                                   inserted_B=inserted_B[at] if inserts else 0.0, ffn_weights=ffn_weights[at]))
    position = np.argsort(np.concatenate([np.array(m) for m in shapes.values()]), kind="stable")
    flash_B = float(series.loaded.mean()) * keep * fp.layers * bundle_B
    return TokenGraphs(plat, graphs, position, head, flash_B, resident_B, k)


def flash_io_per_token(device: Device, fp: Footprint, trace: Trace, run: Run = Run()) -> np.ndarray:
    """Flash I/O seconds of each token of ``trace`` under the full method (windowing and bundling, no budget),
    from its first token with an empty window: the token's loaded bundles in every layer (the sampled layers'
    mean scaled to all) at the device's random-read time per bundle with ``READ_THREADS`` readers (the
    device serves one device-second per second with enough command queues, as in `token_graphs`)."""
    bundle_B = fp.matrices * fp.d_model * run.weight_B
    span = fp.top_k * fp.ffn_dim * bundle_B
    t_read_dev = device.stream_time(Stream(1, bundle_B, "random", range_B=span, threads=READ_THREADS))
    per_layer = fp.neurons_per_layer / trace.neurons
    loaded = loaded_from_start(trace, run.window).mean(axis=1)
    return loaded * per_layer * fp.layers * t_read_dev


_CATEGORY = {"io": "io", "delete": "memory", "insert": "memory", "pred": "predictor", "sync": "predictor"}


def _platform(device: Device, run: Run) -> tuple[Platform, _Engine]:
    """The engines: the compute threads (every CPU core) or the GPU, the reader threads; the shared DRAM
    at each engine's achieved bandwidth; the flash's command queues and multi-issuer loss."""
    dram = {frozenset({"CPU"}): device.bandwidth(["CPU"])}
    if device.gpu is not None:
        dram[frozenset({"GPU"})] = device.bandwidth(["GPU"])
    operand_B = _operand_B(run)
    if run.engine == "gpu":
        if device.gpu is None or "fp16" not in device.gpu.peak_ops_per_s:
            raise EinsimError(f"{device.name} has no fp16 GPU rate")
        servers, kind = 1, "GPU"
        cap = device.gpu.peak_ops_per_s["fp16"] / 2.0 * operand_B
        sync = GPU_SYNC_S
    else:
        servers, kind = sum(c.cores for c in device.cpu.clusters.values()), "CPU"
        macs = device.cpu_macs_per_s({n: c.cores for n, c in device.cpu.clusters.items()}, "fp32")
        cap = macs / servers * operand_B
        sync = 0.0
    plat = Platform((("compute", servers, kind), ("io", READ_THREADS, "CPU")), dram, device.flash.command_queues,
                    device.flash.multi_issuer_degradation or 0.0)
    return plat, _Engine(servers, cap, OP_DISPATCH_S[(run.framework, run.engine)], sync)


def _operand_B(run: Run) -> float:
    """DRAM bytes per weight of one GEMV: the stored weight, or its cast to a wider temporary and back."""
    return run.weight_B if run.compute_B is None else run.weight_B + 2.0 * run.compute_B


def _copies(run: Run) -> tuple[float, float]:
    """DRAM bytes moved per byte deleted and per byte inserted in the preallocated matrix. Delete swaps the
    last row over the evicted one (read + write); under PyTorch advanced indexing the gathered rows are first
    materialised (advanced indexing returns a copy: read + write more). Insert: a native runtime reads from
    flash straight into the matrix's free tail; PyTorch reads into a staging tensor and copies it in."""
    return (4.0, 2.0) if run.framework == "pytorch" else (2.0, 0.0)


def _stage(g: TaskGraph, plat: Platform, eng: _Engine, label: str, volume_B: Values, ops: int, cap: float,
           deps: list[int]) -> list[int]:
    """One block of operators on the compute engine: its dispatch cost, then its DRAM bytes split over the
    engine's servers."""
    cpu = plat.index("compute")
    return g.add_copies(eng.servers, cpu, label, fixed_s=ops * eng.op_s, pool=DRAM, volume=volume_B / eng.servers,
                        cap=cap, deps=deps)


def _layer_graph(plat: Platform, eng: _Engine, fp: Footprint, run: Run, *, count: int = 1,
                 sequential_dev_s: float = 0.0, random_reads: Values = 0.0, read_threads: int = 0,
                 t_read_dev: float = 0.0, pred_weights: float = 0.0, evicted_B: Values = 0.0,
                 inserted_B: Values = 0.0, ffn_weights: Values) -> TaskGraph:
    """One layer and token: attention, the predictor, the flash reads (one sequential stream, or random
    requests spread over ``read_threads`` reader threads), the matrix's deletes and inserts, the FFN; each
    step after the previous one. With ``count`` > 1, a template of that many graphs: the arguments typed
    `Values` are then arrays (one value per graph), and a zero argument a step none of them has."""
    g = TaskGraph(count)
    operand_B = _operand_B(run)
    attn_B = (fp.attn_params / fp.layers) * operand_B + fp.kv_B(run.context_len) / fp.layers
    last = _stage(g, plat, eng, "attn", attn_B, _ops(run, "attention", ATTENTION_OPS), eng.gemv_cap_Bps, [])
    if pred_weights:
        last = _stage(g, plat, eng, "pred", pred_weights * operand_B, _ops(run, "predictor", PREDICTOR_OPS),
                      eng.gemv_cap_Bps, last)
        if eng.sync_s:
            last = [g.add(plat.index("compute"), "sync", fixed_s=eng.sync_s, deps=last)]
    io = plat.index("io")
    if sequential_dev_s:
        last = [g.add(io, "io", pool=UFS, volume=sequential_dev_s, deps=last)]
    elif read_threads:
        last = g.add_copies(read_threads, io, "io", pool=UFS, volume=random_reads * t_read_dev / read_threads,
                            deps=last)
    delete_x, insert_x = _copies(run)
    if np.ndim(evicted_B) or evicted_B:
        last = _stage(g, plat, eng, "delete", evicted_B * delete_x, DELETE_OPS, np.inf, last)
    if (np.ndim(inserted_B) or inserted_B) and insert_x:
        last = _stage(g, plat, eng, "insert", inserted_B * insert_x, INSERT_OPS, np.inf, last)
    _stage(g, plat, eng, "ffn", ffn_weights * operand_B, _ops(run, "ffn", FFN_OPS), eng.gemv_cap_Bps, last)
    return g


def _head_graph(plat: Platform, eng: _Engine, fp: Footprint, run: Run) -> TaskGraph:
    g = TaskGraph()
    _stage(g, plat, eng, "head", fp.head_params * _operand_B(run), _ops(run, "head", GEMVS["head"]), eng.gemv_cap_Bps,
           [])
    return g


def _ops(run: Run, block: str, base: int) -> int:
    """Operators a block dispatches: its own, plus one cast per weight operand when compute is wider."""
    return base + (GEMVS[block] if run.compute_B is not None else 0)


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
