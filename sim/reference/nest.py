"""Slow reference twin of the loop-nest kernel: walks the loop nest and counts every transfer.

It enumerates the loops literally: for every step of the loops above a level and every instance
of the level, it builds the set of tensor coordinates the level must hold, and counts what
moves between consecutive steps under Timeloop's rules (see einsim.sim.nest). Only for small
problems; the tests compare it with the numba kernel.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from einsim.sim.nest import Hierarchy, NestCounts, NestProblem


@dataclass(frozen=True)
class _Loop:
    level: int
    dim: int
    factor: int
    spatial: bool
    stride: int = 1


def _loops(temporal: np.ndarray, spatial: np.ndarray, order: np.ndarray) -> list[_Loop]:
    """The full nest, outer to inner: each level's temporal loops in order, then its spatial loops.
    Loops of factor 1 are left out; each loop's stride is the product of inner factors on its dim."""
    nest: list[_Loop] = []
    L, D = temporal.shape
    for lv in range(L):
        nest += [_Loop(lv, int(d), int(temporal[lv, d]), False) for d in order[lv] if temporal[lv, d] > 1]
        nest += [_Loop(lv, d, int(spatial[lv, d]), True) for d in range(D) if spatial[lv, d] > 1]
    out = []
    for i, lp in enumerate(nest):
        stride = math.prod(q.factor for q in nest[i + 1:] if q.dim == lp.dim)
        out.append(_Loop(lp.level, lp.dim, lp.factor, lp.spatial, stride))
    return out


class _Walker:
    def __init__(self, problem: NestProblem, loops: list[_Loop], depth: int):
        self.p = problem
        self.loops = loops
        self.depth = depth  # number of storage levels: steps below it run over every temporal loop
        self.coef = problem.coef

    def tiles(self, t: int, below: int, fixed_spatial_below: int):
        """Yield (step index tuple, {instance: set of coordinates}) in time order.

        Steps run over temporal loops of levels < ``below``; instances over spatial loops of
        levels < ``fixed_spatial_below``; every other loop is free inside the tile."""
        steps = [i for i, lp in enumerate(self.loops) if not lp.spatial and lp.level < below]
        inst = [i for i, lp in enumerate(self.loops) if lp.spatial and lp.level < fixed_spatial_below]
        free = [i for i in range(len(self.loops)) if i not in steps and i not in inst]
        coef = self.coef[t]
        for step in itertools.product(*(range(self.loops[i].factor) for i in steps)):
            per_inst = {}
            for where in itertools.product(*(range(self.loops[i].factor) for i in inst)):
                coords = set()
                for inner in itertools.product(*(range(self.loops[i].factor) for i in free)):
                    point = [0] * len(self.p.dims)
                    for i, v in zip(steps + inst + free, step + where + inner):
                        point[self.loops[i].dim] += v * self.loops[i].stride
                    coords.add(tuple(int(x) for x in coef @ np.array(point)))
                per_inst[where] = coords
            yield step, per_inst

    def _sender(self, t: int, fixed: int, sender: int | None):
        """A function from an instance's spatial indices (loops of levels < ``fixed``) to the copy of
        its words a ``sender`` instance sends: instances differing only in spatial indices of levels
        >= ``sender`` that do not index ``t`` receive the same words once (multicast)."""
        inst = [i for i, lp in enumerate(self.loops) if lp.spatial and lp.level < fixed]
        if sender is None:
            return lambda where: where
        kept = [k for k, i in enumerate(inst)
                if self.loops[i].level < sender or self.coef[t][:, self.loops[i].dim].any()]
        return lambda where: tuple(where[k] for k in kept)

    def transfers(self, t: int, below: int, fixed: int, sender: int | None = None) -> tuple[int, int, int]:
        """(entering words, entering words already touched before, distinct words ever), summed
        over instances, for the tiles of level ``below`` seen per instance fixed above ``fixed``;
        with ``sender``, summed over the distinct copies a ``sender`` instance sends (see _sender)."""
        copy_of = self._sender(t, fixed, sender)
        steps = [i for i, lp in enumerate(self.loops) if not lp.spatial and lp.level < below]
        innermost = steps[-1] if steps else None
        relevant = {i for i in steps if self.coef[t][:, self.loops[i].dim].any()}
        prev_step = None
        prev: dict = {}
        touched: dict = {}
        entering = retouch = 0
        for step, per_inst in self.tiles(t, below, fixed):
            advancing = None
            if prev_step is not None:
                advancing = next(steps[k] for k in range(len(steps)) if step[k] != prev_step[k])
            sent = set()
            for where, tile in per_inst.items():
                old = prev.get(where)
                if old is None:
                    new = tile
                elif advancing == innermost:
                    new = tile - old
                elif any(i in relevant for i in steps[steps.index(advancing):]):
                    new = tile  # an outer loop moved a loop that indexes t: Timeloop refetches the tile
                else:
                    new = set()
                seen = touched.setdefault(where, set())
                if copy_of(where) not in sent:
                    sent.add(copy_of(where))
                    entering += len(new)
                    retouch += len(new & seen)
                seen |= tile
                prev[where] = tile
            prev_step = step
        distinct = sum(len(s) for s in touched.values())
        return entering, retouch, distinct

    def compute_accesses(self, t: int, keeper: int) -> tuple[int, int]:
        """(words moved between the innermost keeper and the compute units, distinct words):
        every step, each distinct copy (see _sender) of a compute unit's word is moved once."""
        total = 0
        copy_of = self._sender(t, self.depth, keeper)
        for _, per_inst in self.tiles(t, self.depth, self.depth):
            total += sum(len(tile) for tile in {copy_of(where): tile for where, tile in per_inst.items()}.values())
        touched: dict = {}
        for _, per_inst in self.tiles(t, self.depth, keeper):
            for where, tile in per_inst.items():
                touched.setdefault(where, set()).update(tile)
        return total, sum(len(s) for s in touched.values())


