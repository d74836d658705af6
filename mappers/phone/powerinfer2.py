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

Timing: each (layer, token) is a task graph on the phone's event simulation
(`einsim.sim.phone_events`: compute threads, the I/O thread and the NPU as engines, the shared DRAM
by engine mix, the UFS with its single command queue); the token time is the sum of the layers'
makespans. ``prefill`` simulates a prompt: the NPU's dense layers beside sequential layer loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

import numpy as np

from einsim.errors import EinsimError
from einsim.memo import by_identity
from einsim.mappers.phone.activations import Trace, active_only, generate, token_shifts
from einsim.mappers.phone.cost import TokenCost
from einsim.mappers.phone.footprint import Footprint
from einsim.mappers.phone.formats import INT4_B, INT4_SCALE_B, INT4_WEIGHT_B, RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.mappers.phone.overheads import (ACTIVATION_B, CACHE_FIXED_TOUCHES, CACHE_HIT_TOUCHES, CACHE_MISS_TOUCHES,
                                            CACHE_TOUCH_S, CPU_BARRIER_S, INT4_GEMV_EFFICIENCY, NPU_CALL_HOLDS_THREAD,
                                            NPU_INVOCATION_S, SPARSE_GEMV_EFFICIENCY)
from einsim.mappers.phone.power import decode_energy
from einsim.sim.phone import stack_distances
from einsim.sim.phone_events import DRAM, UFS, Platform, TaskGraph, simulate

READ_B = 4096  # source: fpga_phone.md 2(a): INT4 bundles are read as two 4 KB reads [P]
COLD_CLUSTER = 512  # source: fpga_phone.md 2(a): the CPU processes cold neurons in chunks such as 512x4096 [P]
PREFETCH_B = 512 * 1024  # sequential prefetch request size; the largest block of the UFS table
HOT_GRID = (0.0, 1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2)  # hot fractions the planner tries
HOT_GRID_FULL = tuple(i / 8 for i in range(9))  # the planner's whole range, for batches where the NPU may take most
# Tokens of one prefill graph: the NPU runs static graphs built per batch size (fpga_phone.md 2(a)), so a prompt
# is prefilled in chunks of the graph's batch, each through every layer. source: estimate, range 128-512: 128 is
# the batch at which v3 argues every neuron is active in prefill (99.99% at batch 128, fpga_phone.md 2(c)), 512
# a whole 512-token prompt in one graph; docs/phone.md gives the effect of both ends.
PREFILL_CHUNK = 128
IO_CORE = "big"  # source: fpga_phone.md 2(a): one I/O thread on a big core [P]
COMPUTE_CLUSTER = "mid"  # compute threads; source: estimate (the mid cores, the big one doing I/O)
# The NPU's share of the attention heads (fpga_phone.md 2(a): heads are partitioned between NPU and CPU; the
# split is not published). source: estimate, in proportion to the engines' measured bandwidths, 56 / (56 + 43.9),
# range 0.3-0.7.
NPU_ATTENTION_SHARE = 0.56


class Features(NamedTuple):
    """The ablation switches (fpga_phone.md 2(c): +Bundle, +Neuron cache, +Pipeline, +XPU). A named tuple, as
    `_Layer`: both are parts of the schedule caches' keys, hashed and compared at C speed."""

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
                context_len: int = 128, hot_fractions: tuple[float, ...] = HOT_GRID, batch: int = 1) -> TokenCost:
    """Mean decode-step cost with ``memory_B`` of DRAM; the planner's best hot fraction. At ``batch`` > 1 a step
    decodes ``batch`` sequences (best-of-N: the trace is the union of their activations, fpga_phone.md 2(a)):
    every row read once, its MACs and the KV cache once per sequence; ``latency_s`` is the step's seconds."""
    if batch < 1:
        raise EinsimError(f"a decode batch needs at least 1 sequence, got {batch}")
    mem = memory_plan(fp, memory_B, context_len * batch)
    trace = trace or generate(fp, sample_layers, tokens, batch=batch, seed=seed)
    rank, warm = _profile_order(fp, trace.layers, max(tokens, 16), seed + 1)
    grid = hot_fractions if features.xpu else (0.0,)
    plat = _platform(device, device.cpu.clusters[COMPUTE_CLUSTER].cores)
    works = [_hot_work(device, fp, mem, features, trace, rank, warm, h, context_len, plat, batch) for h in grid]
    timed = _timed([k for w in works for k in w.keys], plat)  # every hot fraction's new graphs in one batch
    n = len(works[0].keys)
    runs = [_priced(device, fp, mem, features, trace, plat, w, timed[i * n:(i + 1) * n], batch)
            for i, w in enumerate(works)]
    best, io_critical, tails = min(runs, key=lambda r: r[0].latency_s)
    io_s = sum(io_critical) * fp.layers / len(io_critical)  # flash I/O on the critical path
    return TokenCost(best.policy, best.model, best.device, best.latency_s, best.latency_s - io_s, io_s, best.mem_s,
                     best.flash_B, best.dram_B, best.energy_J,
                     {**best.extra, **_tails(fp, trace, *tails), "memory_B": memory_B})


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


