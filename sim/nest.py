"""The loop-nest view of one Einsum on one path of storage levels: what the cost model consumes.

``NestProblem`` is an Einsum as Timeloop sees it: dimensions with sizes and, per tensor, the
affine projection of the iteration space onto each tensor dimension. ``Hierarchy`` is the path
from the outermost storage level down to a compute unit, with per-level capacity, fan-out,
access energies and bandwidth. ``encode`` turns Mappings into the integer arrays the batch
kernel reads.

Access counting follows Timeloop's definitions (checked against its reference outputs):
- a level's tile of a tensor is the footprint of every loop nested inside the level;
- when the loops above a level advance, the tile is refetched in full, except that an advance of
  the innermost loop above the level fetches only the new part (sliding windows, and nothing at
  all when that loop does not index the tensor); loops inside the innermost loop that indexes
  the tensor never cause a refetch;
- a parent sends each spatial child's fill once for all children that differ only in indices the
  tensor does not depend on (multicast), and partial sums of children that differ only in a reduced
  index are added on the way up (spatial reduction); children's partly overlapping tiles (a sliding
  window spread over instances) are sent separately, as Timeloop counts them;
- spatial factors run along the array axes of their level (``Level.axes``, as Timeloop's
  meshX/meshY); the factors along one axis must fit its side. ``multicast`` says, per axis, how
  many children share each word a tensor sends (or, for the output, how many partial sums one
  update reduces);
- an output element's first write needs no read of an earlier partial sum;
- the compute unit reads its operands at every point: there is no reuse below the innermost level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping as TMapping, Sequence

import numpy as np

from einsim.errors import EinsimError, did_you_mean
from einsim.memo import by_identity
from einsim.einsum.cascade import Einsum

INF = math.inf


@dataclass(frozen=True)
class NestProblem:
    name: str
    dims: tuple[str, ...]
    sizes: tuple[int, ...]
    tensors: tuple[str, ...]  # operands first, the output last
    projections: tuple[tuple[tuple[int, ...], ...], ...]  # per tensor, per tensor dim: coefficient per dim
    output: int  # index of the output tensor

    @property
    def coef(self) -> np.ndarray:
        """[tensors, max tensor dims, dims] coefficients (zero rows pad short tensors)."""
        width = max((len(p) for p in self.projections), default=0) or 1
        out = np.zeros((len(self.tensors), width, len(self.dims)), dtype=np.int64)
        for t, proj in enumerate(self.projections):
            for td, row in enumerate(proj):
                out[t, td, :] = row
        return out

    @property
    def points(self) -> int:
        return math.prod(self.sizes)

    def relevant(self, tensor: int, dim: int) -> bool:
        return any(row[dim] for row in self.projections[tensor])

    @classmethod
    def from_einsum(cls, einsum: Einsum) -> "NestProblem":
        return _problem_of(einsum)

    @classmethod
    def _build(cls, einsum: Einsum) -> "NestProblem":
        """One data space per distinct operand tensor (a tensor read twice, e.g. X[i] and X[i+1],
        counts once), plus the output; an operand that is the output's previous step is kept apart
        as ``NAME'`` (as the FuseMax artifact models RM and RM0)."""
        dims = tuple(einsum.space)
        names: list[str] = []
        projs: list[tuple[tuple[int, ...], ...]] = []

        def proj(index) -> tuple[tuple[int, ...], ...]:
            return tuple(tuple(dict(a.terms).get(d, 0) for d in dims) for a in index)

        for op in einsum.operands:
            name = op.tensor + "'" if op.tensor == einsum.output else op.tensor
            if name not in names:
                names.append(name)
                projs.append(proj(op.index))
        names.append(einsum.output)
        projs.append(proj(einsum.out_index))
        return cls(einsum.name, dims, tuple(einsum.space.values()), tuple(names), tuple(projs), len(names) - 1)


@by_identity()
def _problem_of(einsum: Einsum) -> NestProblem:
    return NestProblem._build(einsum)


