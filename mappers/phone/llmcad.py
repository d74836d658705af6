"""LLMCad (Xu et al., arXiv 2309.04255) as a policy: a memory-resident small model drafts a token
tree, the partly-resident large model verifies it in one batched pass (fpga_phone.md 4(a)-(b)).

A seeded Monte Carlo of drafting and verification:

- each drafted token has a confidence c (the small model's top-1 probability) and is what the large
  model would emit with probability c (a calibrated draft model); c ~ Beta with mean ``agreement``
  (the published per-token agreement) and concentration ``concentration`` (not published: an
  estimate with a range, docs/phone.md);
- the runner-up takes a uniform share of the rest, p2 = u (1 - c) with u ~ U(0, 1) (an estimate: the
  split of the remaining mass is not published), and above 30% opens a branch: it is right with
  probability p2 when the top-1 is not, rescuing that position; the branch is one more sequence (the
  prefix and its token) in the verification batch;
- drafting stops when the tree-cumulative confidence falls below alpha (self-adaptive fallback);
  alpha follows Eq. 3 after each verification;
- a verification accepts the verified prefix plus the large model's own next token.

Time: a verification loads the large model's non-resident weights (sequential reads) and runs it
once over the tree's branch sequences (non-autoregressive verification, NAV): the pass reads the
weights once from DRAM and computes every branch token on the CPU, so it is flat in the batch while
the weight reads dominate. Drafting overlaps that loading (the compute-I/O pipeline), with the
measured contention on the loading; the two models never compute at once. The baseline (Std) is the
large model alone under llama.cpp-style mmap; StdPL streams the same non-resident weights layer by
layer under the compute of the layer before.

``Techniques`` switches the paper's three techniques off one at a time (its ablation, 4(c)); with
``fallback_threshold`` it is Big-Little Decoder's rule instead (BLD, Kim et al., NeurIPS 2023: the small
model decodes until one token's confidence falls below the threshold, then the large model runs once,
non-autoregressively, over the tokens since the last fallback and emits its own token there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from einsim.errors import EinsimError
from einsim.mappers.phone.cost import TokenCost, device_energy
from einsim.mappers.phone.footprint import Footprint
from einsim.mappers.phone.formats import INT4_B, RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.mappers.phone.naive import llama_cpp
from einsim.mappers.phone.overheads import INT4_GEMV_EFFICIENCY

BRANCH_P = 0.30  # source: fpga_phone.md 4(a): every candidate with confidence > 30% starts a branch [P]
ALPHA0 = 0.01  # source: fpga_phone.md 4(a): alpha defaults to 0.01 [P]
LOAD_CONTENTION = 1.07  # source: fpga_phone.md 4(a): loading 1.05-1.09x longer while both run (midpoint) [P]
AGREEMENT = 0.8  # source: fpga_phone.md 4(d): mT5-small matches mT5-large on about 80% of tokens [P]; reused for LLaMA
# Published acceptance statistics of LLaMA2-Chat 7B -> 13B (EdgeLLM, LLMCad's journal version, IV.G [P: code
# index]): "52.8%-76.3% of verification processes identify errors", "a prolonged wait occurs every 1.31-1.89
# verifications (corresponding to the generation of 7.0-10.5 tokens by the draft LLM)", i.e. 7.0 / 1.31 = 5.3 to
# 10.5 / 1.89 = 5.6 drafted tokens per verification. Trace statistics, not latencies.
DRAFTED_PER_VERIFICATION = (7.0 / 1.31, 10.5 / 1.89)
VERIFICATIONS_WITH_ERRORS = (0.528, 0.763)
# Concentration a + b of the draft's Beta(a, b) top-1 confidence (mean AGREEMENT). source: solved by
# calibrate_concentration for the midpoint of DRAFTED_PER_VERIFICATION (5.45 tokens); the range is the
# solution at its ends (5.6 and 5.3); the share of verifications that find an error there is checked against
# VERIFICATIONS_WITH_ERRORS (tests/mappers/phone/test_llmcad_policy.py). The effect of both ends is in
# docs/phone.md (LLMCad).
CONCENTRATION = 1.35
CONCENTRATION_RANGE = (1.25, 1.56)
LOAD_BLOCK_B = 512 * 1024  # sequential parameter loading in large requests
CPU_CORES = "all"  # llama.cpp runs a thread per core on the phones (LLMCad Table 2: llama.cpp on the CPU)


@dataclass(frozen=True)
class Deployment:
    """How both models run: llama.cpp on every CPU core in INT4 (the phones), or PyTorch eager on the GPU in
    fp32 (the Jetsons, fpga_phone.md 4(a) Table 2), each operator paying a dispatch cost; the large model
    alone (Std) is then read in full from storage each token when it exceeds the memory bound."""

    engine: Literal["cpu", "gpu"] = "cpu"
    weight_B: float = INT4_B
    op_s: float = 0.0  # framework dispatch per operator


PHONE = Deployment()
# PyTorch 1.10 on the Jetson TX2's GPU in fp32. op_s: estimate, range 20-100 us per eager CUDA operator
# dispatched from a Cortex-A57 (PyTorch's eager launch path is ~10-30 us on a desktop core, several times
# that on a 2 GHz A57); the effect of both ends is in docs/phone.md (LLMCad).
JETSON = Deployment(engine="gpu", weight_B=4.0, op_s=50e-6)
OPS_PER_LAYER = 15  # [D] a GPT-2 block's eager operators: 2 layer norms, qkv, split, scores, mask, softmax,
# values, merge, projection, 2 residuals, fc, GELU, projection (HF transformers GPT2Block)


@dataclass(frozen=True)
class Techniques:
    """LLMCad's three techniques (fpga_phone.md 4(a)); all on is LLMCad."""

    tree: bool = True  # branches for runner-ups above 30%, verified in the same batched pass
    pipeline: bool = True  # drafting overlaps the target's loading
    adaptive_fallback: bool = True  # Eq. 3 updates alpha after each verification; off: alpha stays 0.01
    # BLD's fallback rule: verify when one drafted token's confidence is below this (None: LLMCad's rule, the
    # tree-cumulative confidence below alpha)
    fallback_threshold: float | None = None
    # speculative decoding's rule: verify after a fixed number of drafted tokens (None: a confidence rule)
    draft_length: int | None = None


