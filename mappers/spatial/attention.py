"""Attention on a two-array spatial design under one of the five configurations (constraint files).

Each Einsum gets a Mapping (``loops``/``tiles``), is scored alone by the nest kernel and re-homed
for fusion (``cost``); the latency is the tile pipeline's (``timing``: each fusion group of the
configuration's constraint file as a tile DAG of its Einsums on their units, with its buffer
rule, DRAM as a resource); every buffer's leakage is charged over that latency (a ``leakage``
row per buffer). The configuration's tiling family lays out its factors:

- ``fused`` (Cascade 5): M = M1 x M0 and P = P2 x P1 x P0 with M0 x P0 the 2D array; P1 is the
  largest divisor of P/P0 whose global-buffer footprint (the largest tile of every tensor the
  group keeps there, plus the second tiles its double buffers need) fits the buffer (fusemax.md
  a.7), unless the constraint file fixes it.
- ``flat``: FLAT fuses QK, the 3-pass softmax and AV over a block of R query rows (at most the
  file's bound). The QK and A fibers of the block live in the buffer or in DRAM; the softmax
  stages one row's fiber on chip and spills the part that does not fit. FLAT's per-workload
  dataflow file is not available, so its own choice is modelled: R (a multiple of the array
  width) and the QK/A placement minimising the steady-state time (the pipeline without its fill
  and drain, which FLAT's dataflow model does not see), then DRAM bytes, then energy, under the buffer.
- ``unfused``: QK and AV each get the tiling a small exhaustive search finds best by EDP (the
  artifact runs Timeloop's mapper with an EDP metric); the softmax stages one fiber at a time.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from einsim.arch import Architecture, DRAM, PEArray, load_arch
from einsim.arch.load import bundled_dir
from einsim.einsum import Cascade, load_workload, resize
from einsim.einsum.cascade import Einsum
from einsim.errors import EinsimError
from einsim.memo import by_identity
from einsim.mappers.mapping import Mapping
from einsim.mappers.spatial.cost import (EinsumCost, Variant, evaluate_einsum, evaluate_einsums, leakage_energy,
                                        mask_notes, merge_energy)
from einsim.mappers.spatial.loops import LevelPlan, held_tiles, mapping_for, with_outer
from einsim.mappers.spatial.strategies import Strategy
from einsim.mappers.spatial.tiles import search_tiling
from einsim.mappers.spatial.timing import GroupTiming, group_slots, pipeline_latency

GB, RF2D = "GlobalBuffer", "RF2D"


@dataclass
class AttentionResult:
    strategy: str
    latency_s: float
    energy_J: float
    dram_bytes: float
    utilization: dict[str, float]
    costs: list[EinsumCost]
    choice: dict[str, Any] = field(default_factory=dict)  # the tiling/placement picked
    leakage: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (buffer, "leakage") -> [n, J]
    timing: list[GroupTiming] = field(default_factory=list)  # per fusion group, in the order they run

    @property
    def energy(self) -> dict[tuple[str, str], list[float]]:
        return {**merge_energy(self.costs), **self.leakage}

    @property
    def leakage_J(self) -> float:
        return sum(j for _, j in self.leakage.values())

    @property
    def notes(self) -> list[str]:
        return mask_notes(self.costs)

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "latency_s": self.latency_s, "energy_J": self.energy_J,
                "leakage_J": self.leakage_J,
                "dram_bytes": self.dram_bytes, "utilization": dict(self.utilization), "choice": dict(self.choice),
                "notes": self.notes, "timing": [g.to_dict() for g in self.timing],
                "einsums": {c.name: {"unit": c.unit, "compute_s": c.compute_s, "dram_bytes": c.dram_bytes,
                                     "energy_J": c.energy_J, "active_fraction": c.active_fraction}
                            for c in self.costs}}


_ARCHS: dict[str, Architecture] = {}
_BASE: dict[str, Cascade] = {}


def design(name: str) -> Architecture:
    """A bundled design, loaded once."""
    if name not in _ARCHS:
        _ARCHS[name] = load_arch(bundled_dir() / name)
    return _ARCHS[name]


def workload(name: str, sizes: dict[str, int]) -> Cascade:
    """A bundled workload at ``sizes`` (the YAML is parsed once; each size set is built once)."""
    return _resized(name, tuple(sorted(sizes.items())))


@lru_cache(maxsize=256)
def _resized(name: str, sizes: tuple[tuple[str, int], ...]) -> Cascade:
    if name not in _BASE:
        _BASE[name] = load_workload(name)
    return resize(_BASE[name], dict(sizes))


def array_of(arch: Architecture, unit: str) -> PEArray:
    u = arch.component(unit)
    assert isinstance(u, PEArray)
    return u


def dram_Bps(arch: Architecture) -> float:
    return next(c.bandwidth_Bps for c in arch.storage_levels() if isinstance(c, DRAM))


def gb_words(arch: Architecture) -> float:
    """Capacity of the global buffer in words of the 2D array."""
    comp = arch.component(GB)
    return comp.capacity * 8 / array_of(arch, "Array2D").word_bits  # type: ignore[attr-defined]


def _fill_drain_s(arch: Architecture, cost: EinsumCost, tiles: float) -> float:
    """Pipeline fill and drain of a systolic 2D array: rows + columns - 2 cycles per array tile."""
    shape = array_of(arch, cost.unit).shape
    if len(shape) < 2:
        return 0.0
    return tiles * (sum(shape) - 2) / arch.clock_of(cost.unit)


def combine(s: Strategy, arch: Architecture, cascade: Cascade, costs: list[EinsumCost],
            mappings: dict[str, Mapping], homes: dict[str, str], choice: dict[str, Any],
            fill_drain: dict[str, float] | None = None, slots: list[int] | None = None) -> AttentionResult:
    """Latency from the tile pipeline of the configuration's fusion groups (``slots``: their buffer
    slots, if known; einsim.mappers.spatial.timing.group_slots); energies and bytes add, plus every
    buffer's leakage over the latency; utilization per array."""
    timed = costs if not fill_drain else [dataclasses.replace(c, compute_s=c.compute_s + fill_drain.get(c.name, 0.0))
                                          for c in costs]
    timing = pipeline_latency(s, arch, cascade, timed, mappings, homes, slots)
    latency = sum(g.latency_s for g in timing)
    util = {}
    for unit in ("Array2D", "Array1D"):
        pes = array_of(arch, unit).pe_count
        util[unit] = sum(c.busy_pe_s for c in costs if c.unit == unit) / (pes * latency) if latency else 0.0
    leak = leakage_energy(arch, latency)
    return AttentionResult(s.name, latency, sum(c.energy_J for c in costs) + sum(j for _, j in leak.values()),
                           sum(c.dram_bytes for c in costs), util, costs, choice, leak, timing)


