"""The phone lowering of any model phase: every tensor placed, every Einsum bound to an engine, the
flash I/O of streamed weights pipelined with compute.

A model phase (the expanded :class:`~einsim.einsum.models.Plan`) is a sequence of ops, each a
bundled cascade. Per op:

- **tensors** by role (the FPGA lowering's rule, ``einsim.mappers.fpga.cascade``): weights (inputs
  that do not lead with the token rank), the KV cache (in decode, the operands attention's MACs
  stream), the **recurrent state** (a scan's iterative tensors: in decode read and written once
  per token, in prefill carried on chip across the scan's steps and written once at the end, the
  state decode starts from), and activations (the op's other inputs and its outputs, through DRAM
  between ops; an op's intermediates stay in the engine's caches, one fused kernel per op);
- **placement**: activations, KV cache and state in DRAM; weights in DRAM up to what the budget
  leaves after them and the runtime, the rest on flash, read each time the op runs (the policy's
  neuron cache, when the model has the activation statistics to fill one, is the policies' own
  path: ``powerinfer2.py``, ``llmflash.py``);
- **binding** by the engines' capabilities (the phone YAMLs declare no op tables): a MAC over a
  weight is a dense tensor op at the weights' precision, bound to the policy's matrix engine (the
  NPU runs static graphs of INT4 weights; the GPU at its peak for the precision; else the CPU's
  SIMD cores); everything else (element-wise maps, softmax, the scan's state update, MACs over the
  KV cache or the state, which are fp16/fp32 activations) runs on the CPU's fp32 lanes;
- **time** per engine of an op: the larger of its operations at the engine's rate and its DRAM
  bytes at the bandwidth that engine achieves (``bandwidth_by_engines``), plus one NPU graph
  execution per op on the NPU; the engines of one op run one after the other (batch 1: each waits
  for the other's output);
- **pipeline**: op by op, the flash read of an op's streamed weights may run ahead of compute by
  ``depth`` ops (a prefetch) or block it (page faults); the token's latency is the end of the last
  op's compute.

A MoE op (bindings ``R`` and ``TOPK``, ``moe_ffn``) is written densely: its expert Einsums' MACs
count at ``TOPK / R`` and an expert's weights are read when at least one token routes to it
(uniform routing: ``1 - (1 - TOPK/R)^tokens`` of them).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

from einsim.einsum import Cascade, Einsum, load_workload, ops_per_point, points
from einsim.einsum.models import Plan
from einsim.errors import EinsimError
from einsim.mappers.tensor_roles import model_roles, source_tensor, state_elements
from einsim.mappers.phone.formats import INT4_B, RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.mappers.phone.overheads import INT4_GEMV_EFFICIENCY, NPU_INVOCATION_S

# Activations between ops in fp16. source: estimate, llama.cpp and PowerInfer keep activations in fp16 or fp32
# (range 2-4 B); a Mamba-2 2.7B decode token moves 4.1 MB of activations in 1.86 GB at 2 B (0.2 %), 0.4 % at 4 B.
ACT_B = 2.0
# KV cache in fp16. source: as Footprint.kv_B, llama.cpp's default cache type f16.
KV_B = 2.0
# The recurrent state in fp32. source: scan_workloads.md §2.1 (Mamba-1): "SSM state: E·N values, kept fp32 in the kernels";
# range 2-4 B (an fp16 cache): at 2 B Mamba-2 2.7B's decode state traffic halves (336 -> 168 MB per token) and its
# OnePlus 12 decode token takes 31.0 ms instead of 34.8 ms (PowerInfer-2's rule); prefill does not change.
STATE_B = 4.0
# CPU SIMD lane operations per point of a transcendental (exp, softplus, SiLU, GELU): a vectorised polynomial
# with range reduction. source: estimate, range 5-20 (ggml's vectorised expf is ~10 FMA-class ops). Mamba-2 2.7B on the
# OnePlus 12 (PowerInfer-2's rule): decode unchanged at either end (the CPU's scan work is bound by the state's bytes);
# a 512-token prefill 321.5 ms at 5, 335.9 ms at 10, 364.6 ms at 20.
TRANSCENDENTAL_LANE_OPS = 10
TRANSCENDENTAL = frozenset({"exp", "softplus", "silu", "gelu"})
PREFETCH_BLOCK_B = 512 * 1024  # sequential read request: the largest block of the UFS table (PowerInfer-2's PREFETCH_B)


@dataclass(frozen=True)
class Rule:
    """What a policy decides over the lowering."""

    policy: str
    weight_B: float = INT4_B  # bytes per weight, in DRAM and on flash
    matrix_engine: str = "NPU"  # engine of MACs over weights (the CPU when the design has no such engine)
    all_macs: bool = False  # the matrix engine also takes MACs over activations (attention, a scan's chunk GEMMs)
    cpu_cores: tuple[tuple[str, int], ...] | None = None  # (cluster, cores) running CPU work; None: every core
    overlap: bool = True  # flash reads prefetched under compute (else they block it: page faults)
    depth: int = 1  # ops a prefetch may run ahead of compute
    block_B: float = PREFETCH_BLOCK_B
    pattern: str = "sequential"
    io_core: str | None = None
    issuers: int = 1
    resident_share: float | None = None  # at most this share of the weights resident
    cyclic_lru: bool = False  # an LRU page cache: a per-token scan larger than it hits nothing
    cpu_mac_precision: str | None = None  # CPU rate of MACs over weights; None: int8 SDOT for INT4, else fp32
    notes: tuple[str, ...] = ()


@dataclass
class Work:
    """One engine's part of one op: operations at its rate, DRAM bytes at its bandwidth."""

    ops: float = 0.0  # MACs on a matrix engine, lane operations on the CPU
    dram_B: float = 0.0
    einsums: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OpLowering:
    """One op's cascade placed and bound."""

    name: str
    work: dict[str, Work]  # engine -> its work ("matrix" for MACs over weights, "CPU" for the rest)
    weight_B: float  # weight bytes one execution reads (a MoE: the routed experts')
    stored_B: float  # weight bytes the op holds (DRAM or flash)
    kv_B: float
    state_B: float  # DRAM bytes of the recurrent state (read + write in decode)
    state_resident_B: float  # bytes of state this op keeps in DRAM between tokens
    act_B: float


