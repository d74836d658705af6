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

import copy
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
KEYS = "keys"  # in a decode attention term: the context's key count, bound when the stream is priced


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
    """Builds a Program. Every instruction's time is a *term* (a tuple naming the pricing rule and
    its structural arguments; a weight's N:M blocks or bytes per weight as ``("nm"|"bpw", tag)``)
    priced by :meth:`price` against the device and weight format; the terms are kept so that one
    lowering can be re-priced for other device parameters (:func:`lower`'s cache)."""

    def __init__(self, device: FPGADevice, fmt: WeightFormat, on_chip: bool, pn: int, tile_n: int = TILE_N) -> None:
        self.d, self.fmt, self.on_chip, self.pn, self.tile_n = device, fmt, on_chip, pn, tile_n
        self.store_queue = ST  # LD for a design whose one memory port reads and writes in program order
        self.p = Program()
        self.keys = 0  # decode attention's keys (the context): a term's ("att", ..., KEYS, ...) reads it
        self.kv_adds: list[tuple[int, int]] = []  # (KV heads, e + f) in the order kv_bytes summed them
        self.priced: dict[tuple, tuple[int, float, float]] = {}  # distinct term -> (index, seconds, HBM bytes)
        self.term_of: list[int] = []  # per instruction: the index of its time's term
        self.weight_adds: list[tuple[int, str]] = []  # (dense weights, operator) in the order weight_bytes summed them
        self.compute_tiles: list[int] = []
        self.freed = -1  # latest compute instruction that handed a buffer back to LD
        self.weight_bytes = self.kv_bytes = self.act_bytes = 0.0

    # -- terms
    def _add(self, queue: int, term: tuple, tag: str, after: tuple = ()) -> int:
        priced = self.priced.get(term)
        if priced is None:
            priced = self.priced[term] = (len(self.priced), self.price(term), self.term_bytes(term))
        self.term_of.append(priced[0])
        return self.p.add(queue, priced[1], tag, after, hbm_bytes=priced[2])

    def _ref(self, v: Any) -> Any:
        """A term's N:M blocks or bytes per weight: a value (a :class:`BlockMix`, None for dense, a
        number), or ``("nm"|"bpw", operator)`` of the weight format."""
        if isinstance(v, tuple):
            return self.fmt.pattern(v[1]) if v[0] == "nm" else self.fmt.bytes_per_weight(v[1])
        return v

    def term_bytes(self, term: tuple) -> float:
        """HBM bytes an instruction of this term moves (0 for compute)."""
        if term[0] == "ld":
            return self.nbytes(term)
        if term[0] == "att" and term[1] in ("attention.k", "attention.v"):
            return self.keys * (term[3] if term[1] == "attention.k" else term[4]) * KV_BYTES
        return 0.0

    def nbytes(self, term: tuple) -> float:
        """HBM bytes of an ``("ld", elements, bytes per element or None)`` term."""
        _, n, per = term
        return n if per is None else n * self._ref(per)

    def price(self, term: tuple) -> float:
        """Seconds of one instruction's term on this lowering's device and weight format."""
        kind, d, chain = term[0], self.d, self.d.chain
        if kind == "ld":
            return ld_seconds(self.nbytes(term), d)
        if kind == "att":
            return float(self.attention_times(self.keys, term[3], term[4])[term[1]])
        if kind == "mv":
            cycles = chain.mv_cycles(term[1], term[2], self.pn, self._ref(term[3]))
        elif kind == "mm":
            _, m, kb, width, nm = term
            cycles = chain.mm_cycles(math.ceil(m / d.mm_pm) * d.mm_pm, kb, width, d.mm_macs, d.mm_pm, self._ref(nm))
        elif kind == "sfu":
            cycles = math.ceil(term[1] / d.sfu_lanes) * d.sfu_passes.get(term[2], term[3])
        elif kind == "prefill.qk":  # per head: causal block GEMMs, blocks above the diagonal skipped
            rows, kept = self._blocks(term[1])
            cycles = rows * term[2] * rows * kept / d.mm_macs
        elif kind == "prefill.softmax":
            rows, kept = self._blocks(term[1])
            cycles = math.ceil(math.ceil(rows * rows * kept) / d.sfu_lanes) * d.sfu_passes.get("softmax", 2)
        elif kind == "prefill.av":
            rows, kept = self._blocks(term[1])
            cycles = rows * rows * kept * term[2] / d.mm_macs
        else:
            raise ValueError(f"unknown instruction term {kind!r}")
        return self._s(cycles)

    def _blocks(self, tokens: int) -> tuple[int, float]:
        """Rows and kept fraction of causal attention over ``tokens`` in blocks of p_M."""
        blocks = math.ceil(tokens / self.d.mm_pm)
        return blocks * self.d.mm_pm, blocks * (blocks + 1) / 2 / blocks**2

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
    def load(self, tag: str, nbytes: float, after: tuple = (), per_element: Any = None) -> int:
        """An LD of ``nbytes`` (or of ``nbytes`` elements of ``per_element`` bytes each)."""
        return self._add(LD, ("ld", nbytes, per_element), tag, after)

    def store(self, tag: str, nbytes: float, after: tuple = ()) -> int:
        return self._add(self.store_queue, ("ld", nbytes, None), tag, after)

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
        return self._add(MISC, ("sfu", n, kind, 1), tag, after)

    def linear(self, tag: str, m: int, k: int, n: int, after: tuple) -> int:
        """A weight GEMM/GEMV (M×K · K×N) as double-buffered weight tiles on the busiest core."""
        after = self.boundary(tag, m * k, after)
        self.weight_bytes += k * n * self.fmt.bytes_per_weight(tag)
        self.weight_adds.append((k * n, tag))
        return self.mac(tag, m, k, n, after, ("nm", tag), ("bpw", tag))

    def mac(self, tag: str, m: int, k: int, n: int, after: tuple, pattern: Any = None,
            streamed_bytes: Any = None) -> int:
        """M×K · K×N on the CSD chains: the K×N operand in tiles of ``tile_n`` columns, each loaded
        (``streamed_bytes`` per element, double buffered; None: already on chip) and multiplied in
        MV mode (M = 1) or MM mode. ``pattern`` is the K×N operand's N:M blocks, priced block by block
        on the CSD chain (a :class:`BlockMix`, None for dense, or a weight-format reference, :meth:`_ref`)."""
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
                first += (self.load(f"{tag}.w", rows * width, self._credit(self.compute_tiles[-2:-1]), streamed_bytes),)
            if m == 1:  # MV mode: one K block per cycle per chain
                last = self._add(MV, ("mv", core_kb, tile_n, pattern), tag, first)
            else:  # MM mode over all rows of the tile, weight stationary
                last = self._add(MM, ("mm", m, core_kb, width, pattern), tag, first)
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
        self.keys = keys
        self.kv_bytes += kv_heads * keys * (e + f) * KV_BYTES
        self.kv_adds.append((kv_heads, e + f))
        self.attention_dims = (e, f)
        last = None
        for i in range(self._share(heads)):
            ldk = self._add(LD, ("att", "attention.k", KEYS, e, f), "attention.k",
                            self._credit([] if last is None else [last]))
            qk = self._add(MV, ("att", "attention.qk", KEYS, e, f), "attention.qk", (ldk,) + (after if i == 0 else ()))
            sm = self._add(MISC, ("att", "attention.softmax", KEYS, e, f), "attention.softmax", (qk,))
            ldv = self._add(LD, ("att", "attention.v", KEYS, e, f), "attention.v", ())
            last = self._add(MV, ("att", "attention.av", KEYS, e, f), "attention.av", (ldv, sm))
        return last

    def attention_prefill(self, heads: int, e: int, f: int, tokens: int, after: tuple) -> int:
        """Causal attention as block GEMMs; blocks above the diagonal are skipped (block-sparse SDDMM)."""
        after = self.boundary("attention", tokens * heads * e, after)
        h = self._share(heads)
        qk = [self._add(MM, ("prefill.qk", tokens, e), "attention.qk", after if i == 0 else ()) for i in range(h)]
        sm = [self._add(MISC, ("prefill.softmax", tokens), "attention.softmax", (qk[i],)) for i in range(h)]
        last = None
        for i in range(h):
            last = self._add(MM, ("prefill.av", tokens, f), "attention.av", (sm[i],))
        return last


