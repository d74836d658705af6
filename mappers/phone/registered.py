"""The phone policies as registry mappers ``llama.cpp``, ``llm-in-a-flash`` and ``powerinfer2``: the
mean per-token decode cost (batch 1) of a whole decoder model preset on a phone or laptop design.

    einsim eval --arch oneplus12 --model turbosparse_mixtral_47b --phase decode --seq 128 \\
        --mapper powerinfer2 --mapper-option memory_GB=12

They take the whole model (``takes_model``); ``seq`` is the KV-cache length. Options:

- ``memory_GB``: the DRAM budget of the process in 10^9 B (default: the design's ``available_B``,
  which it may not exceed);
- ``trace_seed``: seed of the activation trace (default 0, as the reproduction). It is not the
  sweep's per-point ``seed``, so every point of a sweep sees the same trace and differences
  between points come from the design, not from trace noise;
- ``llm-in-a-flash`` only: ``config`` (an ablation step, default ``bundling``), ``engine``
  (``cpu`` or ``gpu``) and ``weights`` (``int4`` as in the PowerInfer-2 comparison, or ``fp16``).

The Result: latency of one token, the policy's energy (PowerInfer-2: per-engine busy time × power,
mappers/phone/power.py; the others: device power × latency, 0 without ``power_W``), bytes
read from DRAM by compute and from flash, a breakdown of the token into ``compute``, ``flash_io``
(on the critical path) and ``memory_management`` whose ``count`` is seconds (the three add up to
the latency; the energy is shared among them in proportion), and the bandwidth utilization of ``DRAM`` and ``flash`` against their peaks.

A prefill, or a model without the activation statistics a policy's own path needs (a scan, BASED,
a decoder without a ``designs/models/phone/`` sidecar), runs the policy's rule over the general
phone lowering (``rules.py``, ``cascade.py``); the result's notes say what the rule did. ``phone``
maps one workload (a cascade) through the same lowering without a paper's rules.
"""

from __future__ import annotations

from typing import Any, Callable

from einsim.arch import CPU, DRAM, GPU, NPU, Architecture, Flash
from einsim.einsum import Cascade
from einsim.einsum.models import Plan
from einsim.errors import EinsimError
from einsim.mappers.phone.cost import TokenCost
from einsim.mappers.phone.footprint import Footprint, footprint
from einsim.mappers.phone.formats import INT4_B
from einsim.mappers.phone.hardware import Device, _one
from einsim.mappers.phone.llmflash import CONFIGS, Run, llm_in_a_flash
from einsim.mappers.phone.rules import lowered_result, own_path, run_rule
from einsim.mappers.registry import register
from einsim.sim.result import Result

WEIGHT_B = {"int4": INT4_B, "fp16": 2.0}
PARTS = (("compute", "compute_s"), ("flash_io", "io_s"), ("memory_management", "mem_s"))


def device_of(arch: Architecture) -> Device:
    return Device(arch, _one(arch, DRAM), _one(arch, Flash), _one(arch, CPU), _one(arch, NPU, True), _one(arch, GPU, True))


def to_result(cost: TokenCost, device: Device) -> Result:
    energy = cost.energy_J or 0.0  # shared among the parts in proportion to their seconds
    breakdown = [{"component": device.name, "action": action, "count": getattr(cost, attr),
                  "energy_J": energy * getattr(cost, attr) / cost.latency_s} for action, attr in PARTS]
    flash_peak = max(p.throughput_Bps for p in device.flash.read_throughput)
    busy = {"DRAM": cost.dram_B / device.dram.bandwidth_Bps, "flash": cost.flash_B / flash_peak}
    return Result(f"{cost.policy}:{cost.model}@{device.name}", cost.latency_s, cost.energy_J or 0.0, 0.0,
                  {"DRAM": cost.dram_B, "flash": cost.flash_B}, busy, {u: cost.latency_s for u in busy}, breakdown)


def _budget_B(name: str, device: Device, memory_GB: Any) -> float:
    if memory_GB is None:
        return device.available_B
    if isinstance(memory_GB, bool) or not isinstance(memory_GB, (int, float)) or memory_GB <= 0:
        raise EinsimError(f"mapper {name}: memory_GB must be a positive number of GB (10^9 B), got {memory_GB!r}")
    if memory_GB * 1e9 > device.available_B:
        raise EinsimError(f"mapper {name}: memory_GB={memory_GB} exceeds the {device.available_B / 1e9:g} GB "
                          f"{device.name} leaves to an app (DRAM available_B)")
    return memory_GB * 1e9


Policy = Callable[[Device, Footprint, float, int, int, dict[str, Any]], TokenCost]


def _llama_cpp(device: Device, fp: Footprint, memory_B: float, seed: int, context_len: int,
               options: dict[str, Any]) -> TokenCost:
    # the policies load numba kernels: imported when they run, so loading the registry stays fast
    from einsim.mappers.phone.naive import llama_cpp

    if memory_B == float("inf"):  # its page cache is sized by the DRAM budget
        raise EinsimError(f"mapper llama.cpp: {device.name} states no DRAM capacity_B or available_B; give memory_GB")
    return llama_cpp(device, fp, memory_B, seed=seed, context_len=context_len)


def _powerinfer2(device: Device, fp: Footprint, memory_B: float, seed: int, context_len: int,
                 options: dict[str, Any]) -> TokenCost:
    from einsim.mappers.phone.powerinfer2 import powerinfer2

    return powerinfer2(device, fp, memory_B, seed=seed, context_len=context_len)


