"""PowerInfer-2 (Xue et al., arXiv 2406.06282v3): its published numbers beside the phone model's.

Sources: ../shared/reference/fpga_phone.md §2(c) (v3 unless noted; tags [P] full text, [D] derived
there). ``run`` gives the rows of ``einsim reproduce powerinfer2 --json``: TurboSparse-Mixtral-47B
at every DRAM budget of v3 Fig. 10's range (7 ... 19 GB, 1 GB steps; only the endpoints are
published, so the inner points are predictions), the Fig. 7 models at 50 % FFN offload on both
phones, and the Bamboo-7B ablation. ``compare`` gives one row per published number.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import numpy as np

from einsim.explore import evaluate
from einsim.mappers.phone.cost import TokenCost
from einsim.mappers.phone.flash_bench import iops, read_benchmark
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B, INT4_WEIGHT_B, RUNTIME_B
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.llmflash import Run, llm_in_a_flash
from einsim.mappers.phone.naive import llama_cpp
from einsim.mappers.phone.powerinfer2 import (ABLATION, HOT_GRID_FULL, Features, Prefill, ffn_offload_budget, memory_plan, powerinfer2, prefill,
                                              prompt_activation)
from einsim.reproduce.compare import CompareRow, compare_table

PAPER_NAME = "PowerInfer-2"
SRC = "fpga_phone.md 2(c), PowerInfer-2 v3"
MIXTRAL = "turbosparse_mixtral_47b"
BUDGETS_GB = tuple(range(7, 20))  # v3 Fig. 10 spans 7 ... 19 GB; 1 GB steps
FIG7_MODELS = ("llama2_13b", "qwen2_7b", "bamboo_7b", MIXTRAL)
# Fig. 7: 50 % of the FFN weights offloaded; where that does not fit the phone's app budget (Mixtral
# on the Ace 2, which the paper says needs >= 75 % offloaded) the budget is the whole app budget
PHONES = ("oneplus12", "oneplus_ace2")
OFFLOAD = 0.5
POLICIES = ("powerinfer2", "llama.cpp", "llm-in-a-flash")

# --- published values (fpga_phone.md 2(c)) -------------------------------------------------------
# Fig. 7, OnePlus 12, tokens/s: (PowerInfer-2, llama.cpp, LLM in a flash re-implementation)
FIG7_ONEPLUS12 = {"llama2_13b": (5.4, 0.2, 1.7), "qwen2_7b": (9.5, 0.4, 2.8), "bamboo_7b": (11.1, 0.4, 2.4),
                  MIXTRAL: (9.96, 0.5, 2.4)}
FIG7_ONEPLUS12_AVG = {"vs llama.cpp mean": 24.6, "vs llama.cpp max": 27.8, "vs llm-in-a-flash mean": 3.84,
                      "vs llm-in-a-flash max": 4.63}
# Fig. 7, OnePlus Ace 2: the bar values per policy, model assignment unknown [U]: compared rank by rank
FIG7_ACE2_BARS = {"powerinfer2": (7.0, 4.9, 4.7, 3.1), "llm-in-a-flash": (2.1, 1.9, 1.5, 1.3),
                  "llama.cpp": (0.2, 0.4, 0.4, 0.5)}
FIG7_ACE2_AVG = {"vs llama.cpp mean": 14.1, "vs llm-in-a-flash mean": 2.93}
# Fig. 10, TurboSparse-Mixtral-47B on the OnePlus 12 vs DRAM budget, tokens/s and ratios
CURVE = {("powerinfer2", 7): 2.13, ("powerinfer2", 19): 11.68, ("llm-in-a-flash", 19): 3.74,
         ("llama.cpp", 19): 0.55}
CURVE_RATIOS = {("llm-in-a-flash", 7): 1.84, ("llm-in-a-flash", 19): 3.12, ("llama.cpp", 19): 21.2}
BREAKDOWN_7GB_GB = {"non-FFN (embeddings, attention, KV, LM head)": 1.0, "FFN quantization scales": 2.7,
                    "neuron cache": 0.4}
BREAKDOWN_INPUTS_GB = {"predictors": 2.6, "runtime": 0.3}  # inputs of the memory plan (sidecar, formats.py)
CACHE_SHARE_7GB = 0.018  # neuron cache = 1.8 % of the FFN weights
PER_TASK_19GB = {"powerinfer2": (11.8, 11.4, 11.5, 11.7), "llama.cpp": (0.6, 0.5, 0.5, 0.5),
                 "llm-in-a-flash": (3.6, 3.5, 3.6, 3.9)}
TASKS = ("role-play", "dialog", "math", "coding")
LATENCY_50_MS = {MIXTRAL: {"mean": 99.76, "P50": 97.42, "P90": 116.16, "P99": 140.56},
                 "bamboo_7b": {"mean": 90.32, "P50": 86.88, "P90": 115.02, "P99": 162.02}}
MIXTRAL_MISS_50 = {"mean": 0.035, "P99": 0.189}
SILU_VS_RELU = {("mistral_7b", "powerinfer2"): 5.3, ("mistral_7b", "llm-in-a-flash"): 2.18}
CRITICAL_PATH_IO = {"powerinfer2": 0.137, "llm-in-a-flash": 0.767}  # Bamboo-7B, I/O share of the critical path
PREFILL = {"512-token prompt vs LLM in a flash, OnePlus 12": 48.97, "512-token prompt vs llama.cpp, OnePlus 12": 44.23,
           "512-token prompt vs QNN, OnePlus 12": 1.99, "512-token prompt vs LLM in a flash, Ace 2": 29.98,
           "512-token prompt vs llama.cpp, Ace 2": 16.67, "128-token prompt vs LLM in a flash (max)": 22.47,
           "Bamboo-7B in memory, tokens/s": 721.0, "QNN Bamboo-7B in memory, tokens/s": 772.0,
           "Bamboo-7B at 50% offload, tokens/s": 404.6}
IN_MEMORY_BAMBOO = {"vs llama.cpp": 2.24, "vs MLC-LLM": 2.48, "vs QNN": 1.86}
OFFLOAD_SAVING = {"GB": 1.5, "share": 0.40}  # Bamboo-7B at 50 % offload saves 1.5 GB (40 %)
BEST_OF_4 = {"vs QNN, N=4": 1.84, "vs CPU-only, N=4": 1.28, "vs CPU-only, N=1": 1.1, "vs QNN, N=1": 1.77}
ABLATION_PAPER = {"baseline": 0.40, "+bundle": 1.09, "+neuron cache": 4.18, "+pipeline": 9.60, "+xpu": 11.07}
ABLATION_HIT_RATE = 0.95  # +neuron cache
MOTIVATION = {("PowerInfer", "in memory", "tokens/s"): 12.4, ("PowerInfer", "in memory", "GB/s"): 41.1,
              ("LLM in a flash", "in memory", "tokens/s"): 12.9, ("LLM in a flash", "in memory", "GB/s"): 43.9,
              ("PowerInfer", "50% offload", "tokens/s"): 1.4, ("PowerInfer", "50% offload", "I/O share"): 0.819,
              ("PowerInfer", "50% offload", "CPU utilization"): 0.31,
              ("LLM in a flash", "50% offload", "tokens/s"): 2.3,
              ("LLM in a flash", "50% offload", "I/O share"): 0.767,
              ("LLM in a flash", "50% offload", "CPU utilization"): 0.41}
SILU_SPEEDUP = {"mistral_7b": 2.4, "bamboo_7b": 4.6}  # PowerInfer-2 over LLM in a flash, 50 % offload
# Table 8, decode; the model and setting are not in this copy: 0.257 J at 5.095 W is 19.8 tokens/s and
# 0.672 J at 4.065 W is 6.0 tokens/s, in-memory 7B rates (fpga_phone.md 2(c): llama.cpp offloaded runs
# at 0.4), so the rows compare Bamboo-7B in memory [D]
ENERGY_J_PER_TOKEN = {"powerinfer2": 0.257, "QNN": 0.373, "llama.cpp": 0.672}
PEAK_POWER_W = {"powerinfer2": 5.095, "QNN": 5.133, "llama.cpp": 4.065}
# 2(a): hardware and planner facts that are outputs of the model (inputs of it are marked in the rows)
PREFILL_7B_TOKENS_PER_S = {"NPU": 770.0, "GPU": 37.0, "CPU": 8.0}  # 7B INT4 prefill; NPU and GPU rates derive from them
NPU_SHARE_BATCH1 = 0.5  # a 14336 x 4096 FFN matrix split 7168 / 7168 between NPU and CPU at batch 1
HIGHLY_ACTIVATED = {"batch 1": 0.01, "batch 32": 0.75}  # Bamboo-7B layer 10: < 1 % ... ~75 %
COACTIVATION = {"gate/up/down of one neuron": 0.80, "after removing hot neurons (upper bound)": 0.20}
ACE2_MIXTRAL_OFFLOAD = 0.75  # Mixtral-47B needs >= 75 % of its FFN offloaded on the Ace 2
MIXTRAL_ACTIVE_PARAMS = 3e9  # about 3 B parameters active per token
LARGE_BATCH_SPLIT = {"NPU": 0.70, "CPU": 0.30}  # 2(a): at large batch the NPU takes about 70 %, the CPU about 30 %
BEST_OF_N_KEPT = 1.42  # 2(c): the 1.42x advantage is kept as N shrinks (best-of-N, Bamboo-7B)
# 2(a) UFS 4.0 read behaviour, OnePlus 12, v3 2.3.2 [P] (Fig. 3b's 32 KB point [F, rough]): (pattern, block B,
# address range B or None, issuing core or None) -> GB/s; these are the device table's rows (oneplus12.yaml)
KIB, MIB = 1024, 1024 * 1024
UFS_TABLE = {("sequential", 4 * KIB, None, None): 0.450, ("sequential", 512 * KIB, None, None): 4.0,
             ("random", 512 * KIB, None, None): 3.5, ("random", 4 * KIB, 128 * MIB, None): 1.0,
             ("random", 4 * KIB, 512 * MIB, None): 0.850, ("random", 32 * KIB, 128 * MIB, None): 1.75,
             ("random", 4 * KIB, 128 * MIB, "big"): 1.07610, ("random", 4 * KIB, 128 * MIB, "mid"): 1.00795,
             ("random", 4 * KIB, 128 * MIB, "little"): 0.76187}
UFS_MULTI_ISSUER_LOSS = 0.40  # issuing from several cores degrades throughput by up to 40 %
# the intro's comparison, UFS 4.0 vs a PC NVMe SSD: sequential GB/s and random IOPS
STORAGE_INTRO = {("UFS 4.0", "sequential GB/s"): 4.0, ("NVMe SSD", "sequential GB/s"): 7.5,
                 ("UFS 4.0", "random IOPS"): 100e3, ("NVMe SSD", "random IOPS"): 1200e3}
SEQUENTIAL_PREFETCH_SPEEDUP = 3.0  # 2(c) prefill detail: sequential layer prefetch is 3x faster than random I/O
PROMPT_ACTIVATION_128 = 0.9999  # 2(c): activation probability 99.99 % at batch 128 (Mixtral)
# Table 7, INT4 accuracy averages (Qwen2-7B, Bamboo-7B): llama.cpp, QNN, PowerInfer-2
ACCURACY = {("qwen2_7b", "llama.cpp"): 79.25, ("qwen2_7b", "QNN"): 56.93, ("qwen2_7b", "powerinfer2"): 78.38,
            ("bamboo_7b", "llama.cpp"): 70.12, ("bamboo_7b", "QNN"): 63.26, ("bamboo_7b", "powerinfer2"): 68.35}
# v1 (project-site offload-decode.svg [F]): model -> (PowerInfer-2, llama.cpp, LLM in a flash) per phone
V1_ONEPLUS12 = {"llama2_13b": (5.4, 0.2, 1.7), "llama-7b": (11.7, 0.4, 2.8), "turbosparse-mistral-7b": (10.5, 0.4, 2.4),
                MIXTRAL: (10.0, 0.5, 2.4)}
V1_ACE2 = {"llama2_13b": (4.9, 0.2, 1.3), "llama-7b": (6.5, 0.4, 2.1), "turbosparse-mistral-7b": (6.3, 0.5, 1.9),
           MIXTRAL: (3.1, 0.5, 1.5)}
V1_RATIOS = {"vs llama.cpp max (abstract: up to)": 29.2, "vs llm-in-a-flash mean": 3.94, "vs llm-in-a-flash max": 4.38,
             "vs llama.cpp, project site first (up to)": 22.0, "vs llama.cpp, project site later (up to)": 23.0}
V1_PRESETS = {"llama-7b": "llama2_7b", "turbosparse-mistral-7b": "mistral_7b"}  # shape presets of v1's other models
TURBOSPARSE_VS_ORIGINAL = 22.2  # TurboSparse Table 9: PowerInfer-2 + TurboSparse-Mixtral vs llama.cpp + Mixtral-47B
DRAM_BY_ENGINES_GBPS = {"CPU": 43.9, "NPU": 56.0, "CPU + NPU": 59.6}  # 2(a), 7B matmuls (oneplus12.yaml: an input)
POWERINFER_SOSP = {"RTX 4090 decode tokens/s, average": 13.20, "RTX 4090 decode tokens/s, peak": 29.08,
                   "speedup vs llama.cpp (up to)": 11.69, "share below an A100": 0.18}
PUBLISHED = ("PREFILL_7B_TOKENS_PER_S", "NPU_SHARE_BATCH1", "HIGHLY_ACTIVATED", "COACTIVATION", "ACE2_MIXTRAL_OFFLOAD",
             "MIXTRAL_ACTIVE_PARAMS", "FIG7_ONEPLUS12", "FIG7_ONEPLUS12_AVG", "FIG7_ACE2_BARS", "FIG7_ACE2_AVG", "CURVE", "CURVE_RATIOS",
             "BREAKDOWN_7GB_GB", "BREAKDOWN_INPUTS_GB", "CACHE_SHARE_7GB", "PER_TASK_19GB", "LATENCY_50_MS",
             "MIXTRAL_MISS_50", "SILU_VS_RELU", "CRITICAL_PATH_IO", "PREFILL", "IN_MEMORY_BAMBOO", "OFFLOAD_SAVING",
             "BEST_OF_4", "ABLATION_PAPER", "ABLATION_HIT_RATE", "MOTIVATION", "SILU_SPEEDUP", "ENERGY_J_PER_TOKEN",
             "PEAK_POWER_W", "LARGE_BATCH_SPLIT", "BEST_OF_N_KEPT", "UFS_TABLE", "UFS_MULTI_ISSUER_LOSS", "STORAGE_INTRO",
             "SEQUENTIAL_PREFETCH_SPEEDUP", "PROMPT_ACTIVATION_128", "ACCURACY", "V1_ONEPLUS12", "V1_ACE2", "V1_RATIOS",
             "TURBOSPARSE_VS_ORIGINAL", "DRAM_BY_ENGINES_GBPS", "POWERINFER_SOSP")  # the constants holding published values

# --- what the model lacks, named on each MISS -----------------------------------------------------
NO_PREFILL = "no prefill path for this baseline (llama.cpp, LLM in a flash, QNN): only PowerInfer-2's prefill is simulated"
PREFILL_OFFLOAD = ("the prompt runs in 128-token NPU graphs, each reading every layer's offloaded share from flash "
                   "(PREFILL_CHUNK, an estimate in 128-512: at 512 the reads hide under the NPU and the model gives "
                   "748 tokens/s; docs/phone.md, Gaps 8)")
NPU_RATE = ("the NPU's rate is one point derived from the 770 tokens/s 7B prefill (oneplus12.yaml), clamped at "
            "smaller batches")
NARROW_TAIL = ("the token shift (activations.py, solved for the miss-rate distribution; its P99 reaches 14.5% of "
               "the published 18.9%) makes a token miss in all its layers, and those misses queue on the one I/O "
               "thread, which is 58% of the model's critical path (paper 13.7%): the model's tail is wider than "
               "the paper's, whose pipeline hides the extra reads under compute (docs/phone.md, Gaps 7)")
NO_SILU_FACTS = "no activation facts for dense-SiLU Mistral-7B (designs/models/phone/mistral_7b.yaml)"
NO_MLC = "no MLC-LLM policy (its GPU runtime on the phone: the GPU's rate is one derived point, oneplus12.yaml)"
QNN_RULE = ("QNN is PowerInfer-2's NPU baseline over the general lowering (mappers/phone/rules.py qnn_rule: every MAC "
            "on the NPU at its one derived rate, every weight in DRAM); its graph and runtime overheads are not modelled")
QNN_PREFILL = ("in memory, the model's PowerInfer-2 and QNN prefill both run the dense layer on the NPU; the setting of "
               "the 1.99x is not in the reference, and the paper's own in-memory figures (721 vs 772 tokens/s) give 0.93x")
BATCH = ("a batch's step reads each row once and runs its MACs per sequence (the trace: the union of the sequences' "
         "activations); the NPU's batch curve (Fig. 3a) is not digitized, so its rate is the one derived point")
NO_POWERINFER1 = "no PowerInfer (v1, CPU-only) policy and no CPU-utilization output"
NO_ENGINE_POWER = ("llama.cpp's decode runs on the event simulation, but its energy is still device power x time, "
                   "not per-engine busy time x power (mappers/phone/power.py covers PowerInfer-2 only)")
NO_PEAK_POWER = ("a baseline's peak power is not an output: the model has per-engine average powers, and "
                 "oneplus12.yaml's power_W is PowerInfer-2's measured peak")
ENGINE_POWER = ("per-engine active powers are estimates (mappers/phone/power.py; docs/phone.md lists the effect "
                "of each range)")
CRITICAL_PATH = ("the simulated cold pipeline's I/O thread serves 4 KiB random reads at the UFS table's 1.08 GB/s "
                 "and is the critical resource at 50 % offload; the paper's 13.7 % I/O needs faster or fewer reads "
                 "(docs/phone.md, Gaps 1)")
NO_TASK_TRACES = "one synthetic trace for every task: per-task activation statistics are not published"
COMPUTE_OVERHEAD = ("the offloaded compute's overheads are estimates (NPU invocations, the synchronous NPU call's "
                    "held thread, the neuron cache's bookkeeping: mappers/phone/overheads.py) and the I/O thread, not "
                    "compute, is the critical resource; the Bamboo activation head is not constrained "
                    "(docs/phone.md, Gaps 1)")
MIXTRAL_19GB = ("the cold pipeline at 19 GB is I/O bound and clusters are formed from predicted neurons, not "
                "static bundles (docs/phone.md, Gaps 2)")
LLMFLASH_RESIDENCY = ("LLM in a flash's re-implementation fills DRAM beyond its window in an undescribed way; the "
                      "model keeps a random fixed share (docs/phone.md, Gaps 3)")
LLAMA_CPP = "llama.cpp's page cache: 128 KiB readahead, 8 faulting threads (estimates, mappers/phone/naive.py)"
ACE2_UFS = "the Ace 2's UFS 3.1 table is an estimate (designs/arch/oneplus_ace2.yaml)"
NO_ACCURACY = ("no mechanism: accuracy is a property of the quantised weights' numerics on a benchmark; a performance "
               "model has none (it would need the INT4/INT8-outlier weights executed on the benchmark's prompts)")
NO_RTX4090 = ("no design: PowerInfer (SOSP'24) on an RTX 4090 PC (GPU, PCIe, host DRAM) and no GPU-offload policy; "
              "the phone back-end has neither")
NO_NVME = ("no design: the intro's PC NVMe SSD is no PowerInfer-2 platform (a design would hold these values in its "
           "read table: an input, not an output)")
UFS_IOPS = ("the device table's 4 KB random rows (0.85-1.08 GB/s) are 208-263 K IOPS; the intro's 100 K (0.41 GB/s at "
            "4 KiB) is another, unstated measurement condition: no queue-depth axis is published (fpga_phone.md 2(a) "
            "notes the same for its 450 MB/s 4 KB sequential row)")
PROMPT_TAIL = ("the trace generator's capped power law (Mixtral's exponent 4.38, solved for the decode miss-rate mean "
               "and P99) leaves its coldest neurons at near-zero frequency, so a 128-token prompt activates about half "
               "of them; the published statistic would constrain the tail of the distribution, which the decode "
               "statistics do not see (docs/phone.md, Calibrations)")
NO_V1_FACTS = ("no activation facts for v1's Llama-7B (ReLU) and TurboSparse-Mistral-7B (designs/models/phone/ has "
               "neither; their FFN sparsity is not in fpga_phone.md): PowerInfer-2 and LLM in a flash run their dense "
               "fallback over the general lowering on the LLaMA-2-7B and Mistral-7B shapes")
CPU_PREFILL = ("llama.cpp's prefill runs at the CPU's INT4 MAC rate (the SIMD peak x the GEMV efficiency estimate 0.35, "
               "mappers/phone/overheads.py); the paper's 8 tokens/s is ~7 % of the SIMD peak: a CPU GEMM efficiency "
               "for prefill (dequantisation, cache blocking) is not modelled")
PREFILL_BASELINE = ("the baselines' prefill is their rule over the general lowering (llama.cpp: every core at the CPU's "
                    "INT4 rate; LLM in a flash: its hybrid step, no batching of the flash reads): their CPU GEMM rate "
                    "for prefill is high, as in the CPU-prefill row; Fig. 8's per-model bars are unpublished, so the "
                    "ratio is the mean over the Fig. 7 models")
DENSE_SILU = ("no activation facts for dense-SiLU Mistral-7B (designs/models/phone/mistral_7b.yaml): the policy runs "
              "its dense fallback over the general lowering (the offloaded half streamed each token), where the paper "
              "predicts SiLU's small outputs away")


def _three(dev, fp, budget_B: float) -> list:
    """PowerInfer-2, LLM in a flash (bundling, INT4 as in the paper's comparison) and llama.cpp."""
    return [powerinfer2(dev, fp, budget_B),
            llm_in_a_flash(dev, fp, "bundling", Run(weight_B=INT4_B), memory_B=budget_B),
            llama_cpp(dev, fp, budget_B)]


@lru_cache(maxsize=1)
def _costs() -> tuple[tuple[str, TokenCost, float, dict[str, Any]], ...]:
    """(case, cost, memory budget, extra row fields) of every case, computed once per process."""
    out = []
    op12 = load_device("oneplus12")
    fp = footprint(MIXTRAL)
    for gb in BUDGETS_GB:
        out += [("memory", c, gb * 1e9, {}) for c in _three(op12, fp, gb * 1e9)]
    for phone in PHONES:
        dev = op12 if phone == "oneplus12" else load_device(phone)
        for mid in FIG7_MODELS:
            fp = footprint(mid)
            b = min(ffn_offload_budget(fp, OFFLOAD), dev.available_B)
            out += [("offload50", c, b, {}) for c in _three(dev, fp, b)]
    fp = footprint("bamboo_7b")
    b = ffn_offload_budget(fp, OFFLOAD)
    out.append(("ablation", llama_cpp(op12, fp, b), b, {"step": "baseline"}))
    out += [("ablation", powerinfer2(op12, fp, b, feats), b, {"step": step}) for step, feats in ABLATION]
    b = ffn_offload_budget(fp, 0.0)
    out += [("in_memory", c, b, {}) for c in (powerinfer2(op12, fp, b), llama_cpp(op12, fp, b))]
    return tuple(out)


@lru_cache(maxsize=1)
def _prefills() -> dict[str, Prefill]:
    """PowerInfer-2's 512-token prefill of Bamboo-7B on the OnePlus 12, in memory and at 50 % FFN offload."""
    dev, fp = load_device("oneplus12"), footprint("bamboo_7b")
    return {"in memory": prefill(dev, fp, ffn_offload_budget(fp, 0.0)),
            "50% offload": prefill(dev, fp, ffn_offload_budget(fp, OFFLOAD))}


@lru_cache(maxsize=64)
def _general_result(model: str, phase: str, policy: str, memory_B: float, seq_len: int, device: str = "oneplus12",
                    engine: str = "cpu", batch: int = 1):
    """A policy over the general phone lowering (a prefill, or a model without activation facts), public API."""
    options: dict[str, Any] = {"memory_GB": memory_B / 1e9}
    if policy == "llm-in-a-flash":
        options.update(config="bundling", weights="int4", engine=engine)
    return evaluate(device, model=model, phase=phase, seq_len=seq_len, mapper=policy, mapper_options=options,
                    batch=batch)


def _general(model: str, phase: str, policy: str, memory_B: float, seq_len: int, device: str = "oneplus12",
             engine: str = "cpu") -> float:
    """Tokens/s of `_general_result` (a prefill's prompt tokens per second)."""
    r = _general_result(model, phase, policy, memory_B, seq_len, device, engine)
    return (seq_len if phase == "prefill" else 1) / r.latency_s


@lru_cache(maxsize=8)
def _batch_step(batch: int, features: Any) -> TokenCost:
    """PowerInfer-2's decode step of ``batch`` Bamboo-7B sequences in memory on the OnePlus 12, the planner over
    its whole hot-fraction range (at batch > 1 the NPU may take more than half of the rows)."""
    fp = footprint("bamboo_7b")
    return powerinfer2(load_device("oneplus12"), fp, ffn_offload_budget(fp, 0.0, 128 * batch), features,
                       hot_fractions=HOT_GRID_FULL, batch=batch)


def _dense_offload_budget(model: str, offload: float) -> float:
    """The budget leaving ``offload`` of a model's FFN weights on flash, for a model without activation facts
    (no predictors): every INT4 weight, KV cache and the runtime, less the offloaded FFN share."""
    fp = footprint(model)
    return fp.params * INT4_B + fp.kv_B(128) + RUNTIME_B - offload * fp.ffn_params * INT4_WEIGHT_B


@lru_cache(maxsize=1)
def _fig8() -> dict[str, float]:
    """Fig. 8's prefill ratios: PowerInfer-2's prefill over LLM in a flash's and llama.cpp's (their rules over the
    general lowering) at Fig. 7's 50 % offload budgets, the mean over the Fig. 7 models (the per-model bars are
    unpublished), on both phones at 512 tokens, and the maximum at 128 tokens on the OnePlus 12."""
    out: dict[str, float] = {}
    for phone, label in (("oneplus12", "OnePlus 12"), ("oneplus_ace2", "Ace 2")):
        dev = load_device(phone)
        for prompt in ((512, 128) if phone == "oneplus12" else (512,)):
            ratios: dict[str, list[float]] = {"llm-in-a-flash": [], "llama.cpp": []}
            for mid in FIG7_MODELS:
                fp = footprint(mid)
                b = min(ffn_offload_budget(fp, OFFLOAD), dev.available_B)
                pi2 = prefill(dev, fp, b, prompt=prompt).tokens_per_s
                for base in ratios:
                    ratios[base].append(pi2 / _general(mid, "prefill", base, b, prompt, phone))
            for base, name in (("llm-in-a-flash", "LLM in a flash"), ("llama.cpp", "llama.cpp")):
                if prompt == 512:
                    out[f"512-token prompt vs {name}, {label}"] = float(np.mean(ratios[base]))
                elif base == "llm-in-a-flash":
                    out["128-token prompt vs LLM in a flash (max)"] = max(ratios[base])
    return out


def _row(case: str, cost: TokenCost, memory_B: float, extra: dict[str, Any]) -> dict[str, Any]:
    percentiles = {k: v for k, v in cost.extra.items() if k.startswith("latency_P")}
    return {"case": case, "model": cost.model, "device": cost.device, "policy": cost.policy,
            "memory_GB": memory_B / 1e9, "tokens_per_s": cost.tokens_per_s, "latency_s": cost.latency_s,
            "io_s": cost.io_s, "compute_s": cost.compute_s, "mem_s": cost.mem_s, "energy_J": cost.energy_J,
            **percentiles, **extra}


def run(name: str = "powerinfer2") -> list[dict[str, Any]]:
    """The rows of ``einsim reproduce powerinfer2 --json``."""
    return [_row(*c) for c in _costs()]


def compare() -> list[CompareRow]:
    """One row per published PowerInfer-2 number (fpga_phone.md 2(c))."""
    rs = run()
    costs = _costs()
    out: list[CompareRow] = []

    def add(figure: str, metric: str, config: str, model: float | None, paper: float, unit: str,
            missing: str = "", tolerance: float = 0.25) -> None:
        out.append(CompareRow(PAPER_NAME, figure, metric, config, model, paper, unit, tolerance, SRC, missing))

    op12 = {(r["model"], r["policy"]): r for r in rs if r["device"] == "OnePlus12" and r["case"] == "offload50"}
    miss7 = {"powerinfer2": COMPUTE_OVERHEAD, "llm-in-a-flash": LLMFLASH_RESIDENCY, "llama.cpp": LLAMA_CPP}
    for mid, paper in FIG7_ONEPLUS12.items():
        for policy, value in zip(POLICIES, paper):
            add("Fig. 7", "decode tokens/s", f"{mid}, {policy}, OnePlus 12, 50% FFN offload",
                op12[(mid, policy)]["tokens_per_s"], value, "tokens/s", miss7[policy])
    ratios = {base: [op12[(m, "powerinfer2")]["tokens_per_s"] / op12[(m, base)]["tokens_per_s"] for m in FIG7_MODELS]
              for base in ("llama.cpp", "llm-in-a-flash")}
    for key, value in FIG7_ONEPLUS12_AVG.items():
        base, stat = key[3:].rsplit(" ", 1)
        model = float(np.mean(ratios[base])) if stat == "mean" else max(ratios[base])
        add("Fig. 7", f"PowerInfer-2 speedup {key}", "4 models, OnePlus 12, 50% FFN offload", model, value, "x",
            f"{COMPUTE_OVERHEAD}; {miss7[base]}")

    ace2 = {(r["model"], r["policy"]): r for r in rs if r["device"] == "OnePlusAce2"}
    for policy, bars in FIG7_ACE2_BARS.items():
        model = sorted((ace2[(m, policy)]["tokens_per_s"] for m in FIG7_MODELS), reverse=True)
        for rank, (mv, pv) in enumerate(zip(model, sorted(bars, reverse=True)), 1):
            add("Fig. 7 (Ace 2)", f"decode tokens/s, rank {rank} of 4 (bar-model assignment unpublished)",
                f"{policy}, OnePlus Ace 2, 50% offload (Mixtral 75%)", mv, pv, "tokens/s",
                f"{miss7[policy]}; {ACE2_UFS}")
    for key, value in FIG7_ACE2_AVG.items():
        base = key[3:].rsplit(" ", 1)[0]
        model = float(np.mean([ace2[(m, "powerinfer2")]["tokens_per_s"] / ace2[(m, base)]["tokens_per_s"]
                               for m in FIG7_MODELS]))
        add("Fig. 7 (Ace 2)", f"PowerInfer-2 speedup {key}", "4 models, OnePlus Ace 2", model, value, "x",
            f"{COMPUTE_OVERHEAD}; {miss7[base]}; {ACE2_UFS}")

    mem = {(r["policy"], r["memory_GB"]): r["tokens_per_s"] for r in rs if r["case"] == "memory"}
    for (policy, gb), value in CURVE.items():
        add("Fig. 10", "decode tokens/s", f"TurboSparse-Mixtral-47B, {policy}, {gb} GB", mem[(policy, gb)], value,
            "tokens/s", MIXTRAL_19GB if policy == "powerinfer2" else miss7[policy])
    for (base, gb), value in CURVE_RATIOS.items():
        add("Fig. 10", f"PowerInfer-2 speedup vs {base}", f"TurboSparse-Mixtral-47B, {gb} GB",
            mem[("powerinfer2", gb)] / mem[(base, gb)], value, "x", MIXTRAL_19GB)
    plan = memory_plan(footprint(MIXTRAL), 7e9)
    model_gb = {"non-FFN (embeddings, attention, KV, LM head)": plan.fixed_B / 1e9,
                "FFN quantization scales": plan.scales_B / 1e9, "neuron cache": plan.cache_B / 1e9}
    for part, value in BREAKDOWN_7GB_GB.items():
        add("Fig. 10 (7 GB breakdown)", f"DRAM for {part}", "TurboSparse-Mixtral-47B, 7 GB", model_gb[part], value,
            "GB", "the Mixtral shape preset is unverified (assumed Mixtral-8x7B's)")
    for part, value in BREAKDOWN_INPUTS_GB.items():
        add("Fig. 10 (7 GB breakdown)", f"DRAM for {part} (an input of the plan)", "TurboSparse-Mixtral-47B, 7 GB",
            {"predictors": plan.predictor_B, "runtime": plan.runtime_B}[part] / 1e9, value, "GB")
    fp = footprint(MIXTRAL)
    add("Fig. 10 (7 GB breakdown)", "neuron cache share of the FFN weights", "TurboSparse-Mixtral-47B, 7 GB",
        plan.cache_B / (fp.ffn_params * 0.5), CACHE_SHARE_7GB, "fraction",
        "the Mixtral shape preset is unverified (assumed Mixtral-8x7B's)")

    for policy, values in PER_TASK_19GB.items():
        for task, value in zip(TASKS, values):
            add("per-task decode", "decode tokens/s", f"TurboSparse-Mixtral-47B, {policy}, 19 GB, {task}",
                mem[(policy, 19)], value, "tokens/s",
                f"{miss7[policy] if policy != 'powerinfer2' else MIXTRAL_19GB}; {NO_TASK_TRACES}")

    for mid, stats in LATENCY_50_MS.items():
        r = op12[(mid, "powerinfer2")]
        for stat, value in stats.items():
            model = r["latency_s"] if stat == "mean" else r[f"latency_{stat}_s"]
            add("decode latency", f"{stat} latency per token", f"{mid}, PowerInfer-2, 50% FFN offload", model * 1e3,
                value, "ms", COMPUTE_OVERHEAD if stat in ("mean", "P50") else f"{NARROW_TAIL}; {COMPUTE_OVERHEAD}")
    (mixtral50,) = [c for case, c, _, _ in costs if case == "offload50" and c.model == MIXTRAL
                    and c.device == "OnePlus12" and c.policy == "powerinfer2"]
    add("decode latency", "cache miss rate, mean (calibration target of the Mixtral trace)",
        "TurboSparse-Mixtral-47B, PowerInfer-2, 50% FFN offload", mixtral50.extra["miss_rate_of_rows"],
        MIXTRAL_MISS_50["mean"], "fraction", "the generator's exponent is solved for this statistic")
    add("decode latency", "cache miss rate, P99 (calibration target of the Mixtral trace's token shift)",
        "TurboSparse-Mixtral-47B, PowerInfer-2, 50% FFN offload", mixtral50.extra["miss_rate_of_rows_P99"],
        MIXTRAL_MISS_50["P99"], "fraction",
        "the token shift and the exponent are solved together for the mean and this statistic "
        "(mappers/phone/calibration.py)")

    mistral50 = _dense_offload_budget("mistral_7b", OFFLOAD)
    silu = {policy: _general("mistral_7b", "decode", policy, mistral50, 128) for policy in ("powerinfer2", "llm-in-a-flash")}
    for (mid, policy), value in SILU_VS_RELU.items():
        add("SiLU vs ReLU", "decode tokens/s", f"Mistral-7B (SiLU), {policy}, 50% FFN offload (general lowering)",
            silu[policy], value, "tokens/s", DENSE_SILU)
    add("SiLU vs ReLU", "PowerInfer-2 speedup vs llm-in-a-flash", "Mistral-7B (SiLU), 50% FFN offload (general lowering)",
        silu["powerinfer2"] / silu["llm-in-a-flash"], SILU_SPEEDUP["mistral_7b"], "x", DENSE_SILU)
    add("SiLU vs ReLU", "PowerInfer-2 speedup vs llm-in-a-flash", "Bamboo-7B (ReLU), 50% FFN offload",
        op12[("bamboo_7b", "powerinfer2")]["tokens_per_s"] / op12[("bamboo_7b", "llm-in-a-flash")]["tokens_per_s"],
        SILU_SPEEDUP["bamboo_7b"], "x", f"{COMPUTE_OVERHEAD}; {LLMFLASH_RESIDENCY}")

    for policy, value in CRITICAL_PATH_IO.items():
        r = op12[("bamboo_7b", policy)]
        add("critical path", "I/O share of the token's critical path", f"Bamboo-7B, {policy}, 50% FFN offload",
            r["io_s"] / r["latency_s"], value, "fraction", CRITICAL_PATH if policy == "powerinfer2" else
            "LLM in a flash's I/O, memory management and compute add; its re-implementation's overlap is unstated")
        add("critical path", "compute share of the token's critical path", f"Bamboo-7B, {policy}, 50% FFN offload",
            1.0 - r["io_s"] / r["latency_s"], 1.0 - value, "fraction",
            CRITICAL_PATH if policy == "powerinfer2" else COMPUTE_OVERHEAD)

    pre = _prefills()
    qnn_prefill = _general("bamboo_7b", "prefill", "qnn", ffn_offload_budget(footprint("bamboo_7b"), 0.0), 512)
    prefill_model = {"Bamboo-7B in memory, tokens/s": (pre["in memory"].tokens_per_s, NPU_RATE),
                     "Bamboo-7B at 50% offload, tokens/s": (pre["50% offload"].tokens_per_s, PREFILL_OFFLOAD),
                     **{k: (v, f"{PREFILL_BASELINE}; {PREFILL_OFFLOAD}") for k, v in _fig8().items()},
                     "QNN Bamboo-7B in memory, tokens/s": (qnn_prefill, QNN_RULE),
                     "512-token prompt vs QNN, OnePlus 12": (pre["in memory"].tokens_per_s / qnn_prefill, QNN_PREFILL)}
    for metric, value in PREFILL.items():
        model, why = prefill_model.get(metric, (None, NO_MLC))
        add("prefill (Fig. 8)", metric, "PowerInfer-2 prefill, 50% FFN offload" if " vs " in metric else
            "PowerInfer-2 prefill", model, value, "tokens/s" if "tokens/s" in metric else "x", why)
    bamboo_fp, dev12 = footprint("bamboo_7b"), load_device("oneplus12")
    random_load = prefill(dev12, bamboo_fp, ffn_offload_budget(bamboo_fp, OFFLOAD), load="random")
    add("prefill (Fig. 8)", "sequential layer prefetch speedup over random I/O (I/O thread busy seconds)",
        "Bamboo-7B, 512-token prompt, 50% FFN offload: 512 KiB sequential vs 4 KiB random reads",
        random_load.busy_s["io"] / pre["50% offload"].busy_s["io"], SEQUENTIAL_PREFETCH_SPEEDUP, "x",
        "the ratio is the UFS table's 512 KiB sequential over 4 KiB random (big core) throughput")
    add("prefill (Fig. 8)", "activation probability at batch 128 (share of neurons active in a 128-token prompt)",
        "TurboSparse-Mixtral-47B, the trace generator, one layer", prompt_activation(footprint(MIXTRAL), 128),
        PROMPT_ACTIVATION_128, "fraction", PROMPT_TAIL, tolerance=0.0001 / 0.9999)

    ab = {r["step"]: r for r in rs if r["case"] == "ablation"}
    for step, value in ABLATION_PAPER.items():
        add("ablation (Fig. 11)", "decode tokens/s", f"Bamboo-7B, OnePlus 12, 50% FFN offload, {step}",
            ab[step]["tokens_per_s"], value, "tokens/s", COMPUTE_OVERHEAD)
    add("ablation (Fig. 11)", "neuron-cache hit rate (calibration target of the Bamboo trace)",
        "Bamboo-7B, +neuron cache",
        1.0 - [c for _, c, _, x in costs if x.get("step") == "+neuron cache"][0].extra["miss_rate"], ABLATION_HIT_RATE, "fraction",
        "the generator's exponent is solved for this statistic")

    inmem = {r["policy"]: r for r in rs if r["case"] == "in_memory"}
    add("in-memory decode", "PowerInfer-2 speedup vs llama.cpp", "Bamboo-7B, in memory",
        inmem["powerinfer2"]["tokens_per_s"] / inmem["llama.cpp"]["tokens_per_s"], IN_MEMORY_BAMBOO["vs llama.cpp"],
        "x", COMPUTE_OVERHEAD)
    bamboo_full = ffn_offload_budget(footprint("bamboo_7b"), 0.0)
    qnn_decode = _general("bamboo_7b", "decode", "qnn", bamboo_full, 128)
    add("in-memory decode", "PowerInfer-2 speedup vs QNN", "Bamboo-7B, in memory (QNN: every MAC on the NPU)",
        inmem["powerinfer2"]["tokens_per_s"] / qnn_decode, IN_MEMORY_BAMBOO["vs QNN"], "x", QNN_RULE)
    add("in-memory decode", "PowerInfer-2 speedup vs MLC-LLM", "Bamboo-7B, in memory", None,
        IN_MEMORY_BAMBOO["vs MLC-LLM"], "x", NO_MLC)
    bamboo = footprint("bamboo_7b")
    full, half = ffn_offload_budget(bamboo, 0.0), ffn_offload_budget(bamboo, 0.5)
    add("offload saving", "DRAM saved by 50% FFN offload", "Bamboo-7B", (full - half) / 1e9, OFFLOAD_SAVING["GB"], "GB",
        "the Bamboo shape preset is unverified (assumed Mistral-7B's)")
    add("offload saving", "share of DRAM saved by 50% FFN offload", "Bamboo-7B", (full - half) / full,
        OFFLOAD_SAVING["share"], "fraction", "the Bamboo shape preset is unverified (assumed Mistral-7B's)")
    best_of = {}
    for n in (1, 4):
        step = {name: _batch_step(n, feats) for name, feats in (("pi2", Features()), ("cpu", Features(xpu=False)))}
        qnn_step = _general_result("bamboo_7b", "decode", "qnn", bamboo_full, 128, batch=n).latency_s
        best_of[f"vs CPU-only, N={n}"] = (step["cpu"].latency_s / step["pi2"].latency_s, f"{COMPUTE_OVERHEAD}; {BATCH}")
        best_of[f"vs QNN, N={n}"] = (qnn_step / step["pi2"].latency_s, f"{QNN_RULE}; {BATCH}")
    for key, value in BEST_OF_4.items():
        model, why = best_of[key]
        add("best-of-N", f"PowerInfer-2 speedup {key}", "Bamboo-7B in memory, N sequences per decode step "
            "(CPU-only = PowerInfer-2 without the NPU)", model, value, "x", why)

    motivation_budget = {"in memory": _dense_offload_budget("mistral_7b", 0.0), "50% offload": mistral50}
    for (system, setting, metric), value in MOTIVATION.items():
        unit = {"tokens/s": "tokens/s", "GB/s": "GB/s"}.get(metric, "fraction")
        model = None
        if system == "LLM in a flash":
            r = _general_result("mistral_7b", "decode", "llm-in-a-flash", motivation_budget[setting], 128)
            io = sum(b["count"] for b in r.breakdown if b["action"] == "flash_io")
            model = {"tokens/s": 1 / r.latency_s, "GB/s": r.dram_bytes / r.latency_s / 1e9, "I/O share": io / r.latency_s,
                     "CPU utilization": (r.latency_s - io) / r.latency_s}[metric]
        add("Table 2 (motivation)", metric, f"Mistral-7B, {system}, {setting}" +
            (" (general lowering; CPU utilization = the compute share of an additive token)"
             if system == "LLM in a flash" else ""), model, value, unit,
            (DENSE_SILU if setting == "50% offload" else "the CPU's dense GEMV at the measured 43.9 GB/s")
            if system == "LLM in a flash" else NO_POWERINFER1)

    add("Table 8 (energy)", "energy per token",
        "powerinfer2 (decode; model: Bamboo-7B in memory)", inmem["powerinfer2"]["energy_J"],
        ENERGY_J_PER_TOKEN["powerinfer2"], "J", ENGINE_POWER)
    add("Table 8 (energy)", "energy per token", "llama.cpp (decode; model: Bamboo-7B in memory)", None,
        ENERGY_J_PER_TOKEN["llama.cpp"], "J",
        f"{NO_ENGINE_POWER}; peak power x time would give {inmem['llama.cpp']['energy_J']:.3g} J")
    add("Table 8 (energy)", "energy per token", "QNN", None, ENERGY_J_PER_TOKEN["QNN"], "J",
        "QNN runs over the general lowering, whose energy is device power x time, not per-engine busy time x power "
        "(mappers/phone/power.py covers PowerInfer-2 only)")
    device_W = load_device("oneplus12").power_W
    for system, value in PEAK_POWER_W.items():
        add("Table 8 (energy)", "peak device power" + (" (an input: oneplus12.yaml power_W)"
                                                     if system == "powerinfer2" else ""),
            system, device_W if system == "powerinfer2" else None, value, "W",
            "" if system == "powerinfer2" else NO_PEAK_POWER)
    in_memory_prefill = {"NPU": pre["in memory"].tokens_per_s,
                         "GPU": _general("bamboo_7b", "prefill", "llm-in-a-flash", ffn_offload_budget(bamboo, 0.0),
                                         512, engine="gpu"),
                         "CPU": _general("bamboo_7b", "prefill", "llama.cpp", ffn_offload_budget(bamboo, 0.0), 512)}
    for engine, value in PREFILL_7B_TOKENS_PER_S.items():
        add("2(a) engines", f"7B INT4 prefill on the {engine} (the {engine} rate is derived from it)"
            if engine != "CPU" else "7B INT4 prefill on the CPU (llama.cpp's rule)",
            "Bamboo-7B INT4 in memory, OnePlus 12" + (", LLM in a flash's rule on the GPU" if engine == "GPU" else ""),
            in_memory_prefill[engine], value, "tokens/s",
            {"NPU": NPU_RATE, "GPU": "the GPU's rate is derived from this number", "CPU": CPU_PREFILL}[engine])
    (bamboo_in_memory,) = [c for case, c, _, _ in costs if case == "in_memory" and c.policy == "powerinfer2"]
    add("2(a) planner", "NPU (hot) share of an FFN matrix at batch 1", "Bamboo-7B in memory, planner's choice",
        bamboo_in_memory.extra["hot_fraction"], NPU_SHARE_BATCH1, "fraction",
        "the planner's hot fractions are a grid up to 1/2 (mappers/phone/powerinfer2.py HOT_GRID)")
    for batch, value in HIGHLY_ACTIVATED.items():
        add("2(a) dynamic sparsity", "share of highly activated neurons", f"Bamboo-7B layer 10, {batch}", None, value,
            "fraction", "no value: 'highly activated' has no published threshold (a share of neurons above an unstated "
            "activation frequency); the trace gives any threshold's share, but which one is meant is not published")
    add("2(a) bundles", "gate/up/down co-activation (an input: the predictor's precision)", "Bamboo-7B",
        footprint("bamboo_7b").facts.activation.coactivation.value, COACTIVATION["gate/up/down of one neuron"],
        "fraction")
    add("2(a) bundles", "co-activation after removing hot neurons", "Bamboo-7B", None,
        COACTIVATION["after removing hot neurons (upper bound)"], "fraction",
        "the trace draws gate/up/down together (one activation per neuron); no per-matrix co-activation")
    ace2 = load_device("oneplus_ace2")
    plan11 = memory_plan(fp, ace2.available_B)
    add("Fig. 7 (Ace 2)", "FFN share offloaded at the app budget (paper: at least)", "TurboSparse-Mixtral-47B, 11 GB",
        1.0 - plan11.cache_B / (fp.ffn_params * 0.5), ACE2_MIXTRAL_OFFLOAD, "fraction",
        "the Mixtral shape preset is unverified (assumed Mixtral-8x7B's)")
    active = fp.attn_params + fp.head_params + fp.active_fraction * fp.layers * fp.top_k * fp.ffn_dim * fp.matrices * fp.d_model
    add("2(c)", "parameters active per token (an input: the preset's active_params)", "TurboSparse-Mixtral-47B",
        active, MIXTRAL_ACTIVE_PARAMS, "params")
    _storage_rows(add)
    large = _batch_step(32, Features()).extra["hot_fraction"]
    for engine, value in LARGE_BATCH_SPLIT.items():
        add("2(a) planner", f"{engine} share of an FFN matrix at large batch (the planner's hot fraction)",
            "Bamboo-7B in memory, batch 32", large if engine == "NPU" else 1.0 - large, value, "fraction",
            f"{NPU_RATE}: at batch 32 the NPU's dense rate is its batch-512 point and it takes every row; {BATCH}")
    add("best-of-N", "PowerInfer-2 advantage kept as N shrinks", "Bamboo-7B", None, BEST_OF_N_KEPT, "x",
        "no mechanism: the reference does not say against which baseline or at which N the 1.42x holds "
        "(fpga_phone.md 2(c)); the model's speedups at N = 1 and 4 are the rows above")
    for (mid, system), value in ACCURACY.items():
        add("Table 7 (accuracy)", "average accuracy, INT4", f"{mid}, {system}", None, value, "%", NO_ACCURACY)
    for system, value in POWERINFER_SOSP.items():
        add("PowerInfer (SOSP'24)", system, "RTX 4090 PC", None, value, "fraction" if "share" in system else
            ("x" if "speedup" in system else "tokens/s"), NO_RTX4090)
    for mix, value in DRAM_BY_ENGINES_GBPS.items():
        add("2(a) UMA bandwidth", "achieved DRAM bandwidth (an input: oneplus12.yaml bandwidth_by_engines)",
            f"{mix} streaming, OnePlus 12", load_device("oneplus12").bandwidth(mix.split(" + ")) / 1e9, value, "GB/s")
    _v1_rows(op12, {(r["model"], r["policy"]): r for r in rs if r["device"] == "OnePlusAce2"}, mem, add)
    return out


def _storage_rows(add_row: Callable[..., None]) -> None:
    """The UFS 4.0 rows of 2(a): the event simulation's read benchmark (`einsim.mappers.phone.flash_bench`) at the
    table's request sizes, ranges and issuing cores, the multi-issuer loss, and the intro's comparison."""
    dev = load_device("oneplus12")
    for (pattern, block, range_B, core), value in UFS_TABLE.items():
        where = f"{pattern} {block // KIB} KiB" + (f", {range_B // MIB} MiB range" if range_B else "") + \
            (f", issued from the {core} core" if core else "")
        add_row("2(a) UFS 4.0", "read throughput, 1 issuer (an input: the device's UFS table)", where,
                read_benchmark(dev, pattern, block, range_B=range_B, core=core) / 1e9, value, "GB/s")
    one = read_benchmark(dev, "random", 4 * KIB, range_B=128 * MIB, core="mid")
    five = read_benchmark(dev, "random", 4 * KIB, range_B=128 * MIB, core="mid", issuers=5)
    add_row("2(a) UFS 4.0", "throughput lost with several issuers (an input: multi_issuer_degradation)",
            "random 4 KiB from 5 mid-core threads vs 1 (the single command queue)", 1.0 - five / one,
            UFS_MULTI_ISSUER_LOSS, "fraction")
    model = {("UFS 4.0", "sequential GB/s"): read_benchmark(dev, "sequential", 512 * KIB) / 1e9,
             ("UFS 4.0", "random IOPS"): iops(dev, 4 * KIB, range_B=128 * MIB, core="big")}
    for (system, metric), value in STORAGE_INTRO.items():
        seq = metric == "sequential GB/s"
        add_row("intro (storage)", "sequential read throughput" + (" (an input: the device's UFS table)" if seq else "")
                if seq else metric,
                system + (", 4 KiB from the big core, 128 MiB range" if not seq and system == "UFS 4.0" else ""),
                model.get((system, metric)), value, "GB/s" if seq else "IOPS",
                NO_NVME if system == "NVMe SSD" else ("" if seq else UFS_IOPS))


def _v1_rows(op12: dict, ace2_costs: dict, mem: dict, add_row: Callable[..., None]) -> None:
    """v1's Fig. 7 bars (both phones, the model of each bar known) and its headline ratios. v1's Llama-7B and
    TurboSparse-Mistral-7B have no activation facts: they run as the LLaMA-2-7B and Mistral-7B shape presets, the
    sparse policies over the general lowering (their dense fallback), llama.cpp on its own path."""
    ratios: dict[str, list[float]] = {"llama.cpp": [], "llm-in-a-flash": []}
    for phone, bars, costs in (("OnePlus 12", V1_ONEPLUS12, op12), ("OnePlus Ace 2", V1_ACE2, ace2_costs)):
        device = "oneplus12" if phone == "OnePlus 12" else "oneplus_ace2"
        for mid, values in bars.items():
            preset = V1_PRESETS.get(mid)
            tps = {}
            for policy, value in zip(POLICIES, values):
                r = costs.get((mid, policy))
                tps[policy] = r["tokens_per_s"] if r is not None else \
                    _general(preset, "decode", policy, _dense_offload_budget(preset, OFFLOAD), 128, device)
                why = {"powerinfer2": COMPUTE_OVERHEAD, "llm-in-a-flash": LLMFLASH_RESIDENCY, "llama.cpp": LLAMA_CPP}[policy]
                if r is None and policy != "llama.cpp":
                    why = NO_V1_FACTS
                add_row("v1 Fig. 7", "decode tokens/s", f"{mid}, {policy}, {phone}, 50% FFN offload (v1)"
                        + (f" (as {preset})" if preset else ""), tps[policy], value, "tokens/s",
                        why + ("; " + ACE2_UFS if phone == "OnePlus Ace 2" else ""))
            if phone == "OnePlus 12":
                for base in ratios:
                    ratios[base].append(tps["powerinfer2"] / tps[base])
    model = {"vs llama.cpp max (abstract: up to)": max(ratios["llama.cpp"]),
             "vs llm-in-a-flash mean": float(np.mean(ratios["llm-in-a-flash"])),
             "vs llm-in-a-flash max": max(ratios["llm-in-a-flash"]),
             "vs llama.cpp, project site first (up to)": max(ratios["llama.cpp"]),
             "vs llama.cpp, project site later (up to)": max(ratios["llama.cpp"])}
    for key, value in V1_RATIOS.items():
        add_row("v1 Fig. 7", f"PowerInfer-2 speedup {key}", "v1's 4 models, OnePlus 12, 50% FFN offload", model[key],
                value, "x", f"{COMPUTE_OVERHEAD}; {NO_V1_FACTS}")
    original = llama_cpp(load_device("oneplus12"), footprint("mixtral_8x7b"), 19e9)
    add_row("v1 Fig. 7", "PowerInfer-2 (TurboSparse-Mixtral-47B) speedup vs llama.cpp on the original Mixtral-47B",
            "OnePlus 12, 19 GB (TurboSparse Table 9)", mem[("powerinfer2", 19)] / original.tokens_per_s,
            TURBOSPARSE_VS_ORIGINAL, "x", MIXTRAL_19GB)


def notes() -> list[str]:
    return ["memory rows 8 ... 18 GB are predictions: only the 7 and 19 GB endpoints are published (v3 Fig. 10).",
            "v1's Fig. 7 bars (Llama-7B, TurboSparse-Mistral-7B) are not compared: the model follows v3 (fpga_phone.md 5).",
            "einsim reproduce powerinfer2 --compare prints every published number beside the model's."]