def lower(model: Model | str, device: FPGADevice, fmt: WeightFormat, phase: str, *, context_len: int | None = None,
          seq_len: int | None = None, on_chip: bool = True) -> Lowered:
    """The instruction stream of one decode step (``context_len`` keys) or one prefill (``seq_len`` tokens).

    A preset given by name is lowered once per process for each (model, phase, prefill length,
    on_chip, cores, chain length): those are all the lowering's control flow reads (a decode
    stream has one attention loop per head whatever the context; the context only prices the KV
    loads, QK, softmax and AV and sums the KV bytes). Every other device
    parameter (clock, DSP/MAC counts, p_M, SFU lanes and passes, HBM bandwidth, channels and
    efficiencies, the artifact's speed-up) and the weight format (bits, N:M density) only price its
    instructions, so another design point re-prices the cached stream: the same scalar pricing of
    each distinct term, hence the same numbers as a fresh lowering (tests/mappers/fpga/test_lower.py)."""
    if isinstance(model, BaseModel):
        return _priced(_stream(model, device, fmt, phase, context_len, seq_len, on_chip), device, fmt, context_len)
    key = (model, phase, seq_len, on_chip, device.cores, device.chain.length)
    stream = _STREAMS.get(key)
    if stream is None:
        stream = _stream(model_named(model), device, fmt, phase, context_len, seq_len, on_chip)
        if len(_STREAMS) >= _MAX_STREAMS:
            _STREAMS.pop(next(iter(_STREAMS)))
        _STREAMS[key] = stream
    return _priced(stream, device, fmt, context_len)