def _einsums(s: Strategy, sizes: dict[str, int], causal: bool) -> tuple[Cascade, list[Einsum]]:
    if causal:
        if sizes["M"] != sizes["P"]:
            raise EinsimError(f"{s.name}: causal attention needs as many queries as keys (M={sizes['M']}, P={sizes['P']})")
        sizes = {k: v for k, v in sizes.items() if k != "P"}  # the causal cascades define P = M
    cascade = workload(s.workload + ("_causal" if causal else ""), sizes)
    return cascade, [e for e in cascade.einsums if not e.init]


def evaluate_attention(s: Strategy, H: int, M: int, P: int, E: int, F: int, fill_drain: bool = False,
                       arch: Architecture | None = None, causal: bool = False) -> AttentionResult:
    """Attention of H independent (batch x head) instances, M keys, P queries, under strategy ``s``,
    on ``arch`` (default: the strategy's bundled design); ``causal`` masks m <= p (the strategy's
    cascade with ``_causal``), skipping the wholly masked array steps."""
    arch = arch or design(s.arch)
    if s.tiling == "fused":
        return _fused(s, arch, H, M, P, E, F, fill_drain, causal)
    if s.tiling == "flat":
        return _flat(s, arch, H, M, P, E, F, causal)
    if s.tiling == "unfused":
        return _unfused(s, arch, H, M, P, E, F, causal)
    raise EinsimError(f"strategy {s.name}: unknown tiling {s.tiling!r}")