def _llm_in_a_flash_options(options: dict[str, Any]) -> tuple[str, str, str]:
    config, engine, weights = options.get("config", "bundling"), options.get("engine", "cpu"), options.get("weights", "int4")
    if engine not in ("cpu", "gpu"):
        raise EinsimError(f"mapper llm-in-a-flash: engine must be 'cpu' or 'gpu', got {engine!r}")
    if weights not in WEIGHT_B:
        raise EinsimError(f"mapper llm-in-a-flash: weights must be one of {', '.join(WEIGHT_B)}, got {weights!r}")
    if config not in CONFIGS:
        raise EinsimError(f"mapper llm-in-a-flash: config must be one of {', '.join(CONFIGS)}, got {config!r}")
    return config, engine, weights


def _llm_in_a_flash(device: Device, fp: Footprint, memory_B: float, seed: int, context_len: int,
                    options: dict[str, Any]) -> TokenCost:
    config, engine, weights = _llm_in_a_flash_options(options)
    run = Run(weight_B=WEIGHT_B[weights], engine=engine, context_len=context_len)
    return llm_in_a_flash(device, fp, config, run, seed=seed, memory_B=memory_B)


def _llm_in_a_flash_general(options: dict[str, Any]) -> dict[str, Any]:
    config, engine, weights = _llm_in_a_flash_options(options)
    return {"config": config, "engine": engine, "weight_B": WEIGHT_B[weights]}


def _make(name: str, policy: Policy, extra: tuple[str, ...] = (),
          general: Callable[[dict[str, Any]], dict[str, Any]] = dict):
    valid = ("memory_GB", "trace_seed") + extra

    def mapper(arch: Architecture, plan: Plan, memory_GB: float | None = None, trace_seed: int = 0,
               **options: Any) -> Result:
        unknown = [k for k in options if k not in extra]
        if unknown:
            raise EinsimError(f"mapper {name}: unknown option(s) {', '.join(unknown)} (valid: {', '.join(valid)})")
        if not isinstance(plan, Plan) or plan.batch != 1:
            raise EinsimError(f"mapper {name} models batch 1 of a whole model: give a model, its phase and seq_len")
        if isinstance(trace_seed, bool) or not isinstance(trace_seed, int):
            raise EinsimError(f"mapper {name}: trace_seed must be an integer, got {trace_seed!r}")
        device = device_of(arch)
        memory_B = _budget_B(name, device, memory_GB)
        if not own_path(name, plan):  # a prefill, or a model without the statistics the policy's own path needs
            return lowered_result(run_rule(name, plan, device, memory_B, general(options)), device)
        assert plan.context_len is not None
        cost = policy(device, footprint(plan.model), memory_B, trace_seed, plan.context_len, options)
        return to_result(cost, device)

    mapper.__name__ = name.replace(".", "_").replace("-", "_")
    mapper.__doc__ = f"The {name} policy of einsim.mappers.phone as a whole-model mapper (see the module docstring)."
    mapper.takes_model = True  # type: ignore[attr-defined]
    return register(name)(mapper)


_make("llama.cpp", _llama_cpp)
_make("llm-in-a-flash", _llm_in_a_flash, ("config", "engine", "weights"), _llm_in_a_flash_general)
_make("powerinfer2", _powerinfer2)


@register("qnn")
def qnn(arch: Architecture, plan: Plan, memory_GB: float | None = None, **options: Any) -> Result:
    """QNN, PowerInfer-2's NPU baseline, over the general phone lowering (`rules.qnn_rule`): a model's decode or
    prefill (any batch) with every MAC on the NPU and every weight in DRAM (refused when they do not fit
    ``memory_GB``)."""
    if options:
        raise EinsimError(f"mapper qnn: unknown option(s) {', '.join(options)} (valid: memory_GB)")
    if not isinstance(plan, Plan):
        raise EinsimError("mapper qnn models a whole model: give a model, its phase and seq_len")
    device = device_of(arch)
    return lowered_result(run_rule("qnn", plan, device, _budget_B("qnn", device, memory_GB), {}), device)


qnn.takes_model = True  # type: ignore[attr-defined]


@register("phone")
def phone(arch: Architecture, cascade: Cascade, engine: str = "npu", memory_GB: float | None = None,
          **options: Any) -> Result:
    """Any cascade on a phone or laptop design through the general lowering (`mappers/phone/cascade.py`),
    without a paper's rules: every input read from DRAM and every output written, INT4 weights (on flash
    beyond the budget, prefetched one op ahead), MACs over weights on ``engine`` (npu, gpu or cpu; the
    CPU when the design has no such engine), everything else on every CPU core."""
    from einsim.mappers.phone.cascade import Rule, lower_workload

    if options:
        raise EinsimError(f"mapper phone: unknown option(s) {', '.join(options)} (valid: engine, memory_GB)")
    if not isinstance(cascade, Cascade):
        raise EinsimError("mapper phone maps a workload (a cascade); for a whole model use a policy "
                          "(--mapper powerinfer2, llm-in-a-flash or llama.cpp)")
    if engine not in ("npu", "gpu", "cpu"):
        raise EinsimError(f"mapper phone: engine must be 'npu', 'gpu' or 'cpu', got {engine!r}")
    device = device_of(arch)
    rule = Rule("phone", matrix_engine=engine.upper())
    return lowered_result(lower_workload(cascade, device, rule, _budget_B("phone", device, memory_GB)), device)