@dataclass(frozen=True)
class Level:
    """A storage level as the cost model sees it. Energies are per access of ``block_words``."""

    name: str
    fanout: int = 1  # instances of the next level (or of the compute unit) below one instance of this
    capacity_words: float = INF
    block_words: int = 1
    read_J: float = 0.0
    write_J: float = 0.0
    update_J: float = 0.0
    leak_J_per_cycle: float = 0.0  # per instance
    idle_leaks: bool = True  # every built instance leaks, used or not (Timeloop charges only the used ones)
    read_bw_words: float = INF  # per cycle per instance
    write_bw_words: float = INF
    may_keep: tuple[str, ...] | None = None  # tensors it can hold (None: any)
    axes: tuple[int, ...] = ()  # the fan-out per array axis, e.g. (256, 256); () means one axis of ``fanout``

    def __post_init__(self) -> None:
        if self.axes and math.prod(self.axes) != self.fanout:
            raise EinsimError(f"level {self.name}: its axes {list(self.axes)} multiply to "
                              f"{math.prod(self.axes)}, but its fan-out is {self.fanout}")

    @property
    def axis_sizes(self) -> tuple[int, ...]:
        """The fan-out of each array axis below this level (one axis when none are declared)."""
        return self.axes or (self.fanout,)


@dataclass(frozen=True)
class Hierarchy:
    levels: tuple[Level, ...]  # outermost first
    unit: str
    op_energy_J: float  # per iteration-space point on the unit
    op_cycles: float = 1.0  # cycles per point on one compute instance
    clock_Hz: float = 1e9
    word_bytes: float = 1.0

    def names(self) -> list[str]:
        return [lv.name for lv in self.levels]


@dataclass
class Encoded:
    """N mappings of one problem on one hierarchy as integer arrays, the kernel's input."""

    temporal: np.ndarray  # [N, L, D] factors
    spatial: np.ndarray  # [N, L, D]
    order: np.ndarray  # [N, L, D] dims of each level's temporal loops, outer to inner
    keep: np.ndarray  # [N, L, T] bool
    axis: np.ndarray | None = None  # [N, L, D] the array axis each spatial factor runs along (None: all on axis 0)

    def axes(self) -> np.ndarray:
        """[N, L, D] the axis of each spatial factor (zeros where none were given)."""
        return self.axis if self.axis is not None else np.zeros_like(self.spatial)


def assign_axes(spatial: TMapping[str, int], sizes: Sequence[int]) -> dict[str, int]:
    """An axis for each spatial factor of a mapping that names none: largest factor first (ties in the
    mapping's order), each goes to the axis with the most room left that still holds it (axis 0 when
    none does, which the fan-out check then refuses)."""
    room = [float(s) for s in sizes]
    out = {}
    for v, f in sorted(spatial.items(), key=lambda item: -item[1]):
        fits = [a for a in range(len(room)) if f <= room[a]]
        a = max(fits, key=lambda a: room[a]) if fits else 0
        room[a] /= f
        out[v] = a
    return out


def axis_of(lm, level: Level) -> dict[str, int]:
    """The axis of each spatial factor of level mapping ``lm`` on ``level``."""
    if lm.spatial_axis is not None:
        return dict(lm.spatial_axis)
    return assign_axes(lm.spatial, level.axis_sizes)


def keeps_of(problem: NestProblem, hierarchy: Hierarchy, mapping, homes: TMapping[str, str] | None = None) -> np.ndarray:
    """[L, T] which level keeps which tensor: the mapping's keep lists within what each level may hold.
    The outermost level keeps everything but the tensors in ``homes`` (tensor -> level), which
    live at their home and nowhere above it (a fused intermediate never goes to DRAM)."""
    out = np.zeros((len(hierarchy.levels), len(problem.tensors)), dtype=np.bool_)
    by_target = {lv.target: lv for lv in mapping.levels}
    names = hierarchy.names()
    homes = homes or {}
    for li, level in enumerate(hierarchy.levels):
        lm = by_target.get(level.name)
        for t, name in enumerate(problem.tensors):
            base = name.rstrip("'")
            allowed = level.may_keep is None or base in level.may_keep
            wanted = lm is None or lm.keep is None or base in lm.keep or name in lm.keep
            home = names.index(homes[base]) if base in homes else 0
            out[li, t] = li == home or (li > home and allowed and wanted)
    return out