def _profiled_rank(fp: Footprint, active: np.ndarray) -> np.ndarray:
    """(layers, neurons) rank of each neuron within its expert by profiled activation count (0 = hottest)."""
    counts = active.sum(axis=0).reshape(active.shape[1], fp.experts, fp.ffn_dim)
    order = np.argsort(-counts, axis=2, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(fp.ffn_dim)[None, None, :], axis=2)
    return rank.reshape(active.shape[1], -1)


def _platform(device: Device, n_compute: int) -> Platform:
    """The decode/prefill engines: compute threads on the mid cores, one I/O thread on the big core,
    the NPU; the shared DRAM at the measured engine mixes; the UFS's command queues and multi-issuer loss."""
    dram = {frozenset(mix): device.bandwidth(mix) for mix in (["CPU"], ["NPU"], ["CPU", "NPU"])}
    engines = [("compute", n_compute, "CPU"), ("io", 1, "CPU")]
    if device.npu is not None:
        engines.append(("npu", 1, "NPU"))
    return Platform(tuple(engines), dram, device.flash.command_queues, device.flash.multi_issuer_degradation or 0.0)


_CATEGORY = {"io": "io", "prefetch": "io"}  # critical-path split: flash I/O, the rest compute


class _Layer(NamedTuple):
    """One layer and token's work, in the units the task graph takes (a named tuple: the schedule caches'
    key, hashed and compared at C speed; a frozen dataclass's hash and == run in Python)."""

    attn_B: float
    npu_B: float  # the hot rows the NPU computes (0 without the NPU)
    prefetch_dev_s: float  # UFS device-seconds of the hot clusters not resident
    pred_in_B: float
    pred_cols_B: float
    # per cold cluster: gate reads, gate bytes, up/down reads, up/down bytes
    clusters: tuple[tuple[float, float, float, float], ...]
    bookkeeping_s: tuple[float, ...] = ()  # per cold cluster: the neuron cache's lookups, inserts, evictions


def _layer_graph(w: _Layer, f: Features, plat: Platform, n_compute: int, t_read_dev: float, per_thread_bw: float,
                 row_cap: float, bw_npu: float, act_copy_B: float, count: int = 1,
                 shape: _Shape | None = None) -> TaskGraph:
    """The task graph of one layer and token (fpga_phone.md 2(a)-(b)): attention heads split between NPU and
    CPU threads; hot prefetch on the I/O thread under attention; the predictors' input factors on every
    compute thread; each cold cluster's 5 stages (predict with the cache's lookups, gate I/O, gate, up/down
    I/O, up/down) with I/O on the one I/O thread, or, without the pipeline, every read issued by the compute
    threads before any compute; the NPU's hot rows; the threads' barrier. A synchronous NPU call holds the
    compute thread that made it (`NPU_CALL_HOLDS_THREAD`), so the CPU's attention heads go to the others.

    With ``count`` > 1, a template of that many graphs of one ``shape``: the fields of ``w`` are arrays (one
    value per graph)."""
    shape = shape or _shape(w)
    g = TaskGraph(count)
    cpu, io = plat.index("compute"), plat.index("io")
    npu_share = NPU_ATTENTION_SHARE if f.xpu else 0.0
    caller = cpu if f.xpu and NPU_CALL_HOLDS_THREAD else -1
    cpu_heads = n_compute - 1 if caller >= 0 and n_compute > 1 else n_compute
    attn = g.add_copies(cpu_heads, cpu, "attn", pool=DRAM, volume=w.attn_B * (1 - npu_share) / cpu_heads,
                        cap=per_thread_bw)
    if f.xpu:
        npu = plat.index("npu")
        attn.append(g.add(npu, "attn-npu", fixed_s=NPU_INVOCATION_S, pool=DRAM,
                          volume=w.attn_B * npu_share + act_copy_B, cap=bw_npu, hold=caller))
    pref = [g.add(io, "prefetch", pool=UFS, volume=w.prefetch_dev_s)] if shape.prefetch else []
    pred = g.add_copies(n_compute, cpu, "predict", pool=DRAM, volume=w.pred_in_B / n_compute, cap=per_thread_bw,
                        deps=attn) if shape.predictor_input else list(attn)
    ends = []
    if f.xpu and shape.npu_rows:
        ends.append(g.add(npu, "ffn-npu", fixed_s=NPU_INVOCATION_S, pool=DRAM, volume=w.npu_B + act_copy_B,
                          cap=bw_npu, deps=attn + pref, hold=caller))
    n = len(w.clusters)
    book = w.bookkeeping_s or (0.0,) * n
    stage_pred = [g.add(cpu, "predict", fixed_s=book[c], pool=DRAM, volume=w.pred_cols_B / max(n, 1),
                        cap=per_thread_bw, deps=pred) for c in range(n)]
    if f.pipeline:
        for c, ((gate_reads, gate_B, ud_reads, ud_B), (has_gate_reads, has_ud_reads, has_ud)) in \
                enumerate(zip(w.clusters, shape.clusters)):
            last = stage_pred[c]
            if has_gate_reads:
                last = g.add(io, "io", pool=UFS, volume=gate_reads * t_read_dev, deps=[last])
            last = g.add(cpu, "gate", pool=DRAM, volume=gate_B, cap=row_cap, deps=[last])
            if has_ud_reads:
                last = g.add(io, "io", pool=UFS, volume=ud_reads * t_read_dev, deps=[last])
            if has_ud:
                last = g.add(cpu, "updown", pool=DRAM, volume=ud_B, cap=row_cap, deps=[last])
            ends.append(last)
    else:  # the compute threads issue the layer's reads themselves, then compute
        reads = sum(c[0] + c[2] for c in w.clusters)
        fetched = g.add_copies(n_compute, cpu, "io", pool=UFS, volume=reads * t_read_dev / n_compute,
                               deps=stage_pred or pred) if any(r or u for r, u, _ in shape.clusters) \
            else (stage_pred or pred)
        for (_, gate_B, _, ud_B), (_, _, has_ud) in zip(w.clusters, shape.clusters):
            last = g.add(cpu, "gate", pool=DRAM, volume=gate_B, cap=row_cap, deps=fetched)
            ends.append(g.add(cpu, "updown", pool=DRAM, volume=ud_B, cap=row_cap, deps=[last]) if has_ud else last)
    if f.xpu:
        g.add(cpu, "barrier", fixed_s=CPU_BARRIER_S, deps=ends or pred)
    return g


