"""The energy optimum of a whole cascade, proven: per-key energy floors, joined best first.

For the energy objective the cost of a full mapping is the sum of its Einsums' energies, and a
fused group's members agree on one key (their loops above the home; einsim.mappers.fused.keyed).
So the optimum is a shortest path along the cascade whose nodes are *options*: one Einsum's
variant (unit, homes) with one key, its cost the least energy of that key's subspace (a
``KeyedSpace``; for an unfused variant the whole space).

**Bounds.** Every option has an admissible lower bound without being searched: the least energy
floor (einsim.sim.reference.energy_floor) of the factorizations whose factors above the home are
the key's, from one scan of the fused variant's space (``FusedSpace``: the fused tensors' homes are
in its keep choices, so the floor bounds fused points). The floor ignores loop order, so it bounds
every order of the key's loops too. The scan lists the keys whose bound is at most a threshold
tau; every other key of the variant ("the rest") is bounded by tau itself.

**Best first.** Repeat: find the cheapest path, each option valued at its exact cost where known,
else at its bound (the rest at tau); find the cheapest path of exactly known options (the
incumbent). If the first is not cheaper than the incumbent, the incumbent is optimal: every path
costs at least its bounds' sum, which is at least the cheapest such sum. Otherwise search the
unsearched options of the cheapest path exactly (einsim.mappers.search, method ``bound``: itself
best first over factorization floors, optimal), and raise tau of each variant whose rest it uses
to where that path costs at least the incumbent (scanning again). Every round searches an option
or raises a tau past a path, so it ends; options never reached cost more than the optimum.

**Where the proof does not hold** (the result says ``optimal: false``): an option whose exact
search exceeds its budget (it is hill-climbed instead), and a variant with a fan-out level above
its home (its points with spatial factors above the home are in no key's subspace).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from einsim.einsum.cascade import Einsum
from einsim.mappers.cascade_mapping import SharedLoop
from einsim.mappers.fused.keyed import FusedSpace, Key, KeyedSpace
from einsim.mappers.masking import least_active_share, mask_fractions
from einsim.mappers.mapspace import Constraints, Mapspace
from einsim.mappers.search import SearchResult, search
from einsim.sim.nest import Hierarchy, NestProblem

FIRST_SLACK = 0.02  # the first scan lists the keys within 2 % of the variant's least floor
TIE = 1e-9  # relative: a float tie must not prune the optimum


class _Rest:
    """The key of the option that stands for every key a variant's scan has not listed."""

    def __repr__(self) -> str:
        return "REST"


REST = _Rest()


@dataclass
class Slot:
    """One Einsum's variant: its space (a FusedSpace when it has a home), its home's depth (0: none)
    and the indices a key may loop over (those of the fused neighbours too)."""

    pos: int
    variant: object  # einsim.mappers.fused.search.Variant: unit, home_in, home_out
    einsum: Einsum
    hierarchy: Hierarchy
    constraints: Constraints
    homes: dict[str, str]
    allowed: frozenset[str]
    space: Mapspace = field(init=False)
    depth: int = field(init=False)
    tau: float = field(init=False, default=-math.inf)  # keys with a bound up to tau are listed
    least: float = field(init=False, default=math.inf)  # the least floor of the whole variant

    def __post_init__(self) -> None:
        problem = NestProblem.from_einsum(self.einsum)
        home = self.variant.home_out or self.variant.home_in
        if home is None:
            self.space, self.depth = Mapspace(problem, self.hierarchy, self.constraints), 0
        else:
            self.space = FusedSpace(problem, self.hierarchy, self.constraints, self.homes)
            self.depth = self.hierarchy.names().index(home)

    @property
    def share(self) -> float:
        return least_active_share(self.einsum)


@dataclass
class Option:
    slot: Slot
    key: Key | _Rest
    bound: float  # no point of the option has less energy
    energy: float | None = None  # its least energy, once searched
    result: SearchResult | None = None
    size: int = 0
    proven: bool = True


@dataclass
class EnergyPlan:
    """The searched options per slot (pos, variant), and whether the optimum is proven."""

    searched: dict[tuple, list[Option]]
    proven: bool
    evaluations: int
    rounds: int


def _list_keys(slot: Slot, limit: float) -> dict[Key, float]:
    """The keys of ``slot`` whose bound is at most ``limit``, each with its bound (see the module
    docstring); keys that loop over an index outside ``slot.allowed`` cannot join and are left out."""
    space, depth = slot.space, slot.depth
    fidx, floor, least, _ = space.floor_scan(limit=limit / slot.share * (1 + TIE))
    slot.least = min(slot.least, least * slot.share)
    floor = floor * slot.share
    keep = floor <= limit * (1 + TIE)
    fidx, floor = fidx[keep], floor[keep]
    dims = space.problem.dims
    names = slot.hierarchy.names()
    t = space._t[np.arange(space.D), fidx][:, :, :depth]  # [m, D, depth]
    s = space._s[np.arange(space.D), fidx][:, :, :depth]
    bad = np.array([d not in slot.allowed for d in dims])
    ok = np.all(s == 1, axis=(1, 2)) & ~np.any((t > 1) & bad[None, :, None], axis=(1, 2))
    t, floor = t[ok], floor[ok]
    if not len(floor):
        return {}
    uniq, inverse = np.unique(t.reshape(len(t), -1), axis=0, return_inverse=True)
    least_per = np.full(len(uniq), np.inf)
    np.minimum.at(least_per, inverse.reshape(-1), floor)
    out: dict[Key, float] = {}
    for row, b in zip(uniq, least_per):
        factors = row.reshape(space.D, depth)
        per_level = [[SharedLoop(dims[d], int(factors[d, lv]), names[lv]) for d in range(space.D) if factors[d, lv] > 1]
                     for lv in range(depth)]
        for perm in itertools.product(*(itertools.permutations(loops) for loops in per_level)):
            out[tuple(lp for level in perm for lp in level)] = float(b)
    return out


