"""Slow reference twin of einsim.sim.kernels.energy_floor: a lower bound on the loop-nest kernel's
energy of every point of a factorization, counting refills, in numpy (and the argument for it).

A *factorization* fixes every temporal and spatial factor of a mapping; its points differ in their
loop orders and keep/bypass choices. ``energy_floor`` returns, per factorization, an energy that no
point of it goes under, in the loop-nest kernel's own terms (einsim.sim.kernels.nest):

- the energy of a point is the compute energy, plus leakage over its cycles, plus a sum over
  tensors of each tensor's accesses (its reads, fills and updates at each level, x the instances
  of the level, x the energy per access, a partly used block charged whole). Tensor t's counts
  depend on the factorization, on the loop orders and on t's own keep levels only;
- along t's keep chain (outermost keeper p0, then each kept level, then the compute units) the
  kernel moves, into a kept child c, ``w_c`` words per instance of c:
  ``prefix(star) x (vol + (f_star - 1) x delta)``, where ``star`` is the innermost loop above c
  that indexes t, ``prefix`` the product of the loops outside it, ``vol`` t's tile at c and
  ``0 <= delta <= vol`` the new part per step of ``star``. Every count at the boundary (reads or
  updates at the parent, fills at c) is an affine function of ``w_c`` with non-negative slope;
- **the order-free minimum of w_c.** Let lv* be the innermost level above c with a loop (factor
  > 1) over an index of t. ``star`` sits at lv*, after every loop of the levels above lv*, so
  ``prefix(star) >= (product of every loop factor above lv*)``. When each dimension of t is
  indexed by one index (no sliding window), the kernel's delta is the whole tile (consecutive
  tiles of t do not overlap: the step of ``star`` is at least the tile's extent), so
  ``w_c = prefix(star) x f_star x vol``, and ``prefix(star) x f_star`` includes every loop of lv*
  over t's indices as well: ``w_c >= vol x (loops above lv*) x (loops of lv* over t's indices)``.
  A loop order that puts lv*'s other loops inside reaches this, so the bound is the minimum over
  orders of one tensor; for a windowed tensor only the first product is used. No loop over t's
  indices above c: ``w_c = vol`` exactly;
- the compute units' accesses below the innermost keeper p (steps x the spatial factors at and
  below p of t's indices), the outputs' first writes (``whole`` volumes) and the multicast and
  reduction factors are fixed by the factorization; leakage is at least its rate x the compute
  cycles (the kernel's cycles are a max over those and the bandwidth terms).

So, per tensor and per keep vector of t, a lower bound ``E_t`` over every loop order (each tensor
taking its own best order: a relaxation, as a level's order is shared), and per keep choice k the
sum over tensors; a keep choice whose kept tiles overflow a level (the kernel's capacity test,
which reads no order) is invalid in every order and is left out. The floor is the minimum over
the remaining keep choices (inf when none remains: every point of the factorization is invalid).
tests/mappers/fused/test_cascade_search.py checks the kernel against every point of toy spaces,
tests/sim/test_energy_floor.py the kernel against this twin.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.nest import Hierarchy, NestProblem


def _volume(rows: tuple[tuple[int, ...], ...], x: np.ndarray) -> np.ndarray:
    """[n] words of a tensor with projection ``rows`` in tiles of sizes ``x`` [n, D]."""
    vol = np.ones(len(x))
    for row in rows:
        vol = vol * (1 + (x - 1) @ np.abs(np.array(row, dtype=np.float64)))
    return vol


def _exclusive_cumprod(a: np.ndarray) -> np.ndarray:
    """[n, L] -> [n, L + 1]: column j is the product of columns < j."""
    return np.concatenate([np.ones((len(a), 1)), np.cumprod(a, axis=1)], axis=1)


def energy_floor(problem: NestProblem, hierarchy: Hierarchy, keeps: np.ndarray, temporal: np.ndarray,
                 spatial: np.ndarray) -> np.ndarray:
    """[n] the floor of each factorization (``temporal``, ``spatial``: [n, L, D] factors; ``keeps``:
    [K, L, T] the space's keep choices); see the module docstring."""
    n, L, D = temporal.shape
    levels = hierarchy.levels
    t = temporal.astype(np.float64)
    s = spatial.astype(np.float64)
    tile = np.ones((n, L + 1, D))
    tile[:, :L] = np.flip(np.cumprod(np.flip(t * s, axis=1), axis=1), axis=1)
    union = np.ones((n, L + 1, D))
    union[:, :L] = np.flip(np.cumprod(np.flip(s, axis=1), axis=1), axis=1)
    steps_d = t.prod(axis=1)  # [n, D]
    steps = steps_d.prod(axis=1)
    whole = union * steps_d[:, None, :]
    inst = _exclusive_cumprod(s.prod(axis=2))  # [n, L + 1] instances of each level, then of the units
    above_all = _exclusive_cumprod(t.prod(axis=2))  # [n, L + 1] product of every loop above a level
    block = np.array([lv.block_words for lv in levels], dtype=np.float64)
    e_read = np.array([lv.read_J for lv in levels]) / block
    e_write = np.array([lv.write_J for lv in levels]) / block
    e_update = np.array([lv.update_J for lv in levels]) / block
    cap = np.array([lv.capacity_words for lv in levels])

    K, T = keeps.shape[0], keeps.shape[2]
    per_choice = np.zeros((K, n))
    words = np.zeros((K, n, L))
    for ti in range(T):
        rows = problem.projections[ti]
        out = ti == problem.output
        rel = np.array([problem.relevant(ti, d) for d in range(D)])
        simple = all(np.count_nonzero(row) <= 1 for row in rows)
        prod_rel = np.where(rel, t, 1.0).prod(axis=2)  # [n, L] loops over t's indices per level
        shared = _exclusive_cumprod(np.where(rel, s, 1.0).prod(axis=2))  # spatial factors of t's indices above
        vol_tile = np.stack([_volume(rows, tile[:, lv]) for lv in range(L + 1)], axis=1)
        vol_whole = np.stack([_volume(rows, whole[:, lv]) for lv in range(L + 1)], axis=1)
        # the order-free minimum of the words moved into one instance of each level c (w_c / vol)
        refill = np.ones((n, L))
        for c in range(1, L):
            found = np.zeros(n, dtype=bool)
            for lv in range(c - 1, -1, -1):
                here = ~found & (prod_rel[:, lv] > 1)
                refill[here, c] = above_all[here, lv] * (prod_rel[here, lv] if simple else 1.0)
                found |= here
        options: dict[bytes, int] = {}
        for k in range(K):
            options.setdefault(keeps[k, :, ti].tobytes(), k)
        cost_of: dict[bytes, np.ndarray] = {}
        for key, k in options.items():
            kept = keeps[k, :, ti]
            parent = 0
            while parent < L - 1 and not kept[parent]:
                parent += 1
            energy = np.zeros(n)
            for child in range(parent + 1, L + 1):
                if child < L and not kept[child]:
                    continue
                if child == L:  # the compute units below the innermost keeper
                    moved = steps * shared[:, L] / shared[:, parent]
                else:
                    w_child = vol_tile[:, child] * refill[:, child]
                    moved = w_child * shared[:, child] / shared[:, parent]
                    fill = w_child - vol_whole[:, child] if out else w_child
                    energy += inst[:, child] * fill * e_write[child]
                if out:
                    energy += inst[:, parent] * (moved * e_update[parent] + (moved - vol_whole[:, parent]) * e_read[parent])
                else:
                    energy += inst[:, parent] * moved * e_read[parent]
                if child < L:
                    parent = child
            cost_of[key] = energy
        for k in range(K):
            per_choice[k] += cost_of[keeps[k, :, ti].tobytes()]
            words[k] += np.where(keeps[k, :, ti][None, :], vol_tile[:, :L], 0.0)
    fits = np.all(words[:, :, 1:] <= cap[None, None, 1:], axis=2)  # [K, n]
    best = np.where(fits, per_choice, np.inf).min(axis=0)
    built = np.cumprod([1] + [lv.fanout for lv in levels[:-1]]).astype(np.float64)
    leak = np.zeros(n)
    for lv, level in enumerate(levels):
        if level.leak_J_per_cycle:
            leak += level.leak_J_per_cycle * (built[lv] if level.idle_leaks else inst[:, lv])
    compute = float(problem.points) * hierarchy.op_energy_J
    return compute + best + leak * steps * hierarchy.op_cycles
