"""Lower an LLM (a model preset expanded by `einsim.einsum.models.expand`) to FlightLLM instructions.

Per core, every linear operator is cut into weight tiles of 512 output columns (the artifact's MV
instruction: 16 × 512 weights per K block); each tile is one LD of its weight strip and one MV
(decode, M = 1) or MM (prefill) instruction. Weight LDs are double buffered: the LD of tile k
waits for the compute of tile k-2 to free its buffer, and otherwise runs ahead across operators.
Attention reads the KV cache per head (LD), computes QK, softmax (MISC) and AV; norms, residual
adds, RoPE and the FFN activation are MISC passes. With several cores (board semantics) each
operator is split over them, by output tiles or by K blocks, whichever leaves the busiest core
less work; heads are split across cores; the stream simulated is the busiest core's.

Always-on-chip decode keeps every activation in on-chip buffers. Switched off, each operator
writes its output to HBM (ST) and the next one reads it back (LD) before starting: the LD queue is
in order, so the next operator's weight prefetch also waits behind that read.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pydantic import BaseModel

from einsim.einsum.models import Decoder, Model, Plan, expand, load_model
from einsim.mappers.fpga.device import FPGADevice
from einsim.sim.fpga_program import LD, MISC, MM, MV, ST, Program

if TYPE_CHECKING:
    from einsim.sim.fpga import QueueRun
from einsim.mappers.fpga.memory import WeightFormat, ld_seconds, mv_chains

TILE_N = 512  # source: artifact inst_profiler.py, MV time = K·16·512·sparse/(64·16): 512 outputs per instruction
KV_BYTES = 1  # source: artifact IR, every tensor INT8 [A]
ACT_BYTES = 1  # source: artifact IR, every tensor INT8 [A]
DECODE_BUCKET = 16  # source: artifact profile/run.py align_token_length: decode programs per 16 tokens
PREFILL_BUCKET = 128  # source: same, prefill programs per 128 tokens


@functools.lru_cache(maxsize=None)
def model_named(name: str) -> Model:
    """A model preset, parsed once per process (the lowering and the baselines ask for it per step)."""
    return load_model(name)


def bucket(length: int, size: int) -> int:
    """A length rounded up to its compiled bucket."""
    return size * math.ceil(length / size)


@dataclass
class Lowered:
    program: Program
    device_hbm_bytes: float  # bytes the whole device moves (all cores)
    weight_bytes: float
    kv_bytes: float
    act_bytes: float
    mv_chains: int
    lowering: _Lowering | None = None  # the builder, for re-pricing the context-dependent instructions

    def decode_seconds(self, contexts: np.ndarray) -> np.ndarray:
        """``seconds[b, i]``: every instruction's time at decode context ``contexts[b]``. The program's
        shape does not depend on the context (one attention loop per head), only the times of the
        KV loads, QK, softmax and AV do."""
        assert self.lowering is not None and hasattr(self.lowering, "attention_dims")
        base = np.asarray(self.program.seconds, dtype=np.float64)
        out = np.repeat(base[None, :], len(contexts), axis=0)
        tags = np.asarray(self.program.tag)
        for tag, times in self.lowering.attention_times(np.asarray(contexts)[:, None], *self.lowering.attention_dims).items():
            out[:, tags == tag] = times
        return out

    def run(self, device: FPGADevice) -> QueueRun:
        """The program through the queue simulator, with the whole device's HBM bytes."""
        from einsim.sim.fpga import simulate  # loads numba: only when a program runs, so the registry loads fast

        return simulate(self.program, device.peak_hbm_Bps, self.device_hbm_bytes)


