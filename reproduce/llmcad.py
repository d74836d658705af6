"""LLMCad (Xu et al., arXiv 2309.04255 v1): published numbers beside the phone model's.

Sources: ../shared/reference/fpga_phone.md §4 (full text read there, [P]). ``run`` gives the row of
``einsim reproduce llmcad --json`` (LLaMA2-13B verified, LLaMA2-7B drafting, on the Xiaomi 11);
``compare`` one row per published number. The IoT (Jetson) results have no device here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from einsim.mappers.phone.cost import TokenCost
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.llmcad import LOAD_CONTENTION, llmcad
from einsim.reproduce.compare import CompareRow, compare_table, published_range

PAPER_NAME = "LLMCad"
SRC = "fpga_phone.md 4(c), LLMCad v1 [P]"

# --- published values (fpga_phone.md 4(a), 4(c)) -------------------------------------------------
SPEEDUP_PHONES = (3.47, 4.67)  # vs Std (target model alone), phones
S_PER_TOKEN = 0.86  # LLaMA2-13B INT4 QA, Xiaomi 11
DISK_IO_SHARE = (0.959, 0.988)  # of the inference time once the model does not fit (Std)
SPEEDUP_RANGES = {"vs Std, IoT devices": (2.9, 9.3), "vs StdPL": (2.9, 9.3), "vs STI (phones)": (1.83, 2.45),
                  "vs speculative decoding (IoT)": (1.93, 2.00), "vs speculative decoding (phones)": (1.34, 1.77),
                  "vs BLD (IoT)": (1.1, 1.4), "vs BLD (phones)": (1.1, 1.3)}
MEMORY_BUDGET = {"TX2 6 GB vs StdPL": 5.54, "TX2 6 GB vs SP": 1.76, "TX2 6 GB vs BLD": 1.12,
                 "TX2 4 GB vs StdPL": 6.12, "TX2 4 GB vs SP": 1.91, "TX2 4 GB vs BLD": 1.25,
                 "Xiaomi 10 4 GB vs StdPL": 4.72, "Xiaomi 10 4 GB vs BLD": 1.34}
ABLATION = {"tree generation and verification": (2.6, 4.3), "self-adaptive fallback": (1.08, 1.20)}
PIPELINE_MAX = 1.51  # speculative pipeline: up to 1.51x
MEMORY_WALL_MS = {"LLaMA-7B 4-bit, Xiaomi 10": 275.0, "LLaMA-13B 4-bit, Xiaomi 10": 10118.0,
                  "LLaMA-33B 4-bit, Xiaomi 10": 22017.0}
ENERGY_XIAOMI11 = {"LLaMA2 summarization": (56.2, 17.3), "LLaMA2 QA": (56.2, 14.3),
                   "Vicuna translation": (56.2, 15.5)}  # (Vanilla, LLMCad), J per the paper's unit
MEMORY_WALL_TX2_MS = {"GPT2": 37.64, "GPT2-Large": 8065.0, "T5-Small": 27.0, "T5-Base": 37.0, "T5-Large": 7098.0,
                      "mT5-Large": 7214.0}
TX2_GROWTH = (189.0, 224.0)  # latency grows 189-224x for a 5.8-12.2x larger model (TX2)
TX2_VERIFY_S = 7.1  # one verification of the target model on the TX2
NAV_SPEEDUP_10 = (8.5, 9.9)  # non-autoregressive vs autoregressive verification at 10 tokens
CONTEXT_SWITCH = 0.25  # cost of branch switches without the tree decoder (mT5, TX2)
CONTENTION = {"target compute while both run": (2.2, 2.3), "target loading while both run": (1.05, 1.09)}
PUBLISHED = ("MEMORY_WALL_TX2_MS", "TX2_GROWTH", "TX2_VERIFY_S", "NAV_SPEEDUP_10", "CONTEXT_SWITCH", "CONTENTION",
             "SPEEDUP_PHONES", "S_PER_TOKEN", "DISK_IO_SHARE", "SPEEDUP_RANGES", "MEMORY_BUDGET", "ABLATION",
             "PIPELINE_MAX", "MEMORY_WALL_MS", "ENERGY_XIAOMI11")  # the constants above that hold published values

NO_BASELINE = "no policy for this baseline (StdPL, STI, speculative decoding, BLD)"
NO_JETSON = "no Jetson TX2 / Orin NX design (their storage devices are not published)"
NO_XIAOMI10 = "no Xiaomi 10 design (designs/arch)"
NO_SWITCHES = "the LLMCad policy has no switches to remove the tree, pipeline or fallback one at a time"
NO_POWER = ("the Xiaomi 11 design has no power figure and the model no per-engine power (CPU clusters, DRAM, "
            "storage); Vicuna has no preset")
NO_ENERGY_UNIT = "Table 5's energy unit (per token or per task) is not stated: only the ratio is compared"
FREE_MEMORY = ("the Xiaomi 11's app memory (5 GB) and the Beta(., 4) confidence shape are estimates "
               "(designs/arch/xiaomi11.yaml, mappers/phone/llmcad.py)")


@lru_cache(maxsize=1)
def _costs() -> tuple[TokenCost, TokenCost]:
    """(LLMCad, Std) on the Xiaomi 11, computed once per process."""
    return llmcad(load_device("xiaomi11"), footprint("llama2_7b"), footprint("llama2_13b"))


def run(name: str = "llmcad") -> list[dict[str, Any]]:
    """The row of ``einsim reproduce llmcad --json``."""
    cad, std = _costs()
    return [{"model": cad.model, "draft_model": cad.extra["draft_model"], "device": cad.device,
             "memory_GB": cad.extra["memory_B"] / 1e9, "llmcad_s_per_token": cad.latency_s,
             "std_s_per_token": std.latency_s, "speedup": std.latency_s / cad.latency_s,
             "drafted_per_verify": cad.extra["drafted_per_verify"],
             "accepted_per_verify": cad.extra["accepted_per_verify"], "io_s": cad.io_s, "compute_s": cad.compute_s}]


def compare() -> list[CompareRow]:
    (r,) = run()
    cad, std = _costs()
    out: list[CompareRow] = []

    def add(figure: str, metric: str, config: str, model: float | None, paper: float, unit: str,
            missing: str = "", tolerance: float = 0.25) -> None:
        out.append(CompareRow(PAPER_NAME, figure, metric, config, model, paper, unit, tolerance, SRC, missing))

    pair = "LLaMA2-7B -> 13B, Xiaomi 11"
    value, tol = published_range(*SPEEDUP_PHONES)
    add("4(c) speed", "speedup vs Std (published range, phones)", pair, r["speedup"], value, "x", FREE_MEMORY, tol)
    add("4(c) speed", "time per token", f"{pair}, QA", r["llmcad_s_per_token"], S_PER_TOKEN, "s", FREE_MEMORY)
    value, tol = published_range(*DISK_IO_SHARE)
    add("Table 1 / Fig. 3", "disk I/O share of Std's token (published range)", "LLaMA2-13B alone, Xiaomi 11",
        std.io_s / std.latency_s, value, "fraction", FREE_MEMORY, tol)
    for key, (lo, hi) in SPEEDUP_RANGES.items():
        value, tol = published_range(lo, hi)
        add("4(c) speed", f"speedup {key} (published range)", "LLMCad", None, value, "x",
            NO_JETSON if "IoT" in key else NO_BASELINE, tol)
    for key, value in MEMORY_BUDGET.items():
        add("4(c) memory budget", f"speedup {key}", "LLMCad", None, value, "x",
            NO_XIAOMI10 if "Xiaomi 10" in key else NO_JETSON)
    for key, (lo, hi) in ABLATION.items():
        value, tol = published_range(lo, hi)
        add("4(c) ablation", f"speedup from {key} (published range)", "LLMCad", None, value, "x", NO_SWITCHES, tol)
    add("4(c) ablation", "speedup from the speculative pipeline (maximum)", "LLMCad", None, PIPELINE_MAX, "x",
        NO_SWITCHES)
    for key, value in MEMORY_WALL_MS.items():
        add("Table 1 (memory wall)", "latency of one iteration", key, None, value, "ms", NO_XIAOMI10)
    for task, (vanilla, llmcad_J) in ENERGY_XIAOMI11.items():
        add("Table 5 (energy)", "energy saving vs Vanilla", f"{task}, Xiaomi 11",
            None if cad.energy_J is None else std.energy_J / cad.energy_J, vanilla / llmcad_J, "x",
            NO_POWER)
        add("Table 5 (energy)", "energy, Vanilla", f"{task}, Xiaomi 11", None, vanilla, "J", NO_ENERGY_UNIT)
        add("Table 5 (energy)", "energy, LLMCad", f"{task}, Xiaomi 11", None, llmcad_J, "J", NO_ENERGY_UNIT)
    for key, value in MEMORY_WALL_TX2_MS.items():
        add("Table 1 (memory wall)", "latency of one iteration", f"{key}, Jetson TX2", None, value, "ms", NO_JETSON)
    value, tol = published_range(*TX2_GROWTH)
    add("4(a)", "latency growth for a 5.8-12.2x larger model (published range)", "Jetson TX2", None, value, "x",
        NO_JETSON, tol)
    add("4(a)", "one verification of the target model", "Jetson TX2", None, TX2_VERIFY_S, "s", NO_JETSON)
    value, tol = published_range(*NAV_SPEEDUP_10)
    add("4(a)", "batched vs autoregressive verification at 10 tokens (published range)", "mT5-Large, LLaMA-13B",
        None, value, "x", "the policy verifies only in one batched pass; no autoregressive verification", tol)
    add("4(a)", "branch-switch cost without the tree decoder", "mT5, Jetson TX2", None, CONTEXT_SWITCH, "fraction",
        NO_JETSON)
    value, tol = published_range(*CONTENTION["target loading while both run"])
    add("4(a) pipeline", "target loading slowdown while both run (an input, midpoint 1.07)", pair,
        LOAD_CONTENTION, value, "x", "", tol)
    value, tol = published_range(*CONTENTION["target compute while both run"])
    add("4(a) pipeline", "target compute slowdown while both run (published range)", pair, None, value, "x",
        "the policy never runs the two models' compute at once (as the paper's pipeline), so it has no such case", tol)
    return out
