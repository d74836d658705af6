"""LLMCad (Xu et al., arXiv 2309.04255 v1): published numbers beside the phone model's.

Sources: ../shared/reference/fpga_phone.md §4 (full text read there, [P]). ``run`` gives the row of
``einsim reproduce llmcad --json`` (LLaMA2-13B verified, LLaMA2-7B drafting, on the Xiaomi 11);
``compare`` one row per published number. The IoT (Jetson) results have no device here.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from einsim.mappers.phone.cost import TokenCost
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B, RUNTIME_B
from einsim.mappers.phone.hardware import Device, load_device
from einsim.mappers.phone.llmcad import (BLD_FALLBACK, BLD_FALLBACK_RANGE, CONCENTRATION, CONCENTRATION_RANGE,
                                         JETSON, LOAD_CONTENTION, SP_DRAFT_LENGTH, SP_DRAFT_LENGTH_RANGE, Techniques, autoregressive_verification_speedup,
                                         bld_techniques, forward_time, sp_techniques, llmcad, peak_memory_B, speed_gap,
                                         std as target_alone, std_pipelined, verification_time)
from einsim.mappers.phone.llmcad_energy import token_energy
from einsim.mappers.phone.naive import llama_cpp
from einsim.reproduce.compare import CompareRow, compare_table, published_range

PAPER_NAME = "LLMCad"
SRC = "fpga_phone.md 4(c), LLMCad v1 [P]"
# LLMCad's journal version (renamed EdgeLLM, same authors and experiments; full text in the code index, not in
# fpga_phone.md): a statistic of the phone runs that LLMCad v1 does not state
EDGE_ENERGY_SRC = "LLMCad v1 4.4 [P: code index] (beside fpga_phone.md 4(c) Table 5)"
ABLATION_SRC = f"{SRC}; the ablation's devices: LLMCad v1 4.5 (mT5 / T5 on the TX2, LLaMA2 on the Xiaomi 10) [P: code index]"
EDGELLM_SRC = "EdgeLLM (LLMCad's journal version) IV.C [P: code index]"

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
SLOWER_THAN_DRAFT_PHONES = 2.7  # EdgeLLM IV.C: "2.7 times slower than Draft on smartphones" (draft model alone)
# Table 1 (memory wall, Xiaomi 10, llama.cpp): peak memory (GB), latency over the 7B's, TriviaQA accuracy
PEAK_MEMORY_GB = {"LLaMA-7B 4-bit": 4.1, "LLaMA-13B 4-bit": 9.8, "LLaMA-33B 4-bit": 20.8}
MEMORY_WALL_RATIO = {"LLaMA-13B 4-bit": 37.0, "LLaMA-33B 4-bit": 87.0}  # latency over LLaMA-7B's
MEMORY_WALL_TX2_RATIO = {"GPT2-Large": 214.0, "T5-Large": 263.0, "mT5-Large": 230.0}
TABLE1_ACCURACY = {"LLaMA-7B 4-bit": 50.0, "LLaMA-13B 4-bit": 56.6, "LLaMA-33B 4-bit": 65.1}
# 4(a) model pairs: the speed gap (the target out of memory over the memory-resident small model)
SPEED_GAP = {"mT5-small -> mT5-Large, Jetson TX2": 230.0, "T5-small -> T5-Large, Jetson TX2": 263.0,
             "GPT2 -> GPT2-Large, Jetson TX2": 214.0, "Vicuna-7B -> 13B INT4, phones": 59.0,
             "LLaMA2-Chat-7B -> 13B INT4, phones": 59.0}
COMPETITORS_UP_TO = 5.6  # "up to 5.6x" over the competitive baselines
# accuracy gains (pp) and Rouge-L
ACCURACY_GAIN_PP = {"vs STI (phones)": (11.1, 19.0), "vs BLD (IoT)": (4.5, 94.5), "vs BLD (phones)": (9.8, 96.7)}
ROUGE_L = {"LLMCad vs the target LLM's own output": 100.0, "BLD, lowest task (low end)": 3.4,
           "BLD, lowest task (high end)": 12.9}
# Table 5, the other columns (J per the paper's unit): StdPL, STI, SP, BLD
ENERGY_BASELINES_XIAOMI11 = {"LLaMA2 summarization": {"StdPL": 55.1, "STI": 27.9, "SP": 21.5, "BLD": 18.6},
                             "LLaMA2 QA": {"StdPL": 55.1, "STI": 28.1, "SP": 23.9, "BLD": 18.3},
                             "Vicuna translation": {"StdPL": 55.1, "STI": 20.7, "SP": 20.4, "BLD": 20.3}}
ENERGY_ORIN_NX = {"mT5 translation": {"Vanilla": 36.9, "StdPL": 36.2, "SP": 12.0, "BLD": 7.7, "LLMCad": 7.7},
                  "T5 summary": {"Vanilla": 36.4, "StdPL": 36.0, "SP": 7.6, "BLD": 10.3, "LLMCad": 8.4},
                  "T5 QA": {"Vanilla": 36.9, "StdPL": 36.5, "SP": 15.4, "BLD": 9.9, "LLMCad": 4.6}}
ENERGY_SAVING_ORIN_NX = {"mT5 translation": 4.8, "T5 summary": 4.3, "T5 QA": 8.0}  # Vanilla / LLMCad (published)
# 4.4: LLMCad's per-token energy reduction over each baseline, ranges over Table 5's tasks
# (LLMCad v1 4.4 [P: code index]; consistent with Table 5 above)
ENERGY_REDUCTION_XIAOMI11 = {"Std": (3.22, 3.59), "StdPL": (3.18, 3.56), "SP": (1.24, 1.66), "BLD": (1.07, 1.31),
                             "STI": (2.01, 2.56)}
ENERGY_REDUCTION_ORIN_NX = {"Std": (4.35, 7.96), "StdPL": (4.34, 7.92), "SP": (1.56, 3.33), "BLD": (1.05, 2.15)}
ENERGY_SAVING_XIAOMI11 = {"LLaMA2 summarization": 3.2, "LLaMA2 QA": 3.9, "Vicuna translation": 3.6}
PUBLISHED = ("PEAK_MEMORY_GB", "MEMORY_WALL_RATIO", "MEMORY_WALL_TX2_RATIO", "TABLE1_ACCURACY", "SPEED_GAP",
             "COMPETITORS_UP_TO", "ACCURACY_GAIN_PP", "ROUGE_L", "ENERGY_BASELINES_XIAOMI11", "ENERGY_ORIN_NX",
             "ENERGY_SAVING_ORIN_NX", "ENERGY_SAVING_XIAOMI11", "ENERGY_REDUCTION_XIAOMI11", "ENERGY_REDUCTION_ORIN_NX", "SLOWER_THAN_DRAFT_PHONES", "MEMORY_WALL_TX2_MS", "TX2_GROWTH", "TX2_VERIFY_S", "NAV_SPEEDUP_10", "CONTEXT_SWITCH", "CONTENTION",
             "SPEEDUP_PHONES", "S_PER_TOKEN", "DISK_IO_SHARE", "SPEEDUP_RANGES", "MEMORY_BUDGET", "ABLATION",
             "PIPELINE_MAX", "MEMORY_WALL_MS", "ENERGY_XIAOMI11")  # the constants above that hold published values

NO_ORIN = ("no Jetson Orin NX design: its NVMe storage, GPU power and the T5 / mT5 pairs it runs are not in the "
           "designs (designs/arch/jetson_tx2.yaml is the TX2 only)")
NO_T5 = ("no encoder-decoder (T5 / mT5) footprint in the phone policies (decoder presets only); the TX2 rows run "
         "the GPT-2 pair")
TX2_NOTE = ("the Jetson TX2 design (designs/arch/jetson_tx2.yaml): PyTorch fp32 on the GPU at an estimated 40 GB/s "
            "and 50 us per eager operator, a 2 GB budget, the eMMC at an estimated 300 MB/s (250-400) read in full "
            "each Std token")
TX2_PAIR = "GPT2 -> GPT2-Large, Jetson TX2"
TX2_SP = ("on the TX2 the 25 ms draft step is negligible against the 11 s reload, so only tokens accepted per reload "
          "count: SP's fixed 5-token draft gives 3.9 per reload, LLMCad's adaptive tree of one-token rescues 4.3 "
          "(docs/phone.md, LLMCad: the branches carry no continuation)")
NO_ACCURACY = ("no mechanism: accuracy (TriviaQA, Rouge-L, the pp gains) is a property of the models' outputs, which a "
               "performance model does not evaluate (it would need both models run on the task)")
STI_NEEDS = ("no STI policy: STI (elastic pipelining of shards at per-shard bit-widths, preloaded up to a memory "
             "budget) would need the bit-widths its planner picks for LLaMA-13B and the accuracy bound it plans to, "
             "neither in the reference")
WALL_7B = ("the 7B runs from DRAM: its step is its INT4 weights at the Xiaomi 10's nominal 44 GB/s or its MACs at the "
           "INT4 GEMV rate; the paper's 275 ms is ~14 GB/s effective, which needs llama.cpp's 2023 ARM kernels "
           "(not modelled: no published per-core rate)")
WALL_FLASH = ("Std reads the model's pages through llama.cpp's mmap (128 KiB readahead, 8 threads into one queue) at "
              "the UFS 3.0 table's throughput (an estimate, designs/arch/xiaomi10.yaml); the paper's ~0.7 GB/s "
              "effective needs the synchronous page-fault path's queue depth, which the UFS table has no axis for")
PEAK_NOTE = ("llama.cpp's resident set: INT4 weights with their scales, the fp16 KV cache at its 512-token default "
             "context [U], 0.3 GB of runtime; the 13B's and 33B's peaks exceed the 8 GB phone (mapped, not resident)")
BLD_READING = ("BLD read as LLMCad's machinery with BiLD's rule: the 7B drafts until one token's confidence is below "
               "the fallback threshold, then the 13B is reloaded and runs once over the draft (no tree, no pipeline); "
               "its rollback threshold is read as exact verification")
ENERGY_UNIT = ("Table 5 is J per token ('per-token energy consumption', 4.4 [P: code index]); the model's is the CPU's "
               "and the UFS's busy seconds at their estimated power, DRAM bytes and a baseline over the latency "
               "(mappers/phone/llmcad_energy.py): the model's Std token is 3.6 s where the paper's phones take ~10 s "
               "(Table 1, Xiaomi 10), and 56.2 J over ~10 s is still 5.6 W")
ENERGY_RATIO = ("the model's energy ratios follow its latency ratios, weighted by what each engine does: LLMCad's CPU "
                "computes two models where Std's waits on the UFS")
SP_READING = ("speculative decoding (SP) read as LLMCad without the tree, the pipeline and the adaptive fallback, "
              f"verifying after a fixed {SP_DRAFT_LENGTH} drafted tokens ('SP uses token sequence length', 4.2; the "
              f"length is an estimate in {SP_DRAFT_LENGTH_RANGE[0]}-{SP_DRAFT_LENGTH_RANGE[1]})")
ABLATION_READING = "incremental reading: Std -> +tree (no pipeline, alpha fixed) -> +pipeline -> +adaptive fallback"


# The paper's own llama.cpp step of a 7B 4-bit model on a phone: 275 ms (Table 1, Xiaomi 10 [P]); the model's 7B
# step on the Xiaomi 11 is bound by its nominal DRAM bandwidth (74 ms). The slow end of the draft step's range.
MEASURED_DRAFT_STEP_S = MEMORY_WALL_MS["LLaMA-7B 4-bit, Xiaomi 10"] / 1e3


def _device(slow_draft: bool = False, name: str = "xiaomi11") -> Device:
    """The phone (the Xiaomi 11 unless named); with ``slow_draft`` its CPU's DRAM bandwidth lowered until the 7B
    draft step takes the paper's measured 275 ms (the step is bandwidth-bound there, so the bandwidth is the 7B's
    bytes / 275 ms; on the Xiaomi 10 that is the step Table 1 measured on that phone)."""
    device = load_device(name)
    if not slow_draft:
        return device
    bandwidth = footprint("llama2_7b").params * INT4_B / MEASURED_DRAFT_STEP_S
    return replace(device, dram=device.dram.model_copy(update={"bandwidth_Bps": bandwidth}))


@lru_cache(maxsize=16)
def _costs(concentration: float = CONCENTRATION, techniques: Techniques = Techniques(),
           slow_draft: bool = False, phone: str = "xiaomi11") -> tuple[TokenCost, TokenCost]:
    """(LLMCad, Std) on a phone, computed once per process and setting."""
    return llmcad(_device(slow_draft, phone), footprint("llama2_7b"), footprint("llama2_13b"),
                  concentration=concentration, techniques=techniques)


def _latency(techniques: Techniques, concentration: float, slow_draft: bool, phone: str) -> float:
    return _costs(concentration, techniques, slow_draft, phone)[0].latency_s


def ablation(concentration: float = CONCENTRATION, slow_draft: bool = False, phone: str = "xiaomi11") -> dict[str, float]:
    """Speedups of the paper's ablation steps and of the baselines the switches make, on a phone."""
    cad, std = _costs(concentration, slow_draft=slow_draft, phone=phone)
    tree_only = _latency(Techniques(pipeline=False, adaptive_fallback=False), concentration, slow_draft, phone)
    with_pipeline = _latency(Techniques(adaptive_fallback=False), concentration, slow_draft, phone)
    sp = _latency(sp_techniques(), concentration, slow_draft, phone)
    device = _device(slow_draft, phone)
    stdpl = std_pipelined(device, footprint("llama2_13b"))
    draft_step = forward_time(device, footprint("llama2_7b"), 1)
    return {"vs Std": std.latency_s / cad.latency_s, "s per token": cad.latency_s,
            "slower than the draft alone": cad.latency_s / draft_step,
            "tree generation and verification": std.latency_s / tree_only, "speculative pipeline": tree_only /
            with_pipeline, "self-adaptive fallback": with_pipeline / cad.latency_s, "vs SP": sp / cad.latency_s,
            "vs StdPL": stdpl.latency_s / cad.latency_s}


