"""Batch kernel: the energy floor of factorizations of one Einsum (a lower bound on the loop-nest
kernel's energy of every loop order and keep choice of a factorization, counting refills).

The argument and the readable form are in the slow twin, einsim.sim.reference.energy_floor; the
tests compare the two and check the floor against every point of toy spaces. ``floor_rows`` scores
given factorizations; ``floor_scan`` walks every fan-out-legal combination of the per-index
factorization tables itself (lexicographic, the first index slowest, as
einsim.mappers.mapspace.Mapspace.factorizations) and emits only those whose floor may be below a
limit, so that no [n, L, D] arrays are built for the millions it drops.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit


@njit(inline="always")
def _scratch(L, D, T, O):
    """The work arrays of ``_floor``, allocated once per kernel call."""
    return (np.empty((L + 1, D)), np.empty((L + 1, D)), np.empty(L + 1), np.empty(L + 1), np.empty((T, L + 1)),
            np.empty(L), np.empty((T, L + 1)), np.empty((T, L + 1)), np.empty(L), np.empty((T, O)))


@njit(inline="always")
def _floor(t, s, absc, rel, simple, is_out, opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle, leak_used,
           base, op_cycles, scratch, per_choice):
    """The floor of one factorization (``t``, ``s``: [L, D] temporal and spatial factors), and in
    ``per_choice[k]`` that of its points with keep choice k (inf where k's tiles overflow a level);
    ``scratch`` is ``_scratch``'s work arrays."""
    tile, whole, inst, above, shared, prod_rel, vt, vw, refill, cost = scratch
    L, D = t.shape
    T, TD = absc.shape[0], absc.shape[1]
    steps = 1.0
    for d in range(D):
        tile[L, d] = 1.0
        whole[L, d] = 1.0
        steps_d = 1.0
        for lv in range(L):
            steps_d *= t[lv, d]
        steps *= steps_d
        u = 1.0
        tl = 1.0
        whole[L, d] = steps_d
        for lv in range(L - 1, -1, -1):
            u *= s[lv, d]
            tl *= t[lv, d] * s[lv, d]
            tile[lv, d] = tl
            whole[lv, d] = u * steps_d
    inst[0] = 1.0
    above[0] = 1.0
    for lv in range(L):
        ps = 1.0
        pt = 1.0
        for d in range(D):
            ps *= s[lv, d]
            pt *= t[lv, d]
        inst[lv + 1] = inst[lv] * ps
        above[lv + 1] = above[lv] * pt
    for ti in range(T):
        shared[ti, 0] = 1.0
        for lv in range(L):
            pr = 1.0
            sr = 1.0
            for d in range(D):
                if rel[ti, d]:
                    pr *= t[lv, d]
                    sr *= s[lv, d]
            prod_rel[lv] = pr
            shared[ti, lv + 1] = shared[ti, lv] * sr
        for lv in range(L + 1):
            a = 1.0
            b = 1.0
            for td in range(TD):
                ea = 1.0
                eb = 1.0
                for d in range(D):
                    ea += absc[ti, td, d] * (tile[lv, d] - 1.0)
                    eb += absc[ti, td, d] * (whole[lv, d] - 1.0)
                a *= ea
                b *= eb
            vt[ti, lv] = a
            vw[ti, lv] = b
        for c in range(L):
            refill[c] = 1.0
            for lv in range(c - 1, -1, -1):
                if prod_rel[lv] > 1.0:
                    refill[c] = above[lv] * (prod_rel[lv] if simple[ti] else 1.0)
                    break
        for o in range(n_opt[ti]):
            parent = 0
            while parent < L - 1 and not opts[ti, o, parent]:
                parent += 1
            energy = 0.0
            for child in range(parent + 1, L + 1):
                if child < L and not opts[ti, o, child]:
                    continue
                if child == L:
                    moved = steps * shared[ti, L] / shared[ti, parent]
                else:
                    w = vt[ti, child] * refill[child]
                    moved = w * shared[ti, child] / shared[ti, parent]
                    fill = w - vw[ti, child] if is_out[ti] else w
                    energy += inst[child] * fill * e_w[child]
                if is_out[ti]:
                    energy += inst[parent] * (moved * e_u[parent] + (moved - vw[ti, parent]) * e_r[parent])
                else:
                    energy += inst[parent] * moved * e_r[parent]
                if child < L:
                    parent = child
            cost[ti, o] = energy
    leak = leak_idle
    for lv in range(L):
        leak += leak_used[lv] * inst[lv]
    fixed = base + leak * steps * op_cycles
    best = np.inf
    for k in range(combo.shape[0]):
        per_choice[k] = np.inf
        ok = True
        for lv in range(1, L):
            words = 0.0
            for ti in range(T):
                if opts[ti, combo[k, ti], lv]:
                    words += vt[ti, lv]
            if words > cap[lv]:
                ok = False
                break
        if ok:
            e = 0.0
            for ti in range(T):
                e += cost[ti, combo[k, ti]]
            per_choice[k] = fixed + e
            best = min(best, per_choice[k])
    return best


@njit
def floor_rows(t_all, s_all, absc, rel, simple, is_out, opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle, leak_used,
               base, op_cycles, out, out_choice):
    """``out[n]``: the floor of each factorization ``t_all[n]``, ``s_all[n]`` ([N, L, D]);
    ``out_choice[n, k]``: that of its points with keep choice k."""
    N, L, D = t_all.shape
    T = absc.shape[0]
    O = opts.shape[1]
    scratch = _scratch(L, D, T, O)
    t = np.empty((L, D))
    s = np.empty((L, D))
    for n in range(N):
        for lv in range(L):
            for d in range(D):
                t[lv, d] = t_all[n, lv, d]
                s[lv, d] = s_all[n, lv, d]
        out[n] = _floor(t, s, absc, rel, simple, is_out, opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle, leak_used,
                        base, op_cycles, scratch, out_choice[n])


@njit(inline="always")
def _unused_spread(ti, p, fidx, known, spread, spread_max, rel):
    """The product over the indices tensor ``ti`` does not use of their spatial factors at and below
    level ``p`` (its multicast or reduction there); an unknown index (at or after ``known``) takes
    its largest such factor."""
    div = 1.0
    for d in range(spread.shape[0]):
        if not rel[ti, d]:
            div *= spread[d, fidx[d], p] if d < known else spread_max[d, p]
    return div


@njit(inline="always")
def _units_bound(fidx, known, spread, spread_max, rel, opts, n_opt, inner, e_units, points, base):
    """A lower bound on the energy of every point of every factorization that agrees with ``fidx`` on
    the first ``known`` indices: the compute energy plus, per tensor, the least over its keep
    vectors of what the compute units take from its innermost keeper p, points x energy per word /
    (the spatial factors at and below p of the indices it does not use: its multicast or
    reduction); an unknown index takes its largest such factor. For a tensor whose dimensions are
    each indexed by one index every other count the kernel adds is non-negative (see the twin), so
    this never exceeds a point's energy; the caller uses it only for such problems."""
    total = base
    for ti in range(rel.shape[0]):
        best = np.inf
        for o in range(n_opt[ti]):
            div = _unused_spread(ti, inner[ti, o], fidx, known, spread, spread_max, rel)
            best = min(best, points * e_units[ti, o] / div)
        total += best
    return total


@njit(inline="always")
def _prefix_bound(fidx, known, cs, ct, inner_loop, tile, steps_of, min_steps, size, spread, spread_max, absc, rel, is_out,
                  opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle, leak_used, base, op_cycles, points, cost, held):
    """A lower bound on the floor (``_floor``) of every factorization that agrees with ``fidx`` on
    the first ``known`` indices, for problems whose tensors are indexed plainly with unit
    coefficients (the caller checks). Per tensor t, keep vector and kept boundary parent p -> child
    c, ``_floor`` charges ``inst[c] x w_c`` fills and ``inst[p] x moved`` reads (updates for the
    output); with lv* the innermost level above c with a loop over t's indices, every index d of t
    contributes exactly size_d to both products (its factors above c are spatial, or temporal at
    or above lv*, the rest are the tile), so both are |t| x a product over the indices t does not
    use of their spatial factors above c (above p for the reads) and their temporal factors above
    lv*. An unknown index contributes at least 1 to each, and makes lv* no shallower, which only
    adds; so the known indices with lv* from the known indices of t bound both from below. The
    output's fills and read-backs (``w_c`` minus its first writes, ``moved`` minus its whole
    volume: the partial sums) are |t| x its unused indices' spatial factors above c (p) x (their
    temporal factors above lv* - 1), at the units (their steps - 1); both factors only grow with
    the unknown indices (an unknown index at its fewest steps). The units' accesses are ``_units_bound``'s term (an
    unknown index at its largest spread), leakage takes the unknown indices' fewest steps, and a
    keep choice whose known tile sizes (the unknown indices' tiles at least 1) already overflow a
    level is invalid in every completion. ``cost`` [T, O] and ``held`` [T, L] are scratch."""
    D = size.shape[0]
    T = rel.shape[0]
    L = e_r.shape[0]
    TD = absc.shape[1]
    steps = 1.0
    for d in range(D):
        steps *= steps_of[d, fidx[d]] if d < known else min_steps[d]
    leak = leak_idle
    for lv in range(L):
        inst = 1.0
        for d in range(known):
            inst *= cs[d, fidx[d], lv]
        leak += leak_used[lv] * inst
    fixed = base + leak * steps * op_cycles
    for ti in range(T):
        volume = 1.0
        for d in range(D):
            if rel[ti, d]:
                volume *= size[d]
        for o in range(n_opt[ti]):
            parent = 0
            while parent < L - 1 and not opts[ti, o, parent]:
                parent += 1
            energy = 0.0
            for child in range(parent + 1, L + 1):
                if child < L and not opts[ti, o, child]:
                    continue
                if child < L:
                    star = -1
                    for d in range(known):
                        if rel[ti, d]:
                            star = max(star, inner_loop[d, fidx[d], child])
                    a_c = 1.0
                    a_p = 1.0
                    again = 1.0
                    for d in range(known):
                        if not rel[ti, d]:
                            a_c *= cs[d, fidx[d], child]
                            a_p *= cs[d, fidx[d], parent]
                            if star >= 0:
                                again *= ct[d, fidx[d], star]
                    r_c = a_c * again
                    r_p = a_p * again
                    if is_out[ti]:
                        energy += volume * (e_u[parent] * r_p + (again - 1.0) * (e_w[child] * a_c + e_r[parent] * a_p))
                    else:
                        energy += e_w[child] * volume * r_c + e_r[parent] * volume * r_p
                    parent = child
                else:
                    div = _unused_spread(ti, parent, fidx, known, spread, spread_max, rel)
                    energy += points * (e_u[parent] if is_out[ti] else e_r[parent]) / div
                    if is_out[ti]:  # the partial sums read back at the innermost keeper
                        a_p = 1.0
                        again = 1.0
                        for d in range(D):
                            if not rel[ti, d]:
                                if d < known:
                                    a_p *= cs[d, fidx[d], parent]
                                    again *= steps_of[d, fidx[d]]
                                else:
                                    again *= min_steps[d]
                        energy += e_r[parent] * volume * a_p * (again - 1.0)
            cost[ti, o] = energy
    for ti in range(T):  # the words of t's known tiles at each level (an unknown index's tile at least 1)
        for lv in range(1, L):
            vol = 1.0
            for td in range(TD):
                ext = 1.0
                for d in range(known):
                    ext += absc[ti, td, d] * (tile[d, fidx[d], lv] - 1.0)
                vol *= ext
            held[ti, lv] = vol
    best = np.inf
    for k in range(combo.shape[0]):
        ok = True
        for lv in range(1, L):
            words = 0.0
            for ti in range(T):
                if opts[ti, combo[k, ti], lv]:
                    words += held[ti, lv]
            if words > cap[lv]:
                ok = False
                break
        if ok:
            e = 0.0
            for ti in range(T):
                e += cost[ti, combo[k, ti]]
            best = min(best, e)
    return fixed + best


@njit
def _prefix_tables(tables_t, tables_s, n_fact):
    """``_prefix_bound``'s tables: per index, factorization and level, the products of its spatial
    (cs) and temporal (ct) factors above the level, its innermost loop above it (-1: none), its tile
    there; per index and factorization its steps; per index its fewest steps and its size."""
    D, F, L = tables_t.shape
    cs = np.ones((D, F, L + 1))
    ct = np.ones((D, F, L + 1))
    inner_loop = np.full((D, F, L + 1), -1, dtype=np.int64)
    tile = np.ones((D, F, L))
    steps_of = np.ones((D, F))
    min_steps = np.full(D, np.inf)
    size = np.ones(D)
    for d in range(D):
        for f in range(n_fact[d]):
            for lv in range(L):
                cs[d, f, lv + 1] = cs[d, f, lv] * tables_s[d, f, lv]
                ct[d, f, lv + 1] = ct[d, f, lv] * tables_t[d, f, lv]
                inner_loop[d, f, lv + 1] = lv if tables_t[d, f, lv] > 1.0 else inner_loop[d, f, lv]
            acc = 1.0
            for lv in range(L - 1, -1, -1):
                acc *= tables_t[d, f, lv] * tables_s[d, f, lv]
                tile[d, f, lv] = acc
            steps_of[d, f] = ct[d, f, L]
            min_steps[d] = min(min_steps[d], ct[d, f, L])
        size[d] = tile[d, 0, 0]
    return cs, ct, inner_loop, tile, steps_of, min_steps, size


@njit
def _spreads(tables_s, n_fact):
    """Per index, factorization and level p, the product of its spatial factors at and below p, and
    per index and level the largest of them over its factorizations."""
    D, F, L = tables_s.shape
    spread = np.ones((D, F, L))
    spread_max = np.ones((D, L))
    for d in range(D):
        for f in range(n_fact[d]):
            acc = 1.0
            for lv in range(L - 1, -1, -1):
                acc *= tables_s[d, f, lv]
                spread[d, f, lv] = acc
                spread_max[d, lv] = max(spread_max[d, lv], acc)
    return spread, spread_max


@njit
def prefix_bounds(prefixes, known, tables_t, tables_s, n_fact, absc, rel, is_out, opts, n_opt, combo, e_r, e_w, e_u,
                  cap, leak_idle, leak_used, base, op_cycles):
    """[n] ``_prefix_bound`` of each row of ``prefixes`` [n, D] with its first ``known`` indices known
    (the rest of each row is ignored): for the tests, which check it against every completion."""
    D, F, L = tables_t.shape
    cs, ct, inner_loop, tile, steps_of, min_steps, size = _prefix_tables(tables_t, tables_s, n_fact)
    spread, spread_max = _spreads(tables_s, n_fact)
    points = 1.0
    for d in range(D):
        points *= size[d]
    cost = np.empty((rel.shape[0], opts.shape[1]))
    held = np.empty((rel.shape[0], L))
    out = np.empty(prefixes.shape[0])
    for n in range(prefixes.shape[0]):
        out[n] = _prefix_bound(prefixes[n], known, cs, ct, inner_loop, tile, steps_of, min_steps, size, spread,
                               spread_max, absc, rel, is_out, opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle,
                               leak_used, base, op_cycles, points, cost, held)
    return out


@njit
def floor_scan(tables_t, tables_s, use, n_fact, slot_cap, absc, rel, simple, is_out, opts, n_opt, combo, e_r, e_w, e_u,
               cap, leak_idle, leak_used, base, op_cycles, limit, slack):
    """Every fan-out-legal factorization choice (``tables_t``, ``tables_s``: [D, F, L] factors of each
    index's factorizations, ``use``: [D, F, S] their spatial use per (level, axis) slot, at most
    ``slot_cap``), in lexicographic order. Returns (fidx [m, D], floor [m], least floor, rows walked):
    every choice whose floor is at most ``limit`` and at most (1 + ``slack``) x the least floor of
    all (the rows it returns may include others; the caller filters). A row is dropped only once
    the least floor seen so far proves it above that bound, and the least floor seen only falls.
    The floor of a row is here the larger of the two lower bounds, ``_floor`` and ``_units_bound``
    (the latter only where every tensor is indexed plainly); ``_units_bound`` with the last index
    unknown skips the last index's whole range where it is already above the bound, and on a row
    saves computing ``_floor``."""
    D, F, L = tables_t.shape
    S = use.shape[2]
    T = absc.shape[0]
    O = opts.shape[1]
    scratch = _scratch(L, D, T, O)
    per_choice = np.empty(combo.shape[0])
    t = np.empty((L, D))
    s = np.empty((L, D))
    fidx = np.zeros(D, dtype=np.int64)
    held_f = np.empty((1024, D), dtype=np.int64)
    held_v = np.empty(1024)
    m = 0
    least = np.inf
    walked = 0
    plain = True
    for ti in range(T):
        plain = plain and simple[ti]
    spread, spread_max = _spreads(tables_s, n_fact)
    inner = np.zeros((T, O), dtype=np.int64)  # the innermost keeper of each keep vector
    e_units = np.zeros((T, O))
    for ti in range(T):
        for o in range(n_opt[ti]):
            p = L - 1
            for lv in range(L - 1, -1, -1):
                if opts[ti, o, lv]:
                    p = lv
                    break
            inner[ti, o] = p
            e_units[ti, o] = e_u[p] if is_out[ti] else e_r[p]
    points = 1.0
    for d in range(D):
        for lv in range(L):
            points *= tables_t[d, 0, lv] * tables_s[d, 0, lv]
    unit = plain
    for ti in range(T):
        for td in range(absc.shape[1]):
            for d in range(D):
                unit = unit and absc[ti, td, d] <= 1.0
    cs, ct, inner_loop, tile, steps_of, min_steps, size = _prefix_tables(tables_t, tables_s, n_fact)
    cost = np.empty((T, O))
    held = np.empty((T, L))
    use_at = np.ones((D + 1, S), dtype=np.int64)  # spatial use of the first d indices
    d = 0
    while d >= 0:  # depth first over the indices, the last fastest (lexicographic order)
        if fidx[d] >= n_fact[d]:
            fidx[d] = 0
            d -= 1
            if d >= 0:
                fidx[d] += 1
            continue
        fit = True
        for k in range(S):
            use_at[d + 1, k] = use_at[d, k] * use[d, fidx[d], k]
            if use_at[d + 1, k] > slot_cap[k]:
                fit = False
        if not fit:  # spatial use only grows with the indices to come
            fidx[d] += 1
            continue
        bound = min(limit, least * (1.0 + slack))
        if d < D - 1:
            if unit:
                if _prefix_bound(fidx, d + 1, cs, ct, inner_loop, tile, steps_of, min_steps, size, spread, spread_max,
                                 absc, rel, is_out, opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle, leak_used,
                                 base, op_cycles, points, cost, held) > bound * (1.0 + 1e-9):
                    fidx[d] += 1
                    continue
            elif plain and d == D - 2:  # can any last index get under the bound?
                if _units_bound(fidx, D - 1, spread, spread_max, rel, opts, n_opt, inner, e_units, points, base) > bound:
                    fidx[d] += 1
                    continue
            d += 1
            continue
        walked += 1
        v = _units_bound(fidx, D, spread, spread_max, rel, opts, n_opt, inner, e_units, points, base) if plain else 0.0
        if v <= bound:
            for dd in range(D):
                for lv in range(L):
                    t[lv, dd] = tables_t[dd, fidx[dd], lv]
                    s[lv, dd] = tables_s[dd, fidx[dd], lv]
            v = max(v, _floor(t, s, absc, rel, simple, is_out, opts, n_opt, combo, e_r, e_w, e_u, cap, leak_idle,
                              leak_used, base, op_cycles, scratch, per_choice))
            least = min(least, v)
        if v <= limit and v <= least * (1.0 + slack):
            if m == len(held_v):  # full: drop what the least floor now rules out, then grow if needed
                cut = least * (1.0 + slack)
                j = 0
                for i in range(m):
                    if held_v[i] <= cut:
                        held_v[j] = held_v[i]
                        held_f[j] = held_f[i]
                        j += 1
                m = j
                if m > len(held_v) // 2:
                    grow_f = np.empty((2 * len(held_v), D), dtype=np.int64)
                    grow_v = np.empty(2 * len(held_v))
                    grow_f[:m] = held_f[:m]
                    grow_v[:m] = held_v[:m]
                    held_f = grow_f
                    held_v = grow_v
            held_f[m] = fidx
            held_v[m] = v
            m += 1
        fidx[d] += 1
    return held_f[:m].copy(), held_v[:m].copy(), least, walked
