"""The phone back-end's reproduction cases (PowerInfer-2, LLM in a flash, LLMCad) as plain rows.

Each ``*_rows()`` computes its cases through the policies; ``TARGETS`` lists the published
numbers the tests assert, with their tolerances (fpga_phone.md 2(c), 3(c), 4(c)).
"""

from __future__ import annotations

from typing import Any

from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.llmcad import llmcad
from einsim.mappers.phone.llmflash import CONFIGS, Run, llm_in_a_flash
from einsim.mappers.phone.naive import llama_cpp
from einsim.mappers.phone.powerinfer2 import ABLATION, ffn_offload_budget, powerinfer2

MIXTRAL = "turbosparse_mixtral_47b"
BUDGETS_GB = (7, 9, 11, 13, 15, 17, 19)  # fpga_phone.md 2(c): v3 Fig. 10 spans 7 ... 19 GB
OFFLOAD_MODELS = ("bamboo_7b", "llama2_13b", "qwen2_7b")

# published values, fpga_phone.md 2(c) / 3(c) / 4(c)
PAPER = {
    "powerinfer2_19GB": 11.68, "powerinfer2_7GB": 2.13, "llmflash_19GB": 3.74, "llamacpp_19GB": 0.55,
    "speedup_vs_llmflash_19GB": 3.12, "speedup_vs_llmflash_7GB": 1.84,
    "ablation": {"baseline": 0.40, "+bundle": 1.09, "+neuron cache": 4.18, "+pipeline": 9.60, "+xpu": 11.07},
    "offload_50": {"bamboo_7b": (11.1, 2.4, 0.4), "llama2_13b": (5.4, 1.7, 0.2), "qwen2_7b": (9.5, 2.8, 0.4)},
    "llmflash_io_ms": {"naive": 2196, "hybrid": 1090, "predictor": 738, "windowing": 164, "bundling": 87},
    "llmcad_speedup_phone": (3.47, 4.67), "llmcad_s_per_token": 0.86,
}


def _row(case: str, cost, memory_B: float, **extra: Any) -> dict[str, Any]:
    return {"case": case, "model": cost.model, "device": cost.device, "policy": cost.policy,
            "memory_GB": memory_B / 1e9, "tokens_per_s": cost.tokens_per_s, "latency_s": cost.latency_s,
            "io_s": cost.io_s, "compute_s": cost.compute_s, "mem_s": cost.mem_s, "energy_J": cost.energy_J, **extra}


def powerinfer2_rows(budgets_gb: tuple[float, ...] = BUDGETS_GB) -> list[dict[str, Any]]:
    dev = load_device("oneplus12")
    rows = []
    fp = footprint(MIXTRAL)
    for gb in budgets_gb:
        b = gb * 1e9
        rows.append(_row("memory", powerinfer2(dev, fp, b), b))
        rows.append(_row("memory", llm_in_a_flash(dev, fp, "bundling", Run(weight_B=INT4_B), memory_B=b), b))
        rows.append(_row("memory", llama_cpp(dev, fp, b), b))
    for mid in OFFLOAD_MODELS:
        fp = footprint(mid)
        b = ffn_offload_budget(fp, 0.5)
        rows.append(_row("offload50", powerinfer2(dev, fp, b), b))
        rows.append(_row("offload50", llm_in_a_flash(dev, fp, "bundling", Run(weight_B=INT4_B), memory_B=b), b))
        rows.append(_row("offload50", llama_cpp(dev, fp, b), b))
    fp = footprint("bamboo_7b")
    b = ffn_offload_budget(fp, 0.5)
    rows.append(_row("ablation", llama_cpp(dev, fp, b), b, step="baseline"))
    for step, feats in ABLATION:
        rows.append(_row("ablation", powerinfer2(dev, fp, b, feats), b, step=step))
    return rows


def llm_in_a_flash_rows() -> list[dict[str, Any]]:
    dev = load_device("m1max")
    rows = []
    for mid in ("opt_6p7b", "falcon_7b"):
        fp = footprint(mid)
        for engine in ("cpu", "gpu"):
            for config in CONFIGS:
                c = llm_in_a_flash(dev, fp, config, Run(engine=engine))
                rows.append({"model": mid, "device": f"{dev.name.lower()}-{engine}", "config": config,
                             "io_ms": c.io_s * 1e3, "mem_ms": c.mem_s * 1e3, "compute_ms": c.compute_s * 1e3,
                             "total_ms": c.latency_s * 1e3, "flash_GB": c.flash_B / 1e9})
    return rows


def llmcad_rows() -> list[dict[str, Any]]:
    dev = load_device("xiaomi11")
    cad, std = llmcad(dev, footprint("llama2_7b"), footprint("llama2_13b"))
    return [{"model": cad.model, "draft_model": cad.extra["draft_model"], "device": cad.device,
             "memory_GB": cad.extra["memory_B"] / 1e9, "llmcad_s_per_token": cad.latency_s,
             "std_s_per_token": std.latency_s, "speedup": std.latency_s / cad.latency_s,
             "drafted_per_verify": cad.extra["drafted_per_verify"],
             "accepted_per_verify": cad.extra["accepted_per_verify"], "io_s": cad.io_s, "compute_s": cad.compute_s}]


ROWS = {"powerinfer2": powerinfer2_rows, "llm-in-a-flash": llm_in_a_flash_rows, "llmcad": llmcad_rows}


def run(name: str) -> list[dict[str, Any]]:
    """Rows of one reproduction target (``powerinfer2``, ``llm-in-a-flash``, ``llmcad``)."""
    return ROWS[name]()