def walk(problem: NestProblem, hierarchy: Hierarchy, temporal: np.ndarray, spatial: np.ndarray,
         order: np.ndarray, keep: np.ndarray, axis: np.ndarray | None = None) -> NestCounts:
    """Counts of one mapping (arrays as in einsim.sim.nest.Encoded, without the batch axis; ``axis``
    None puts every spatial factor on axis 0)."""
    L, T = keep.shape
    loops = _loops(temporal, spatial, order)
    walker = _Walker(problem, loops, L)
    reads = np.zeros((L, T))
    fills = np.zeros((L, T))
    updates = np.zeros((L, T))
    instances = np.ones(L + 1, dtype=np.int64)
    for lv in range(1, L + 1):
        instances[lv] = instances[lv - 1] * int(np.prod(spatial[lv - 1]))
    for t in range(T):
        keepers = [lv for lv in range(L) if keep[lv, t]]
        out = t == problem.output
        for parent, child in zip(keepers, keepers[1:]):
            w_child, re_child, _ = walker.transfers(t, child, child)
            w_par, re_par, _ = walker.transfers(t, child, child, sender=parent)
            if out:
                updates[parent, t] += w_par
                reads[parent, t] += re_par
                fills[child, t] += re_child
            else:
                reads[parent, t] += w_par
                fills[child, t] += w_child
        inner = keepers[-1]
        moved, distinct = walker.compute_accesses(t, inner)
        if out:
            updates[inner, t] += moved
            reads[inner, t] += moved - distinct
        else:
            reads[inner, t] += moved
    per_instance = lambda a: a / instances[:L, None]  # noqa: E731
    reads, fills, updates = per_instance(reads), per_instance(fills), per_instance(updates)
    computes = int(np.prod(temporal))
    cycles = computes * hierarchy.op_cycles
    for lv, level in enumerate(hierarchy.levels):
        rd = reads[lv].sum() / level.read_bw_words
        wr = (fills[lv].sum() + updates[lv].sum()) / level.write_bw_words
        cycles = max(cycles, rd, wr)
    energy = np.zeros(L + 1)
    for lv, level in enumerate(hierarchy.levels):
        per = sum(
            math.ceil(reads[lv, t] / level.block_words) * level.read_J
            + math.ceil(fills[lv, t] / level.block_words) * level.write_J
            + math.ceil(updates[lv, t] / level.block_words) * level.update_J
            for t in range(T)
        )
        leaking = math.prod(above.fanout for above in hierarchy.levels[:lv]) if level.idle_leaks else instances[lv]
        energy[lv] = per * instances[lv] + level.leak_J_per_cycle * cycles * leaking
    energy[L] = computes * instances[L] * hierarchy.op_energy_J
    tile_words = np.zeros(L)
    for lv in range(L):
        for t in range(T):
            if keep[lv, t]:
                tile_words[lv] += _tile_volume(problem, t, loops, lv)
    valid = all(tile_words[lv] <= hierarchy.levels[lv].capacity_words for lv in range(1, L))
    valid = valid and _fans_out(hierarchy, spatial, np.zeros_like(spatial) if axis is None else axis)
    return NestCounts(reads, fills, updates, instances, computes, cycles, energy, valid, tile_words)


def _tile_volume(problem: NestProblem, t: int, loops: list[_Loop], level: int) -> int:
    """Distinct coordinates of tensor t touched by the loops inside one instance of ``level``."""
    inner = [lp for lp in loops if lp.level >= level]
    coef = problem.coef[t]
    coords = set()
    for idx in itertools.product(*(range(lp.factor) for lp in inner)):
        point = [0] * len(problem.dims)
        for lp, v in zip(inner, idx):
            point[lp.dim] += v * lp.stride
        coords.add(tuple(int(x) for x in coef @ np.array(point)))
    return len(coords)


def _fans_out(hierarchy: Hierarchy, spatial: np.ndarray, axis: np.ndarray) -> bool:
    """Every level's spatial factors along each of its axes fit that axis's fan-out."""
    for lv, level in enumerate(hierarchy.levels):
        sizes = level.axis_sizes
        use = [1] * len(sizes)
        for d in range(spatial.shape[1]):
            if spatial[lv, d] > 1:
                if not 0 <= axis[lv, d] < len(sizes):
                    return False
                use[axis[lv, d]] *= int(spatial[lv, d])
        if any(u > s for u, s in zip(use, sizes)):
            return False
    return True