@dataclass(frozen=True)
class Step:
    """One execution of one op in the token's order."""

    name: str
    compute_s: float
    io_s: float
    flash_B: float
    dram_B: float
    engine_s: dict[str, float]  # engine -> seconds its operations take at its rate
    mem_s: float  # seconds the engines' DRAM bytes take at their bandwidth (overlapping the operations)


@dataclass(frozen=True)
class Lowered:
    """A model phase on a phone: the steps, the pipeline's latency and what it moved."""

    policy: str
    model: str
    device: str
    steps: tuple[Step, ...]
    latency_s: float
    weights_B: float
    resident_B: float
    state_B: float  # recurrent state in DRAM (all layers)
    kv_B: float
    matrix_engine: str
    notes: tuple[str, ...]

    @property
    def compute_s(self) -> float:
        return sum(s.compute_s for s in self.steps)

    @property
    def io_s(self) -> float:
        """Flash time on the critical path."""
        return self.latency_s - self.compute_s

    @property
    def flash_B(self) -> float:
        return sum(s.flash_B for s in self.steps)

    @property
    def dram_B(self) -> float:
        return sum(s.dram_B for s in self.steps)

    def busy_s(self) -> dict[str, float]:
        """Seconds each resource is busy: engines at their rates, DRAM at the engines' bandwidth, flash."""
        busy: dict[str, float] = {"DRAM": sum(s.mem_s for s in self.steps), "flash": sum(s.io_s for s in self.steps)}
        for s in self.steps:
            for engine, t in s.engine_s.items():
                busy[engine] = busy.get(engine, 0.0) + t
        return busy


@functools.lru_cache(maxsize=256)
def _workload(name: str, bindings: tuple[tuple[str, int], ...]) -> Cascade:
    return load_workload(name, dict(bindings))


def _lane_ops(e: Einsum) -> float:
    return sum(n * (TRANSCENDENTAL_LANE_OPS if op in TRANSCENDENTAL else 1) for op, n in ops_per_point(e).items())


