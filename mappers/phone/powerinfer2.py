"""PowerInfer-2 (Xue et al., arXiv 2406.06282v3) as a policy over a model and a phone.

Per layer and token (fpga_phone.md 2(a)-(b)):

- attention weights and KV stay in DRAM (the fixed region); with the NPU, heads are split between
  NPU and CPU, both drawing on the shared DRAM pool;
- **hot** neurons (the most frequently active ones, by offline profiling) form dense clusters the
  NPU runs with a static graph: every hot row of a routed expert is computed, active or not; hot
  clusters that are not resident are prefetched sequentially under the previous attention;
- **cold** neurons run on the CPU after the predictor, only where predicted; they live in the cold
  region (a neuron-granularity LRU; without the neuron cache, a fixed half chosen without activation
  knowledge); a miss reads the neuron's bundle from flash: gate row first, up+down only if the gate
  output is nonzero (two 4 KiB reads), or, without bundling, gate, up and down rows as three reads;
- the predictor runs only where a prediction is used: for the routed experts (the router has
  picked them before the FFN) and, within them, for the cold neurons (the NPU computes every hot
  row anyway). It is taken as two factors, an input factor (d_model x r) computed once per routed
  expert and a per-neuron factor (r per neuron), in one precision, so the byte shares are
  d_model : neurons whatever r is (unpublished); the input factor runs on all compute threads
  before the pipeline, the cold neurons' columns are each cluster's predict stage; predictor bytes
  stream at the same per-thread bandwidth as the other stages and count in the shared DRAM pool;
- the cold work is a 5-stage cluster pipeline (predict, gate I/O, gate compute, up/down I/O,
  up/down compute) with compute threads on the mid cores and one I/O thread on the big core;
  without the pipeline, compute threads issue their own reads (several issuers into one command
  queue) and compute waits for them;
- the planner picks the hot fraction that minimises the token time within the memory budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from einsim.errors import EinsimError
from einsim.memo import by_identity
from einsim.mappers.phone.activations import Trace, active_only, generate
from einsim.mappers.phone.cost import TokenCost, device_energy
from einsim.mappers.phone.footprint import Footprint
from einsim.mappers.phone.formats import INT4_B, INT4_SCALE_B, INT4_WEIGHT_B, RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.mappers.phone.overheads import (ACTIVATION_B, CPU_BARRIER_S, INT4_GEMV_EFFICIENCY, NPU_CALLS_PER_LAYER,
                                            NPU_INVOCATION_S, SPARSE_GEMV_EFFICIENCY)
from einsim.sim.phone import cluster_pipeline, hits_at, stack_distances

READ_B = 4096  # source: fpga_phone.md 2(a): INT4 bundles are read as two 4 KB reads [P]
COLD_CLUSTER = 512  # source: fpga_phone.md 2(a): the CPU processes cold neurons in chunks such as 512x4096 [P]
PREFETCH_B = 512 * 1024  # sequential prefetch request size; the largest block of the UFS table
HOT_GRID = (0.0, 1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2)  # hot fractions the planner tries
IO_CORE = "big"  # source: fpga_phone.md 2(a): one I/O thread on a big core [P]
COMPUTE_CLUSTER = "mid"  # compute threads; source: estimate (the mid cores, the big one doing I/O)


@dataclass(frozen=True)
class Features:
    """The ablation switches (fpga_phone.md 2(c): +Bundle, +Neuron cache, +Pipeline, +XPU)."""

    bundle: bool = True
    cache: bool = True
    pipeline: bool = True
    xpu: bool = True


ABLATION = (
    ("+bundle", Features(True, False, False, False)),
    ("+neuron cache", Features(True, True, False, False)),
    ("+pipeline", Features(True, True, True, False)),
    ("+xpu", Features(True, True, True, True)),
)


@dataclass(frozen=True)
class Memory:
    """DRAM split at a budget: fixed region, predictors, scales, runtime, neuron cache."""

    fixed_B: float
    predictor_B: float
    scales_B: float
    runtime_B: float
    cache_B: float


def memory_plan(fp: Footprint, memory_B: float, context_len: int = 128) -> Memory:
    if fp.facts is None:
        raise EinsimError(f"{fp.model_id}: PowerInfer-2 needs activation facts (designs/models/phone/)")
    fixed = (fp.attn_params + fp.embed_params) * INT4_B + fp.kv_B(context_len)
    scales = fp.ffn_params * INT4_SCALE_B
    pred = fp.facts.predictor_B.value
    cache = memory_B - fixed - pred - scales - RUNTIME_B
    if cache < 0:
        raise EinsimError(f"{fp.model_id} needs {(memory_B - cache) / 1e9:.2f} GB before any neuron cache; "
                          f"{memory_B / 1e9:.2f} GB given")
    return Memory(fixed, pred, scales, RUNTIME_B, cache)


def ffn_offload_budget(fp: Footprint, offload: float, context_len: int = 128) -> float:
    """The memory budget that leaves ``offload`` of the FFN weights on flash."""
    m = memory_plan(fp, float("inf"), context_len)
    return m.fixed_B + m.predictor_B + m.scales_B + m.runtime_B + (1.0 - offload) * fp.ffn_params * INT4_WEIGHT_B


def powerinfer2(device: Device, fp: Footprint, memory_B: float, features: Features = Features(),
                trace: Trace | None = None, tokens: int = 24, sample_layers: int = 2, seed: int = 0,
                context_len: int = 128, hot_fractions: tuple[float, ...] = HOT_GRID) -> TokenCost:
    """Mean per-token decode cost at batch 1 with ``memory_B`` of DRAM; the planner's best hot fraction."""
    mem = memory_plan(fp, memory_B, context_len)
    trace = trace or generate(fp, sample_layers, tokens, seed=seed)
    rank, warm = _profile_order(fp, trace.layers, max(tokens, 16), seed + 1)
    grid = hot_fractions if features.xpu else (0.0,)
    costs = [_evaluate(device, fp, mem, features, trace, rank, warm, h, context_len) for h in grid]
    best = min(costs, key=lambda c: c.latency_s)
    return TokenCost(best.policy, best.model, best.device, best.latency_s, best.compute_s, best.io_s, best.mem_s,
                     best.flash_B, best.dram_B, best.energy_J, {**best.extra, "memory_B": memory_B})


