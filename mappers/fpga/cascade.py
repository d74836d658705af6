"""Lower any cascade onto an FPGA DSP-chain engine, Einsum by Einsum by its op kind.

Each Einsum becomes the engine's instructions by what it computes:

- a **multiply-accumulate** over a reduction at least one CSD-chain long (GEMM, GEMV, QKᵀ, C·h of
  a scan) runs on the chains: MV mode when each element of its larger operand is used once (one
  activation row), MM mode otherwise. Its larger operand is the one streamed: cut into tiles of
  ``tile_n`` columns, each loaded from HBM (double buffered, as FlightLLM's weight tiles) when it
  is a weight or cache in HBM, or read from on-chip buffers when an earlier Einsum made it;
- anything else (element-wise maps, exp/softplus/SiLU, max/sum reductions, and the outer product
  of a scan's state update, whose reduction is shorter than a chain) is an SFU (MISC) pass over its
  points, ``sfu_lanes`` points per cycle, times the op's passes;
- an Einsum over an **iterative rank** (a scan's recurrent step, a chunk's state pass) is issued
  once per iteration, in order, each step waiting for the state the previous one wrote.

Where the tensors live is the policy's (:class:`Residency`): a standalone cascade loads every
input from HBM and stores every output; inside a model's phase, activations arrive on chip from
the previous operator (always-on-chip, FlightLLM's decode rule and LightMamba's FIFOs), weights
and caches stream from HBM, and in decode a scan's carried state is loaded before its first step
and written back after its last. Init Einsums that only re-index an input (chunking, blocking)
cost nothing: the tensor they read is the one priced.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace

from einsim.einsum import Cascade, Einsum, load_workload, ops_per_point, points
from einsim.einsum.models import Plan
from einsim.mappers.fpga.device import FPGADevice
from einsim.mappers.fpga.lower import TILE_N, Lowered, _Lowering, linear_ops, retiled_chains
from einsim.mappers.fpga.memory import WeightFormat
from einsim.mappers.tensor_roles import mac_shape, model_roles, source_tensor, state_elements


@dataclass(frozen=True)
class Residency:
    """Which tensors of a cascade cross HBM, and at how many bytes per element."""

    standalone: bool = True  # every input loaded, every output stored
    carried_state: bool = False  # decode: iterative state loaded before the scan and stored after it
    act_bytes: float = 1.0  # bytes per element of activations, caches and state (FlightLLM: INT8)
    state_bytes: float = 1.0  # bytes per element of a carried scan state (with its scales)
    weights: frozenset[str] = field(default_factory=frozenset)  # inputs that are weights (weight format applies)
    caches: frozenset[str] = field(default_factory=frozenset)  # inputs in HBM that are not weights (KV cache)

    def in_hbm(self, tensor: str) -> bool:
        return self.standalone or tensor in self.weights or tensor in self.caches


def _phases(cascade: Cascade) -> tuple[list[Einsum], list[Einsum], list[Einsum]]:
    """(before, per iteration, after) in topological order: an Einsum outside the iteration that reads
    anything the iteration wrote runs after it."""
    before: list[Einsum] = []
    loop: list[Einsum] = []
    after: list[Einsum] = []
    late: set[str] = set()
    for e in cascade.topological_order():
        if e.iteration_var is not None and not e.init:
            loop.append(e)
            late.add(e.output)
        elif any(o.tensor in late for o in e.operands):
            after.append(e)
            late.add(e.output)
        else:
            before.append(e)
    return before, loop, after


def lower_cascade(cascade: Cascade, device: FPGADevice, fmt: WeightFormat, residency: Residency,
                  low: _Lowering | None = None, after: tuple = (), tag: str = "",
                  weight_key: str | None = None, on_sfu: bool = False) -> tuple[_Lowering, tuple]:
    """Append ``cascade``'s instructions to ``low`` (a new stream if None); returns it and the
    instructions its outputs are ready after. The weight format is looked up by ``weight_key``
    (a model operator's name) or else by the weight tensor's name. ``on_sfu`` puts every Einsum on
    the SFU, MACs included (a design with a dedicated element-wise unit for the cascade, as
    LightMamba's SSM unit)."""
    low = low or _Lowering(device, fmt, True, device.mv_pn_max, TILE_N)
    ready: dict[str, tuple] = {}  # tensor -> instructions it is ready after
    inputs = set(cascade.inputs)
    state = {t for t, spec in cascade.tensors.items() if spec.iterative}
    loaded: set[str] = set()

    def arrive(tensor: str) -> tuple:
        src = source_tensor(cascade, tensor)
        if src in ready:
            return ready[src]
        if src in state and residency.carried_state and src not in loaded:
            loaded.add(src)
            nbytes = state_elements(cascade, src) * residency.state_bytes
            low.kv_bytes += nbytes
            ready[src] = (low.load(f"{tag}{src}.state", low._share(nbytes)),)
            return ready[src]
        if src in inputs and residency.in_hbm(src):  # read whole: an SFU operand, or an activation
            nbytes = cascade.tensors[src].elements * residency.act_bytes
            if src in residency.weights:
                low.weight_bytes += nbytes
            elif residency.standalone:
                low.act_bytes += nbytes
            else:
                low.kv_bytes += nbytes
            ready[src] = (low.load(f"{tag}{src}", low._share(nbytes)),)  # an input waits for nothing
            return ready[src]
        return after

    def issue(e: Einsum) -> None:
        if e.init and len(e.operands) <= 1:
            return  # a re-indexing or a zero initial state: priced where it is read
        steps = cascade.iterations.get(e.iteration_var, 1) if e.iteration_var and not e.init else 1
        name = f"{tag}{e.name}"
        shape = mac_shape(cascade, e)
        on_chains = not on_sfu and shape is not None and shape[1] >= device.chain.length
        src = source_tensor(cascade, shape[3]) if on_chains else None
        streamed = (src is not None and src in inputs and src not in ready and src not in state
                    and residency.in_hbm(src))
        deps = tuple(sorted({i for o in e.operands if not (streamed and source_tensor(cascade, o.tensor) == src)
                             for i in arrive(o.tensor)}))
        if on_chains:
            m, k, n, _ = shape
            if src in residency.weights:
                key = weight_key or src
                per, pattern = fmt.bytes_per_weight(key), fmt.pattern(key)
                low.weight_bytes += k * n * per
            else:
                per, pattern = residency.act_bytes, None
                if streamed:
                    if residency.standalone:
                        low.act_bytes += k * n * per
                    else:
                        low.kv_bytes += k * n * per
            last = low.mac(name, m, k, n, deps, pattern, per if streamed else None)
        else:
            kind = max(ops_per_point(e), key=lambda op: device.sfu_passes.get(op, 1), default="elementwise")
            last = low.misc(name, math.ceil(points(e) / steps), kind, deps)
        ready[e.output] = (last,)

    before, loop, post = _phases(cascade)
    for e in before:
        issue(e)
    for _ in range(max([1, *cascade.iterations.values()]) if loop else 0):
        for e in loop:
            issue(e)
    for e in post:
        issue(e)
    outs = tuple(sorted({i for t in cascade.outputs for i in ready.get(t, after)}))
    if residency.standalone:
        stores = []
        for t in cascade.outputs:
            nbytes = cascade.tensors[t].elements * residency.act_bytes
            low.act_bytes += nbytes
            stores.append(low.store(f"{tag}{t}", low._share(nbytes), ready.get(t, after)))
        outs = tuple(stores)
    if residency.carried_state:
        for t in sorted(loaded):
            nbytes = state_elements(cascade, t) * residency.state_bytes
            low.kv_bytes += nbytes
            low.store(f"{tag}{t}.state", low._share(nbytes), ready.get(t, after))
    return low, outs


@functools.lru_cache(maxsize=256)
def _workload(name: str, bindings: tuple[tuple[str, int], ...]) -> Cascade:
    return load_workload(name, dict(bindings))



@dataclass(frozen=True)
class ModelPolicy:
    """A mapping policy's choices for a whole model: weight format, tile width, MV chains."""

    fmt: WeightFormat
    tile_n: int = TILE_N
    retile: bool = False  # FlightLLM's rule: MV re-tiled so double buffering hides every weight load
    act_bytes: float = 1.0
    state_bytes: float = 1.0


def lower_model(plan: Plan, device: FPGADevice, policy: ModelPolicy) -> Lowered:
    """A model phase (the expanded Plan) as one stream: every operator's cascade lowered in turn,
    activations on chip between operators, weights streamed (in the format the policy keys by
    operator name), a decode scan's state loaded and written back."""
    fmt = policy.fmt
    pn = device.mv_pn_max
    if policy.retile:
        pn = retiled_chains([(name, k * n * times) for name, _, k, n, times in linear_ops(plan)], fmt, device)
    low = _Lowering(device, fmt, True, pn, policy.tile_n)
    residency = Residency(standalone=False, carried_state=plan.phase == "decode", act_bytes=policy.act_bytes,
                          state_bytes=policy.state_bytes)
    after: tuple = ()
    groups = [(lt.layers, lt.ops) for lt in plan.layer_types] + [(1, list(plan.head))]
    for count, layer_ops in groups:
        for _ in range(count):
            for op in layer_ops:
                c = _workload(op.workload, tuple(sorted(op.bindings.items())))
                res = replace(residency, **model_roles(c, op.workload))
                for _ in range(op.count):
                    _, after = lower_cascade(c, device, fmt, res, low, after, f"{op.name}.", weight_key=op.name)
    return finish(low)


def finish(low: _Lowering) -> Lowered:
    """The stream with what the whole device moves."""
    return Lowered(low.p, low.weight_bytes + low.kv_bytes + low.act_bytes, low.weight_bytes, low.kv_bytes,
                   low.act_bytes, low.pn)