def lower_op(name: str, c: Cascade, decode: bool, weight_B: float, all_macs: bool = False) -> OpLowering:
    """Place one op's tensors and bind its Einsums ("matrix" engine or "CPU"); see the module docstring.
    ``all_macs``: the matrix engine takes every MAC Einsum, over activations too (a policy's rule)."""
    bindings = {**c.ranks, **c.params}
    roles = model_roles(c, c.name)
    weights = roles["weights"]
    attention = bool(roles["caches"])
    caches = roles["caches"] if decode else frozenset()
    state = frozenset() if attention else frozenset(t for t, s in c.tensors.items() if s.iterative)
    routed = bindings.get("TOPK", 0) / bindings["R"] if "R" in bindings and "TOPK" in bindings else 1.0
    tokens = next((bindings[k] for k in ("M", "T") if k in bindings), 1)
    touched = 1.0 - (1.0 - routed) ** tokens  # share of the experts at least one token routes to
    work = {"matrix": Work(), "CPU": Work()}
    charged: set[str] = set()
    weight_total = kv_total = act_total = stored = 0.0

    def expert(e: Einsum) -> bool:
        return routed < 1.0 and "r" in e.space and "i" in e.space

    for e in c.einsums:
        if e.init and len(e.operands) <= 1:
            continue  # a re-indexing or the zero initial state: priced where it is read
        sources = [source_tensor(c, o.tensor) for o in e.operands]
        mac = ops_per_point(e).get("mac", 0)
        on_matrix = bool(mac) and (all_macs or any(s in weights for s in sources))
        w = work["matrix" if on_matrix else "CPU"]
        share = routed if expert(e) else 1.0
        w.ops += points(e) * share * (mac if on_matrix else _lane_ops(e))
        w.einsums.append(e.name)
        for s in sources:
            if s in charged or s not in c.inputs:
                continue
            charged.add(s)
            elements = c.tensors[s].elements
            if s in weights:
                stored += elements * weight_B
                nbytes = elements * weight_B * (touched if expert(e) else 1.0)
                weight_total += nbytes
            elif s in caches:
                nbytes = elements * KV_B
                kv_total += nbytes
            else:
                nbytes = elements * ACT_B
                act_total += nbytes
            w.dram_B += nbytes
    out_B = sum(c.tensors[t].elements for t in c.outputs) * ACT_B
    act_total += out_B
    last = work["matrix"] if any(c.writers(t) and c.writers(t)[-1].name in work["matrix"].einsums
                                 for t in c.outputs) else work["CPU"]
    last.dram_B += out_B
    state_n = sum(state_elements(c, t) for t in state)
    state_B = state_n * STATE_B * (2 if decode else 1)  # decode: read and write; prefill: write the last
    work["CPU"].dram_B += state_B
    return OpLowering(name, {k: v for k, v in work.items() if v.einsums}, weight_total, stored, kv_total, state_B,
                      state_n * STATE_B, act_total)


def _matrix_engine(device: Device, rule: Rule) -> str:
    engine = rule.matrix_engine
    if engine == "NPU" and device.npu is None or engine == "GPU" and device.gpu is None:
        return "CPU"
    return engine


def _cpu_cores(device: Device, rule: Rule) -> dict[str, int]:
    return dict(rule.cpu_cores) if rule.cpu_cores is not None else {n: c.cores for n, c in device.cpu.clusters.items()}


def _rates(device: Device, rule: Rule, engine: str, tokens: int) -> tuple[float, float]:
    """(MAC/s of a MAC over weights on ``engine``, CPU lane ops/s)."""
    cores = _cpu_cores(device, rule)
    lanes = device.cpu_macs_per_s(cores, "fp32")
    int4 = rule.weight_B <= INT4_B
    if engine == "NPU":
        return device.npu_ops_per_s(tokens) / 2.0, lanes
    if engine == "GPU":
        precision = "int4" if int4 else "fp16"
        peak = device.gpu.peak_ops_per_s.get(precision) if device.gpu is not None else None
        if peak is None:
            raise EinsimError(f"mapper {rule.policy}: {device.name}'s GPU states no {precision} rate (peak_ops_per_s)")
        return peak / 2.0, lanes
    if rule.cpu_mac_precision is not None:
        return device.cpu_macs_per_s(cores, rule.cpu_mac_precision), lanes
    if int4:  # INT4 weights unpacked to int8 SDOT
        return device.cpu_macs_per_s(cores, "int8") * INT4_GEMV_EFFICIENCY, lanes
    return lanes, lanes


def _ops(plan: Plan) -> list[tuple[str, str, dict[str, int], int]]:
    """(name, workload, bindings, executions) per op in the token's order, layers unrolled."""
    order = []
    for lt in plan.layer_types:
        for layer in range(lt.layers):
            for op in lt.ops:
                order.append((f"{lt.name}{layer}.{op.name}", op.workload, dict(op.bindings), op.count))
    order += [(op.name, op.workload, dict(op.bindings), op.count) for op in plan.head]
    return order