@lru_cache(maxsize=32)
def _on(device_name: str, memory_GB: float | None = None, techniques: Techniques = Techniques()) -> tuple[TokenCost, TokenCost]:
    """(policy, Std) with LLaMA2-7B drafting for LLaMA2-13B on a bundled phone, at its app memory or a budget."""
    return llmcad(load_device(device_name), footprint("llama2_7b"), footprint("llama2_13b"),
                  None if memory_GB is None else memory_GB * 1e9, techniques=techniques)


def _bld(device_name: str = "xiaomi11", memory_GB: float | None = None, threshold: float = BLD_FALLBACK) -> TokenCost:
    return _on(device_name, memory_GB, bld_techniques(threshold))[0]


def bld_speedups(device_name: str = "xiaomi11", memory_GB: float | None = None,
                 threshold: float = BLD_FALLBACK) -> float:
    """BLD's token time over LLMCad's."""
    return _bld(device_name, memory_GB, threshold).latency_s / _on(device_name, memory_GB)[0].latency_s


IOT_KEYS = {"vs Std, IoT devices": "Std", "vs speculative decoding (IoT)": "SP", "vs BLD (IoT)": "BLD"}


@lru_cache(maxsize=16)
def _tx2(memory_GB: float | None = None, techniques: Techniques = Techniques()) -> tuple[TokenCost, TokenCost]:
    """(policy, Std) with GPT2 drafting for GPT2-Large on the Jetson TX2 (PyTorch fp32 on the GPU)."""
    return llmcad(load_device("jetson_tx2"), footprint("gpt2"), footprint("gpt2_large"),
                  None if memory_GB is None else memory_GB * 1e9, techniques=techniques, deploy=JETSON)


