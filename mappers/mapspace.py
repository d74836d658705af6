"""The mapspace of one Einsum on one storage Hierarchy, enumerated straight into kernel arrays.

A point of the space is a *genome* of small integers: per index, which factorization of its size
over the levels' temporal and spatial slots (``fidx[n, D]``); per level, which canonical loop
order of the loops that factorization leaves at that level (``oidx[n, L]``); and which keep/bypass
choice (``kidx[n]``). ``Mapspace.encode`` turns genomes into an ``Encoded`` chunk with a few numpy
gathers, so a search never builds Python objects per mapping.

What the space contains, and what it prunes (and why that is safe):

- Perfect factorizations only: the factors of an index multiply to its size.
- Spatial factors only at levels with a fan-out > 1 (and only for the indices a constraint allows),
  each along one array axis of the level (a 2D array has two, as Timeloop's meshX/meshY); the
  product of the factors along an axis is at most that axis's fan-out.
- A spatial split of an index is the innermost split of that index: no factor of it at deeper
  levels. The kernel assumes this (einsim.sim.kernels.nest); it also means one spatial level per
  index. This is a restriction of the model, not a symmetry.
- Loop orders: only loops with a factor > 1 are ordered (the kernel skips factor-1 loops, so their
  position cannot change a count). Among the orders of a level's loops, the kernel's counts for a
  tensor depend on the order only through the innermost run of loops that do not index that
  tensor (its reuse inside the innermost loop that does) and, when a tensor has a sliding-window or
  strided dimension, which loop is innermost. Orders with the same run for every tensor (and the
  same innermost loop if windows exist) give identical counts; one of them is kept (the first in
  lexicographic order). For a GEMM this leaves the choice of the innermost loop: 3 orders of 3
  loops instead of 6. tests/mappers/test_mapspace.py checks that pruned orders evaluate equal.
- Keep/bypass: by default every level keeps every tensor it may hold; ``enumerate_keep`` makes
  every subset at each inner level a choice; a constraint can fix a level's keep list.
- Capacity is not pruned here: the kernel marks over-full mappings invalid.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping as TMapping, Sequence

import numpy as np

from einsim.errors import EinsimError, did_you_mean
from einsim.mappers.mapping import LevelMapping, Mapping
from einsim.sim.nest import Encoded, Hierarchy, NestProblem


@dataclass(frozen=True)
class Constraints:
    """Per-level restrictions of a mapspace, keyed by level name.

    ``spatial``: the indices that may be spatial at a level (default: any, at fan-out levels), or
    a dict of index -> largest spatial factor (e.g. the mesh side an index is wired along).
    ``ones``: indices with factor 1 (temporal and spatial) at a level.
    ``keep``: a fixed keep list of a level (tensor names).
    ``enumerate_keep``: enumerate keep/bypass subsets at the levels without a fixed list.
    ``first``: an index whose loop is the outermost of the outermost level (an iterative rank).
    """

    spatial: TMapping[str, Sequence[str]] = field(default_factory=dict)
    ones: TMapping[str, Sequence[str]] = field(default_factory=dict)
    keep: TMapping[str, Sequence[str]] = field(default_factory=dict)
    enumerate_keep: bool = False
    first: str | None = None


@dataclass
class Genome:
    """Points of a mapspace as small integers (see the module docstring)."""

    fidx: np.ndarray  # [n, D] factorization of each index
    oidx: np.ndarray  # [n, L] canonical loop order of each level
    kidx: np.ndarray  # [n] keep choice

    def __len__(self) -> int:
        return len(self.kidx)

    def take(self, rows: np.ndarray) -> "Genome":
        return Genome(self.fidx[rows], self.oidx[rows], self.kidx[rows])


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


def _factorizations(size: int, slots: list[tuple[int, bool, int, int]]) -> list[tuple[int, ...]]:
    """Every assignment of factors to ``slots`` (level, is_spatial, max factor, axis), outer to inner,
    that multiplies to ``size``, with nothing after a spatial factor > 1."""
    out: list[tuple[int, ...]] = []

    def rec(i: int, left: int, acc: tuple[int, ...]) -> None:
        if i == len(slots):
            if left == 1:
                out.append(acc)
            return
        _, spatial, cap, _ = slots[i]
        for f in _divisors(left):
            if f > cap:
                break
            if spatial and f > 1:
                if f == left:
                    out.append(acc + (f,) + (1,) * (len(slots) - i - 1))
                continue
            rec(i + 1, left // f, acc + (f,))

    rec(0, size, ())
    return out


def _signature(perm: tuple[int, ...], relevant: np.ndarray, windowed: np.ndarray) -> tuple:
    """What the kernel's counts depend on in a level's loop order (see the module docstring)."""
    sig = []
    for t in range(relevant.shape[0]):
        run = []
        for d in reversed(perm):
            if relevant[t, d]:
                break
            run.append(d)
        sig.append(frozenset(run))
        sig.append(perm[-1] if not run and windowed[t] else -1)
    return tuple(sig)


def canonical_orders(problem: NestProblem) -> list[list[tuple[int, ...]]]:
    """Per subset mask of the dims (bit d = dim d has a loop): its distinct loop orders, outer to inner."""
    D = len(problem.dims)
    coef = problem.coef
    relevant = np.any(coef != 0, axis=1)  # [T, D]
    # a tensor dimension indexed by a sum of dims, or with a stride, keeps overlaps between steps
    windowed = np.array([any(np.count_nonzero(row) > 1 or np.any(np.abs(row) > 1) for row in coef[t])
                         for t in range(coef.shape[0])])
    out = []
    for mask in range(1 << D):
        dims = [d for d in range(D) if mask >> d & 1]
        seen: dict[tuple, tuple[int, ...]] = {(): ()}
        if dims:
            seen = {}
            for perm in itertools.permutations(dims):
                seen.setdefault(_signature(perm, relevant, windowed), perm)
        out.append(list(seen.values()))
    return out


_SIZES: dict[tuple, int] = {}  # Mapspace.size by what it depends on: identical Einsums (Q, K, V) count once


class Mapspace:
    """The mapspace of ``problem`` on ``hierarchy`` (see the module docstring)."""

    def __init__(self, problem: NestProblem, hierarchy: Hierarchy, constraints: Constraints | None = None):
        self.problem = problem
        self.hierarchy = hierarchy
        self.constraints = constraints = constraints or Constraints()
        names = hierarchy.names()
        dims = problem.dims
        for table in (constraints.spatial, constraints.ones, constraints.keep):
            for lv, values in table.items():
                if lv not in names:
                    raise EinsimError(f"mapspace constraint names unknown level {lv!r}" + did_you_mean(lv, names))
        for table in (constraints.spatial, constraints.ones):
            for lv, values in table.items():
                for v in values:
                    if v not in dims:
                        raise EinsimError(f"mapspace constraint at {lv}: unknown index {v!r}" + did_you_mean(v, dims))
        L, D = len(names), len(dims)
        self.L, self.D, self.T = L, D, len(problem.tensors)
        fanout = [lv.fanout for lv in hierarchy.levels]
        self.fanout = np.array(fanout, dtype=np.int64)
        self.fan_levels = [lv for lv in range(L) if fanout[lv] > 1]
        # one spatial slot per (fan-out level, array axis); the factors along a slot fit its side
        self.fan_slots = [(lv, a) for lv in self.fan_levels for a in range(len(hierarchy.levels[lv].axis_sizes))]
        self.slot_cap = np.array([hierarchy.levels[lv].axis_sizes[a] for lv, a in self.fan_slots], dtype=np.int64)
        S = len(self.fan_slots)

        # per index: its factorizations as [F, L] temporal and spatial factors
        tables = []
        for d, (dim, size) in enumerate(zip(dims, problem.sizes)):
            slots = []
            for lv, name in enumerate(names):
                if dim in constraints.ones.get(name, ()):
                    continue
                slots.append((lv, False, size, -1))
                allowed = constraints.spatial.get(name)
                if fanout[lv] > 1 and (allowed is None or dim in allowed):
                    for a, side in enumerate(hierarchy.levels[lv].axis_sizes):
                        cap = min(side, allowed[dim]) if isinstance(allowed, dict) else side
                        if cap > 1:
                            slots.append((lv, True, cap, a))
            facts = _factorizations(size, slots)
            if not facts:
                raise EinsimError(f"mapspace of {problem.name}: index {dim} (size {size}) has no legal factorization "
                                  "under the constraints")
            t = np.ones((len(facts), L), dtype=np.int64)
            s = np.ones((len(facts), L), dtype=np.int64)
            ax = np.zeros((len(facts), L), dtype=np.int64)
            ss = np.ones((len(facts), S), dtype=np.int64)
            for i, fs in enumerate(facts):
                for (lv, spatial, _, a), f in zip(slots, fs):
                    if not spatial:
                        t[i, lv] *= f
                    elif f > 1:
                        s[i, lv], ax[i, lv] = f, a
                        ss[i, self.fan_slots.index((lv, a))] = f
            tables.append((t, s, ax, ss))
        self.n_factorizations = [len(t) for t, *_ in tables]
        F = max(self.n_factorizations)
        self._t = np.ones((D, F, L), dtype=np.int64)
        self._s = np.ones((D, F, L), dtype=np.int64)
        self._a = np.zeros((D, F, L), dtype=np.int64)  # the axis of each spatial factor
        self._ss = np.ones((D, F, S), dtype=np.int64)  # spatial factor per (level, axis) slot
        for d, (t, s, ax, ss) in enumerate(tables):
            self._t[d, : len(t)] = t
            self._s[d, : len(s)] = s
            self._a[d, : len(ax)] = ax
            self._ss[d, : len(ss)] = ss
        self._dims_ld = np.arange(D)[None, None, :]
        self._levels_ld = np.arange(L)[None, :, None]
        # [D, F, L] bit d set where index d loops at a level
        self._bits = (self._t > 1).astype(np.int64) << np.arange(D, dtype=np.int64)[:, None, None]

        # loop orders per mask, padded: [2^D, C] -> full order of D dims (listed loops, then the rest)
        canon = canonical_orders(problem)
        self.n_orders = np.array([len(c) for c in canon], dtype=np.int64)
        self._orders = np.zeros((1 << D, int(self.n_orders.max()), D), dtype=np.int64)
        for mask, perms in enumerate(canon):
            for j, perm in enumerate(perms):
                self._orders[mask, j] = list(perm) + [d for d in range(D) if d not in perm]

        # keep choices: the product over levels of each level's options; a tensor and its previous
        # step (NAME and NAME') are kept or bypassed together, as a keep list names them
        bases = list(dict.fromkeys(t.rstrip("'") for t in problem.tensors))
        per_level = []
        for lv, level in enumerate(hierarchy.levels):
            allowed = [b for b in bases if lv == 0 or level.may_keep is None or b in level.may_keep]
            if lv == 0:
                per_level.append([tuple(allowed)])
            elif level.name in constraints.keep:
                fixed = list(constraints.keep[level.name])
                for t in fixed:
                    if t not in bases:
                        raise EinsimError(f"mapspace constraint at {level.name}: unknown tensor {t!r}" + did_you_mean(t, bases))
                per_level.append([tuple(b for b in allowed if b in fixed)])
            elif constraints.enumerate_keep:
                per_level.append([sub for r in range(len(allowed) + 1) for sub in itertools.combinations(allowed, r)])
            else:
                per_level.append([tuple(allowed)])
        combos = list(itertools.product(*per_level))
        self._keeps = np.zeros((len(combos), L, self.T), dtype=np.bool_)
        for k, combo in enumerate(combos):
            for lv, kept in enumerate(combo):
                self._keeps[k, lv] = [t.rstrip("'") in kept for t in problem.tensors]
        self.n_keeps = len(combos)
        self._neighbors: np.ndarray | None = None  # built on the first mutate (the climbs use it, nothing else)
        self._floor_packed: tuple | None = None

    # ------------------------------------------------------------------ size

    def size(self) -> int:
        """The exact number of points (factorizations x canonical orders x keep choices).

        A dynamic programme over the indices whose state is (spatial use per (level, axis) slot,
        loop mask per level), each state packed into one integer so that a step is a few numpy
        operations (a Python loop over states took minutes on GPT-3's 5-index Einsums). The last
        index adds its states' loop orders straight into the total, in 16-bit limbs of the order
        counts so that every int64 sum is exact (each is below 2^16 x the factorization count)."""
        key = (self.n_keeps, tuple(self.n_factorizations), self._ss.tobytes(), self._ss.shape, self._bits.tobytes(), self._bits.shape,
               self.slot_cap.tobytes(), self.n_orders.tobytes())  # everything the count reads
        if key not in _SIZES:
            _SIZES[key] = self._size()
        return _SIZES[key]

    def _size(self) -> int:
        D, L = self.D, self.L
        radix = [int(c) + 1 for c in self.slot_cap]
        mbits = D * L
        if (math.prod(radix) << mbits) >= 1 << 62 or math.prod(self.n_factorizations) >= 1 << 46 \
                or int(self.n_orders.max()) ** L >= 1 << 62:
            return self._size_by_dicts()
        weights = np.array([math.prod(radix[:i]) for i in range(len(radix))], dtype=np.int64)  # mixed radix of the use code
        level_shift = np.arange(L, dtype=np.int64) * D
        use = np.ones((1, len(radix)), dtype=np.int64)
        mask = np.zeros(1, dtype=np.int64)
        count = np.ones(1, dtype=np.int64)
        limbs = [0] * 4
        for d in range(D):
            F = self.n_factorizations[d]
            u = self._ss[d, :F]  # [F, S]
            bits = (self._bits[d, :F] << level_shift[None, :]).sum(axis=1)  # [F]
            _, first, kcount = np.unique((u @ weights) << mbits | bits, return_index=True, return_counts=True)
            ku, kbits = u[first], bits[first]  # index d's factorizations grouped by (use, mask)
            last = d == D - 1
            codes, counts = [], []
            step = max(1, (1 << 21) // len(first))
            for lo in range(0, len(mask), step):  # blocks of states: [states, keys, slots] stays small
                new_use = use[lo:lo + step, None, :] * ku[None, :, :]
                n_idx, k_idx = np.nonzero(np.all(new_use <= self.slot_cap, axis=2))
                new_mask = mask[lo + n_idx] | kbits[k_idx]
                c = count[lo + n_idx] * kcount[k_idx]
                if last:
                    orders = self.n_orders[(new_mask[:, None] >> level_shift[None, :]) & ((1 << D) - 1)].prod(axis=1)
                    for j in range(4):
                        limbs[j] += int((c * ((orders >> (16 * j)) & 0xFFFF)).sum())
                    continue
                uniq, inverse = np.unique((new_use[n_idx, k_idx] @ weights) << mbits | new_mask, return_inverse=True)
                codes.append(uniq)
                counts.append(_summed(inverse.reshape(-1), c, len(uniq)))
            if last:
                break
            uniq, inverse = np.unique(np.concatenate(codes), return_inverse=True)
            count = _summed(inverse.reshape(-1), np.concatenate(counts), len(uniq))
            mask = uniq & ((1 << mbits) - 1)
            use = (uniq >> mbits)[:, None] // weights[None, :] % np.array(radix)[None, :]
        return sum(v << (16 * j) for j, v in enumerate(limbs)) * self.n_keeps

    def _size_by_dicts(self) -> int:
        """``size`` for spaces whose states do not pack into one integer."""
        D, L = self.D, self.L
        # dynamic programming over indices: state = (spatial use per (level, axis) slot, loop mask per level)
        states: dict[tuple, int] = {(tuple(1 for _ in self.fan_slots), tuple(0 for _ in range(L))): 1}
        for d in range(D):
            keys: dict[tuple, int] = defaultdict(int)
            for i in range(self.n_factorizations[d]):
                use = tuple(int(x) for x in self._ss[d, i])
                bits = tuple(int(self._bits[d, i, lv]) for lv in range(L))
                keys[(use, bits)] += 1
            nxt: dict[tuple, int] = defaultdict(int)
            for (use, masks), n in states.items():
                for (u, b), m in keys.items():
                    new_use = tuple(a * c for a, c in zip(use, u))
                    if any(x > c for x, c in zip(new_use, self.slot_cap)):
                        continue
                    nxt[(new_use, tuple(a | c for a, c in zip(masks, b)))] += n * m
            states = nxt
        total = 0
        for (_, masks), n in states.items():
            orders = 1
            for mask in masks:
                orders *= int(self.n_orders[mask])
            total += n * orders
        return total * self.n_keeps

    # ------------------------------------------------------------------ encoding

    def _factor_arrays(self, fidx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """[n, L, D] temporal factors, spatial factors and their axes (C-contiguous, as the kernel runs
        fastest on) and [n, L] loop masks."""
        f = fidx[:, None, :]
        t = self._t[self._dims_ld, f, self._levels_ld]
        s = self._s[self._dims_ld, f, self._levels_ld]
        a = self._a[self._dims_ld, f, self._levels_ld]
        masks = self._bits[self._dims_ld, f, self._levels_ld].sum(axis=2)
        return t, s, a, masks

    def fits(self, fidx: np.ndarray) -> np.ndarray:
        """[n] bool: the spatial factors along each axis of each level fit that axis's fan-out."""
        ss = self._ss[np.arange(self.D), fidx]  # [n, D, S]
        return np.all(ss.prod(axis=1) <= self.slot_cap, axis=1)

    def orders_of(self, fidx: np.ndarray) -> np.ndarray:
        """[n, L] the number of canonical loop orders per level."""
        return self.n_orders[self._bits[np.arange(self.D), fidx].sum(axis=1)]

    def encode(self, g: Genome) -> Encoded:
        t, s, a, masks = self._factor_arrays(g.fidx)
        order = self._orders[masks, g.oidx]
        if self.constraints.first is not None:  # every point, enumerated or climbed, loops over it outermost
            first = self.problem.dims.index(self.constraints.first)
            o = order[:, 0]
            order[:, 0] = np.concatenate([np.full((len(o), 1), first), o[o != first].reshape(len(o), -1)], axis=1)
        return Encoded(t, s, order, self._keeps[g.kidx], a)

    # ------------------------------------------------------------------ enumeration

    def _prefix(self) -> tuple[np.ndarray, np.ndarray]:
        """[P, D-1] fan-out-legal factorization indices of every index but the last, and [P, S] their
        spatial use per (level, axis) slot."""
        rows = np.zeros((1, 0), dtype=np.int64)
        use = np.ones((1, len(self.fan_slots)), dtype=np.int64)
        for d in range(self.D - 1):
            f = self.n_factorizations[d]
            rows = np.concatenate([np.repeat(rows, f, axis=0), np.tile(np.arange(f), len(rows))[:, None]], axis=1)
            use = np.repeat(use, f, axis=0) * np.tile(self._ss[d, :f], (len(use), 1))
            ok = np.all(use <= self.slot_cap, axis=1)
            rows, use = rows[ok], use[ok]
        return rows, use

    def factorizations(self, block: int = 1 << 14) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every fan-out-legal factorization choice ``fidx`` [n, D], in a fixed order, in blocks, with
        the compute instances each uses ([n], the product of its spatial factors)."""
        prefix, prefix_use = self._prefix()
        last = self.D - 1
        F = self.n_factorizations[last]
        step = max(1, block // F)
        for start in range(0, len(prefix), step):
            p = prefix[start:start + step]
            use = (prefix_use[start:start + step, None, :] * self._ss[last, :F][None, :, :]).reshape(len(p) * F, -1)
            ok = np.all(use <= self.slot_cap, axis=1)
            fidx = np.concatenate([np.repeat(p, F, axis=0), np.tile(np.arange(F), len(p))[:, None]], axis=1)
            yield fidx[ok], use[ok].prod(axis=1)

    def energy_floor(self, fidx: np.ndarray) -> np.ndarray:
        """[n] a lower bound on the kernel's energy of every valid point (any loop order, any keep
        choice) of each factorization, counting refills between levels; inf where every point is
        invalid (einsim.sim.kernels.energy_floor; the argument is in its twin,
        einsim.sim.reference.energy_floor)."""
        return self.energy_floors(fidx)[0]

    def energy_floors(self, fidx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """([n] ``energy_floor``, [n, n_keeps] the floor of each factorization's points with each
        keep choice: inf where that choice overflows a level in every order)."""
        from einsim.sim.kernels.energy_floor import floor_rows

        t, s, _, _ = self._factor_arrays(fidx)
        out = np.empty(len(fidx))
        per_choice = np.empty((len(fidx), self.n_keeps))
        floor_rows(t.astype(np.float64), s.astype(np.float64), *self._floor_args(), out, per_choice)
        return out, per_choice

    def floor_scan(self, limit: float = math.inf, slack: float = math.inf) -> tuple[np.ndarray, np.ndarray, float, int]:
        """(fidx [m, D], floor [m], the least floor, the number of factorizations) of every fan-out-legal
        factorization whose floor is at most ``limit`` and at most (1 + ``slack``) x the least floor,
        in the order of ``factorizations`` (possibly with some others: filter by the floor), walked
        in the kernel without building the factors of the rest."""
        from einsim.sim.kernels.energy_floor import floor_scan

        fidx, floor, least, legal = floor_scan(
            self._t.astype(np.float64), self._s.astype(np.float64), self._ss, np.array(self.n_factorizations, dtype=np.int64),
            self.slot_cap, *self._floor_args(), float(limit), float(slack))
        return fidx, floor, float(least), int(legal)

    def _floor_args(self) -> tuple:
        """The problem, keep choices and level energies as the floor kernels take them (built once)."""
        if self._floor_packed is None:
            problem, levels, T = self.problem, self.hierarchy.levels, self.T
            absc = np.abs(problem.coef).astype(np.float64)
            rel = np.any(problem.coef != 0, axis=1)
            simple = np.array([all(np.count_nonzero(row) <= 1 for row in rows) for rows in problem.projections])
            is_out = np.arange(T) == problem.output
            per_tensor = [list(dict.fromkeys(tuple(map(bool, self._keeps[k, :, ti])) for k in range(self.n_keeps)))
                          for ti in range(T)]
            O = max(len(o) for o in per_tensor)
            opts = np.zeros((T, O, self.L), dtype=np.bool_)
            for ti, o in enumerate(per_tensor):
                opts[ti, : len(o)] = o
            combo = np.array([[per_tensor[ti].index(tuple(map(bool, self._keeps[k, :, ti]))) for ti in range(T)]
                              for k in range(self.n_keeps)], dtype=np.int64)
            block = np.array([lv.block_words for lv in levels], dtype=np.float64)
            built = np.cumprod([1] + [lv.fanout for lv in levels[:-1]]).astype(np.float64)
            leak_idle = float(sum(lv.leak_J_per_cycle * built[i] for i, lv in enumerate(levels) if lv.idle_leaks))
            leak_used = np.array([0.0 if lv.idle_leaks else lv.leak_J_per_cycle for lv in levels])
            self._floor_packed = (
                absc, rel, simple, is_out, opts, np.array([len(o) for o in per_tensor], dtype=np.int64), combo,
                np.array([lv.read_J for lv in levels]) / block, np.array([lv.write_J for lv in levels]) / block,
                np.array([lv.update_J for lv in levels]) / block, np.array([lv.capacity_words for lv in levels], dtype=np.float64),
                leak_idle, leak_used, float(problem.points) * self.hierarchy.op_energy_J, float(self.hierarchy.op_cycles))
        return self._floor_packed

    def points_of(self, fidx: np.ndarray) -> np.ndarray:
        """[n] the number of points (loop orders x keep choices) of each factorization."""
        return self.orders_of(fidx).prod(axis=1) * self.n_keeps

    def genomes(self, chunk: int = 1 << 16,
                where: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> Iterator[Genome]:
        """Every point once, in a fixed order, as genome chunks of exactly ``chunk`` rows (the last shorter);
        ``where(fidx, instances)`` (a [n] bool mask) restricts the enumeration to some factorizations."""
        F = self.n_factorizations[self.D - 1]
        pending: list[Genome] = []
        held = 0
        for fidx, inst in self.factorizations(max(F, chunk // 4)):
            if where is not None:
                fidx = fidx[where(fidx, inst)]
            pending.append(self.points_of_factorizations(fidx))
            held += len(pending[-1])
            while held >= chunk:
                merged = _concat(pending)
                yield merged.take(np.arange(chunk))
                rest = merged.take(np.arange(chunk, len(merged)))
                pending, held = [rest], len(rest)
        if held:
            yield _concat(pending)

    def points_of_factorizations(self, fidx: np.ndarray, keeps: np.ndarray | None = None) -> Genome:
        """Every point (loop orders x keep choices) of the factorizations ``fidx`` [n, D], factorization
        by factorization, the innermost level's order varying fastest after the keep choice; with
        ``keeps`` ([n, n_keeps] bool) only the points whose keep choice it marks."""
        counts = self.orders_of(fidx)  # [n, L]
        per_row = counts.prod(axis=1) * self.n_keeps
        rows = np.repeat(np.arange(len(fidx)), per_row)
        local = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        kidx = local % self.n_keeps
        if keeps is not None:
            chosen = keeps[rows, kidx]
            rows, local, kidx = rows[chosen], local[chosen], kidx[chosen]
        local //= self.n_keeps
        oidx = np.zeros((len(rows), self.L), dtype=np.int64)
        c = counts[rows]
        for lv in range(self.L - 1, -1, -1):
            oidx[:, lv] = local % c[:, lv]
            local //= c[:, lv]
        return Genome(fidx[rows], oidx, kidx)

    def chunks(self, chunk: int = 1 << 16) -> Iterator[Encoded]:
        """Every point once as Encoded chunks (see ``genomes``)."""
        for g in self.genomes(chunk):
            yield self.encode(g)

    # ------------------------------------------------------------------ sampling and moves

    def sample(self, rng: np.random.Generator, n: int) -> Genome:
        """``n`` random legal points: each index's factorization uniformly (redrawn until the fan-outs
        fit), then each level's order and the keep choice uniformly."""
        F = np.array(self.n_factorizations)
        fidx = np.zeros((0, self.D), dtype=np.int64)
        while len(fidx) < n:
            draw = (rng.random((2 * (n - len(fidx)) + 16, self.D)) * F).astype(np.int64)
            fidx = np.concatenate([fidx, draw[self.fits(draw)]])
        fidx = fidx[:n]
        oidx = (rng.random((n, self.L)) * self.orders_of(fidx)).astype(np.int64)
        kidx = rng.integers(0, self.n_keeps, n)
        return Genome(fidx, oidx, kidx)

    def _neighbor_table(self) -> np.ndarray:
        """[D, F, M] factorizations one prime factor away (moved between two slots), -1 padded."""
        D, F = self._t.shape[:2]
        lists = []
        for d in range(D):
            vecs = [tuple(self._t[d, i]) + tuple(self._ss[d, i]) for i in range(self.n_factorizations[d])]
            index = {v: i for i, v in enumerate(vecs)}
            per = []
            for v in vecs:
                near = set()
                for a in range(len(v)):
                    for p in set(_prime_factors(v[a])):
                        for b in range(len(v)):
                            if b != a:
                                w = list(v)
                                w[a] //= p
                                w[b] *= p
                                j = index.get(tuple(w))
                                if j is not None:
                                    near.add(j)
                per.append(sorted(near))
            lists.append(per)
        M = max(1, max(len(x) for per in lists for x in per))
        out = -np.ones((D, F, M), dtype=np.int64)
        for d, per in enumerate(lists):
            for i, near in enumerate(per):
                out[d, i, : len(near)] = near
        return out

    def mutate(self, rng: np.random.Generator, g: Genome) -> Genome:
        """One random local move per row: move a prime factor of one index between two slots
        (60 %), redraw one level's loop order (30 %) or the keep choice (10 %). Rows whose move
        breaks a fan-out keep their factors."""
        n = len(g)
        fidx, oidx, kidx = g.fidx.copy(), g.oidx.copy(), g.kidx.copy()
        kind = rng.random(n)
        rows = np.arange(n)
        d = rng.integers(0, self.D, n)
        if self._neighbors is None:
            self._neighbors = self._neighbor_table()
        near = self._neighbors[d, fidx[rows, d]]  # [n, M]
        count = (near >= 0).sum(axis=1)
        pick = (rng.random(n) * count).astype(np.int64)
        move = (kind < 0.6) & (count > 0)
        cand = fidx.copy()
        cand[rows[move], d[move]] = near[rows[move], pick[move]]
        ok = move & self.fits(cand)
        fidx[ok] = cand[ok]
        counts = self.orders_of(fidx)
        lv = rng.integers(0, self.L, n)
        redraw = (kind >= 0.6) & (kind < 0.9)
        oidx[rows[redraw], lv[redraw]] = (rng.random(int(redraw.sum())) * counts[rows[redraw], lv[redraw]]).astype(np.int64)
        oidx %= counts
        rekeep = kind >= 0.9
        kidx[rekeep] = rng.integers(0, self.n_keeps, int(rekeep.sum()))
        return Genome(fidx, oidx, kidx)

    # ------------------------------------------------------------------ back to Mappings

    def to_mapping(self, enc: Encoded, k: int) -> Mapping:
        """Row ``k`` of an Encoded chunk as a Mapping (only factors > 1 and the loops they order)."""
        return encoded_row_to_mapping(self.problem, self.hierarchy, enc, k)