def encode(problem: NestProblem, hierarchy: Hierarchy, mappings, homes: TMapping[str, str] | None = None) -> Encoded:
    """Mappings (einsim.mappers.Mapping) into arrays; levels are matched by name, missing ones are 1.
    ``homes`` (tensor -> level) places fused tensors below the outermost level (see keeps_of)."""
    n, L, D, T = len(mappings), len(hierarchy.levels), len(problem.dims), len(problem.tensors)
    temporal = np.ones((n, L, D), dtype=np.int64)
    spatial = np.ones((n, L, D), dtype=np.int64)
    order = np.tile(np.arange(D, dtype=np.int64), (n, L, 1))
    keep = np.zeros((n, L, T), dtype=np.bool_)
    axis = np.zeros((n, L, D), dtype=np.int64)
    names = hierarchy.names()
    dim_index = {d: i for i, d in enumerate(problem.dims)}
    # a search's mappings share most level mappings (e.g. the keep/bypass variants of one tiling):
    # each distinct one, and each distinct set of keep lists, is encoded once per call
    rows: dict[tuple, tuple[int, np.ndarray, np.ndarray, np.ndarray, list[int]]] = {}
    keeps: dict[tuple, np.ndarray] = {}
    for k, m in enumerate(mappings):
        for lm in m.levels:
            key = (lm.target, tuple(lm.temporal.items()), lm.order, tuple(lm.spatial.items()),
                   None if lm.spatial_axis is None else tuple(lm.spatial_axis.items()))
            row = rows.get(key)
            if row is None:
                row = rows[key] = _level_row(problem, hierarchy, m, lm, names, dim_index)
            li, t_row, s_row, a_row, o_row = row
            temporal[k, li] = t_row
            spatial[k, li] = s_row
            axis[k, li] = a_row
            order[k, li] = o_row
        kkey = tuple((lm.target, lm.keep) for lm in m.levels)
        kept = keeps.get(kkey)
        if kept is None:
            kept = keeps[kkey] = keeps_of(problem, hierarchy, m, homes)
        keep[k] = kept
    return Encoded(temporal, spatial, order, keep, axis)