def tx2_speedups(memory_GB: float | None = None) -> dict[str, float]:
    """LLMCad's speedups over Std, StdPL, SP and BLD on the Jetson TX2 (GPT2 -> GPT2-Large)."""
    cad, alone = _tx2(memory_GB)
    memory_B = None if memory_GB is None else memory_GB * 1e9
    pipelined = std_pipelined(load_device("jetson_tx2"), footprint("gpt2_large"), memory_B, JETSON)
    sp = _tx2(memory_GB, sp_techniques())[0]
    bld = _tx2(memory_GB, bld_techniques())[0]
    return {name: other.latency_s / cad.latency_s
            for name, other in (("Std", alone), ("StdPL", pipelined), ("SP", sp), ("BLD", bld))}


def sp_ends() -> str:
    """LLMCad over SP at both ends of SP's draft-length range, on the Xiaomi 11 and the TX2."""
    parts = []
    for length in SP_DRAFT_LENGTH_RANGE:
        phone = _costs(techniques=sp_techniques(length))[0].latency_s / _costs()[0].latency_s
        tx2 = _tx2(None, sp_techniques(length))[0].latency_s / _tx2()[0].latency_s
        parts.append(f"{length} tokens: {phone:.3g} (Xiaomi 11) / {tx2:.3g} (TX2)")
    return "at the draft length's ends, " + ", ".join(parts)


