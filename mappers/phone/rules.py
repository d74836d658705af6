"""The phone policies as rules over the general lowering (``cascade.py``), for what their own paths
do not take: a prefill, and a model without activation statistics (a scan, BASED, a decoder
without a ``designs/models/phone/`` sidecar). Each rule says in the result what it does:

- **PowerInfer-2**: its hot/cold neuron split, neuron cache and predictors need activation sparsity.
  Without statistics (and in prefill, where every neuron of a batch is used) the policy is dense:
  weights resident in DRAM up to the budget, the rest streamed sequentially in 512 KiB requests
  by a prefetch one op ahead of compute (its pipeline); MACs over weights on the NPU (a static
  graph per op) or on the mid-core compute threads, whichever the planner finds faster (its hot
  fraction degenerates to all or nothing); the rest on the mid cores (5 on the OnePlus 12).
- **LLM in a flash**: prediction, windowing and bundling need a sparse FFN to predict; without one
  it is the paper's ``hybrid`` step (``naive`` if asked): a share of the weights resident (the
  budget's, else the paper's 50 %), the rest streamed sequentially each token, I/O and compute
  additive, on the CPU (fp32) or the GPU (fp16).
- **llama.cpp**: any model, mmapped: the page cache is an LRU at the budget, so a model larger
  than it misses on every page of its per-token scan; faults block compute; all 8 cores.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from einsim.einsum.models import Decoder, Plan, load_model
from einsim.errors import EinsimError
from einsim.mappers.phone.cascade import Lowered, Rule, lower_plan
from einsim.mappers.phone.facts import load_facts
from einsim.mappers.phone.formats import INT4_B, READAHEAD_B
from einsim.mappers.phone.hardware import Device
from einsim.sim.result import Result

DENSE_SHARE = 0.5  # source: fpga_phone.md 3(a): about half of the model fits in DRAM (LLM in a flash's setup)


def own_path(policy: str, plan: Plan) -> bool:
    """Whether the policy's own (paper) path takes this plan: batch-1 decode of a decoder preset,
    with activation statistics for the sparse policies."""
    return plan.phase == "decode" and _own_path_model(policy, plan.model)


@lru_cache(maxsize=64)
def _own_path_model(policy: str, model_id: str) -> bool:
    """Whether the policy's own path takes this bundled preset in decode: parsed once per process
    (like `footprint`), not at every point of a sweep."""
    if not isinstance(load_model(model_id), Decoder):
        return False
    return policy == "llama.cpp" or load_facts(model_id) is not None


def _why_dense(plan: Plan) -> str:
    if plan.phase == "prefill":
        return "prefill uses every neuron of the batch"
    what = "" if isinstance(load_model(plan.model), Decoder) else f" ({load_model(plan.model).architecture}: no sparse FFN)"
    return f"{plan.model} has no activation statistics (designs/models/phone/){what}"


def powerinfer2_rule(plan: Plan, device: Device, engine: str) -> Rule:
    from einsim.mappers.phone.powerinfer2 import COMPUTE_CLUSTER

    cluster = device.cpu.clusters.get(COMPUTE_CLUSTER)
    if cluster is None:
        raise EinsimError(f"mapper powerinfer2: its compute threads run on a phone SoC's {COMPUTE_CLUSTER!r} cores; "
                          f"{device.name}'s CPU has {', '.join(device.cpu.clusters)}")

    # fpga_phone.md 2, the PowerInfer-2 model: T_prefill = Σ_layer max(T_NPU_dense, T_seqIO), the whole layer on the NPU
    prefill = plan.phase == "prefill"
    macs = "every MAC (the dense layer)" if prefill and engine == "NPU" else "MACs over weights"
    note = (f"powerinfer2: dense fallback, {_why_dense(plan)}: no hot/cold neuron split, neuron cache or predictor; "
            "weights resident up to the budget, the rest streamed sequentially one op ahead of compute; "
            f"{macs} on the {engine}")
    return Rule("powerinfer2", INT4_B, engine, prefill, ((COMPUTE_CLUSTER, cluster.cores),), True, 1, notes=(note,))


def llm_in_a_flash_rule(plan: Plan, weight_B: float, engine: str, config: str, budgeted: bool) -> Rule:
    step = "naive" if config == "naive" else "hybrid"
    share = 0.0 if step == "naive" else (None if budgeted else DENSE_SHARE)
    note = (f"llm-in-a-flash: {_why_dense(plan)}: no predictor, windowing or bundling; runs as its {step} step "
            f"({'every weight streamed' if step == 'naive' else 'a resident share, the rest streamed'} sequentially, "
            f"I/O and compute additive) on the {engine.upper()}")
    return Rule("llm-in-a-flash", weight_B, engine.upper(), False, None, False, 0, resident_share=share,
                cpu_mac_precision="fp32", notes=(note,))


def llama_cpp_rule(plan: Plan) -> Rule:
    from einsim.mappers.phone.naive import THREADS

    note = "llama.cpp: the general phone lowering (mmap page cache at the budget, faults block compute, every core)"
    return Rule("llama.cpp", INT4_B, "CPU", False, None, False, 0, READAHEAD_B, issuers=THREADS, cyclic_lru=True,
                notes=(note,))


def qnn_rule(plan: Plan, device: Device) -> Rule:
    """QNN (Qualcomm's NPU runtime, PowerInfer-2's NPU baseline, fpga_phone.md 2(c)): the whole model as static
    NPU graphs, every MAC (weights and activations) on the NPU, every weight resident in DRAM (no flash
    offload); the element-wise rest on the mid cores beside it."""
    if device.npu is None:
        raise EinsimError(f"mapper qnn: {device.name} has no NPU")
    cluster = device.cpu.clusters.get("mid")
    cores = ((("mid", cluster.cores),) if cluster is not None else None)
    note = f"qnn: static NPU graphs, every MAC on the NPU, every weight resident ({plan.phase})"
    return Rule("qnn", INT4_B, "NPU", True, cores, True, 1, notes=(note,))


def run_rule(policy: str, plan: Plan, device: Device, memory_B: float, options: dict[str, Any]) -> Lowered:
    """The policy's rule over the general lowering (the planner's best where the policy has a choice)."""
    if policy == "powerinfer2":
        engines = ["NPU", "CPU"] if device.npu is not None else ["CPU"]
        return min((lower_plan(plan, device, powerinfer2_rule(plan, device, e), memory_B) for e in engines),
                   key=lambda low: low.latency_s)
    if policy == "llm-in-a-flash":
        rule = llm_in_a_flash_rule(plan, options["weight_B"], options["engine"], options["config"],
                                   memory_B != float("inf"))
        return lower_plan(plan, device, rule, memory_B)
    if policy == "llama.cpp":
        if memory_B == float("inf"):
            raise EinsimError(f"mapper llama.cpp: {device.name} states no DRAM capacity_B or available_B; give memory_GB")
        return lower_plan(plan, device, llama_cpp_rule(plan), memory_B)
    if policy == "qnn":
        low = lower_plan(plan, device, qnn_rule(plan, device), memory_B)
        if low.resident_B < low.weights_B:
            raise EinsimError(f"mapper qnn keeps every weight in DRAM: {plan.model} needs {low.weights_B / 1e9:.3g} GB "
                              f"of weights, {memory_B / 1e9:.3g} GB given")
        return low
    raise EinsimError(f"no general-lowering rule for policy {policy!r}")


def lowered_result(low: Lowered, device: Device) -> Result:
    """The lowering as a Result: latency, energy = device power × latency, DRAM and flash bytes, the
    breakdown compute / flash_io / memory_management (seconds, adding up to the latency), and
    each resource's busy share (engines at their rates, DRAM at the engines' bandwidth, flash)."""
    power = device.power_W or 0.0
    parts = (("compute", low.compute_s), ("flash_io", low.io_s), ("memory_management", 0.0))
    breakdown = [{"component": device.name, "action": action, "count": s, "energy_J": power * s} for action, s in parts]
    busy = low.busy_s()
    return Result(f"{low.policy}:{low.model}@{device.name}", low.latency_s, power * low.latency_s, 0.0,
                  {"DRAM": low.dram_B, "flash": low.flash_B}, busy, {u: low.latency_s for u in busy}, breakdown,
                  list(low.notes) + [f"weights {low.weights_B / 1e9:.3g} GB, {low.resident_B / 1e9:.3g} GB resident in "
                                     f"DRAM; recurrent state {low.state_B / 1e6:.3g} MB, KV cache {low.kv_B / 1e6:.3g} MB"])