def evaluate_attention_batch(s: Strategy, points: list[dict[str, Any]], fill_drain: bool = False,
                             arch: Architecture | None = None) -> list[AttentionResult | EinsimError]:
    """``evaluate_attention`` of N points (dicts of H, M, P, E, F and causal) on one design: the
    fused family scores each Einsum of all of them in one nest-kernel call (the same numbers as
    one at a time); a point that cannot be mapped gets its EinsimError instead of a result."""
    arch = arch or design(s.arch)
    if s.tiling == "fused":
        return _fused_batch(s, arch, points, fill_drain)
    out: list[AttentionResult | EinsimError] = []
    for p in points:
        try:
            out.append(evaluate_attention(s, p["H"], p["M"], p["P"], p["E"], p["F"], fill_drain, arch, p["causal"]))
        except EinsimError as exc:
            out.append(exc)
    return out


# ---- fused (Cascade 5) -------------------------------------------------------------------------

def _fused_plan(s: Strategy, unit: str, d: dict[str, int]) -> list[LevelPlan]:
    order = tuple(s.loop_orders.get("DRAM", ("h", "p", "m1")))
    top = LevelPlan("DRAM", {"h": d["H"], "p": d["P2"], "m1": d["M1"]}, order)
    if unit == "Array2D":
        return [top, LevelPlan(GB, {"p": d["P1"]}, ("p",), {"m0": d["M0"], "p": d["P0"]}),
                LevelPlan(RF2D, {"e": d["E"], "f": d["F"]})]
    return [top, LevelPlan(GB, {"p": d["P1"], "m0": d["M0"], "f": d["F"]}, ("p", "m0", "f"), {"p": d["P0"]})]


def buffered_footprint(s: Strategy, arch: Architecture, cascade: Cascade, einsums: list[Einsum],
                       mappings: list[Mapping]) -> float:
    """Words the group keeps in the global buffer: every kept tile, plus a second (third, ...)
    tile of each staged DRAM tensor (``staging``) and of each fused intermediate homed there
    (the group's ``slots``): double buffering costs capacity."""
    held = held_tiles(arch, einsums, mappings, GB)
    slots = s.fusion[0].slots if s.fusion[0].slots != "fit" else 1  # ``fit`` takes what room is left
    outputs = {e.output for e in einsums}
    extra = 0.0
    for t, w in held.items():
        if t in s.staged:
            extra += (s.staging - 1) * w
        elif t in outputs and s.homes.get(t) == GB and not cascade.tensors[t].iterative:
            extra += (slots - 1) * w
    return sum(held.values()) + extra


@by_identity(maxsize=256)
def _footprints(s: Strategy, arch: Architecture) -> dict[tuple, float]:
    """The buffered footprint (words) of each P1 tried, by (cascade, E, F, M0, P0, P1), for
    configuration ``s`` on ``arch``. The footprint is the tiles kept at the global buffer and below
    (``held_tiles``), whose sizes are the factors there (P1, the array's M0 x P0, E, F) and whose kept
    tensors are the file's homes and staged tensors; the DRAM factors (H, M1, P2) do not enter it,
    so points that differ only in them share it."""
    return {}


@by_identity(maxsize=256)
def _mapping_shapes(s: Strategy, arch: Architecture) -> dict[tuple, list[Mapping]]:
    """The Mappings of the cascade's Einsums by (cascade, E, F, M0, P0, P1, which DRAM factors exceed
    1), for configuration ``s`` on ``arch``: points that differ only in the DRAM factors' values
    (H, P2, M1) take them with those values (``with_outer``)."""
    return {}