def tx2_budget_note(memory_GB: float) -> str:
    """What fits in a TX2 memory budget: the pair (no reloads), the target alone (Std and StdPL from DRAM), or
    neither."""
    small_GB, large_GB = (footprint(m).params * JETSON.weight_B / 1e9 for m in ("gpt2", "gpt2_large"))
    room = memory_GB - RUNTIME_B / 1e9
    fits = ("both models fit (nothing is reloaded)" if small_GB + large_GB <= room else
            "GPT2-Large alone fits, so Std and StdPL run from DRAM while LLMCad's pair reloads it"
            if large_GB <= room else "neither fits")
    return (f"at {memory_GB:g} GB {fits} (GPT2 {small_GB:.2f} GB, GPT2-Large {large_GB:.2f} GB in fp32, "
            f"{RUNTIME_B / 1e9:g} GB runtime); the paper's pair for this experiment is not named in the reference")


def energies() -> dict[str, float]:
    """J per token of each Table 5 policy on the Xiaomi 11 (LLaMA2-7B -> 13B), from the busy seconds."""
    cad, std = _costs()
    device = _device()
    sp = _costs(techniques=sp_techniques())[0]
    return {"Vanilla": token_energy(std), "StdPL": token_energy(std_pipelined(device, footprint("llama2_13b"))),
            "SP": token_energy(sp), "BLD": token_energy(_bld()), "LLMCad": token_energy(cad)}