TIMED_GRAPHS = 200_000  # per-process entries of the content-keyed schedule cache (~1 kB each)
# graph key -> (makespan, busy seconds per engine, flash I/O seconds on its critical path)
_TIMED: dict[tuple, tuple[float, tuple[float, ...], float]] = {}


def _remember(cache: dict, key: tuple, value: object) -> None:
    if len(cache) >= TIMED_GRAPHS:
        del cache[next(iter(cache))]  # the oldest entry
    cache[key] = value


class _GraphArgs:
    """One distinct tuple of the graph arguments besides the work (features, platform key, the module constants
    `_layer_graph` reads, its other arguments), interned by `_interned`: a key (work, this) hashes and compares
    its shared part by identity instead of walking the nested tuple at every lookup."""

    __slots__ = ("values",)

    def __init__(self, values: tuple) -> None:
        self.values = values


_GRAPH_ARGS: dict[tuple, tuple[_GraphArgs]] = {}


def _interned(graph_args: tuple) -> tuple[_GraphArgs]:
    """``(_GraphArgs,)``, one object per distinct ``graph_args``: what a graph key holds after its work."""
    token = _GRAPH_ARGS.get(graph_args)
    if token is None:
        token = (_GraphArgs(graph_args),)
        _remember(_GRAPH_ARGS, graph_args, token)
    return token


class _Shape(NamedTuple):
    """What decides a layer graph's tasks besides the graph arguments: which parts of its work are not zero."""

    prefetch: bool
    predictor_input: bool
    npu_rows: bool
    clusters: tuple[tuple[bool, bool, bool], ...]  # per cold cluster: gate reads, up/down reads, up/down bytes


def _shape(w: _Layer) -> _Shape:
    return _Shape(w.prefetch_dev_s > 0, w.pred_in_B > 0, w.npu_B > 0,
                  tuple((gate_reads != 0, ud_reads != 0, ud_B != 0) for gate_reads, _, ud_reads, ud_B in w.clusters))


def _template(works: list[_Layer]) -> _Layer:
    """The works of graphs of one shape as one `_Layer` of arrays (one value per graph): one table of the works'
    numbers (a row per field, a column per graph), converted in one call."""
    n = len(works[0].clusters)
    none = (0.0,) * n
    table = np.ascontiguousarray(np.array([w[:5] + tuple(chain.from_iterable(w.clusters)) + (w.bookkeeping_s or none)
                                           for w in works], float).T)
    clusters = tuple(tuple(table[5 + 4 * c + part] for part in range(4)) for c in range(n))
    return _Layer(*table[:5], clusters, tuple(table[5 + 4 * n + c] for c in range(n)))