@by_identity(maxsize=256)
def _slots(s: Strategy, arch: Architecture) -> dict[tuple, list[int]]:
    """The buffer slots of each fusion group (einsim.mappers.spatial.timing.group_slots) by the keys of
    ``_mapping_shapes``: they are read from the tiles kept at the groups' homes below DRAM."""
    return {}


def _divisors(n: int) -> list[int]:
    """The divisors of ``n``, ascending."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


@dataclass
class _FusedPoint:
    """One point of the fused family, mapped: its cascade's Einsums, their Mappings and factors."""

    cascade: Cascade
    einsums: list[Einsum]
    mappings: list[Mapping]
    dims: dict[str, int]
    footprint: float
    slots: list[int]  # per fusion group of the configuration


def _fused_point(s: Strategy, arch: Architecture, H: int, M: int, P: int, E: int, F: int,
                 causal: bool) -> _FusedPoint:
    M0, P0 = array_of(arch, "Array2D").shape
    if M % M0 or P % P0:
        raise EinsimError(f"{s.name}: M={M} and P={P} must be multiples of the array's {M0}x{P0}: Cascade 5 "
                          f"splits M = M1 x M0 and P = P2 x P1 x P0 with every M0 x P0 tile one pass of the array "
                          f"(a ragged last tile is not modelled); pad the sequence or choose an array side that divides it")
    cascade, einsums = _einsums(s, {"H": H, "E": E, "F": F, "M": M, "P": P, "M0": M0}, causal)
    capacity = gb_words(arch)
    dims = {"H": H, "E": E, "F": F, "M0": M0, "M1": M // M0, "P0": P0}
    tried: dict[int, list[Mapping]] = {}
    known = _footprints(s, arch)
    shapes = _mapping_shapes(s, arch)

    def shape_key(P1: int) -> tuple:
        outer = (H, P // (P0 * P1), M // M0)  # h, p (P2), m1
        return (cascade.name, E, F, M0, P0, P1, tuple(f > 1 for f in outer))

    def trial(P1: int) -> list[Mapping]:
        if P1 not in tried:
            dims.update(P1=P1, P2=P // (P0 * P1))
            outer = {"h": dims["H"], "p": dims["P2"], "m1": dims["M1"]}
            key = shape_key(P1)
            if key in shapes:
                tried[P1] = [with_outer(m, outer) for m in shapes[key]]
            else:
                tried[P1] = shapes[key] = [mapping_for(arch, e, s.unit_of(e.name), _fused_plan(s, s.unit_of(e.name), dims),
                                                       s.homes, s.staged) for e in einsums]
        return tried[P1]

    def footprint(P1: int) -> float:
        key = (cascade.name, E, F, M0, P0, P1)
        if key not in known:
            known[key] = buffered_footprint(s, arch, cascade, einsums, trial(P1))
        return known[key]

    def fits(P1: int) -> bool:
        return footprint(P1) <= capacity

    divisors = _divisors(P // P0)
    fixed = s.factor(GB, "p")
    if fixed is not None and fixed.fixed is not None:
        if fixed.fixed not in divisors or not fits(fixed.fixed):
            raise EinsimError(f"{s.name}: the fixed GlobalBuffer factor p = {fixed.fixed} does not divide P/{P0} = "
                              f"{P // P0} or does not fit the global buffer")
        P1 = fixed.fixed
    else:
        # the largest P1 whose working set fits; the footprint grows with P1, so bisect the divisors
        divisors = [d for d in divisors if fixed is None or d <= (fixed.max or d)]
        lo, hi = 0, len(divisors) - 1
        if not fits(divisors[0]):
            raise EinsimError(f"{s.name}: even P1 = 1 does not fit the global buffer")
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if fits(divisors[mid]):
                lo = mid
            else:
                hi = mid - 1
        P1 = divisors[lo]
    mappings = trial(P1)
    dims.update(P1=P1, P2=P // (P0 * P1))  # the bisection's last trial may have been another P1
    slots = _slots(s, arch)
    key = shape_key(P1)
    if key not in slots:
        slots[key] = group_slots(s, arch, cascade, {m.einsum: m for m in mappings}, dict(s.homes))
    return _FusedPoint(cascade, einsums, mappings, dims, footprint(P1), slots[key])


def _fused_result(s: Strategy, arch: Architecture, pt: _FusedPoint, costs: list[EinsumCost],
                  fill_drain: bool) -> AttentionResult:
    dims = pt.dims
    fd = None
    if fill_drain:
        tiles = dims["H"] * dims["P2"] * dims["M1"] * dims["P1"]
        fd = {c.name: _fill_drain_s(arch, c, tiles * c.active_fraction) for c in costs}
    choice = {"P1": dims["P1"], "P2": dims["P2"], "M1": dims["M1"], "footprint_words": pt.footprint}
    return combine(s, arch, pt.cascade, costs, {m.einsum: m for m in pt.mappings}, dict(s.homes), choice, fd, pt.slots)


def _fused_batch(s: Strategy, arch: Architecture, points: list[dict[str, Any]],
                 fill_drain: bool) -> list[AttentionResult | EinsimError]:
    """``_fused`` of N points (H, M, P, E, F, causal) on one design: each Einsum of the points that
    share a cascade is scored in one nest-kernel call; a point that cannot be mapped gets its error."""
    out: list[Any] = [None] * len(points)
    by_cascade: dict[str, list[tuple[int, _FusedPoint]]] = {}
    for i, p in enumerate(points):
        try:
            pt = _fused_point(s, arch, p["H"], p["M"], p["P"], p["E"], p["F"], p["causal"])
        except EinsimError as exc:
            out[i] = exc
            continue
        by_cascade.setdefault(pt.cascade.name, []).append((i, pt))
    for group in by_cascade.values():
        first = group[0][1]
        per_einsum = [evaluate_einsums(arch, m.unit, [(pt.einsums[j], Variant(pt.mappings[j], s.homes)) for _, pt in group],
                                       s.extra_ops) for j, m in enumerate(first.mappings)]
        for k, (i, pt) in enumerate(group):
            out[i] = _fused_result(s, arch, pt, [costs[k] for costs in per_einsum], fill_drain)
    return out


def _fused(s: Strategy, arch: Architecture, H: int, M: int, P: int, E: int, F: int, fill_drain: bool,
           causal: bool) -> AttentionResult:
    res = _fused_batch(s, arch, [{"H": H, "M": M, "P": P, "E": E, "F": F, "causal": causal}], fill_drain)[0]
    if isinstance(res, EinsimError):
        raise res
    return res


# ---- FLAT and the softmax shared with Unfused --------------------------------------------------

def _softmax_plan(dims: dict[str, int]) -> list[LevelPlan]:
    """One query row at a time; its M fiber spread over the 1D lanes."""
    return [LevelPlan("DRAM", {"h": dims["H"], "p": dims["P"]}, ("h", "p")),
            LevelPlan(GB, {"m": dims["M"] // dims["L"]}, ("m",), {"m": dims["L"]})]


def _softmax_variants(s: Strategy, arch: Architecture, einsums: dict[str, Einsum], dims: dict[str, int], qk_at: str,
                      a_at: str, spill: float) -> dict[str, Variant]:
    """GM reads the QK fiber (from DRAM, staging it, or from the buffer); SN overwrites it in place;
    SD and A read SN there; A goes to ``a_at``. A ``spill`` fraction of every fiber the buffer
    should hold does not fit and round-trips DRAM. Each runs on the unit ``s`` binds it to, its
    fiber spread over as many PEs as the 1D array has lanes."""
    homes = {
        "GM": ({"QK": qk_at, "GM": GB}, ("QK",)),
        "SN": ({"QK": GB, "GM": GB, "SN": GB}, ()),
        "SD": ({"SN": GB, "SD": GB}, ()),
        "A": ({"SN": GB, "SD": GB, "A": a_at}, ()),
    }
    out = {}
    for name, (h, staged) in homes.items():
        sp = {t: spill for t, at in h.items() if at == GB and t in ("QK", "SN", "A")}
        out[name] = Variant(mapping_for(arch, einsums[name], s.unit_of(name), _softmax_plan(dims), h, staged), h, sp)
    return out


def _flat_plan(d: dict[str, int], R: int, inner: dict[str, str]) -> list[LevelPlan]:
    gb_inner = {v: d[v.upper()] for v, lvl in inner.items() if lvl == GB}
    rf_inner = {v: d[v.upper()] for v, lvl in inner.items() if lvl == RF2D}
    return [LevelPlan("DRAM", {"h": d["H"], "p": d["P"] // R, "m": d["M"] // d["M0"]}, ("h", "p", "m")),
            LevelPlan(GB, {"p": R // d["P0"], **gb_inner}, ("p", *gb_inner), {"m": d["M0"], "p": d["P0"]}),
            LevelPlan(RF2D, rf_inner)]


def _lower_bound(arch: Architecture, costs: list[EinsumCost]) -> float:
    """No schedule is shorter than the busiest unit's work or the DRAM time."""
    busy: dict[str, float] = {"DRAM": sum(c.dram_bytes for c in costs) / dram_Bps(arch)}
    for c in costs:
        busy[c.unit] = busy.get(c.unit, 0.0) + c.compute_s
    return max(busy.values())


def _tie(seconds: float) -> float:
    """Times equal up to floating-point rounding compare equal (12 significant digits)."""
    return float(f"{seconds:.12g}")


def _flat(s: Strategy, arch: Architecture, H: int, M: int, P: int, E: int, F: int, causal: bool) -> AttentionResult:
    M0, P0 = array_of(arch, "Array2D").shape
    lanes = array_of(arch, "Array1D").pe_count
    cascade, einsums = _einsums(s, {"H": H, "E": E, "F": F, "M": M, "P": P}, causal)
    by = {e.name: e for e in einsums}
    dims = {"H": H, "E": E, "F": F, "M": M, "P": P, "M0": M0, "P0": P0, "L": lanes}
    capacity = gb_words(arch)
    bound = s.factor(GB, "p")
    slots = s.fusion[0].max_slots
    candidates = []
    R = P0
    while R <= min(P, (bound.max or bound.fixed) if bound else P):
        streams = E * R + E * M0 + F * M0 + F * R  # Q and AV rows of the block, one K and V tile
        if P % R == 0 and streams < capacity and (bound is None or bound.fixed in (None, R)):
            for qk_at in (GB, "DRAM"):
                for a_at in (GB, "DRAM"):
                    # live fibers (pass analysis: one M fiber per row for each re-read tensor) of the
                    # block's on-chip tensors, one per buffer slot; with QK in DRAM the softmax
                    # stages one row's fiber
                    live = slots * R * M * ((qk_at == GB) + (a_at == GB)) + (M if qk_at == "DRAM" else 0)
                    spill = max(0.0, 1 - (capacity - streams) / live) if live else 0.0
                    candidates.append((R, qk_at, a_at, spill))
        R *= 2
    if not candidates:
        raise EinsimError(f"FLAT: no row block fits the global buffer at M={M}")
    qk_v = [Variant(mapping_for(arch, by["QK"], "Array2D", _flat_plan(dims, R, {"e": RF2D}), {"QK": q}, ("Q", "K")),
                    {"QK": q}, {"QK": sp} if q == GB else {}) for R, q, _, sp in candidates]
    av_v = [Variant(mapping_for(arch, by["AV"], "Array2D", _flat_plan(dims, R, {"f": GB}), {"A": a}, ("A", "V", "AV")),
                    {"A": a}, {"A": sp} if a == GB else {}) for R, _, a, sp in candidates]
    qk_c = evaluate_einsum(arch, by["QK"], "Array2D", qk_v)
    av_c = evaluate_einsum(arch, by["AV"], "Array2D", av_v)
    soft_cache: dict[tuple[str, str, float], tuple[list[EinsumCost], dict[str, Mapping]]] = {}
    ranked = []
    for k, (R, q, a, spill) in enumerate(candidates):
        key = (q, a, spill)
        if key not in soft_cache:
            variants = _softmax_variants(s, arch, by, dims, q, a, spill)
            soft_cache[key] = ([evaluate_einsum(arch, by[n], s.unit_of(n), [v])[0] for n, v in variants.items()],
                               {n: v.mapping for n, v in variants.items()})
        costs = [qk_c[k], *soft_cache[key][0], av_c[k]]
        if all(c.valid for c in costs):
            ranked.append((_lower_bound(arch, costs), k, costs))
    if not ranked:
        raise EinsimError(f"FLAT: no valid dataflow at M={M}")
    # FLAT's choice: least steady-state time (its dataflow model sees the throughput of a row block,
    # not the pipeline's fill and drain), then DRAM bytes, then energy. The steady state is never
    # below the lower bound, so candidates are timed in bound order until the bound exceeds the best.
    best = None
    for lb, k, costs in sorted(ranked, key=lambda r: (r[0], r[1])):
        if best is not None and _tie(lb) > best[0][0][0]:
            break
        R, q, a, spill = candidates[k]
        mappings = {"QK": qk_v[k].mapping, "AV": av_v[k].mapping, **soft_cache[(q, a, spill)][1]}
        homes = {**s.homes, **({"QK": GB} if q == GB else {}), **({"A": GB} if a == GB else {})}
        res = combine(s, arch, cascade, costs, mappings, homes, {"R": R, "QK": q, "A": a, "spill": spill})
        rank = ((_tie(sum(g.tiles * g.period_s for g in res.timing)), res.dram_bytes, res.energy_J), k)
        if best is None or rank < best[0]:
            best = (rank, res)
    return best[1]


# ---- Unfused -----------------------------------------------------------------------------------

def _edp(arch: Architecture):
    bw = dram_Bps(arch)
    return lambda c: np.maximum(c.compute_s, c.dram_bytes / bw) * c.energy_J


def _unfused(s: Strategy, arch: Architecture, H: int, M: int, P: int, E: int, F: int, causal: bool) -> AttentionResult:
    M0, P0 = array_of(arch, "Array2D").shape
    lanes = array_of(arch, "Array1D").pe_count
    cascade, einsums = _einsums(s, {"H": H, "E": E, "F": F, "M": M, "P": P}, causal)
    by = {e.name: e for e in einsums}
    dims = {"H": H, "M": M, "P": P, "L": lanes}
    spatial = {"m": M0, "p": P0}
    qk, qk_tiles, qk_map = search_tiling(arch, by["QK"], "Array2D", spatial, ("p", "m"), {"h": H}, {"e": RF2D}, {},
                                         ("Q", "K", "QK"), _edp(arch))
    av, av_tiles, av_map = search_tiling(arch, by["AV"], "Array2D", spatial, ("p", "m"), {"h": H}, {"f": GB}, {},
                                         ("A", "V", "AV"), _edp(arch))
    spill = 1 - min(1.0, gb_words(arch) / M)
    variants = _softmax_variants(s, arch, by, dims, "DRAM", "DRAM", spill)
    soft = [evaluate_einsum(arch, by[n], s.unit_of(n), [v])[0] for n, v in variants.items()]
    mappings = {"QK": qk_map, "AV": av_map, **{n: v.mapping for n, v in variants.items()}}
    choice = {"QK_tiles": qk_tiles, "AV_tiles": av_tiles, "spill": spill}
    return combine(s, arch, cascade, [qk, *soft, av], mappings, dict(s.homes), choice)
