"""One Einsum of a fused cascade on one unit: the nest kernel's counts, re-homed for fusion.

The nest kernel evaluates an Einsum alone, so every tensor's backing store is DRAM. In a fused
cascade an intermediate lives somewhere on chip (its *home*): in a PE's registers, in the global
buffer, or in a staging buffer off the Einsum's storage path. The kernel's counts are re-homed:

- home on the path (e.g. RF2D, GlobalBuffer): the tensor never goes above it, so the counts of
  the levels above it and the home's own fills are dropped;
- home off the path (e.g. StageRF between the 2D and 1D arrays): what the kernel charged to DRAM
  is charged to the home instead (reads as reads, updates as writes);
- a ``spill`` fraction of a re-homed tensor's dropped DRAM traffic stays at DRAM (the part of a
  fiber that does not fit its home).

A masked Einsum (a filter such as causal ``m <= p``) skips the array steps whose tile is wholly
masked (einsim.mappers.masking): its time, work, traffic and energy are scaled
by the fraction of tiles that run; a partly masked tile runs whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping as TMapping, Sequence

import numpy as np

from einsim.arch import Architecture, Buffer
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Einsum
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapping import Mapping
from einsim.memo import by_identity
from einsim.mappers.masking import mask_fraction, mask_note
from einsim.sim.nest import BatchCounts, Encoded, Hierarchy, NestProblem, encode, evaluate_encoded

DRAM = "DRAM"


@dataclass
class EinsumCost:
    """Cost of one Einsum (all instances) on its bound unit."""

    name: str
    unit: str
    compute_s: float  # time on the unit: temporal steps x cycles per point / clock
    busy_pe_s: float  # PE-seconds of work (points x cycles per point / clock)
    dram_bytes: float
    energy: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (component, action) -> [count, J]
    valid: bool = True
    active_fraction: float = 1.0  # of the mapping's array-step tiles, those not wholly masked (all run when 1)

    @property
    def energy_J(self) -> float:
        return sum(v[1] for v in self.energy.values())


@dataclass(frozen=True)
class Variant:
    """One mapping of an Einsum with where its tensors live (tensor -> component; default DRAM)."""

    mapping: Mapping
    homes: TMapping[str, str] = field(default_factory=dict)
    spill: TMapping[str, float] = field(default_factory=dict)


_ops_of = by_identity()(ops_per_point)  # an Einsum's op counts, once per Einsum (callers copy them)


def op_cost(arch: Architecture, unit: str, einsum: Einsum, extra_ops: TMapping[str, TMapping[str, int]],
            emulate: TMapping[str, TMapping[str, int]] | None = None) -> tuple[float, dict[str, float]]:
    """(cycles per point, {op: count per point}) with ``extra_ops`` issued beside an op (e.g. the
    subtract of sub-then-exp run as a separate add on hardware whose exp unit does not fuse it) and
    ops the unit lacks replaced by their ``emulate`` sequence."""
    ops = dict(_ops_of(einsum))
    for op, seq in (emulate or {}).items():
        if op in ops:
            n = ops.pop(op)
            for other, k in seq.items():
                ops[other] = ops.get(other, 0) + n * k
    for op, extra in extra_ops.items():
        for other, n in extra.items():
            if op in ops:
                ops[other] = ops.get(other, 0) + n * ops[op]
    arch.require_ops(unit, ops)
    cycles = sum(n * arch.op_cost(unit, op).cycles for op, n in ops.items())
    return max(cycles, 1.0), ops


def tile_words(problem: NestProblem, mapping: Mapping, level_names: Sequence[str], level: str) -> dict[str, float]:
    """Words of each tensor in one tile at ``level``: the footprint of every loop at or below it."""
    start = list(level_names).index(level)
    size = {d: 1 for d in problem.dims}
    for lm in mapping.levels:
        if lm.target in level_names and list(level_names).index(lm.target) >= start:
            for d, f in (*lm.temporal.items(), *lm.spatial.items()):
                size[d] *= f
    out: dict[str, float] = {}
    for t, proj in zip(problem.tensors, problem.projections):
        vol = 1.0
        for row in proj:
            vol *= 1 + sum([abs(c) * (size[d] - 1) for c, d in zip(row, problem.dims) if c])
        base = t.rstrip("'")
        out[base] = max(out.get(base, 0.0), vol)
    return out


def evaluate_einsum(arch: Architecture, einsum: Einsum, unit: str, variants: Sequence[Variant],
                    extra_ops: TMapping[str, TMapping[str, int]] | None = None,
                    emulate: TMapping[str, TMapping[str, int]] | None = None) -> list[EinsumCost]:
    """Costs of N mapping variants of ``einsum`` on ``unit`` (one kernel call), re-homed as above."""
    return evaluate_einsums(arch, unit, [(einsum, v) for v in variants], extra_ops, emulate)


def _structure(problem: NestProblem) -> tuple:
    """What the nest kernel reads of a problem (its sizes enter only through the mappings)."""
    return problem.dims, problem.tensors, problem.projections, problem.output


_STRUCTURES: dict[tuple, tuple] = {}  # each distinct structure once, so equal ones are the same object


@by_identity(maxsize=8192)
def _einsum_keys(einsum: Einsum) -> tuple[tuple, tuple]:
    """(the Einsum's nest structure, shared by the Einsums that have it; its op counts as a key)."""
    structure = _structure(NestProblem.from_einsum(einsum))
    return _STRUCTURES.setdefault(structure, structure), tuple(_ops_of(einsum).items())


def evaluate_einsums(arch: Architecture, unit: str, items: Sequence[tuple[Einsum, Variant]],
                     extra_ops: TMapping[str, TMapping[str, int]] | None = None,
                     emulate: TMapping[str, TMapping[str, int]] | None = None) -> list[EinsumCost]:
    """``evaluate_einsum`` of N (Einsum, variant) pairs in one kernel call: the Einsums may differ in
    their rank sizes (e.g. one Einsum of a cascade at the sizes of N sweep points) but not in their
    indices, tensors or projections (ValueError otherwise)."""
    hier = hierarchy_for(arch, unit)
    problem = NestProblem.from_einsum(items[0][0])
    structure = _einsum_keys(items[0][0])[0]
    per_einsum: dict[int, tuple[float, dict[str, float]]] = {}
    by_ops: dict[tuple, tuple[float, dict[str, float]]] = {}  # op_cost reads an Einsum's op counts only
    for einsum, _ in items:
        if id(einsum) not in per_einsum:
            own, ops_key = _einsum_keys(einsum)
            if own is not structure:
                raise ValueError(f"evaluate_einsums: {einsum.name} differs from {items[0][0].name} beyond its sizes")
            if ops_key not in by_ops:
                by_ops[ops_key] = op_cost(arch, unit, einsum, extra_ops or {}, emulate)
            per_einsum[id(einsum)] = by_ops[ops_key]
    variants = [v for _, v in items]
    b = _counted(problem, hier, encode(problem, hier, [v.mapping for v in variants]),
                 [(v.homes, v.spill) for v in variants])
    clock = hier.clock_Hz
    # as Python lists: the loop below reads them element by element (the same floats, without numpy scalars)
    per_action = [(action, words.tolist(), accesses.tolist(), e) for action, words, accesses, e in b.per_action]
    dram_words = b.dram_words.tolist()
    counts = b.counts
    computes_of, last_of, valid_of = counts.computes.tolist(), counts.instances[:, -1].tolist(), counts.valid.tolist()
    level_names = [lv.name for lv in hier.levels]
    op_energy: dict[str, float] = {}
    out = []
    for k, (einsum, var) in enumerate(items):
        cycles, ops = per_einsum[id(einsum)]
        energy: dict[tuple[str, str], list[float]] = {}
        for li, name in enumerate(level_names):  # each (level, action) key once: _add's sums from zero
            for action, words, accesses, e in per_action:
                w = words[k][li]
                if w:
                    energy[(name, action)] = [0.0 + w, 0.0 + accesses[k][li] * e[li]]
        for (home, action), words in b.extras[k].items():
            _add(energy, (home, action), float(words), _off_path_J(arch, hier, home, action, words))
        computes, last = float(computes_of[k]), float(last_of[k])
        points = computes * last
        for op, n in ops.items():
            if op not in op_energy:
                op_energy[op] = arch.op_cost(unit, op).energy_J or 0.0
            _add(energy, (unit, op), points * n, points * n * op_energy[op])
        run = mask_fraction(einsum, var.mapping)
        if run != 1.0:  # x * 1.0 == x
            energy = {key: [n * run, j * run] for key, (n, j) in energy.items()}
        out.append(EinsumCost(einsum.name, unit, run * computes * cycles / clock, run * points * cycles / clock,
                              run * dram_words[k] * hier.word_bytes, energy, bool(valid_of[k]), run))
    return out


@dataclass
class CostArrays:
    """What a search ranks N variants of one Einsum by: EinsumCost's compute_s, busy_pe_s,
    dram_bytes, energy_J and valid as [N] arrays, the same floats ``evaluate_einsums`` gives (energy_J
    adds the same terms in the order EinsumCost.energy_J adds them)."""

    compute_s: np.ndarray
    busy_pe_s: np.ndarray
    dram_bytes: np.ndarray
    energy_J: np.ndarray
    valid: np.ndarray


def einsum_cost_arrays(arch: Architecture, einsum: Einsum, unit: str, enc: Encoded, run: np.ndarray,
                       homes: TMapping[str, str], extra_ops: TMapping[str, TMapping[str, int]] | None = None,
                       emulate: TMapping[str, TMapping[str, int]] | None = None) -> CostArrays:
    """The costs of the N encoded mappings ``enc`` of ``einsum`` (tensors at ``homes``, nothing
    spilled) whose array steps run the fractions ``run`` (``mask_fraction`` of each), as arrays: one
    kernel call and no per-variant Python unless a home is off the storage path."""
    hier = hierarchy_for(arch, unit)
    problem = NestProblem.from_einsum(einsum)
    cycles, ops = op_cost(arch, unit, einsum, extra_ops or {}, emulate)
    n = len(enc.keep)
    b = _counted(problem, hier, enc, [(homes, {})] * n)
    energy = np.zeros(n)
    for li in range(len(hier.levels)):  # EinsumCost.energy's order: levels, then off-path homes, then ops
        for _, words, accesses, e in b.per_action:
            energy += np.where(words[:, li] != 0, accesses[:, li] * e[li] * run, 0.0)
    for k, extra in enumerate(b.extras):
        for (home, action), words in extra.items():
            energy[k] += _off_path_J(arch, hier, home, action, words) * run[k]
    computes = b.counts.computes.astype(np.float64)
    points = computes * b.counts.instances[:, -1].astype(np.float64)
    for op, count in ops.items():
        energy += points * count * (arch.op_cost(unit, op).energy_J or 0.0) * run
    clock = hier.clock_Hz
    return CostArrays(run * computes * cycles / clock, run * points * cycles / clock,
                      run * b.dram_words * hier.word_bytes, energy, b.counts.valid.copy())


@dataclass
class _Counted:
    """The kernel's counts of N variants re-homed, per action the words and block accesses of each
    level ([N, L] each, all instances) with the energy per access of each level, the words moved at
    DRAM ([N]) and the words charged to off-path homes (per variant)."""

    counts: BatchCounts
    per_action: list[tuple[str, np.ndarray, np.ndarray, list[float]]]
    dram_words: np.ndarray
    extras: list[dict[tuple[str, str], float]]


def _counted(problem: NestProblem, hier: Hierarchy, enc: Encoded,
             homes: Sequence[tuple[TMapping[str, str], TMapping[str, float]]]) -> _Counted:
    """Run the kernel on ``enc`` and re-home each row's counts by its (homes, spill)."""
    counts = evaluate_encoded(problem, hier, enc)
    names = hier.names()
    reads, fills, updates = counts.reads.copy(), counts.fills.copy(), counts.updates.copy()  # [N, L, T]
    extras = [_rehome(problem, names, counts.instances[k], reads[k], fills[k], updates[k], h, s) if h else {}
              for k, (h, s) in enumerate(homes)]
    # each level's words and block accesses per action, all variants at once ([N, L])
    inst = counts.instances[:, :-1].astype(np.float64)
    blocks = np.array([lv.block_words for lv in hier.levels], dtype=np.float64)[None, :, None]
    per_action = [(action, arr.sum(axis=2) * inst, np.ceil(arr / blocks).sum(axis=2) * inst,
                   [getattr(lv, attr) for lv in hier.levels])
                  for action, arr, attr in (("read", reads, "read_J"), ("write", fills, "write_J"),
                                            ("update", updates, "update_J"))]
    dram_words = (reads[:, 0] + fills[:, 0] + updates[:, 0]).sum(axis=1) * counts.instances[:, 0].astype(np.float64)
    return _Counted(counts, per_action, dram_words, extras)


def _off_path_J(arch: Architecture, hier: Hierarchy, home: str, action: str, words: float) -> float:
    """Energy of ``words`` read or written at a home off the storage path, in its block accesses."""
    comp = arch.component(home)
    assert isinstance(comp, Buffer)
    block = max(1, comp.width_bits // int(hier.word_bytes * 8))
    e = comp.read_energy_J if action == "read" else comp.write_energy_J
    return math.ceil(words / block) * (e or 0.0)


def _rehome(problem: NestProblem, names: Sequence[str], instances: np.ndarray, reads: np.ndarray, fills: np.ndarray,
            updates: np.ndarray, homes: TMapping[str, str], spill: TMapping[str, float]) -> dict[tuple[str, str], float]:
    """Re-home the tensors at ``homes`` in one variant's [L, T] counts (in place, as the module
    docstring says); returns the words charged to off-path homes, (home, action) -> words."""
    extra: dict[tuple[str, str], float] = {}
    if not homes:
        return extra
    for t, tname in enumerate(problem.tensors):
        home = homes.get(tname.rstrip("'"), DRAM)
        if home == DRAM:
            continue
        s = spill.get(tname.rstrip("'"), 0.0)
        if home in names:
            hi = names.index(home)
            dram = (reads[0, t], fills[0, t], updates[0, t])
            for li in range(hi):
                reads[li, t] = fills[li, t] = updates[li, t] = 0.0
            fills[hi, t] *= s
            reads[0, t], updates[0, t] = s * dram[0], s * dram[2]
        else:
            r, u = reads[0, t] * instances[0], updates[0, t] * instances[0]
            extra[(home, "read")] = extra.get((home, "read"), 0.0) + (1 - s) * r
            extra[(home, "write")] = extra.get((home, "write"), 0.0) + (1 - s) * u
            reads[0, t] *= s
            updates[0, t] *= s
    return extra


def _add(energy: dict[tuple[str, str], list[float]], key: tuple[str, str], count: float, joules: float) -> None:
    row = energy.setdefault(key, [0.0, 0.0])
    row[0] += count
    row[1] += joules


def mask_notes(costs: Sequence[EinsumCost]) -> list[str]:
    """One line per masked Einsum of ``costs``."""
    return [mask_note(c.name, c.active_fraction) for c in costs if c.active_fraction < 1]


def leakage_energy(arch: Architecture, seconds: float) -> dict[tuple[str, str], list[float]]:
    """(buffer, "leakage") -> [instance-seconds, J]: every instance of every buffer with a leakage
    figure leaks for all of ``seconds`` (energy = leakage power x time, DESIGN §4), busy or idle."""
    out: dict[tuple[str, str], list[float]] = {}
    for name, comp in arch.components.items():
        if isinstance(comp, Buffer) and comp.leakage_W:
            n = arch.instances(name)
            out[(name, "leakage")] = [n * seconds, n * comp.leakage_W * seconds]
    return out


def merge_energy(costs: Sequence[EinsumCost]) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = {}
    for c in costs:
        for k, (n, j) in c.energy.items():
            row = out.get(k)
            if row is None:
                out[k] = [0.0 + n, 0.0 + j]  # as _add sums from zero
            else:
                row[0] += n
                row[1] += j
    return out