def _pipeline(io: list[float], compute: list[float], overlap: bool, depth: int) -> float:
    """End of the last compute: op i's read follows read i-1 and, prefetched, waits for compute i-1-depth to free
    its buffer (else for compute i-1: a fault blocks); its compute follows its read and compute i-1."""
    io_end = [0.0] * len(io)
    comp_end = [0.0] * len(io)
    for i, (t_io, t_c) in enumerate(zip(io, compute)):
        prev_io = io_end[i - 1] if i else 0.0
        gate = i - 1 - depth if overlap else i - 1
        free = comp_end[gate] if gate >= 0 else 0.0
        io_end[i] = max(prev_io, free) + t_io
        comp_end[i] = max(comp_end[i - 1] if i else 0.0, io_end[i]) + t_c
    return comp_end[-1] if comp_end else 0.0


def lower_plan(plan: Plan, device: Device, rule: Rule, memory_B: float) -> Lowered:
    """The whole phase under ``rule`` with ``memory_B`` of DRAM; raises the physical reason it cannot run."""
    decode = plan.phase == "decode"
    order = _ops(plan)
    lowered = {}
    for name, workload, bindings, _ in order:
        key = (workload, tuple(sorted(bindings.items())))
        if key not in lowered:
            lowered[key] = lower_op(name.split(".", 1)[-1], _workload(*key), decode, rule.weight_B, rule.all_macs)
    ops = [(name, lowered[(w, tuple(sorted(b.items())))], count) for name, w, b, count in order]
    return run_ops(ops, plan.model, plan.tokens, device, rule, memory_B)


def lower_workload(cascade: Cascade, device: Device, rule: Rule, memory_B: float) -> Lowered:
    """One cascade on its own: every input read from DRAM (weights placed as in a model), every output written."""
    tokens = next((cascade.ranks[k] for k in ("M", "T") if k in cascade.ranks), 1)
    op = lower_op(cascade.name, cascade, False, rule.weight_B, rule.all_macs)
    return run_ops([(cascade.name, op, 1)], cascade.name, tokens, device, rule, memory_B)


def run_ops(ops: list[tuple[str, OpLowering, int]], model: str, tokens: int, device: Device, rule: Rule,
            memory_B: float) -> Lowered:
    """Place the weights of ``ops`` (in order, ``count`` executions each) and pipeline them."""
    engine = _matrix_engine(device, rule)
    weights = sum(op.stored_B * n for _, op, n in ops)
    kv = sum(op.kv_B * n for _, op, n in ops)
    state = sum(op.state_resident_B * n for _, op, n in ops)
    buffers = max((op.act_B for _, op, _ in ops), default=0.0)
    room = memory_B - RUNTIME_B - kv - state - buffers
    if room < 0:
        raise EinsimError(f"{model}: the runtime ({RUNTIME_B / 1e9:.3g} GB), KV cache ({kv / 1e9:.3g} GB), recurrent "
                          f"state ({state / 1e9:.3g} GB) and activation buffers ({buffers / 1e9:.3g} GB) exceed the "
                          f"{memory_B / 1e9:.3g} GB of DRAM before any weight")
    resident = min(weights, room, weights * rule.resident_share if rule.resident_share is not None else math.inf)
    if rule.cyclic_lru and weights > room:
        resident = 0.0  # every page of a cyclic scan larger than the LRU is evicted before its reuse
    mac_rate, lane_rate = _rates(device, rule, engine, tokens)
    bw = {e: device.bandwidth([e]) for e in {engine, "CPU"}}
    steps: list[Step] = []
    left = resident
    for name, op, count in ops:
        for _ in range(count):
            kept = min(left, op.stored_B)
            left -= kept
            streamed = op.weight_B * (1.0 - kept / op.stored_B) if op.stored_B else 0.0
            io_s = device.stream_time(Stream(streamed / rule.block_B, rule.block_B, rule.pattern,  # type: ignore[arg-type]
                                             core=rule.io_core, issuers=rule.issuers)) if streamed > 0 else 0.0
            compute_s = mem_s = 0.0
            engine_s: dict[str, float] = {}
            dram = 0.0
            for part, w in op.work.items():
                unit = engine if part == "matrix" else "CPU"
                ops_s = w.ops / (mac_rate if part == "matrix" else lane_rate)
                if unit == "NPU":
                    ops_s += NPU_INVOCATION_S
                dram_s = w.dram_B / bw[unit]
                compute_s += max(ops_s, dram_s)
                mem_s += dram_s
                engine_s[unit] = engine_s.get(unit, 0.0) + ops_s
                dram += w.dram_B
            steps.append(Step(name, compute_s, io_s, streamed, dram, engine_s, mem_s))
    latency = _pipeline([s.io_s for s in steps], [s.compute_s for s in steps], rule.overlap, rule.depth)
    return Lowered(rule.policy, model, device.name, tuple(steps), latency, weights, resident, state, kv, engine,
                   rule.notes)