@lru_cache(maxsize=32)
def _profile_order(fp: Footprint, layers: int, tokens: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The offline profile's per-layer rank of each neuron within its expert, and the order in which
    the cold region is warmed (hottest first over all experts), from a profiling trace of ``seed``."""
    rank = _profiled_rank(fp, active_only(fp, layers, tokens, seed=seed))
    offset = np.repeat(np.arange(fp.experts) * fp.ffn_dim, fp.ffn_dim)
    return rank, np.argsort(rank + offset[None, :], axis=1, kind="stable")


@by_identity(maxsize=64)
def _predicted(trace: Trace, ffn_dim: int) -> tuple[list[list[np.ndarray]], np.ndarray]:
    """Per layer and token, the ids of the predicted neurons (ascending), and per layer and token
    the number of routed experts (experts with a predicted neuron): hot-fraction independent."""
    ids = [[np.flatnonzero(trace.predicted[t, layer]) for t in range(trace.tokens)] for layer in range(trace.layers)]
    experts = trace.neurons // ffn_dim
    routed = trace.predicted.reshape(trace.tokens, trace.layers, experts, ffn_dim).any(axis=3).sum(axis=2)
    return ids, routed.T.copy()


@by_identity(maxsize=96)
def _cold_predicted(trace: Trace, ffn_dim: int, rank: np.ndarray, n_hot: int,
                    layer: int) -> tuple[list[np.ndarray], list[int]]:
    """Per token of one layer, the ids of the predicted cold neurons (profiled rank ``>= n_hot``) and
    the number of predicted hot ones: budget independent, shared by every budget and phone."""
    predicted_ids = _predicted(trace, ffn_dim)[0][layer]
    is_hot = rank[layer] < n_hot
    cold = [ids[~is_hot[ids]] for ids in predicted_ids]
    return cold, [len(ids) - len(c) for ids, c in zip(predicted_ids, cold)]


@by_identity(maxsize=96)
def _cold_distances(trace: Trace, ffn_dim: int, rank: np.ndarray, warm_order: np.ndarray, n_hot: int,
                    layer: int) -> list[np.ndarray]:
    """LRU stack distances of one layer's cold accesses, the cold region warmed hottest first: the
    hits at any cold capacity (``hits_at``) without replaying the stream per budget."""
    is_hot = rank[layer] < n_hot
    warm = warm_order[layer][~is_hot[warm_order[layer]]]
    return stack_distances(_cold_predicted(trace, ffn_dim, rank, n_hot, layer)[0], trace.neurons, warm)


@by_identity(maxsize=96)
def _cold_stream(trace: Trace, ffn_dim: int, rank: np.ndarray, warm_order: np.ndarray, n_hot: int,
                 layer: int) -> tuple[np.ndarray, ...]:
    """One layer's cold accesses as one stream (tokens in order): per access its neuron id, LRU
    stack distance and whether it is active; per cold cluster its [start, end) in the stream; the
    clusters and cold neurons per token (a token without cold neurons has one empty cluster); the
    active neurons per cluster."""
    cold, _ = _cold_predicted(trace, ffn_dim, rank, n_hot, layer)
    sizes = np.array([len(ids) for ids in cold])
    n_clusters = np.maximum(1, -(-sizes // COLD_CLUSTER))
    first = np.concatenate(([0], np.cumsum(sizes)))  # each token's first access in the stream
    starts = np.concatenate([first[t] + np.arange(n) * COLD_CLUSTER for t, n in enumerate(n_clusters)])
    ends = np.minimum(starts + COLD_CLUSTER, np.repeat(first[1:], n_clusters))
    ids = np.concatenate(cold)
    act = trace.active[np.repeat(np.arange(len(cold)), sizes), layer, ids]
    dist = np.concatenate(_cold_distances(trace, ffn_dim, rank, warm_order, n_hot, layer))
    cum_act = np.concatenate(([0], np.cumsum(act, dtype=np.int64)))
    return ids, dist, act, starts, ends, n_clusters, sizes, cum_act[ends] - cum_act[starts]


@by_identity(maxsize=1024)
def _cold_clusters(trace: Trace, ffn_dim: int, rank: np.ndarray, warm_order: np.ndarray, n_hot: int, layer: int,
                   lru: bool, capacity: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """One layer's predicted cold neurons per token in clusters of ``COLD_CLUSTER``: per token a
    (clusters, 4) array of neurons, misses, misses of active neurons and active neurons, then the
    cold neurons and misses per token. Resident: an LRU of ``capacity`` neurons (``lru``) or the
    ``capacity`` lowest neuron ids. A pure function of the trace, the profile and the cold region,
    shared by the phones and flash tables of a sweep."""
    ids, dist, act, starts, ends, n_clusters, sizes, active = _cold_stream(trace, ffn_dim, rank, warm_order, n_hot, layer)
    miss = dist >= capacity if lru else ids >= capacity
    counts = np.empty((len(starts), 4), np.int64)
    counts[:, 0] = ends - starts
    for j, flag in ((1, miss), (2, miss & act)):
        cum = np.concatenate(([0], np.cumsum(flag, dtype=np.int64)))
        counts[:, j] = cum[ends] - cum[starts]
    counts[:, 3] = active
    counts.flags.writeable = False
    per_token = np.cumsum(n_clusters)[:-1]
    return np.split(counts, per_token), sizes, np.add.reduceat(counts[:, 1], np.concatenate(([0], per_token)))


def _profiled_rank(fp: Footprint, active: np.ndarray) -> np.ndarray:
    """(layers, neurons) rank of each neuron within its expert by profiled activation count (0 = hottest)."""
    counts = active.sum(axis=0).reshape(active.shape[1], fp.experts, fp.ffn_dim)
    order = np.argsort(-counts, axis=2, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(fp.ffn_dim)[None, None, :], axis=2)
    return rank.reshape(active.shape[1], -1)


def _evaluate(device: Device, fp: Footprint, mem: Memory, f: Features, trace: Trace, rank: np.ndarray,
              warm_order: np.ndarray, hot: float, context_len: int) -> TokenCost:
    d = fp.d_model
    neuron_B = fp.matrices * d * INT4_WEIGHT_B  # cached bytes of one neuron
    row_B = d * INT4_B  # DRAM bytes of one row read by compute
    per_layer_cache = int(mem.cache_B / neuron_B / fp.layers)
    n_hot = int(round(hot * fp.ffn_dim))
    hot_resident = min(n_hot * fp.experts, per_layer_cache)
    cold_capacity = per_layer_cache - hot_resident
    n_compute = device.cpu.clusters[COMPUTE_CLUSTER].cores
    bw_cpu = device.bandwidth(["CPU"])
    bw_both = device.bandwidth(["CPU", "NPU"]) if f.xpu else bw_cpu
    bw_npu = device.bandwidth(["NPU"])
    per_thread_bw = bw_cpu / n_compute
    core_macs = device.cpu_macs_per_s({COMPUTE_CLUSTER: 1}, "int8") * INT4_GEMV_EFFICIENCY * SPARSE_GEMV_EFFICIENCY
    row_s = max(row_B / per_thread_bw, d / core_macs)  # one cold row on one compute thread
    # per layer with the NPU: its graph executions, their activation copies, and the CPU threads' barrier
    t_xpu = (NPU_CALLS_PER_LAYER * (NPU_INVOCATION_S + 2 * d * ACTIVATION_B / bw_cpu) + CPU_BARRIER_S
             if f.xpu else 0.0)
    io_range = fp.top_k * fp.ffn_dim * 2 * READ_B  # one layer's routed bundles on flash
    io_stream = dict(range_B=io_range, core=IO_CORE if f.pipeline else COMPUTE_CLUSTER,
                     issuers=1 if f.pipeline else n_compute)
    t_read = device.stream_time(Stream(1, READ_B, "random", **io_stream))
    attn_B = fp.attn_params / fp.layers * INT4_B + fp.kv_B(context_len) / fp.layers
    t_attn = attn_B / bw_both
    # one expert's predictor as an input factor (d x r) and r per neuron, the rank cancelling; estimate: PowerInfer-2
    # publishes only the total (2.6 GB for Mixtral), the two-factor shape is LLM in a flash's low-rank predictor
    # (fpga_phone.md 3(a)) in one precision
    pred_B_expert = mem.predictor_B / fp.layers / fp.experts
    pred_in_B = pred_B_expert * d / (d + fp.ffn_dim)
    pred_col_B = pred_B_expert / (d + fp.ffn_dim)

    layer_s, io_crit, flash_B, dram_B, misses, accesses, rows = [], [], 0.0, 0.0, 0, 0, 0
    t_pref_neuron = device.stream_time(Stream(neuron_B / PREFETCH_B, PREFETCH_B, "sequential"))
    _, routed_experts = _predicted(trace, fp.ffn_dim)
    for layer in range(trace.layers):
        _, hot_pred_per_token = _cold_predicted(trace, fp.ffn_dim, rank, n_hot, layer)
        # with the neuron cache an LRU cold region, else a fixed resident set by position
        clusters, cold_per_token, misses_per_token = _cold_clusters(
            trace, fp.ffn_dim, rank, warm_order, n_hot, layer, f.cache, cold_capacity if f.cache else per_layer_cache)
        routed_per_token = routed_experts[layer]
        for t in range(trace.tokens):
            n_cold = int(cold_per_token[t])
            routed = routed_per_token[t]
            hot_missing = max(0, n_hot * routed - hot_resident) if f.xpu else 0
            t_pref = hot_missing * t_pref_neuron
            t_cpu, t_cpu_no_io, cpu_B, reads = _cold_work(clusters[t], f, t_read, row_B, row_s, per_thread_bw,
                                                           n_compute, routed * pred_in_B,
                                                           routed * (fp.ffn_dim - n_hot) * pred_col_B)
            npu_B = n_hot * routed * fp.matrices * row_B
            t_npu = npu_B / bw_npu if npu_B else 0.0
            t_shared = (cpu_B + npu_B) / bw_both
            t_ffn = max(t_cpu, t_npu, t_shared)
            exposed = max(0.0, t_pref - t_attn)
            layer_s.append(t_attn + exposed + t_ffn + t_xpu)
            io_crit.append(exposed + t_ffn - max(t_cpu_no_io, t_npu, t_shared))
            flash_B += reads * READ_B + hot_missing * neuron_B
            dram_B += attn_B + cpu_B + npu_B
            hot_pred = int(hot_pred_per_token[t])
            misses += int(misses_per_token[t]) + (hot_pred * hot_missing // max(1, n_hot * routed))
            accesses += n_cold + hot_pred
            rows += n_cold + n_hot * routed
    n = trace.tokens * trace.layers
    scale = fp.layers / n
    head_s = fp.head_params * INT4_B / bw_both
    latency = sum(layer_s) * scale + head_s
    io_s = sum(io_crit) * scale
    cost = TokenCost("powerinfer2", fp.model_id, device.name, latency, latency - io_s, io_s, 0.0, flash_B * scale,
                     dram_B * scale + fp.head_params * INT4_B, device_energy(device.power_W, latency),
                     {"hot_fraction": hot, "miss_rate": misses / max(accesses, 1),
                      "miss_rate_of_rows": misses / max(rows, 1),
                      "cache_GB": mem.cache_B / 1e9})
    return cost


def _cold_work(clusters: np.ndarray, f: Features, t_read: float, row_B: float, row_s: float, per_thread_bw: float,
               n_compute: int, pred_in_B: float, pred_cols_B: float) -> tuple[float, float, float, int]:
    """The cold neurons of one layer and token as clusters through the 5 stages: CPU time, the
    same without I/O, DRAM bytes read by compute (predictors included), flash reads.

    ``clusters``: per cluster its neurons, misses, misses of active neurons and active neurons
    (``_cold_clusters``). ``pred_in_B``: the predictors' input factors, run on all ``n_compute``
    threads before the pipeline; ``pred_cols_B``: the cold neurons' predictor columns, spread over
    the clusters' predict stages, streamed at ``per_thread_bw``. A gate or up/down row takes
    ``row_s`` on one compute thread (the slower of its bytes and its MACs at the core's sparse INT4
    GEMV rate)."""
    return _cold_work_of(clusters.tobytes(), f, t_read, row_B, row_s, per_thread_bw, n_compute, pred_in_B, pred_cols_B)


@lru_cache(maxsize=1 << 16)
def _cold_work_of(counts: bytes, f: Features, t_read: float, row_B: float, row_s: float, per_thread_bw: float,
                  n_compute: int, pred_in_B: float, pred_cols_B: float) -> tuple[float, float, float, int]:
    # keyed by the cluster counts' content: most tokens' counts repeat across the budgets and hot
    # fractions a planner or a sweep tries (a cold capacity changes the hits of a few accesses only)
    clusters = np.frombuffer(counts, np.int64).reshape(-1, 4)
    n_clusters = len(clusters)
    size, miss, miss_active, active = clusters.T
    if f.bundle:  # gate first, then up+down only where the gate fired
        gate_reads, ud_reads = miss, miss_active
    else:  # gate, up and down rows as separate reads, all needed before compute
        gate_reads, ud_reads = 3 * miss, 0 * miss
    n_ud = active * 2
    durations = np.empty((n_clusters, 5))
    durations[:, 0] = pred_cols_B / n_clusters / per_thread_bw
    durations[:, 1] = gate_reads * t_read
    durations[:, 2] = size * row_s
    durations[:, 3] = ud_reads * t_read
    durations[:, 4] = n_ud * row_s
    t_pred_in = pred_in_B / (n_compute * per_thread_bw)
    cpu_B = pred_in_B + pred_cols_B
    for cluster_B in (size * row_B + n_ud * row_B).tolist():  # in cluster order, as the threads add them
        cpu_B += cluster_B
    reads = int(gate_reads.sum() + ud_reads.sum())
    compute = durations * ~_IO_COLS
    if f.pipeline:
        return (t_pred_in + cluster_pipeline(durations, n_compute).makespan,
                t_pred_in + cluster_pipeline(compute, n_compute).makespan, cpu_B, reads)
    # no pipeline: the threads wait for every read of the layer, then compute
    t_comp = t_pred_in + compute.sum() / n_compute
    return durations[:, _IO_COLS].sum() + t_comp, t_comp, cpu_B, reads


_IO_COLS = np.array([False, True, False, True, False])