def _summed(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """[n] int64 sums of ``values`` per ``group`` id (exact, unlike bincount's float weights)."""
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, group, values)
    return out


def _concat(parts: list[Genome]) -> Genome:
    if len(parts) == 1:
        return parts[0]
    return Genome(np.concatenate([p.fidx for p in parts]), np.concatenate([p.oidx for p in parts]),
                  np.concatenate([p.kidx for p in parts]))


def fits_capacity(problem: NestProblem, hierarchy: Hierarchy, enc: Encoded) -> np.ndarray:
    """[N] whether every on-chip level holds the tiles of the tensors each row keeps there: the
    kernel's capacity test (einsim.sim.kernels.nest: the words of each kept tensor's tile of the
    factors at and below the level, summed), in numpy. It reads no loop order, so a row that fails
    it is invalid for every order, and the kernel need not score it."""
    tile = np.flip(np.cumprod(np.flip(enc.temporal * enc.spatial, axis=1), axis=1), axis=1)  # [N, L, D]
    words = np.zeros(tile.shape[:2])
    for t, rows in enumerate(problem.projections):
        vol = np.ones(tile.shape[:2])
        for row in rows:
            vol *= (tile - 1) @ np.abs(np.array(row, dtype=np.int64)) + 1
        words += np.where(enc.keep[:, :, t], vol, 0.0)
    cap = np.array([lv.capacity_words for lv in hierarchy.levels], dtype=np.float64)
    return np.all(words[:, 1:] <= cap[None, 1:], axis=1)