def run(name: str = "llmcad") -> list[dict[str, Any]]:
    """The row of ``einsim reproduce llmcad --json``."""
    cad, std = _costs()
    return [{"model": cad.model, "draft_model": cad.extra["draft_model"], "device": cad.device,
             "memory_GB": cad.extra["memory_B"] / 1e9, "llmcad_s_per_token": cad.latency_s,
             "std_s_per_token": std.latency_s, "speedup": std.latency_s / cad.latency_s,
             "drafted_per_verify": cad.extra["drafted_per_verify"],
             "accepted_per_verify": cad.extra["accepted_per_verify"], "io_s": cad.io_s, "compute_s": cad.compute_s}]


def shape_note(key: str, phone: str = "xiaomi11") -> str:
    """Why a row depends on the draft's confidence shape: the row's value at both ends of its range."""
    lo, hi = CONCENTRATION_RANGE
    return (f"the draft's confidence shape is calibrated to the published drafted tokens per verification (Beta "
            f"concentration {CONCENTRATION:g} in {lo:g}-{hi:g}, docs/phone.md): {ablation(lo, phone=phone)[key]:.3g} at "
            f"{lo:g}, {ablation(hi, phone=phone)[key]:.3g} at {hi:g}")


def draft_note(key: str, phone: str = "xiaomi11") -> str:
    """The row's value when the 7B drafts at the paper's own measured llama.cpp step instead of the DRAM peak."""
    device = _device(name=phone)
    return (f"the 7B's draft step is bound by the {device.name}'s nominal {device.bandwidth(['CPU']) / 1e9:.3g} GB/s ("
            f"{forward_time(device, footprint('llama2_7b'), 1) * 1e3:.0f} ms); at the "
            f"paper's own llama.cpp 7B 4-bit step ({MEASURED_DRAFT_STEP_S * 1e3:.0f} ms, Xiaomi 10, Table 1): "
            f"{ablation(slow_draft=True, phone=phone)[key]:.3g} (docs/phone.md, LLMCad)")