class _Lowering:
    def __init__(self, device: FPGADevice, fmt: WeightFormat, on_chip: bool, pn: int, tile_n: int = TILE_N) -> None:
        self.d, self.fmt, self.on_chip, self.pn, self.tile_n = device, fmt, on_chip, pn, tile_n
        self.store_queue = ST  # LD for a design whose one memory port reads and writes in program order
        self.p = Program()
        self.compute_tiles: list[int] = []
        self.freed = -1  # latest compute instruction that handed a buffer back to LD
        self.weight_bytes = self.kv_bytes = self.act_bytes = 0.0

    # -- pricing
    def _credit(self, freed_by: list[int]) -> tuple:
        """The token a load waits for before reusing a buffer. Tokens from MV to LD are one FIFO, so a
        load cannot wait for an instruction older than one a previous load already waited for."""
        if not freed_by:
            return ()
        self.freed = max(self.freed, freed_by[0])
        return (self.freed,)

    def _s(self, cycles: float) -> float:
        return cycles / self.d.clock_Hz / self.d.speedup

    def _share(self, n: int) -> int:
        return math.ceil(n / self.d.cores)

    # -- instructions
    def load(self, tag: str, nbytes: float, after: tuple = ()) -> int:
        return self.p.add(LD, ld_seconds(nbytes, self.d), tag, after, hbm_bytes=nbytes)

    def store(self, tag: str, nbytes: float, after: tuple = ()) -> int:
        return self.p.add(self.store_queue, ld_seconds(nbytes, self.d), tag, after, hbm_bytes=nbytes)

    def boundary(self, tag: str, elements: int, after: tuple) -> tuple:
        """Where an operator's input comes from: on chip, or written back and read from HBM."""
        if self.on_chip:
            return after
        nbytes = self._share(elements) * ACT_BYTES
        self.act_bytes += 2 * elements * ACT_BYTES
        st = self.store(f"{tag}.writeback", nbytes, after)
        return (self.load(f"{tag}.readback", nbytes, (st,)),)

    def misc(self, tag: str, elements: int, kind: str, after: tuple, split: bool = True) -> int:
        after = self.boundary(tag, elements, after)
        n = self._share(elements) if split else elements
        cycles = math.ceil(n / self.d.sfu_lanes) * self.d.sfu_passes.get(kind, 1)
        return self.p.add(MISC, self._s(cycles), tag, after)

    def linear(self, tag: str, m: int, k: int, n: int, after: tuple) -> int:
        """A weight GEMM/GEMV (M×K · K×N) as double-buffered weight tiles on the busiest core."""
        after = self.boundary(tag, m * k, after)
        self.weight_bytes += k * n * self.fmt.bytes_per_weight(tag)
        return self.mac(tag, m, k, n, after, self.fmt.kept(tag), self.fmt.bytes_per_weight(tag))

    def mac(self, tag: str, m: int, k: int, n: int, after: tuple, density: float = 1.0,
            streamed_bytes: float | None = None) -> int:
        """M×K · K×N on the CSD chains: the K×N operand in tiles of ``tile_n`` columns, each loaded
        (``streamed_bytes`` per element, double buffered; None: already on chip) and multiplied in
        MV mode (M = 1) or MM mode. ``density`` is the kept fraction of N:M-pruned weights."""
        kblk, tile_n = self.d.chain.length, self.tile_n
        kb, tiles = math.ceil(k / kblk), math.ceil(n / tile_n)
        by_n = (self._share(tiles), kb)  # (tiles, K blocks) of the busiest core
        by_k = (tiles, self._share(kb))
        split_k = self.d.cores > 1 and by_k[0] * by_k[1] < by_n[0] * by_n[1]
        core_tiles, core_kb = by_k if split_k else by_n
        last = None
        for t in range(core_tiles):
            # the busiest core of an output-split operator holds whole tiles; otherwise the last is partial
            width = tile_n if self.d.cores > 1 and not split_k else min(tile_n, n - t * tile_n)
            first = after if t == 0 else ()
            if streamed_bytes is not None:
                rows = min(core_kb * kblk, k)
                first += (self.load(f"{tag}.w", rows * width * streamed_bytes, self._credit(self.compute_tiles[-2:-1])),)
            if m == 1:  # MV mode: one K block per cycle per chain
                cycles = self.d.chain.mv_cycles(core_kb, tile_n, self.pn, density)
                unit = MV
            else:  # MM mode over all rows of the tile, weight stationary
                cycles = self.d.chain.mm_cycles(math.ceil(m / self.d.mm_pm) * self.d.mm_pm, core_kb, width, density,
                                                self.d.mm_macs)
                unit = MM
            last = self.p.add(unit, self._s(cycles), tag, first)
            self.compute_tiles.append(last)
        if split_k:  # partial sums of the cores meet in the SFUs (remote SFU access, no HBM)
            last = self.misc(f"{tag}.reduce", m * n, "elementwise", (last,))
        assert last is not None
        return last

    def attention_times(self, keys: Any, e: int, f: int) -> dict[str, Any]:
        """Seconds of the five instructions of one head's decode attention over ``keys`` keys (an int
        or an array of them): LD K, QK, softmax, LD V, AV."""
        chain, keys = self.d.chain, np.asarray(keys, dtype=np.float64)
        return {
            "attention.k": ld_seconds(keys * e * KV_BYTES, self.d),
            "attention.qk": self._s(chain.mv_cycles(math.ceil(e / chain.length), TILE_N * np.ceil(keys / TILE_N), self.pn)),
            "attention.softmax": self._s(np.ceil(keys / self.d.sfu_lanes) * self.d.sfu_passes.get("softmax", 2)),
            "attention.v": ld_seconds(keys * f * KV_BYTES, self.d),
            "attention.av": self._s(chain.mv_cycles(np.ceil(keys / chain.length), TILE_N * math.ceil(f / TILE_N), self.pn)),
        }

    def attention_decode(self, heads: int, kv_heads: int, e: int, f: int, keys: int, after: tuple) -> int:
        """Per head: LD K, QK (MV), softmax (MISC), LD V, AV (MV). The KV buffer holds one head, so
        the next head's K load waits for this head's AV to release it. Only these instructions'
        times depend on the context: :meth:`Lowered.decode_seconds` re-prices them."""
        after = self.boundary("attention", heads * e, after)
        self.kv_bytes += kv_heads * keys * (e + f) * KV_BYTES
        t = {k: float(v) for k, v in self.attention_times(keys, e, f).items()}
        self.attention_dims = (e, f)
        last = None
        for i in range(self._share(heads)):
            ldk = self.p.add(LD, t["attention.k"], "attention.k", self._credit([] if last is None else [last]),
                             hbm_bytes=keys * e * KV_BYTES)
            qk = self.p.add(MV, t["attention.qk"], "attention.qk", (ldk,) + (after if i == 0 else ()))
            sm = self.p.add(MISC, t["attention.softmax"], "attention.softmax", (qk,))
            ldv = self.p.add(LD, t["attention.v"], "attention.v", (), hbm_bytes=keys * f * KV_BYTES)
            last = self.p.add(MV, t["attention.av"], "attention.av", (ldv, sm))
        return last

    def _softmax(self, elements: int, after: int) -> int:
        cycles = math.ceil(elements / self.d.sfu_lanes) * self.d.sfu_passes.get("softmax", 2)
        return self.p.add(MISC, self._s(cycles), "attention.softmax", (after,))

    def attention_prefill(self, heads: int, e: int, f: int, tokens: int, after: tuple) -> int:
        """Causal attention as block GEMMs; blocks above the diagonal are skipped (block-sparse SDDMM)."""
        after = self.boundary("attention", tokens * heads * e, after)
        h = self._share(heads)
        blocks = math.ceil(tokens / self.d.mm_pm)
        kept = blocks * (blocks + 1) / 2 / blocks**2
        rows = blocks * self.d.mm_pm
        qk = []
        for i in range(h):
            cycles = rows * e * rows * kept / self.d.mm_macs
            qk.append(self.p.add(MM, self._s(cycles), "attention.qk", after if i == 0 else ()))
        sm = [self._softmax(math.ceil(rows * rows * kept), qk[i]) for i in range(h)]
        last = None
        for i in range(h):
            cycles = rows * rows * kept * f / self.d.mm_macs
            last = self.p.add(MM, self._s(cycles), "attention.av", (sm[i],))
        return last