@dataclass(frozen=True)
class _Stream:
    """A lowered stream apart from its pricing: the builder (its instructions' terms), the distinct
    terms with each instruction's index into them, and what the device-independent totals need."""

    low: _Lowering
    terms: list[tuple]
    term_of: np.ndarray
    weights: list[tuple[str, int]]  # (operator, dense weights) for the MV re-tiling
    kv_write: float
    model: str


_STREAMS: dict[tuple, _Stream] = {}
_MAX_STREAMS = 32  # a decode stream of a 7B model is ~8k instructions: 32 of them are a few MB


def _stream(m: Model, device: FPGADevice, fmt: WeightFormat, phase: str, context_len: int | None,
            seq_len: int | None, on_chip: bool) -> _Stream:
    if not isinstance(m, Decoder):
        raise ValueError(f"FlightLLM's decoder lowering takes decoder LLMs, not {type(m).__name__} "
                         "(other models go through einsim.mappers.fpga.cascade.lower_model)")
    plan = expand(m, phase, context_len=context_len, seq_len=seq_len)
    weights = [(name, k * n * times) for name, _, k, n, times in linear_ops(plan)]
    low = _Lowering(device, fmt, on_chip, retiled_chains(weights, fmt, device))
    _lower_plan(low, plan, m)
    return _Stream(low, list(low.priced), np.asarray(low.term_of, dtype=np.int64), weights, _kv_write(plan, m), m.name)


def retiled_chains(weights: list[tuple[str, int]], fmt: WeightFormat, device: FPGADevice) -> int:
    """MV chains after FlightLLM's re-tiling (Eq. 3) for the weight-weighted mean density and bytes
    per weight of ``weights`` ((operator, dense weights) pairs)."""
    dense = sum(w for _, w in weights) or 1.0
    density = sum(fmt.kept(name) * w for name, w in weights) / dense
    bpw = sum(fmt.bytes_per_weight(name) * w for name, w in weights) / dense
    return mv_chains(device, bpw, density)


def _priced(stream: _Stream, device: FPGADevice, fmt: WeightFormat, context_len: int | None) -> Lowered:
    """The stream priced on ``device`` with ``fmt`` (and a decode stream at ``context_len`` keys):
    each distinct term priced once."""
    low = copy.copy(stream.low)
    low.d, low.fmt, low.pn = device, fmt, retiled_chains(stream.weights, fmt, device)
    low.keys = context_len or 0
    low.kv_bytes = 0.0
    for kv_heads, ef in low.kv_adds:  # as attention_decode summed them
        low.kv_bytes += kv_heads * low.keys * ef * KV_BYTES
    seconds = np.fromiter((low.price(t) for t in stream.terms), dtype=np.float64, count=len(stream.terms))
    moved = np.fromiter((low.term_bytes(t) for t in stream.terms), dtype=np.float64, count=len(stream.terms))
    low.p = stream.low.p.repriced(seconds[stream.term_of], moved[stream.term_of])
    per = {op: fmt.bytes_per_weight(op) for op in {op for _, op in low.weight_adds}}
    low.weight_bytes = 0.0
    for n, op in low.weight_adds:  # in the lowering's order, so the float sum is the same
        low.weight_bytes += n * per[op]
    total = low.weight_bytes + low.kv_bytes + low.act_bytes + stream.kv_write
    lowered = Lowered(low.p, total, low.weight_bytes, low.kv_bytes, low.act_bytes, low.pn, low)
    check_capacity(stream.model, lowered, device)
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


def _moe_ffn(low: _Lowering, b: dict[str, int], t: int, d: int, after: int) -> int:
    """A top-k mixture-of-experts SwiGLU FFN: the router, then every expert the ``t`` tokens reach.

    Each token goes to TOPK of the R experts, so min(R, TOPK·t) experts are reached and their
    weights are loaded once each. Which experts a token picks is data-dependent; the lowering
    assumes balanced routing, each reached expert taking ceil(TOPK·t / reached) tokens (exact for
    one decode token: TOPK experts of one token each)."""
    experts, k, inner = b["R"], b["TOPK"], b["I"]
    router = low.linear("router", t, d, experts, (after,))
    reached = min(experts, k * t)
    tokens = -(-k * t // reached)
    outs = []
    for _ in range(reached):
        g = low.linear("gate_proj", tokens, d, inner, (router,))
        u = low.linear("up_proj", tokens, d, inner, (router,))
        x = low.misc("mul", tokens * inner, "elementwise", (u, low.misc("silu", tokens * inner, "silu", (g,))))
        outs.append(low.linear("down_proj", tokens, inner, d, (x,)))
    return low.misc("combine", t * d * k, "elementwise", tuple(outs))


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
        if "moe" in ops:
            prev = (low.misc("residual2", t * d, "elementwise", (_moe_ffn(low, ops["moe"].bindings, t, d, n2),)),)
            continue
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