def _timed(keys: list[tuple], plat: Platform) -> list[tuple[float, tuple[float, ...], float]]:
    """Makespan, per-engine busy seconds and critical-path flash I/O seconds of each graph of ``keys``
    ((work, `_GraphArgs`)). A graph is a pure function of its key, and its schedule does not depend on the
    others of a batch, so the (layer, token) graphs that recur across budgets, hot fractions, phones and
    flash tables are simulated once per process; the new ones are built as one template per shape and
    arguments and simulated in one kernel call."""
    found = [_TIMED.get(k) for k in keys]
    todo = list(dict.fromkeys(k for k, v in zip(keys, found) if v is None))
    if not todo:
        return found
    groups: dict[tuple, list[tuple]] = {}
    for k in todo:
        groups.setdefault((k[1], _shape(k[0])), []).append(k)
    graphs = []
    for (args, shape), members in groups.items():
        f, _, _, *rest = args.values
        graphs.append(_layer_graph(_template([w for w, _ in members]), f, plat, *rest, count=len(members),
                                   shape=shape))
    batch = simulate(graphs, plat, _CATEGORY)
    engines = range(len(plat.engines))
    rows = zip(batch.makespan.tolist(), map(tuple, batch.busy(engines).tolist()), batch.critical_s("io").tolist())
    new = dict(zip((k for members in groups.values() for k in members), rows))
    for k, row in new.items():
        _remember(_TIMED, k, row)
    return [v if v is not None else new[k] for k, v in zip(keys, found)]


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
def _cold_stream(trace: Trace, ffn_dim: int, rank: np.ndarray, warm_order: np.ndarray, n_hot: int,
                 layer: int) -> tuple[np.ndarray, ...]:
    """One layer's cold accesses as one stream (tokens in order): per access its neuron id, its LRU
    stack distance (the cold region warmed hottest first: the hits at any cold capacity without
    replaying the stream per budget) and whether it is active; per cold cluster its [start, end) in
    the stream and its active neurons; the clusters per token (a token without cold neurons has one
    empty cluster)."""
    cold, _ = _cold_predicted(trace, ffn_dim, rank, n_hot, layer)
    sizes = np.array([len(ids) for ids in cold])
    n_clusters = np.maximum(1, -(-sizes // COLD_CLUSTER))
    first = np.concatenate(([0], np.cumsum(sizes)))  # each token's first access in the stream
    starts = np.concatenate([first[t] + np.arange(n) * COLD_CLUSTER for t, n in enumerate(n_clusters)])
    ends = np.minimum(starts + COLD_CLUSTER, np.repeat(first[1:], n_clusters))
    ids = np.concatenate(cold)
    act = trace.active[np.repeat(np.arange(len(cold)), sizes), layer, ids]
    warm = warm_order[layer][~(rank[layer] < n_hot)[warm_order[layer]]]
    dist = np.concatenate(stack_distances(cold, trace.neurons, warm))
    cum_act = np.concatenate(([0], np.cumsum(act, dtype=np.int64)))
    return ids, dist, act, starts, ends, n_clusters, cum_act[ends] - cum_act[starts]


@by_identity(maxsize=1024)
def _cold_clusters(trace: Trace, ffn_dim: int, rank: np.ndarray, warm_order: np.ndarray, n_hot: int, layer: int,
                   lru: bool, capacity: int, bundle: bool, row_B: float) -> list[tuple]:
    """Per token of one layer: its chunks of COLD_CLUSTER predicted cold neurons as (gate reads, gate bytes,
    up/down reads, up/down bytes), their flash reads, their DRAM bytes and the misses. Resident: an LRU of
    ``capacity`` neurons (``lru``) or the ``capacity`` lowest neuron ids. Bundled: the gate row is read
    first, up+down only where the gate fired; unbundled: gate, up and down rows as three reads before any
    compute. A pure function of the trace, the profile and the cold region, shared by the phones and
    flash tables of a sweep."""
    _, _, _, starts, ends, n_clusters, active = _cold_stream(trace, ffn_dim, rank, warm_order, n_hot, layer)
    n_miss, active_miss = _cluster_misses(trace, ffn_dim, rank, warm_order, n_hot, layer, lru, capacity)
    gate_reads, ud_reads = (n_miss, active_miss) if bundle else (3 * n_miss, 0 * n_miss)
    rows = list(zip(gate_reads.tolist(), ((ends - starts) * row_B).tolist(), ud_reads.tolist(),
                    (active * 2 * row_B).tolist()))
    misses = n_miss.tolist()
    out, c = [], 0
    for n in n_clusters.tolist():
        clusters = tuple(rows[c:c + n])
        out.append((clusters, sum(x[0] + x[2] for x in clusters), sum(x[1] + x[3] for x in clusters),
                    sum(misses[c:c + n])))
        c += n
    return out


def _cold_bookkeeping(per_token: list[tuple], row_B: float, cache: bool, bundle: bool) -> list[tuple[float, ...]]:
    """Per token of `_cold_clusters`, per cold cluster the cold region's bookkeeping on the compute thread that
    predicts it: a lookup per predicted neuron (its gate bytes / a row), a hit moved to the front of the LRU, a
    miss given the tail's slot before its read is queued; without the neuron cache, a lookup of the fixed
    resident set."""
    return _bookkeeping(per_token, row_B, cache, bundle, CACHE_TOUCH_S, CACHE_HIT_TOUCHES, CACHE_MISS_TOUCHES,
                        CACHE_FIXED_TOUCHES)


@by_identity(maxsize=1024)
def _bookkeeping(per_token: list[tuple], row_B: float, cache: bool, bundle: bool, touch_s: float, hit_touches: float,
                 miss_touches: float, fixed_touches: float) -> list[tuple[float, ...]]:
    """`_cold_bookkeeping` at the given cost constants (keys of its cache, shared by the phones and flash tables
    of a sweep)."""
    clusters = [c for token in per_token for c in token[0]]
    gate_reads = np.array([c[0] for c in clusters], float)
    lookups = np.array([c[1] for c in clusters], float) / row_B
    if not cache:
        seconds = lookups * fixed_touches * touch_s
    else:
        misses = gate_reads if bundle else gate_reads / 3
        seconds = ((lookups - misses) * hit_touches + misses * miss_touches) * touch_s
    flat, out, c = seconds.tolist(), [], 0
    for token in per_token:
        out.append(tuple(flat[c:c + len(token[0])]))
        c += len(token[0])
    return out


def _cluster_misses(trace: Trace, ffn_dim: int, rank: np.ndarray, warm_order: np.ndarray, n_hot: int, layer: int,
                    lru: bool, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cold cluster of `_cold_stream`, its misses and its active neurons' misses at ``capacity``: a miss is
    an LRU stack distance ``>= capacity`` (``lru``), else a neuron id ``>= capacity``. Counted by binary search
    in each cluster's sorted values (`_cluster_keys`, once per stream), not by a pass over the stream per
    capacity."""
    keys, active_keys, bound = _cluster_keys(trace, ffn_dim, rank, warm_order, n_hot, layer, lru)
    lo = np.arange(len(bound)) * (trace.neurons + 1)  # cluster c's keys are c (neurons + 1) + its values
    hi = lo + max(0, min(capacity, trace.neurons))  # values are < neurons but a first use's, a miss at any capacity
    hits = np.searchsorted(keys, hi) - np.searchsorted(keys, lo)
    active_hits = np.searchsorted(active_keys, hi) - np.searchsorted(active_keys, lo)
    return bound - hits, _cold_stream(trace, ffn_dim, rank, warm_order, n_hot, layer)[6] - active_hits


@by_identity(maxsize=96)
def _cluster_keys(trace: Trace, ffn_dim: int, rank: np.ndarray, warm_order: np.ndarray, n_hot: int, layer: int,
                  lru: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted keys ``c (neurons + 1) + value`` of the cold stream's accesses (value: the stack distance, a first
    use's counted as ``neurons``; or the neuron id), of its active accesses, and each cluster's access count."""
    ids, dist, act, starts, ends, _, _ = _cold_stream(trace, ffn_dim, rank, warm_order, n_hot, layer)
    size = ends - starts
    value = np.minimum(dist, trace.neurons) if lru else ids
    key = np.repeat(np.arange(len(size)) * (trace.neurons + 1), size) + value
    return np.sort(key), np.sort(key[act]), size


@by_identity(maxsize=256)
def _hot_block_misses(trace: Trace, ffn_dim: int, capacity: int) -> np.ndarray:
    """(layers, tokens) routed experts whose hot clusters are not in the hot region of an MoE: the region is a
    cluster-granularity LRU (fpga_phone.md 2(a)) of ``capacity`` experts' hot clusters per layer (none missing
    when every expert's fit), over the routing stream, warmed with experts 0, 1, ... (uniform routing: no
    expert is hotter)."""
    experts = trace.neurons // ffn_dim
    routed = trace.predicted.reshape(trace.tokens, trace.layers, experts, ffn_dim).any(axis=3)
    if capacity >= experts:
        return np.zeros((trace.layers, trace.tokens), np.int64)
    out = np.empty((trace.layers, trace.tokens), np.int64)
    for layer in range(trace.layers):
        ids = [np.flatnonzero(routed[t, layer]) for t in range(trace.tokens)]
        dist = stack_distances(ids, experts, np.arange(experts))
        out[layer] = [int((d >= capacity).sum()) for d in dist]
    return out


class _HotWork(NamedTuple):
    """One hot fraction's (layer, token) graph keys (`_timed`) and its counts per token summed or listed."""

    hot: float
    keys: list[tuple]
    flash_B: float
    dram_B: float
    misses: list[int]  # per (layer, token): missed neuron rows
    rows: list[int]  # per (layer, token): computed neuron rows
    accesses: int


def _hot_work(device: Device, fp: Footprint, mem: Memory, f: Features, trace: Trace, rank: np.ndarray,
              warm_order: np.ndarray, hot: float, context_len: int, plat: Platform, batch: int = 1) -> _HotWork:
    """The work of every (layer, token) at one hot fraction, as graph keys, and its flash and DRAM bytes. At
    ``batch`` > 1 a row's MACs run once per sequence (the CPU's and the NPU's rate caps divided by the batch)
    and each sequence reads its own KV cache."""
    d = fp.d_model
    neuron_B = fp.matrices * d * INT4_WEIGHT_B  # cached bytes of one neuron
    row_B = d * INT4_B  # DRAM bytes of one row read by compute
    per_layer_cache = int(mem.cache_B / neuron_B / fp.layers)
    n_hot = int(round(hot * fp.ffn_dim))
    hot_resident = min(n_hot * fp.experts, per_layer_cache)
    if fp.experts > 1 and n_hot > 0 and hot_resident < n_hot * fp.experts:
        hot_resident = hot_resident // n_hot * n_hot  # whole experts' hot clusters (the hot region's LRU entries)
    cold_capacity = per_layer_cache - hot_resident
    n_compute = device.cpu.clusters[COMPUTE_CLUSTER].cores
    bw_cpu = device.bandwidth(["CPU"])
    bw_npu = device.bandwidth(["NPU"])
    per_thread_bw = bw_cpu / n_compute
    core_macs = device.cpu_macs_per_s({COMPUTE_CLUSTER: 1}, "int8") * INT4_GEMV_EFFICIENCY * SPARSE_GEMV_EFFICIENCY
    row_cap = min(per_thread_bw, row_B * core_macs / d / batch)  # one cold row's bytes at its MAC rate, one thread
    if batch > 1:  # the NPU's rows at its dense rate: 2 ops per weight and sequence
        bw_npu = min(bw_npu, device.npu_ops_per_s(batch) * INT4_B / (2 * batch))
    io_range = fp.top_k * fp.ffn_dim * 2 * READ_B  # one layer's routed bundles on flash
    core = IO_CORE if f.pipeline else COMPUTE_CLUSTER
    t_read_dev = device.stream_time(Stream(1, READ_B, "random", range_B=io_range, core=core))  # issuers: the pool
    attn_B = fp.attn_params / fp.layers * INT4_B + batch * fp.kv_B(context_len) / fp.layers
    # one expert's predictor as an input factor (d x r) and r per neuron, the rank cancelling; estimate: PowerInfer-2
    # publishes only the total (2.6 GB for Mixtral), the two-factor shape is LLM in a flash's low-rank predictor
    # (fpga_phone.md 3(a)) in one precision
    pred_B_expert = mem.predictor_B / fp.layers / fp.experts
    pred_in_B = pred_B_expert * d / (d + fp.ffn_dim)
    pred_col_B = pred_B_expert / (d + fp.ffn_dim)
    t_pref_neuron = device.stream_time(Stream(neuron_B / PREFETCH_B, PREFETCH_B, "sequential"))
    act_copy_B = 2 * d * ACTIVATION_B

    keys, flash_B, dram_B, accesses = [], 0.0, 0.0, 0
    misses, rows = [], []  # per (layer, token): missed and computed neuron rows
    _, routed_experts = _predicted(trace, fp.ffn_dim)
    graph_args = (f, plat.key(), (NPU_ATTENTION_SHARE, NPU_INVOCATION_S, CPU_BARRIER_S, NPU_CALL_HOLDS_THREAD),
                  n_compute, t_read_dev, per_thread_bw, row_cap, bw_npu, act_copy_B)
    graph_args = _interned(graph_args)
    hot_block_misses = _hot_block_misses(trace, fp.ffn_dim, hot_resident // n_hot if n_hot else fp.experts)
    for layer in range(trace.layers):
        cold_per_token, hot_pred_per_token = _cold_predicted(trace, fp.ffn_dim, rank, n_hot, layer)
        # with the neuron cache an LRU cold region, else a fixed resident set by position
        per_token = _cold_clusters(trace, fp.ffn_dim, rank, warm_order, n_hot, layer, f.cache,
                                   cold_capacity if f.cache else per_layer_cache, f.bundle, row_B)
        bookkeeping = _cold_bookkeeping(per_token, row_B, f.cache, f.bundle)
        for t, (clusters, reads, cpu_B, cold_misses) in enumerate(per_token):
            n_cold = len(cold_per_token[t])
            routed = int(routed_experts[layer][t])
            if not f.xpu:
                hot_missing = 0
            elif fp.experts == 1:  # one expert: the resident part of its hot clusters
                hot_missing = max(0, n_hot - hot_resident)
            else:  # the routed experts whose hot clusters the hot region's LRU does not hold
                hot_missing = n_hot * int(hot_block_misses[layer][t])
            npu_B = n_hot * routed * fp.matrices * row_B if f.xpu else 0.0
            work = _Layer(attn_B, npu_B, hot_missing * t_pref_neuron, routed * pred_in_B,
                          routed * (fp.ffn_dim - n_hot) * pred_col_B, clusters, bookkeeping[t])
            keys.append((work,) + graph_args)
            flash_B += reads * READ_B + hot_missing * neuron_B
            dram_B += attn_B + npu_B + work.pred_in_B + work.pred_cols_B + cpu_B
            hot_pred = hot_pred_per_token[t]
            misses.append(cold_misses + (hot_pred * hot_missing // max(1, n_hot * routed)))
            accesses += n_cold + hot_pred
            rows.append(n_cold + n_hot * routed)
    return _HotWork(hot, keys, flash_B, dram_B, misses, rows, accesses)


def _priced(device: Device, fp: Footprint, mem: Memory, f: Features, trace: Trace, plat: Platform, w: _HotWork,
            timed: list[tuple[float, tuple[float, ...], float]], batch: int = 1) -> tuple[TokenCost, list[float], tuple]:
    """The cost at one hot fraction from its graphs' schedules (`_timed`), with the graphs' critical-path flash
    I/O seconds and the inputs of `_tails`; its io_s and tail percentiles (TAIL_KEYS, None here) are left for
    the caller to take for the chosen fraction only."""
    hot, flash_B, dram_B, misses, rows, accesses = w.hot, w.flash_B, w.dram_B, w.misses, w.rows, w.accesses
    scale = fp.layers / trace.layers
    head_s = fp.head_params * INT4_B / device.bandwidth(["CPU", "NPU"] if f.xpu else ["CPU"])
    if batch > 1:  # the head's MACs once per sequence, on the NPU (with the XPU) or the compute threads
        macs_per_s = device.npu_ops_per_s(batch) / 2 if f.xpu else device.cpu_macs_per_s(
            {COMPUTE_CLUSTER: device.cpu.clusters[COMPUTE_CLUSTER].cores}, "int8") * INT4_GEMV_EFFICIENCY
        head_s = max(head_s, batch * fp.head_params / macs_per_s)
    per_layer = np.array([makespan for makespan, _, _ in timed]).reshape(trace.layers, trace.tokens)
    per_token = per_layer.sum(axis=0) * scale + head_s
    latency = float(per_token.mean())
    busy = {name: sum(b[i] for _, b, _ in timed) * scale / trace.tokens for i, (name, _, _) in enumerate(plat.engines)}
    busy["compute"] += head_s
    dram_B = dram_B * scale / trace.tokens + fp.head_params * INT4_B
    flash_B = flash_B * scale / trace.tokens
    energy = decode_energy(busy, latency, dram_B, flash_B)
    tails = (per_layer, misses, rows, head_s)
    return TokenCost("powerinfer2", fp.model_id, device.name, latency, latency, 0.0, 0.0, flash_B, dram_B,
                     energy.total_J,
                     {"hot_fraction": hot, "batch": batch, "miss_rate": sum(misses) / max(accesses, 1),
                      "miss_rate_of_rows": sum(misses) / max(sum(rows), 1), "cache_GB": mem.cache_B / 1e9,
                      **dict.fromkeys(TAIL_KEYS),  # filled by `_tails` for the chosen hot fraction only
                      "busy_s": busy, "energy_parts_J": energy.parts}), [io for _, _, io in timed], tails


TAIL_KEYS = ("latency_P50_s", "latency_P90_s", "latency_P99_s", "miss_rate_of_rows_P99")


def _tails(fp: Footprint, trace: Trace, per_layer: np.ndarray, misses: list, rows: list,
           head_s: float) -> dict[str, float]:
    """The token latency percentiles and the P99 miss rate of rows of one hot fraction's (layer, token) values."""
    shift = fp.facts.activation.token_shift
    tie = (trace.shift, shift.value) if shift is not None and trace.shift is not None else ()
    p50, p90, p99 = np.percentile(_token_distribution(per_layer, fp.layers, *tie) + head_s, [50, 90, 99])
    miss_of_rows = np.reshape(misses, per_layer.shape) / np.maximum(np.reshape(rows, per_layer.shape), 1)
    miss_p99 = float(np.percentile(_token_distribution(miss_of_rows, fp.layers, *tie), 99)) / fp.layers
    return dict(zip(TAIL_KEYS, (float(p50), float(p90), float(p99), miss_p99)))


DISTRIBUTION_TOKENS = 2000  # tokens of the resampled latency distribution


def _token_distribution(x: np.ndarray, layers: int, shift: np.ndarray | None = None,
                        shift_mean: float = 0.0) -> np.ndarray:
    """Per-token sums over ``layers`` layers of a per-layer quantity ``x`` (sampled layers, tokens) for
    DISTRIBUTION_TOKENS tokens. Only the generator's token shift (activations.py; ``shift`` per trace token)
    ties a token's layers: a token's effect is the regression of the trace tokens' layer means on their
    shift, taken at a shift drawn from the generator's own distribution (so the tail is that of the shift,
    not of the trace's few tokens), times ``layers``; around it the layers vary independently, ``layers``
    draws of the within-token residuals (what of a token's variation the shift does not explain is taken
    as independent per layer). Without a shift a token is ``layers`` independent layers. Scaling
    the sampled layers' sum up to all layers instead would multiply the independent spread by
    sqrt(layers / sampled)."""
    sampled, tokens = x.shape
    m = x.mean(axis=0)
    r = (x - m).ravel() * (np.sqrt(sampled / (sampled - 1)) if sampled > 1 else 1.0)
    slope = 0.0
    if shift is not None and tokens > 1 and np.var(shift) > 0:
        slope = float(np.cov(m, shift)[0, 1] / np.var(shift, ddof=1))
    s_draw, draws = _distribution_draws(r.size, layers, float(shift_mean) if shift is not None else 0.0)
    base = m.mean() - slope * (shift.mean() if shift is not None else 0.0)
    return layers * (base + slope * s_draw) + r[draws].sum(axis=1)


@lru_cache(maxsize=16)
def _distribution_draws(samples: int, layers: int, shift_mean: float) -> tuple[np.ndarray, np.ndarray]:
    """`_token_distribution`'s draws (seed 0): a shift per distribution token from the generator's
    distribution (zeros without one), and ``layers`` residual samples each. Read-only."""
    rng = np.random.default_rng(0)
    draws = rng.integers(0, samples, (DISTRIBUTION_TOKENS, layers))
    shift = token_shifts(shift_mean, DISTRIBUTION_TOKENS, rng) if shift_mean > 0 else np.zeros(DISTRIBUTION_TOKENS)
    draws.flags.writeable = False
    shift.flags.writeable = False
    return shift, draws


@dataclass(frozen=True)
class Prefill:
    """One prompt's prefill: seconds, prompt tokens per second, and each engine's busy seconds."""

    prompt: int
    latency_s: float
    busy_s: dict[str, float]

    @property
    def tokens_per_s(self) -> float:
        return self.prompt / self.latency_s


def prefill(device: Device, fp: Footprint, memory_B: float, prompt: int = 512, context_len: int = 128,
            chunk: int = PREFILL_CHUNK, load: str = "sequential") -> Prefill:
    """PowerInfer-2's prefill (fpga_phone.md 2(a)): the NPU runs each whole layer densely (one big cluster, no
    predictor), a static graph of ``chunk`` tokens at a time, while the big core's I/O thread reads the next
    layer's offloaded FFN weights sequentially into a second buffer (layer i+1 loads while layer i
    computes). Every chunk passes through every layer, so the offloaded weights are read once per chunk.

    ``load="random"`` reads the same bytes as decode's on-demand bundle reads instead (READ_B random reads
    over the layer's offloaded share, from the I/O core): the alternative the paper's sequential layer
    prefetch is measured against."""
    if prompt < 1 or chunk < 1:
        raise EinsimError(f"a prefill needs a prompt and a chunk of at least 1 token, got {prompt} and {chunk}")
    if load not in ("sequential", "random"):
        raise EinsimError(f"prefill load must be 'sequential' or 'random', got {load!r}")
    mem = memory_plan(fp, memory_B, context_len)
    plat = _platform(device, device.cpu.clusters[COMPUTE_CLUSTER].cores)
    npu, io = plat.index("npu"), plat.index("io")
    expert_params = fp.ffn_dim * fp.matrices * fp.d_model
    layer_B = (fp.attn_params / fp.layers + fp.experts * expert_params) * INT4_B
    offloaded_B = max(0.0, fp.ffn_params * INT4_WEIGHT_B - mem.cache_B) / fp.layers
    if load == "sequential":
        read_s = device.stream_time(Stream(offloaded_B / PREFETCH_B, PREFETCH_B, "sequential"))
    else:
        read_s = device.stream_time(Stream(offloaded_B / READ_B, READ_B, "random", range_B=offloaded_B, core=IO_CORE))
    # every token runs attention and its routed experts; causal scores and values over the prompt
    ops = 2.0 * prompt * (fp.attn_params / fp.layers + fp.top_k * expert_params) + 2.0 * fp.q_dim * prompt * prompt
    sizes = [min(chunk, prompt - start) for start in range(0, prompt, chunk)]
    g, last, steps = TaskGraph(), [], []
    for size in sizes:
        t_compute = ops * size / prompt / device.npu_ops_per_s(size)  # the chunk's share of the prompt's ops
        for _ in range(fp.layers):
            buffer_free = [steps[-2]] if len(steps) >= 2 else []
            load = [g.add(io, "io", pool=UFS, volume=read_s, deps=buffer_free)] if read_s > 0 else []
            steps.append(g.add(npu, "npu", fixed_s=NPU_INVOCATION_S, pool=DRAM, volume=layer_B,
                               cap=layer_B / t_compute, deps=last + load))
            last = [steps[-1]]
    (s,) = simulate([g], plat)
    return Prefill(prompt, s.makespan, {name: s.busy(i) for i, (name, _, _) in enumerate(plat.engines)})


def prompt_activation(fp: Footprint, prompt: int = 128, layers: int = 1, seed: int = 0) -> float:
    """Share of the FFN neurons (every expert's) active for at least one token of a ``prompt``-token
    sequence, over ``layers`` sampled layers of the model's trace generator: the statistic by which
    PowerInfer-2 runs prefill densely on the NPU, without a predictor (fpga_phone.md 2(a), 2(c))."""
    active = generate(fp, layers, prompt, seed=seed).active
    return float(active.any(axis=0).mean())
