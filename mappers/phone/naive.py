"""llama.cpp-style decoding from an mmapped model file (the naive baseline).

Every weight is read each token, layer by layer, through the OS page cache: an LRU over
readahead-sized pages whose capacity is the DRAM budget. When the per-token working set exceeds
it, a cyclic scan misses on (nearly) every page. A miss is a synchronous sequential read of one
readahead window, issued by whichever compute thread faulted: several issuers share the flash's
single command queue. Faults block compute, so I/O and compute add.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from einsim.mappers.phone.cost import TokenCost, device_energy
from einsim.mappers.phone.footprint import Footprint
from einsim.mappers.phone.formats import INT4_B, READAHEAD_B, RUNTIME_B
from einsim.mappers.phone.hardware import Device, Stream
from einsim.sim.phone import hits_at, stack_distances

THREADS = 8  # llama.cpp's default thread count on an 8-core phone SoC; source: estimate


def llama_cpp(device: Device, fp: Footprint, memory_B: float, tokens: int = 8, seed: int = 0,
              context_len: int = 128) -> TokenCost:
    """Mean per-token cost with ``memory_B`` of DRAM for the process (weights in INT4)."""
    accessed, distances = _page_stream(fp, tokens, seed)
    capacity = int(max(0.0, memory_B - RUNTIME_B) // READAHEAD_B)
    hits = hits_at(distances, capacity)
    misses = float(np.mean([len(h) - h.sum() for h in hits[1:]] if tokens > 1 else [len(hits[0]) - hits[0].sum()]))
    io_s = device.stream_time(Stream(misses, READAHEAD_B, "sequential", issuers=THREADS))
    touched_B = accessed * READAHEAD_B + fp.kv_B(context_len)
    compute_s = touched_B / device.bandwidth(["CPU"])
    total = io_s + compute_s
    return TokenCost("llama.cpp", fp.model_id, device.name, total, compute_s, io_s, 0.0, misses * READAHEAD_B,
                     touched_B, device_energy(device.power_W, total), {"memory_B": memory_B})


@lru_cache(maxsize=16)
def _page_stream(fp: Footprint, tokens: int, seed: int) -> tuple[float, list[np.ndarray]]:
    """Mean pages accessed per token and the LRU stack distances of every access per token: the page
    stream does not depend on the budget, so it is built once per process."""
    rng = np.random.default_rng(seed)
    attn_pages = _pages(fp.attn_params / fp.layers * INT4_B)
    expert_pages = _pages(fp.ffn_params / fp.layers / fp.experts * INT4_B)
    head_pages = _pages(fp.head_params * INT4_B)
    per_layer = attn_pages + fp.experts * expert_pages
    n_ids = fp.layers * per_layer + head_pages
    accesses = []
    for _ in range(tokens):
        ids = []
        for layer in range(fp.layers):
            base = layer * per_layer
            ids.append(np.arange(base, base + attn_pages))
            routed = rng.choice(fp.experts, fp.top_k, replace=False) if fp.experts > 1 else [0]
            for e in sorted(routed):
                lo = base + attn_pages + e * expert_pages
                ids.append(np.arange(lo, lo + expert_pages))
        ids.append(np.arange(fp.layers * per_layer, n_ids))
        accesses.append(np.concatenate(ids))
    return float(np.mean([len(a) for a in accesses])), stack_distances(accesses, n_ids)


def _pages(nbytes: float) -> int:
    return max(1, int(np.ceil(nbytes / READAHEAD_B)))