def lower(model: Model | str, device: FPGADevice, fmt: WeightFormat, phase: str, *, context_len: int | None = None,
          seq_len: int | None = None, on_chip: bool = True) -> Lowered:
    """The instruction stream of one decode step (``context_len`` keys) or one prefill (``seq_len`` tokens)."""
    m = model if isinstance(model, BaseModel) else model_named(model)
    plan = expand(m, phase, context_len=context_len, seq_len=seq_len)
    if not isinstance(m, Decoder):
        raise ValueError(f"FlightLLM's decoder lowering takes decoder LLMs, not {type(m).__name__} "
                         "(other models go through einsim.mappers.fpga.cascade.lower_model)")
    weights = [(name, k * n * times) for name, _, k, n, times in linear_ops(plan)]
    dense = sum(w for _, w in weights)
    density = sum(fmt.kept(name) * w for name, w in weights) / dense
    bpw = sum(fmt.bytes_per_weight(name) * w for name, w in weights) / dense
    pn = mv_chains(device, bpw, density)
    low = _Lowering(device, fmt, on_chip, pn)
    _lower_plan(low, plan, m)
    total = low.weight_bytes + low.kv_bytes + low.act_bytes + _kv_write(plan, m)
    lowered = Lowered(low.p, total, low.weight_bytes, low.kv_bytes, low.act_bytes, pn, low)
    check_capacity(m.name, lowered, device)
    return lowered