# Big-Little Decoder's fallback threshold on the small model's top-1 probability. source: estimate, range 0.3-0.9
# (BiLD, Kim et al. NeurIPS 2023, sweeps its fallback threshold over a range of this kind; the value LLMCad ran
# is not stated): a low threshold drafts long runs before each reload, a high one falls back after a few
# tokens. The effect of both ends is printed by `einsim reproduce llmcad --compare`.
BLD_FALLBACK = 0.6
BLD_FALLBACK_RANGE = (0.3, 0.9)


# Speculative decoding (SP) drafts a fixed number of tokens per verification: "SP uses token sequence length"
# (LLMCad v1 4.2 [P: code index]). source: estimate, range 3-7, midpoint 5: Leviathan et al. (ICML 2023) evaluate
# draft lengths of this order (gamma = 3, 5, 7 [U: recalled]), Chen et al. (2023) K = 4 [U: recalled]; the value
# LLMCad ran is not stated. The effect of both ends is printed by `einsim reproduce llmcad --compare`.
SP_DRAFT_LENGTH = 5
SP_DRAFT_LENGTH_RANGE = (3, 7)


def sp_techniques(length: int = SP_DRAFT_LENGTH) -> Techniques:
    """Speculative decoding on LLMCad's machinery: no tree, no pipeline, a fixed draft length."""
    return Techniques(tree=False, pipeline=False, adaptive_fallback=False, draft_length=length)


def bld_techniques(threshold: float = BLD_FALLBACK) -> Techniques:
    """BLD on LLMCad's machinery: no tree, no pipeline (the large model runs only when control is handed
    over), fallback on one token's confidence."""
    return Techniques(tree=False, pipeline=False, adaptive_fallback=False, fallback_threshold=threshold)


@dataclass(frozen=True)
class Drafting:
    """Means per verification from the Monte Carlo."""

    drafted: float  # small-model steps
    accepted: float  # tokens emitted (the verified prefix and the large model's own next token)
    verified: float  # tokens in the verification batch (every branch sequence's tokens)
    verifications: int
    error_share: float  # share of verifications that find an error in the draft (the best branch not all right)