def _search_option(o: Option, budget: int, workers: int, seed: int, progress: Callable[[int], None] | None) -> int:
    """Search option ``o`` exactly (method ``bound``); hill-climb it when that exceeds ``budget``."""
    slot = o.slot
    problem = slot.space.problem
    if slot.depth == 0:
        space = slot.space
    else:
        home = slot.variant.home_out or slot.variant.home_in
        space = KeyedSpace(problem, slot.hierarchy, slot.constraints, home, o.key, slot.homes)
    o.size = space.size()
    weight = (lambda enc, e=slot.einsum: mask_fractions(e, problem.dims, enc))
    res = search(space, "energy", "bound", budget=budget, workers=workers, size=o.size, progress=progress,
                 share=slot.share, weight=weight)
    n = res.evaluations
    if not res.optimal:
        o.proven = False
        climbed = search(space, "energy", "hill", budget=budget, seed=seed, workers=workers, size=o.size,
                         progress=progress, weight=weight)
        n += climbed.evaluations
        if climbed.best is not None and (res.best is None or climbed.score < res.score):
            res = climbed
    o.result = res
    o.energy = res.score if res.best is not None else math.inf
    return n


def _cheapest(options: list[list[Option]], known_only: bool) -> tuple[float, tuple[Option, ...]] | None:
    """The cheapest path (cost, options) through one option per position, consecutive options
    agreeing on the home and, inside a fusion group, on the key (the rest agrees with any key);
    options valued at their energy where searched, else at their bound (``known_only``: searched
    options only)."""
    states: dict[tuple, tuple[float, tuple]] = {(None, ()): (0.0, ())}
    for opts in options:
        if not opts:  # an Einsum with no fusable neighbour: searched on its own, its optimum adds
            continue
        new: dict[tuple, tuple[float, tuple]] = {}
        for o in opts:
            value = o.energy if o.energy is not None else (None if known_only else o.bound)
            if value is None or not math.isfinite(value):
                continue
            h_in, h_out = o.slot.variant.home_in, o.slot.variant.home_out
            if h_in is None:
                prevs = [((None, ()), o.key)]
            elif o.key is REST:
                prevs = [(s, s[1]) for s in states if s[0] == h_in]
            else:
                prevs = [((h_in, o.key), o.key), ((h_in, REST), o.key)]
            for s, key in prevs:
                got = states.get(s)
                if got is None:
                    continue
                nxt = (h_out, key) if h_out else (None, ())
                cost = got[0] + value
                if nxt not in new or cost < new[nxt][0]:
                    new[nxt] = (cost, got[1] + (o,))
        states = new
    return states.get((None, ()))


def energy_plan(slots: list[Slot], n_positions: int, budget: int, workers: int = 1, seed: int = 0,
                progress: Callable[[int], None] | None = None) -> EnergyPlan:
    """The options to join for the energy optimum of the cascade whose variants are ``slots``
    (see the module docstring); positions without slots (Einsums with no fusable neighbour) are
    left to the caller: their optima add."""
    by_pos: list[list[Option]] = [[] for _ in range(n_positions)]
    proven = True
    rests: dict[int, Option] = {}
    listed: dict[int, dict[Key, Option]] = {}
    for j, slot in enumerate(slots):
        if slot.depth == 0:
            _, _, least, _ = slot.space.floor_scan(slack=0.0)
            slot.least = least * slot.share
            by_pos[slot.pos].append(Option(slot, (), slot.least))
            continue
        if any(lv.fanout > 1 for lv in slot.hierarchy.levels[:slot.depth]):
            proven = False
        _, _, least, _ = slot.space.floor_scan(slack=0.0)
        slot.least = least * slot.share
        if not math.isfinite(slot.least):
            continue
        slot.tau = slot.least * (1 + FIRST_SLACK)
        listed[j] = {k: Option(slot, k, b) for k, b in _list_keys(slot, slot.tau).items()}
        rests[j] = Option(slot, REST, slot.tau)
        by_pos[slot.pos] += list(listed[j].values()) + [rests[j]]
    index = {id(s): j for j, s in enumerate(slots)}
    evaluations = rounds = 0
    while True:
        rounds += 1
        best = _cheapest(by_pos, known_only=False)
        incumbent = _cheapest(by_pos, known_only=True)
        if best is None or (incumbent is not None and best[0] >= incumbent[0] * (1 - TIE)):
            break
        for o in best[1]:
            if o.key is REST:
                j = index[id(o.slot)]
                slot = o.slot
                if incumbent is not None:
                    tau = slot.tau + (incumbent[0] - best[0]) * (1 + TIE) + abs(incumbent[0]) * TIE
                else:
                    tau = slot.tau + max(slot.tau - slot.least, FIRST_SLACK * abs(slot.least))
                slot.tau = tau
                for k, b in _list_keys(slot, tau).items():
                    if k not in listed[j]:
                        listed[j][k] = Option(slot, k, b)
                        by_pos[slot.pos].append(listed[j][k])
                o.bound = tau
            elif o.energy is None:
                evaluations += _search_option(o, budget, workers, seed, progress)
                proven = proven and o.proven
    searched: dict[tuple, list[Option]] = {}
    for opts in by_pos:
        for o in opts:
            if o.energy is not None:
                searched.setdefault((o.slot.pos, o.slot.variant), []).append(o)
    return EnergyPlan(searched, proven, evaluations, rounds)