def compare() -> list[CompareRow]:
    (r,) = run()
    cad, std = _costs()
    out: list[CompareRow] = []

    def add(figure: str, metric: str, config: str, model: float | None, paper: float, unit: str,
            missing: str = "", tolerance: float = 0.25, source: str = SRC) -> None:
        out.append(CompareRow(PAPER_NAME, figure, metric, config, model, paper, unit, tolerance, source, missing))

    pair = "LLaMA2-7B -> 13B, Xiaomi 11"
    steps = ablation()
    value, tol = published_range(*SPEEDUP_PHONES)
    add("4(c) speed", "speedup vs Std (published range, phones)", pair, r["speedup"], value, "x",
        f"{shape_note('vs Std')}; {draft_note('vs Std')}", tol)
    add("4(c) speed", "time per token", f"{pair}, QA", r["llmcad_s_per_token"], S_PER_TOKEN, "s",
        f"{shape_note('s per token')}; {draft_note('s per token')}")
    add("IV.C speed", "time per token over the draft model alone's (phones)", pair,
        steps["slower than the draft alone"], SLOWER_THAN_DRAFT_PHONES, "x",
        f"{draft_note('slower than the draft alone')}; {shape_note('slower than the draft alone')}",
        source=EDGELLM_SRC)
    x11 = _device()
    for key, value in SPEED_GAP.items():
        if "phones" in key:
            add("4(a) model pairs", "speed gap: the target out of memory over the small model's step", key,
                speed_gap(x11, footprint("llama2_7b"), footprint("llama2_13b")), value, "x",
                "the 13B's Std token (flash-bound) over the 7B's step from DRAM (74 ms at the nominal 51.2 GB/s); "
                "Vicuna is LLaMA-shaped (same presets)", source=f"{SRC}; evaluated on the Xiaomi 11")
        elif key.startswith("GPT2"):
            add("4(a) model pairs", "speed gap: the target out of memory over the small model's step", key,
                speed_gap(load_device("jetson_tx2"), footprint("gpt2"), footprint("gpt2_large"), deploy=JETSON),
                value, "x", TX2_NOTE)
        else:
            add("4(a) model pairs", "speed gap: the target out of memory over the small model's step", key, None,
                value, "x", NO_T5)
    value, tol = published_range(*DISK_IO_SHARE)
    add("Table 1 / Fig. 3", "disk I/O share of Std's token (published range)", "LLaMA2-13B alone, Xiaomi 11",
        std.io_s / std.latency_s, value, "fraction", "", tol)
    computed = {"vs StdPL": (steps["vs StdPL"], f"{pair} (range over all devices)", ""),
                "vs speculative decoding (phones)": (steps["vs SP"], pair,
                                                     f"{SP_READING}; {sp_ends()}; {shape_note('vs SP')}; "
                                                     f"{draft_note('vs SP')}")}
    for key, (lo, hi) in SPEEDUP_RANGES.items():
        value, tol = published_range(lo, hi)
        if key == "vs BLD (phones)":
            lo_t, hi_t = BLD_FALLBACK_RANGE
            computed[key] = (bld_speedups(), f"{pair}; fallback threshold {BLD_FALLBACK:g}",
                             f"{BLD_READING}; at the threshold's ends {lo_t:g} / {hi_t:g}: "
                             f"{bld_speedups(threshold=lo_t):.3g} / {bld_speedups(threshold=hi_t):.3g}")
        if key in IOT_KEYS:
            computed[key] = (tx2_speedups()[IOT_KEYS[key]], TX2_PAIR,
                             f"{TX2_NOTE}; {f'{SP_READING}; {sp_ends()}' if 'speculative' in key else BLD_READING}")
        model, config, missing = computed.get(key, (None, "LLMCad", STI_NEEDS))
        add("4(c) speed", f"speedup {key} (published range)", config, model, value, "x", missing, tol)
    for key, value in MEMORY_BUDGET.items():
        if "Xiaomi 10" in key:
            cad10 = _on("xiaomi10", 4.0)[0]
            other = (std_pipelined(load_device("xiaomi10"), footprint("llama2_13b"), 4e9) if "StdPL" in key
                     else _bld("xiaomi10", 4.0))
            add("4(c) memory budget", f"speedup {key}", "LLaMA2-7B -> 13B, Xiaomi 10, 4 GB",
                other.latency_s / cad10.latency_s, value, "x",
                "StdPL: Std with a layer-wise pipeline; the 7B alone takes 3.8 of the 4 GB, so the 13B loads after "
                "drafting, none of it under the bound" if "StdPL" in key else BLD_READING)
        else:
            budget = float(key.split()[1])
            versus = key.split(" vs ")[1]
            add("4(c) memory budget", f"speedup {key}", f"{TX2_PAIR}, {budget:g} GB", tx2_speedups(budget)[versus],
                value, "x", f"{TX2_NOTE}; {tx2_budget_note(budget)}; "
                f"{f'{TX2_SP}; {SP_READING}' if versus == 'SP' else BLD_READING if versus == 'BLD' else 'StdPL: Std with a layer-wise pipeline'}")
    competitors = {"SP, Xiaomi 11": steps["vs SP"], "BLD, Xiaomi 11": bld_speedups(),
                   "BLD, Xiaomi 10 at 4 GB": bld_speedups("xiaomi10", 4.0)}
    for budget in (None, 6.0, 4.0):
        for versus in ("SP", "BLD"):
            competitors[f"{versus}, Jetson TX2{'' if budget is None else f' at {budget:g} GB'}"] = \
                tx2_speedups(budget)[versus]
    best = max(competitors, key=competitors.get)
    add("4(c) speed", "largest speedup over a competitive baseline (up to)", f"{best} (the maximum over SP and BLD "
        "on the phones and the TX2)", competitors[best], COMPETITORS_UP_TO, "x",
        f"the paper's maximum is over devices, tasks and STI; the model has SP and BLD on the phones and the TX2's "
        f"GPT-2 pair ({', '.join(f'{k} {v:.2f}x' for k, v in competitors.items())}); {NO_ORIN}; {STI_NEEDS}")
    # the ablation runs LLaMA2 on the Xiaomi 10 (LLMCad v1 4.5 [P: code index]; mT5 / T5 on the TX2 have no preset)
    steps10 = ablation(phone="xiaomi10")
    pair10 = f"LLaMA2-7B -> 13B, Xiaomi 10 (the paper's ablation phone); {ABLATION_READING}"
    for key, (lo, hi) in ABLATION.items():
        value, tol = published_range(lo, hi)
        add("4(c) ablation", f"speedup from {key} (published range)", pair10, steps10[key],
            value, "x", f"{shape_note(key, 'xiaomi10')}; {draft_note(key, 'xiaomi10')}", tol, ABLATION_SRC)
    cad10 = _costs(phone="xiaomi10")[0]
    add("4(c) ablation", "speedup from the speculative pipeline (maximum)", pair10,
        steps10["speculative pipeline"], PIPELINE_MAX, "x",
        f"the maximum is over devices; on the phone the pipeline hides only the drafting "
        f"({cad10.extra['drafted_per_verify']:.1f} steps of the 7B per verification) under the load of the 13B's part "
        f"below the memory bound; a 1.51x needs drafting as long as the loading; "
        f"{draft_note('speculative pipeline', 'xiaomi10')}", source=ABLATION_SRC)
    x10 = load_device("xiaomi10")
    wall = {"LLaMA-7B 4-bit": "llama2_7b", "LLaMA-13B 4-bit": "llama2_13b", "LLaMA-33B 4-bit": "llama_33b"}
    wall_s = {key: llama_cpp(x10, footprint(mid), x10.available_B).latency_s for key, mid in wall.items()}
    for key, value in MEMORY_WALL_MS.items():
        name = key.split(",")[0]
        add("Table 1 (memory wall)", "latency of one iteration", f"{key} (llama.cpp; LLaMA-1 7B / 13B as the LLaMA-2 "
            "presets' shapes)", wall_s[name] * 1e3, value, "ms", WALL_7B if "7B" in key else WALL_FLASH)
    for key, value in MEMORY_WALL_RATIO.items():
        add("Table 1 (memory wall)", "latency over LLaMA-7B's", f"{key}, Xiaomi 10", wall_s[key] / wall_s["LLaMA-7B 4-bit"],
            value, "x", f"{WALL_FLASH}; {WALL_7B}")
    for key, value in PEAK_MEMORY_GB.items():
        add("Table 1 (memory wall)", "peak memory", f"{key}, Xiaomi 10", peak_memory_B(footprint(wall[key])) / 1e9,
            value, "GB", PEAK_NOTE)
    for key, value in TABLE1_ACCURACY.items():
        add("Table 1 (memory wall)", "TriviaQA accuracy", f"{key}, Xiaomi 10", None, value, "%", NO_ACCURACY)
    joules = energies()
    for task, (vanilla, llmcad_J) in ENERGY_XIAOMI11.items():
        config = f"{task}, Xiaomi 11 (LLaMA2-7B -> 13B for every task; Vicuna is LLaMA-shaped)"
        add("Table 5 (energy)", "energy saving vs Vanilla", config, joules["Vanilla"] / joules["LLMCad"],
            ENERGY_SAVING_XIAOMI11[task], "x", f"{ENERGY_UNIT}; the model's saving follows its latency ratio")
        add("Table 5 (energy)", "energy, Vanilla", config, joules["Vanilla"], vanilla, "J", ENERGY_UNIT)
        add("Table 5 (energy)", "energy, LLMCad", config, joules["LLMCad"], llmcad_J, "J", ENERGY_UNIT)
        for policy, value in ENERGY_BASELINES_XIAOMI11[task].items():
            add("Table 5 (energy)", f"energy, {policy}", config, joules.get(policy), value, "J",
                STI_NEEDS if policy == "STI" else ENERGY_UNIT)
    for versus, (lo, hi) in ENERGY_REDUCTION_XIAOMI11.items():
        value, tol = published_range(lo, hi)
        base = "Vanilla" if versus == "Std" else versus
        add("4.4 (energy)", f"per-token energy reduction vs {versus} (published range over tasks)",
            "LLaMA2-7B -> 13B, Xiaomi 11", None if base not in joules else joules[base] / joules["LLMCad"], value, "x",
            STI_NEEDS if versus == "STI" else ENERGY_RATIO, tol, EDGE_ENERGY_SRC)
    for versus, (lo, hi) in ENERGY_REDUCTION_ORIN_NX.items():
        value, tol = published_range(lo, hi)
        add("4.4 (energy)", f"per-token energy reduction vs {versus} (published range over tasks)", "Jetson Orin NX",
            None, value, "x", NO_ORIN, tol, EDGE_ENERGY_SRC)
    for task, cols in ENERGY_ORIN_NX.items():
        add("Table 5 (energy)", "energy saving vs Vanilla", f"{task}, Jetson Orin NX", None,
            ENERGY_SAVING_ORIN_NX[task], "x", NO_ORIN)
        for policy, value in cols.items():
            add("Table 5 (energy)", f"energy, {policy}", f"{task}, Jetson Orin NX", None, value, "J", NO_ORIN)
    for key, (lo, hi) in ACCURACY_GAIN_PP.items():
        value, tol = published_range(lo, hi)
        add("4(c) accuracy", f"accuracy gain {key} (published range)", "LLMCad", None, value, "pp", NO_ACCURACY, tol)
    for key, value in ROUGE_L.items():
        add("4(c) accuracy", "Rouge-L", key, None, value, "", NO_ACCURACY)
    tx2 = load_device("jetson_tx2")
    gpt2_s = {"GPT2": forward_time(tx2, footprint("gpt2"), 1, JETSON),
              "GPT2-Large": target_alone(tx2, footprint("gpt2_large"), deploy=JETSON).latency_s}
    for key, value in MEMORY_WALL_TX2_MS.items():
        gpt = key in gpt2_s
        add("Table 1 (memory wall)", "latency of one iteration", f"{key}, Jetson TX2",
            gpt2_s[key] * 1e3 if gpt else None, value, "ms", TX2_NOTE if gpt else NO_T5)
    for key, value in MEMORY_WALL_TX2_RATIO.items():
        gpt = key == "GPT2-Large"
        add("Table 1 (memory wall)", "latency over the small model's", f"{key}, Jetson TX2",
            gpt2_s["GPT2-Large"] / gpt2_s["GPT2"] if gpt else None, value, "x", TX2_NOTE if gpt else NO_T5)
    value, tol = published_range(*TX2_GROWTH)
    ratio = footprint("gpt2_large").params / footprint("gpt2").params
    add("4(a)", "latency growth for a 5.8-12.2x larger model (published range)",
        f"GPT2 -> GPT2-Large ({ratio:.1f}x the parameters), Jetson TX2", gpt2_s["GPT2-Large"] / gpt2_s["GPT2"], value,
        "x", f"{TX2_NOTE}; the small model's step is PyTorch dispatch and fp32 reads from DRAM (25 ms), the large "
        "model's a full eMMC read", tol)
    cad_tx2 = _tx2()[0]
    add("4(a)", "one verification of the target model", f"{TX2_PAIR} (the tree LLMCad drafts)",
        verification_time(tx2, footprint("gpt2_large"), round(cad_tx2.extra["verified_per_verify"]), JETSON),
        TX2_VERIFY_S, "s", f"{TX2_NOTE}; the reference does not name the target of the 7.1 s")
    value, tol = published_range(*NAV_SPEEDUP_10)
    add("4(a)", "batched vs autoregressive verification at 10 tokens (published range)", "LLaMA2-13B, Xiaomi 11",
        autoregressive_verification_speedup(load_device("xiaomi11"), footprint("llama2_13b"), 10), value, "x",
        "each autoregressive pass reloads the model; the batched pass computes 10 tokens per weight read", tol)
    add("4(a)", "branch-switch cost without the tree decoder", "mT5, Jetson TX2", None, CONTEXT_SWITCH, "fraction",
        "no mechanism for branch switches: the model verifies every branch in one batched pass (the tree decoder's "
        f"masking); without it each switch would swap the KV cache of another branch, not modelled; {NO_T5}")
    value, tol = published_range(*CONTENTION["target loading while both run"])
    add("4(a) pipeline", "target loading slowdown while both run (an input, midpoint 1.07)", pair,
        LOAD_CONTENTION, value, "x", "", tol)
    value, tol = published_range(*CONTENTION["target compute while both run"])
    add("4(a) pipeline", "target compute slowdown while both run (published range)", pair, None, value, "x",
        "the policy never runs the two models' compute at once (as the paper's pipeline), so it has no such case", tol)
    return out