def _level_row(problem: NestProblem, hierarchy: Hierarchy, m, lm, names: list[str],
               dim_index: dict[str, int]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """(level index, [D] temporal factors, [D] spatial factors, [D] axes, [D] loop order) of level mapping ``lm``."""
    if lm.target not in names:
        raise EinsimError(f"mapping of {m.einsum}: no storage level {lm.target!r} on the path to {hierarchy.unit}" + did_you_mean(lm.target, names))
    li = names.index(lm.target)
    D = len(problem.dims)
    temporal, spatial, axis = np.ones(D, dtype=np.int64), np.ones(D, dtype=np.int64), np.zeros(D, dtype=np.int64)
    for v, f in lm.temporal.items():
        temporal[dim_index[v]] = f
    for v, f in lm.spatial.items():
        spatial[dim_index[v]] = f
    for v, a in axis_of(lm, hierarchy.levels[li]).items():
        axis[dim_index[v]] = a
    return li, temporal, spatial, axis, [dim_index[v] for v in lm.loop_order(problem.dims)]


@dataclass
class NestCounts:
    """Per-instance access counts of one mapping (words), with the instances that share them."""

    reads: np.ndarray  # [L, T]
    fills: np.ndarray  # [L, T]
    updates: np.ndarray  # [L, T]
    instances: np.ndarray  # [L + 1] utilized instances per level, then of the compute unit
    computes: int  # points per compute instance
    cycles: float
    energy_J: np.ndarray  # [L + 1] per level (all instances), then the compute unit
    valid: bool
    tile_words: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [L] words held per instance


@dataclass
class BatchCounts:
    """Kernel output for N mappings (per-instance counts; see NestCounts for one mapping)."""

    reads: np.ndarray  # [N, L, T]
    fills: np.ndarray
    updates: np.ndarray
    cycles: np.ndarray  # [N]
    energy_J: np.ndarray  # [N, L + 1]
    valid: np.ndarray  # [N] bool
    tile_words: np.ndarray  # [N, L]
    instances: np.ndarray  # [N, L + 1]
    computes: np.ndarray  # [N] points per compute instance

    def one(self, k: int) -> NestCounts:
        return NestCounts(self.reads[k], self.fills[k], self.updates[k], self.instances[k], int(self.computes[k]),
                          float(self.cycles[k]), self.energy_J[k], bool(self.valid[k]), self.tile_words[k])


def multicast(problem: NestProblem, hierarchy: Hierarchy, mapping) -> dict[str, list[dict[str, int]]]:
    """Per fan-out level, per array axis: for each tensor, how many children along that axis share
    one word of it (the product of the axis's spatial factors over indices the tensor does not use).
    For the output this is the spatial reduction along the axis."""
    by_target = {lm.target: lm for lm in mapping.levels}
    out: dict[str, list[dict[str, int]]] = {}
    for level in hierarchy.levels:
        lm = by_target.get(level.name)
        if lm is None or not lm.spatial:
            continue
        axes = axis_of(lm, level)
        per_axis = []
        for a in range(len(level.axis_sizes)):
            row = {}
            for t, name in enumerate(problem.tensors):
                row[name] = math.prod(f for v, f in lm.spatial.items()
                                      if axes[v] == a and not problem.relevant(t, problem.dims.index(v)))
            per_axis.append(row)
        out[level.name] = per_axis
    return out


def axis_table(hierarchy: Hierarchy) -> np.ndarray:
    """[L, A] the fan-out of each axis of each level; levels with fewer axes are padded with 1."""
    A = max(len(lv.axis_sizes) for lv in hierarchy.levels)
    out = np.ones((len(hierarchy.levels), A), dtype=np.int64)
    for i, lv in enumerate(hierarchy.levels):
        out[i, : len(lv.axis_sizes)] = lv.axis_sizes
    return out


@by_identity(maxsize=256)
def hierarchy_arrays(hierarchy: Hierarchy) -> tuple[np.ndarray, ...]:
    """The level table the kernel reads (once per hierarchy; the kernel does not write it)."""
    lv = hierarchy.levels
    f = lambda attr: np.array([getattr(x, attr) for x in lv], dtype=np.float64)  # noqa: E731
    return (axis_table(hierarchy), f("capacity_words"),
            np.array([x.block_words for x in lv], dtype=np.float64), f("read_J"), f("write_J"), f("update_J"),
            f("leak_J_per_cycle"), np.array([x.idle_leaks for x in lv], dtype=np.bool_), f("read_bw_words"),
            f("write_bw_words"))


def evaluate_encoded(problem: NestProblem, hierarchy: Hierarchy, enc: Encoded) -> BatchCounts:
    """Run the batch kernel on encoded mappings."""
    from einsim.sim.kernels.nest import evaluate_nest

    n, L, _ = enc.temporal.shape
    T = len(problem.tensors)
    reads, fills, updates = (np.zeros((n, L, T)) for _ in range(3))
    cycles = np.zeros(n)
    energy = np.zeros((n, L + 1))
    valid = np.zeros(n, dtype=np.bool_)
    tile_words = np.zeros((n, L))
    instances = np.zeros((n, L + 1), dtype=np.int64)
    is_output = np.zeros(T, dtype=np.bool_)
    is_output[problem.output] = True
    evaluate_nest(problem.coef, is_output, *hierarchy_arrays(hierarchy), float(hierarchy.op_energy_J),
                  float(hierarchy.op_cycles), enc.temporal, enc.spatial, enc.axes(), enc.order, enc.keep,
                  reads, fills, updates, cycles, energy, valid, tile_words, instances)
    computes = np.prod(enc.temporal, axis=(1, 2))
    return BatchCounts(reads, fills, updates, cycles, energy, valid, tile_words, instances, computes)
