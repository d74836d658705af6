"""LLMCad (Xu et al., arXiv 2309.04255) as a policy: a memory-resident small model drafts a token
tree, the partly-resident large model verifies it in one batched pass (fpga_phone.md 4(a)-(b)).

A seeded Monte Carlo of drafting and verification:

- each drafted token has a confidence c (the small model's top-1 probability) and is what the large
  model would emit with probability c (a calibrated draft model); c ~ Beta with mean ``agreement``;
- when the rest of the mass exceeds 30%, the runner-up gets p2 ~ U(30%, 1 - c) and, above 30%,
  opens a branch: it is right with probability p2 when the top-1 is not, rescuing that position;
- drafting stops when the tree-cumulative confidence falls below alpha (self-adaptive fallback);
  alpha follows Eq. 3 after each verification;
- a verification accepts the verified prefix plus the large model's own next token.

Time: a verification loads the large model's non-resident weights (sequential reads) and runs it
once, batched over the tree's branches (I/O-bound, so the batch is free); drafting overlaps that
loading (the compute-I/O pipeline), with the measured contention on the loading; the two models
never compute at once. The baseline (Std) is the large model alone under llama.cpp-style mmap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from einsim.mappers.phone.cost import TokenCost, device_energy
from einsim.mappers.phone.footprint import Footprint
from einsim.mappers.phone.formats import INT4_B, RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.mappers.phone.naive import llama_cpp

BRANCH_P = 0.30  # source: fpga_phone.md 4(a): every candidate with confidence > 30% starts a branch [P]
ALPHA0 = 0.01  # source: fpga_phone.md 4(a): alpha defaults to 0.01 [P]
LOAD_CONTENTION = 1.07  # source: fpga_phone.md 4(a): loading 1.05-1.09x longer while both run (midpoint) [P]
AGREEMENT = 0.8  # source: fpga_phone.md 4(d): mT5-small matches mT5-large on about 80% of tokens [P]; reused for LLaMA
LOAD_BLOCK_B = 512 * 1024  # sequential parameter loading in large requests


@dataclass(frozen=True)
class Drafting:
    """Mean drafted and accepted tokens per verification from the Monte Carlo."""

    drafted: float
    accepted: float
    verifications: int


def simulate_drafting(tokens: int, agreement: float = AGREEMENT, seed: int = 0) -> Drafting:
    """Draft/verify cycles until ``tokens`` tokens are accepted."""
    rng = np.random.default_rng(seed)
    a = 4.0 * agreement / (1.0 - agreement)  # Beta(a, 4) has mean `agreement`
    alpha, done, drafted, cycles = ALPHA0, 0, 0, 0
    while done < tokens:
        cum, n, ok, prefix_open = 1.0, 0, 0, True
        while True:
            c = rng.beta(a, 4.0)
            p2 = rng.uniform(BRANCH_P, 1.0 - c) if 1.0 - c > BRANCH_P else 0.0
            u = rng.random()
            right = u < c + p2  # top-1 right with probability c; the branch covers the next p2
            n += 1
            if prefix_open and right:
                ok += 1
            else:
                prefix_open = False
            cum *= max(c, p2)  # the best branch's cumulative confidence
            if cum < alpha:
                break
        alpha = alpha * 0.5 if ok == n else (n - ok) / n
        done += ok + 1
        drafted += n
        cycles += 1
    return Drafting(drafted / cycles, done / cycles, cycles)


def llmcad(device: Device, small: Footprint, large: Footprint, memory_B: float | None = None,
           agreement: float = AGREEMENT, tokens: int = 2000, seed: int = 0) -> tuple[TokenCost, TokenCost]:
    """(LLMCad, Std) per-token costs; speedup = Std latency / LLMCad latency."""
    memory_B = device.available_B if memory_B is None else memory_B
    small_B = small.params * INT4_B
    large_B = large.params * INT4_B
    resident = max(0.0, memory_B - RUNTIME_B - small_B)
    load_B = max(0.0, large_B - resident)
    t_load = device.stream_time(Stream(load_B / LOAD_BLOCK_B, LOAD_BLOCK_B, "sequential"))
    bw = device.bandwidth(["CPU"])
    t_small = small_B / bw
    t_verify = large_B / bw  # one batched pass; the tree's few branches share the weight reads
    d = simulate_drafting(tokens, agreement, seed)
    cycle = max(d.drafted * t_small, t_load * LOAD_CONTENTION) + t_verify
    latency = cycle / d.accepted
    io_s = t_load * LOAD_CONTENTION / d.accepted
    cad = TokenCost("llmcad", large.model_id, device.name, latency, latency - io_s, io_s, 0.0, load_B / d.accepted,
                    (d.drafted * small_B + large_B) / d.accepted, device_energy(device.power_W, latency),
                    {"draft_model": small.model_id, "drafted_per_verify": d.drafted,
                     "accepted_per_verify": d.accepted, "memory_B": memory_B})
    std = llama_cpp(device, large, memory_B)
    return cad, std