def simulate_drafting(tokens: int, agreement: float = AGREEMENT, seed: int = 0,
                      concentration: float = CONCENTRATION, tree: bool = True,
                      adaptive_fallback: bool = True, fallback_threshold: float | None = None,
                      draft_length: int | None = None) -> Drafting:
    """Draft/verify cycles until ``tokens`` tokens are accepted. With ``fallback_threshold`` (BLD) a token whose
    confidence is below it is not drafted: the large model runs over the tokens so far and emits that one. With
    ``draft_length`` (speculative decoding) drafting stops after that many tokens, whatever their confidence."""
    rng = np.random.default_rng(seed)
    a, b = agreement * concentration, (1.0 - agreement) * concentration
    alpha, done, drafted, verified, cycles, errors = ALPHA0, 0, 0, 0, 0, 0
    while done < tokens:
        cum, n, ok, branch_tokens, prefix_open = 1.0, 0, 0, 0, True
        while True:
            c = rng.beta(a, b)
            if fallback_threshold is not None and c < fallback_threshold:
                break
            p2 = rng.random() * (1.0 - c) if tree else 0.0
            if p2 <= BRANCH_P:
                p2 = 0.0
            right = rng.random() < c + p2  # top-1 right with probability c; the branch covers the next p2
            n += 1
            if p2 > 0.0:
                branch_tokens += n  # the branch's sequence: the prefix and its own token
            if prefix_open and right:
                ok += 1
            else:
                prefix_open = False
            cum *= max(c, p2)  # the best branch's cumulative confidence
            if draft_length is not None:
                if n >= draft_length:
                    break
            elif fallback_threshold is None and cum < alpha:
                break
        if adaptive_fallback:
            alpha = alpha * 0.5 if ok == n else (n - ok) / n
        done += ok + 1
        errors += ok < n
        drafted += n
        verified += n + branch_tokens
        cycles += 1
    return Drafting(drafted / cycles, done / cycles, verified / cycles, cycles, errors / cycles)


def calibrate_concentration(drafted: float, tokens: int = 20000, seed: int = 0, lo: float = 0.2,
                            hi: float = 200.0, steps: int = 30) -> float:
    """The concentration at which LLMCad (tree, adaptive fallback) drafts ``drafted`` tokens per verification
    (bisection in log concentration; drafting gets shorter as the confidences concentrate near the mean)."""
    for _ in range(steps):
        mid = (lo * hi) ** 0.5
        if simulate_drafting(tokens, seed=seed, concentration=mid).drafted > drafted:
            lo = mid
        else:
            hi = mid
    return (lo * hi) ** 0.5


def _cpu_cores(device: Device) -> dict[str, int]:
    return {name: cl.cores for name, cl in device.cpu.clusters.items()}


def forward_time(device: Device, fp: Footprint, batch: float, deploy: Deployment = PHONE) -> float:
    """One forward pass of ``batch`` tokens from DRAM: on the CPU the INT4 weights read once or the MACs of
    every token at the INT4 GEMV rate, whichever is longer; on the GPU the same with fp32 weights at the
    GPU's bandwidth and peak, plus the framework's dispatch of every operator."""
    macs = fp.params - fp.embed_params + fp.head_params
    if deploy.engine == "gpu":
        if device.gpu is None:
            raise EinsimError(f"{device.name} has no GPU for a GPU deployment")
        flops = device.gpu.peak_ops_per_s["fp32"]
        dispatch = (fp.layers * OPS_PER_LAYER + 2) * deploy.op_s
        return max(fp.params * deploy.weight_B / device.bandwidth(["GPU"]), 2.0 * batch * macs / flops) + dispatch
    rate = device.cpu_macs_per_s(_cpu_cores(device), "int8") * INT4_GEMV_EFFICIENCY
    return max(fp.params * deploy.weight_B / device.bandwidth(["CPU"]), batch * macs / rate)


def std(device: Device, fp: Footprint, memory_B: float | None = None, deploy: Deployment = PHONE) -> TokenCost:
    """The large model alone (Std): llama.cpp's mmap on the phones; on a GPU deployment the whole model read
    from storage each token once it exceeds the memory bound (a cyclic scan misses every block of an LRU
    smaller than it), then one forward pass."""
    memory_B = device.available_B if memory_B is None else memory_B
    if deploy.engine == "cpu":
        return llama_cpp(device, fp, memory_B)
    model_B = fp.params * deploy.weight_B
    io = _stream(device, model_B) if model_B > memory_B - RUNTIME_B else 0.0
    compute = forward_time(device, fp, 1, deploy)
    return TokenCost("std", fp.model_id, device.name, io + compute, compute, io, 0.0, model_B if io else 0.0,
                     model_B, device_energy(device.power_W, io + compute), {"memory_B": memory_B})


def _stream(device: Device, nbytes: float) -> float:
    """Seconds to read ``nbytes`` of parameters from flash in large sequential requests."""
    return device.stream_time(Stream(nbytes / LOAD_BLOCK_B, LOAD_BLOCK_B, "sequential"))


def _overlapped(t_draft: float, t_load: float) -> float:
    """Drafting and loading side by side: the loading runs LOAD_CONTENTION times slower while the
    draft computes, at full speed after it."""
    if t_draft >= t_load * LOAD_CONTENTION:
        return t_draft
    return t_load + t_draft * (1.0 - 1.0 / LOAD_CONTENTION)


