"""Batch kernel: access counts, cycles, energy and validity of N mappings of one Einsum.

The rules are Timeloop's (see einsim.sim.nest); the slow twin is einsim.sim.reference.nest.
Tiles are axis-aligned: a tensor dimension indexed by ``sum(c_d * i_d)`` spans
``sum(|c_d| * (tile_d - 1)) + 1`` coordinates. That is exact for tiles and their spatial unions;
the count of distinct output elements per instance over the whole run is exact when each output
dimension is indexed by one index (a sum there, as in a transposed convolution, over-counts
when a temporal loop sits outside a spatial loop of the same index). A spatial split of an index
is assumed to be the innermost split of that index above the level counted, as in mappings that
tile and then spread; a temporal loop nested inside a spatial loop of the same index spreads the
union of the instances' tiles with gaps, which the hull over-counts.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit


@njit
def _volume(coef, t, x):
    vol = 1.0
    for td in range(coef.shape[1]):
        ext = 1
        for d in range(coef.shape[2]):
            c = coef[t, td, d]
            if c != 0:
                ext += abs(c) * (x[d] - 1)
        vol *= ext
    return vol


@njit
def _moved(coef, relevant, t, x, base, below, n_loops, loop_level, loop_dim, loop_factor, union):
    """Words entering a tile of sizes ``x`` under the temporal loops above level ``below``.

    ``base`` is the tile of one instance of ``below``; ``union[lv, d]`` is the product of spatial
    factors of dim d at levels >= lv. A loop at level lv steps its dim by the base tile times the
    spatial factors between it and ``below``."""
    last = -1
    for j in range(n_loops):
        if loop_level[j] < below:
            last = j
    star = -1
    for j in range(last + 1):
        if relevant[t, loop_dim[j]]:
            star = j
    vol = _volume(coef, t, x)
    if star < 0:
        return vol
    outer = 1.0
    for j in range(star):
        outer *= loop_factor[j]
    delta = vol
    if star == last:  # only the innermost loop above keeps the overlap of consecutive tiles
        d = loop_dim[star]
        kept = 1.0
        for td in range(coef.shape[1]):
            ext = 1
            for dd in range(coef.shape[2]):
                c = coef[t, td, dd]
                if c != 0:
                    ext += abs(c) * (x[dd] - 1)
            step = base[d] * (union[loop_level[star], d] // union[below, d])
            overlap = ext - abs(coef[t, td, d]) * step
            kept *= overlap if overlap > 0 else 0
        delta = vol - kept
    return outer * (vol + (loop_factor[star] - 1) * delta)


@njit
def evaluate_nest(coef, is_output, fanout, capacity, block, e_read, e_write, e_update, leak, bw_read, bw_write,
                  op_energy, op_cycles, temporal, spatial, order, keep,
                  reads, fills, updates, cycles, energy, valid, tile_words, instances):
    """Evaluate N mappings; every output array's first axis is N (results are per instance)."""
    n_map, L, D = temporal.shape
    T = coef.shape[0]
    relevant = np.zeros((T, D), dtype=np.bool_)
    for t in range(T):
        for td in range(coef.shape[1]):
            for d in range(D):
                if coef[t, td, d] != 0:
                    relevant[t, d] = True
    loop_level = np.zeros(L * D, dtype=np.int64)
    loop_dim = np.zeros(L * D, dtype=np.int64)
    loop_factor = np.zeros(L * D, dtype=np.int64)
    tile = np.ones((L + 1, D), dtype=np.int64)  # per level: product of factors at levels >= it
    whole = np.ones((L + 1, D), dtype=np.int64)  # all temporal factors x spatial factors at levels >= it
    union = np.ones((L + 1, D), dtype=np.int64)  # spatial factors at levels >= it
    x = np.ones(D, dtype=np.int64)
    for n in range(n_map):
        n_loops = 0
        steps = 1.0
        for lv in range(L):
            for k in range(D):
                d = order[n, lv, k]
                f = temporal[n, lv, d]
                if f > 1:
                    loop_level[n_loops] = lv
                    loop_dim[n_loops] = d
                    loop_factor[n_loops] = f
                    n_loops += 1
                    steps *= f
        ok = True
        instances[n, 0] = 1
        for lv in range(L):
            used = 1
            for d in range(D):
                used *= spatial[n, lv, d]
            if used > fanout[lv]:
                ok = False
            instances[n, lv + 1] = instances[n, lv] * used
        for d in range(D):
            tile[L, d] = 1
            union[L, d] = 1
        for lv in range(L - 1, -1, -1):
            for d in range(D):
                tile[lv, d] = tile[lv + 1, d] * temporal[n, lv, d] * spatial[n, lv, d]
                union[lv, d] = union[lv + 1, d] * spatial[n, lv, d]
        for lv in range(L + 1):
            for d in range(D):
                whole[lv, d] = union[lv, d] * (tile[0, d] // union[0, d])
        for lv in range(L):
            for t in range(T):
                reads[n, lv, t] = 0.0
                fills[n, lv, t] = 0.0
                updates[n, lv, t] = 0.0
        for t in range(T):
            parent = 0
            for child in range(1, L + 1):
                if child < L and not keep[n, child, t]:
                    continue
                if child == L:  # the compute units below the innermost keeper
                    moved = steps * _volume(coef, t, union[parent])
                    if is_output[t]:
                        updates[n, parent, t] += moved
                        reads[n, parent, t] += moved - _volume(coef, t, whole[parent])
                    else:
                        reads[n, parent, t] += moved
                    break
                w_child = _moved(coef, relevant, t, tile[child], tile[child], child, n_loops, loop_level, loop_dim, loop_factor, union)
                for d in range(D):
                    x[d] = tile[child, d] * (union[parent, d] // union[child, d])
                w_parent = _moved(coef, relevant, t, x, tile[child], child, n_loops, loop_level, loop_dim, loop_factor, union)
                if is_output[t]:
                    updates[n, parent, t] += w_parent
                    reads[n, parent, t] += w_parent - _volume(coef, t, whole[parent])
                    fills[n, child, t] += w_child - _volume(coef, t, whole[child])
                else:
                    reads[n, parent, t] += w_parent
                    fills[n, child, t] += w_child
                parent = child
        cyc = steps * op_cycles
        for lv in range(L):
            rd = 0.0
            wr = 0.0
            for t in range(T):
                rd += reads[n, lv, t]
                wr += fills[n, lv, t] + updates[n, lv, t]
            cyc = max(cyc, rd / bw_read[lv], wr / bw_write[lv])
        cycles[n] = cyc
        for lv in range(L):
            e = 0.0
            words = 0.0
            for t in range(T):
                e += (np.ceil(reads[n, lv, t] / block[lv]) * e_read[lv]
                      + np.ceil(fills[n, lv, t] / block[lv]) * e_write[lv]
                      + np.ceil(updates[n, lv, t] / block[lv]) * e_update[lv])
                if keep[n, lv, t]:
                    words += _volume(coef, t, tile[lv])
            energy[n, lv] = (e + leak[lv] * cyc) * instances[n, lv]
            tile_words[n, lv] = words
            if lv > 0 and words > capacity[lv]:
                ok = False
        energy[n, L] = steps * instances[n, L] * op_energy
        valid[n] = ok