def check_capacity(model: str, lowered: Lowered, device: FPGADevice) -> None:
    """Raise when the weights and the KV cache (or scan state) read by a step exceed the HBM."""
    if lowered.weight_bytes + lowered.kv_bytes > device.hbm_capacity_B:
        raise ValueError(f"{model} needs {lowered.weight_bytes + lowered.kv_bytes:.3g} B of weights and KV cache; "
                         f"{device.name}'s HBM holds {device.hbm_capacity_B:.3g} B")


def linear_ops(plan: Plan) -> list[tuple[str, int, int, int, int]]:
    """Every weight GEMM of a plan as ``(name, M, K, N, times)``, the FFN split into its projections."""
    out = []
    for times, op in plan.occurrences():
        b = op.bindings
        if op.workload == "gemm":
            out.append((op.name, b["M"], b["K"], b["N"], times))
        elif op.workload in ("ffn", "ffn_gated"):
            ups = ("gate_proj", "up_proj") if op.workload == "ffn_gated" else ("up_proj",)
            out += [(name, b["M"], b["D"], b["I"], times) for name in ups]
            out.append(("down_proj", b["M"], b["I"], b["D"], times))
    return out


def _kv_write(plan: Plan, m: Decoder) -> float:
    kv_heads = (m.kv_heads or m.heads).value
    return plan.layers * plan.tokens * 2 * kv_heads * m.head_dim.value * KV_BYTES


def _lower_plan(low: _Lowering, plan: Plan, m: Decoder) -> None:
    d, hd, heads = m.d_model.value, m.head_dim.value, m.heads.value
    kv_heads = (m.kv_heads or m.heads).value
    norm = "rmsnorm" if m.ffn == "swiglu" else "layernorm"
    rope = m.ffn == "swiglu"  # LLaMA-family decoders rotate q and k; OPT adds learned positions at the input
    t = plan.tokens
    prev: tuple = ()
    (layer_type,) = plan.layer_types
    ops = {op.name: op for op in layer_type.ops}
    for _ in range(layer_type.layers):
        n1 = low.misc("norm1", t * d, norm, prev)
        q = low.linear("q_proj", t, d, heads * hd, (n1,))
        k = low.linear("k_proj", t, d, kv_heads * hd, (n1,))
        v = low.linear("v_proj", t, d, kv_heads * hd, (n1,))
        qk_ready = low.misc("rope", t * (heads + kv_heads) * hd, "elementwise", (q, k)) if rope else k
        low.store("kv_write", low._share(t * 2 * kv_heads * hd) * KV_BYTES, (qk_ready, v))
        att = ops["attention"].bindings
        if plan.phase == "decode":
            a = low.attention_decode(heads, kv_heads, hd, hd, att["M"], (qk_ready, v))
        else:
            a = low.attention_prefill(heads, hd, hd, att["M"], (qk_ready, v))
        o = low.linear("o_proj", t, heads * hd, d, (a,))
        r1 = low.misc("residual1", t * d, "elementwise", (o,))
        n2 = low.misc("norm2", t * d, norm, (r1,))
        ffn = ops.get("ffn_gated") or ops["ffn"]
        inner = ffn.bindings["I"]
        if ffn.workload == "ffn_gated":
            g = low.linear("gate_proj", t, d, inner, (n2,))
            u = low.linear("up_proj", t, d, inner, (n2,))
            s = low.misc("silu", t * inner, "silu", (g,))
            x = low.misc("mul", t * inner, "elementwise", (u, s))
        else:
            u = low.linear("up_proj", t, d, inner, (n2,))
            x = low.misc("act", t * inner, "elementwise", (u,))
        dn = low.linear("down_proj", t, inner, d, (x,))
        prev = (low.misc("residual2", t * d, "elementwise", (dn,)),)
    for op in plan.head:
        nf = low.misc("final_norm", t * d, norm, prev)
        low.linear(op.name, t, op.bindings["K"], op.bindings["N"], (nf,))