def llmcad(device: Device, small: Footprint, large: Footprint, memory_B: float | None = None,
           agreement: float = AGREEMENT, tokens: int = 2000, seed: int = 0,
           concentration: float = CONCENTRATION, techniques: Techniques = Techniques(),
           deploy: Deployment = PHONE) -> tuple[TokenCost, TokenCost]:
    """(LLMCad, Std) per-token costs; speedup = Std latency / LLMCad latency."""
    memory_B = device.available_B if memory_B is None else memory_B
    small_B = small.params * deploy.weight_B
    large_B = large.params * deploy.weight_B
    below_B = min(large_B, max(0.0, memory_B - RUNTIME_B - small_B))  # the target's part under the memory bound
    resident = below_B == large_B  # both models fit: the target stays in DRAM, nothing is reloaded
    t_below = 0.0 if resident else _stream(device, below_B)
    t_rest = 0.0 if resident else _stream(device, large_B - below_B)
    t_small = forward_time(device, small, 1, deploy)
    d = simulate_drafting(tokens, agreement, seed, concentration, techniques.tree, techniques.adaptive_fallback,
                          techniques.fallback_threshold, techniques.draft_length)
    t_verify = forward_time(device, large, d.verified, deploy)
    t_draft = d.drafted * t_small
    if techniques.pipeline:  # the part under the bound loads while the small model drafts, the rest after fallback
        pre = _overlapped(t_draft, t_below)
        io_cycle = pre - max(0.0, t_draft - t_below * LOAD_CONTENTION) + t_rest
        cycle = pre + t_rest + t_verify
    else:
        io_cycle = t_below + t_rest
        cycle = t_draft + io_cycle + t_verify
    latency = cycle / d.accepted
    io_s = io_cycle / d.accepted
    cad = TokenCost("llmcad", large.model_id, device.name, latency, latency - io_s, io_s, 0.0, large_B / d.accepted,
                    (d.drafted * small_B + large_B) / d.accepted, device_energy(device.power_W, latency),
                    {"draft_model": small.model_id, "drafted_per_verify": d.drafted,
                     "accepted_per_verify": d.accepted, "verified_per_verify": d.verified, "memory_B": memory_B,
                     "cpu_busy_s": (t_draft + t_verify) / d.accepted, "flash_busy_s": (t_below + t_rest) / d.accepted})
    return cad, std(device, large, memory_B, deploy)


def peak_memory_B(fp: Footprint, context_len: int = 512) -> float:
    """llama.cpp's resident set for one model: its INT4 weights (mapped in full), the fp16 KV cache allocated
    for ``context_len`` tokens and the runtime's buffers."""
    return fp.params * INT4_B + fp.kv_B(context_len) + RUNTIME_B


def speed_gap(device: Device, small: Footprint, large: Footprint, memory_B: float | None = None,
              deploy: Deployment = PHONE) -> float:
    """LLMCad's "speed gap" of a model pair: the large model's token out of memory (Std) over one step of the
    memory-resident small model."""
    return std(device, large, memory_B, deploy).latency_s / forward_time(device, small, 1, deploy)


def std_pipelined(device: Device, fp: Footprint, memory_B: float | None = None,
                  deploy: Deployment = PHONE) -> TokenCost:
    """StdPL: Std (the large model alone, every weight read from flash each token) with a layer-wise
    pipeline: a layer's reads overlap the layer before's compute, so only the first layer's reads
    and the last layer's compute are not hidden."""
    alone = std(device, fp, memory_B, deploy)
    latency = max(alone.io_s, alone.compute_s) + min(alone.io_s, alone.compute_s) / fp.layers
    return TokenCost("stdpl", fp.model_id, device.name, latency, alone.compute_s, latency - alone.compute_s, 0.0,
                     alone.flash_B, alone.dram_B, device_energy(device.power_W, latency), dict(alone.extra))


def verification_time(device: Device, fp: Footprint, tokens: int, deploy: Deployment = PHONE) -> float:
    """One verification of ``tokens`` drafted tokens: the large model reloaded from storage and one batched
    (NAV) pass."""
    return _stream(device, fp.params * deploy.weight_B) + forward_time(device, fp, tokens, deploy)


def autoregressive_verification_speedup(device: Device, fp: Footprint, tokens: int,
                                        deploy: Deployment = PHONE) -> float:
    """Verifying ``tokens`` drafted tokens one large-model pass at a time (each pass reloads the
    model from flash, as a verification does) over verifying them in one batched (NAV) pass."""
    return tokens * verification_time(device, fp, 1, deploy) / verification_time(device, fp, tokens, deploy)