def encoded_row_to_mapping(problem: NestProblem, hierarchy: Hierarchy, enc: Encoded, k: int) -> Mapping:
    """Row ``k`` of ``enc`` as a Mapping: factors > 1, their loop order, and the keep list of each
    level (omitted where the level keeps every tensor it may hold)."""
    dims = problem.dims
    levels = []
    for lv, level in enumerate(hierarchy.levels):
        temporal = {dims[d]: int(enc.temporal[k, lv, d]) for d in range(len(dims)) if enc.temporal[k, lv, d] > 1}
        spatial = {dims[d]: int(enc.spatial[k, lv, d]) for d in range(len(dims)) if enc.spatial[k, lv, d] > 1}
        order = tuple(dims[d] for d in enc.order[k, lv] if enc.temporal[k, lv, d] > 1)
        kept = list(dict.fromkeys(t.rstrip("'") for i, t in enumerate(problem.tensors) if enc.keep[k, lv, i]))
        may = list(dict.fromkeys(t.rstrip("'") for t in problem.tensors
                                 if level.may_keep is None or t.rstrip("'") in level.may_keep))
        keep = None if lv == 0 or kept == may else tuple(kept)
        axis = None
        if len(level.axis_sizes) > 1:
            axes = enc.axes()
            axis = {dims[d]: int(axes[k, lv, d]) for d in range(len(dims)) if enc.spatial[k, lv, d] > 1}
        levels.append(LevelMapping(level.name, temporal, order, spatial, keep, axis))
    return Mapping(problem.name, hierarchy.unit, tuple(levels))
