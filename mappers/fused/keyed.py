"""The fused variants of a per-Einsum space too large to enumerate, searched one compatibility key at a time.

A fused variant's point joins its neighbours through its *key*: its loops above the fused tensor's
home. A ``FusedSpace`` is the variant's whole space, the homes written into its keep choices (so
that the energy floor bounds its points). Fixing the key leaves a subspace (``KeyedSpace``): every
index's factors below the home, the loop orders and keep choices there, with exactly the key's
loops above the home (each the only loop of its index there, in the key's order) and no other
factor above it. It is the FusedSpace with each index's factorizations filtered to those whose
factors above the home are the key's (and no spatial factor there), and one loop order above the
home, the key's: a point of it is a point of the full variant whose key is the given one (and which
has no spatial factor above the home), and every such point is one of it
(tests/mappers/fused/test_keyed_search.py compares the two point by point). So the fused loops,
which are outermost, are chosen last and everything below them is searched per key (ffm.md §2.2).

Which keys: for the energy objective every key is bounded by its least energy floor and searched
best first (einsim.mappers.fused.exact). For latency and EDP a consumer takes the keys its
producer's states carry; a producer that opens a group offers the key with no loop (the whole
intermediate at its home) when the intermediate fits the home, else one loop at the outermost
level over an index of the intermediate that the consumer also has, with the smallest factors
that make its slice fit (``candidate_keys``). The home holds at least the fused tensor's slice
under the key (the kernel's capacity test counts it), so a smaller factor is invalid in every
point and leaving it out loses nothing valid; the larger factors not offered are a limit of this
search, which then says ``optimal: false``.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from einsim.einsum.cascade import Einsum
from einsim.mappers.cascade_mapping import SharedLoop
from einsim.mappers.mapspace import Constraints, Genome, Mapspace
from einsim.sim.nest import Encoded, Hierarchy, NestProblem

Key = tuple[SharedLoop, ...]


class FusedSpace(Mapspace):
    """The mapspace of a fused variant: every point keeps each fused tensor (``homes``: tensor ->
    level) at its home and at no level above it, in its keep choices themselves, so that the
    energy floor (Mapspace.energy_floors, floor_scan) bounds the fused points and not the unfused
    ones."""

    def __init__(self, problem: NestProblem, hierarchy: Hierarchy, constraints: Constraints, homes: dict[str, str]):
        super().__init__(problem, hierarchy, constraints)
        names = hierarchy.names()
        self._homes = [(problem.tensors.index(t), names.index(lv)) for t, lv in homes.items() if t in problem.tensors]
        for t, h in self._homes:
            self._keeps[:, :h, t] = False
            self._keeps[:, h, t] = True


class KeyedSpace(FusedSpace):
    """The points of a fused variant (``homes``: tensor -> level) of ``problem`` whose loops above
    ``home`` are exactly ``key`` (see the module docstring): the factorization tables of the fused
    variant, each index keeping those whose factors above the home are the key's (temporal only),
    and above the home one loop order, the key's."""

    def __init__(self, problem: NestProblem, hierarchy: Hierarchy, constraints: Constraints, home: str, key: Key,
                 homes: dict[str, str]):
        super().__init__(problem, hierarchy, constraints, homes)
        names = hierarchy.names()
        depth = names.index(home)
        self.key = key
        want = np.ones((self.D, depth), dtype=np.int64)
        for lp in key:
            want[problem.dims.index(lp.index), names.index(lp.level)] *= lp.factor
        rows = [np.flatnonzero(np.all(self._t[d, :n, :depth] == want[d], axis=1) & np.all(self._s[d, :n, :depth] == 1, axis=1))
                for d, n in enumerate(self.n_factorizations)]
        F = max(1, max(len(r) for r in rows))
        for name in ("_t", "_s", "_a", "_ss", "_bits"):
            table = getattr(self, name)
            out = np.zeros((self.D, F) + table.shape[2:], dtype=table.dtype) if name in ("_a", "_bits") else \
                np.ones((self.D, F) + table.shape[2:], dtype=table.dtype)
            for d, r in enumerate(rows):
                out[d, : len(r)] = table[d, r]
            setattr(self, name, out)
        self._bits[:, :, :depth] = 0  # above the home the key's order: one order
        self.n_factorizations = [len(r) for r in rows]
        self._orders_above = {}
        for lv in range(depth):
            first = [problem.dims.index(lp.index) for lp in key if names.index(lp.level) == lv]
            self._orders_above[lv] = np.array(first + [d for d in range(len(problem.dims)) if d not in first])

    def encode(self, g: Genome) -> Encoded:
        enc = super().encode(g)
        for lv, order in self._orders_above.items():
            enc.order[:, lv] = order
        return enc


def _divisors(n: int) -> list[int]:
    return [f for f in range(1, n + 1) if n % f == 0]


def tensor_words(problem: NestProblem, tensor: int, sizes: tuple[int, ...]) -> int:
    """Words of ``tensor`` over index ``sizes`` (its footprint)."""
    return math.prod(1 + sum(abs(c) * (s - 1) for c, s in zip(row, sizes)) for row in problem.projections[tensor])


def candidate_keys(problem: NestProblem, hierarchy: Hierarchy, consumer: Einsum, tensor: str, home: str,
                   steps: int = 2) -> list[Key]:
    """The keys a producer of fused ``tensor`` offers its ``consumer`` (see the module docstring):
    () if the whole tensor fits ``home``; else per index of the tensor that the consumer has, one
    loop at the outermost level with the smallest factor whose slice fits, and the next ``steps``-1
    larger divisors of the index's size."""
    names = hierarchy.names()
    cap = hierarchy.levels[names.index(home)].capacity_words
    t = problem.tensors.index(tensor)
    if tensor_words(problem, t, problem.sizes) <= cap:
        return [()]
    keys: list[Key] = []
    for d, (dim, size) in enumerate(zip(problem.dims, problem.sizes)):
        if dim not in consumer.space or not problem.relevant(t, d) or size == 1:
            continue
        fits = [f for f in _divisors(size)[1:]
                if tensor_words(problem, t, tuple(s // f if i == d else s for i, s in enumerate(problem.sizes))) <= cap]
        keys += [(SharedLoop(dim, f, names[0]),) for f in fits[:steps]]
    return keys


def best_keys(states: dict, home: str, scores: dict, limit: int, einsum: Einsum) -> list[Key]:
    """The keys of the states at ``home`` that loop over indices of ``einsum`` only, at most ``limit``
    of them: those whose best partial score (``scores``: state -> float) is smallest (ties by the
    key's text)."""
    keys = [s[1] for s in states if s[0] == home and all(lp.index in einsum.space for lp in s[1])]
    keys.sort(key=lambda k: (scores[(home, k)], repr(k)))
    return keys[:limit]

