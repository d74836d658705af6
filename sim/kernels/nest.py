"""Batch kernel: access counts, cycles, energy and validity of N mappings of one Einsum.

The rules are Timeloop's (see einsim.sim.nest); the slow twin is einsim.sim.reference.nest.
Tiles are axis-aligned: a tensor dimension indexed by ``sum(c_d * i_d)`` spans
``sum(|c_d| * (tile_d - 1)) + 1`` coordinates. A parent sends each distinct child tile once
(children that differ only in indices a tensor does not depend on share it); partly overlapping
children's tiles are not merged, as in Timeloop. The count of distinct output elements per instance over the whole run is exact when each output
dimension is indexed by one index (a sum there, as in a transposed convolution, over-counts
when a temporal loop sits outside a spatial loop of the same index). A spatial split of an index
is assumed to be the innermost split of that index above the level counted, as in mappings that
tile and then spread; a temporal loop nested inside a spatial loop of the same index spreads the
union of the instances' tiles with gaps, which the hull over-counts.
"""

from __future__ import annotations

import numpy as np

from einsim.sim.kernels.policy import njit


@njit(inline="always")
def _volume(nnz, nz_dim, nz_coef, t, x, row):
    """Words of tensor ``t`` in a tile of sizes ``x[row]`` (``nnz``/``nz_*``: the nonzero coefficients).
    Tables are passed with a row index rather than as row views: a view costs reference counting."""
    vol = 1.0
    for td in range(nnz.shape[1]):
        ext = 1
        for k in range(nnz[t, td]):
            ext += nz_coef[t, td, k] * (x[row, nz_dim[t, td, k]] - 1)
        vol *= ext
    return vol


@njit(inline="always")
def _moved(coef, nnz, nz_dim, nz_coef, t, x, xrow, base, below, n_above, rel_last, loop_level, loop_dim, loop_factor,
           prefix, spatial, n):
    """Words entering a tile of sizes ``x[xrow]`` under the temporal loops above level ``below``.

    ``base[below]`` is the tile of one instance of ``below``; ``spatial[n, lv, d]`` is the spatial factor of
    dim d at level lv. A loop at level lv steps its dim by the base tile times the spatial factors
    between it and ``below``. ``n_above[below]`` counts the loops above ``below``,
    ``rel_last[t, j]`` is the innermost loop at or outside loop j that indexes tensor t (-1: none),
    and ``prefix[j]`` the product of the factors of the loops outside loop j."""
    last = n_above[below] - 1
    star = rel_last[t, last] if last >= 0 else -1
    vol = _volume(nnz, nz_dim, nz_coef, t, x, xrow)
    if star < 0:
        return vol
    outer = prefix[star]
    delta = vol
    if star == last:  # only the innermost loop above keeps the overlap of consecutive tiles
        d = loop_dim[star]
        step = base[below, d]
        for lv in range(loop_level[star], below):
            step *= spatial[n, lv, d]
        kept = 1.0
        for td in range(nnz.shape[1]):
            ext = 1
            for k in range(nnz[t, td]):
                ext += nz_coef[t, td, k] * (x[xrow, nz_dim[t, td, k]] - 1)
            overlap = ext - abs(coef[t, td, d]) * step
            kept *= overlap if overlap > 0 else 0
        delta = vol - kept
    return outer * (vol + (loop_factor[star] - 1) * delta)


@njit(inline="always")
def _shared(relevant, spatial, n, t, parent, child):
    """Distinct tiles of tensor ``t`` among the instances a ``parent`` instance feeds down to ``child``:
    instances that differ in an index of ``t`` get their own words, those that differ only in other
    indices share them (multicast, or spatial reduction for an output). As in Timeloop, partly
    overlapping tiles (a sliding window spread over instances) are not merged."""
    share = 1.0
    for lv in range(parent, child):
        for d in range(spatial.shape[2]):
            if relevant[t, d]:
                share *= spatial[n, lv, d]
    return share


@njit
def evaluate_nest(coef, is_output, axis_size, capacity, block, e_read, e_write, e_update, leak, idle_leaks, bw_read, bw_write,
                  op_energy, op_cycles, temporal, spatial, axis, order, keep,
                  reads, fills, updates, cycles, energy, valid, tile_words, instances):
    """Evaluate N mappings; every output array's first axis is N (results are per instance).
    ``axis[n, lv, d]`` is the array axis the spatial factor of dim d at level lv runs along; the product
    of a level's spatial factors on an axis must not exceed that axis's fan-out ``axis_size[lv, a]``."""
    n_map, L, D = temporal.shape
    A = axis_size.shape[1]
    axis_use = np.ones(A, dtype=np.int64)
    built = np.ones(L)  # instances of each level in the hardware: the fan-outs above it
    for lv in range(1, L):
        built[lv] = built[lv - 1]
        for a in range(A):
            built[lv] *= axis_size[lv - 1, a]
    T = coef.shape[0]
    TD = coef.shape[1]
    relevant = np.zeros((T, D), dtype=np.bool_)
    nnz = np.zeros((T, TD), dtype=np.int64)
    nz_dim = np.zeros((T, TD, D), dtype=np.int64)
    nz_coef = np.zeros((T, TD, D), dtype=np.int64)
    for t in range(T):
        for td in range(TD):
            for d in range(D):
                if coef[t, td, d] != 0:
                    relevant[t, d] = True
                    nz_dim[t, td, nnz[t, td]] = d
                    nz_coef[t, td, nnz[t, td]] = abs(coef[t, td, d])
                    nnz[t, td] += 1
    loop_level = np.zeros(L * D, dtype=np.int64)
    loop_dim = np.zeros(L * D, dtype=np.int64)
    loop_factor = np.zeros(L * D, dtype=np.int64)
    prefix = np.ones(L * D + 1)
    rel_last = np.zeros((T, L * D), dtype=np.int64)
    n_above = np.zeros(L + 1, dtype=np.int64)
    tile = np.ones((L + 1, D), dtype=np.int64)  # per level: product of factors at levels >= it
    whole = np.ones((L + 1, D), dtype=np.int64)  # all temporal factors x spatial factors at levels >= it
    union = np.ones((L + 1, D), dtype=np.int64)  # spatial factors at levels >= it
    for n in range(n_map):
        n_loops = 0
        for lv in range(L):
            n_above[lv] = n_loops
            for k in range(D):
                d = order[n, lv, k]
                f = temporal[n, lv, d]
                if f > 1:
                    loop_level[n_loops] = lv
                    loop_dim[n_loops] = d
                    loop_factor[n_loops] = f
                    prefix[n_loops + 1] = prefix[n_loops] * f
                    for t in range(T):
                        if relevant[t, d]:
                            rel_last[t, n_loops] = n_loops
                        elif n_loops > 0:
                            rel_last[t, n_loops] = rel_last[t, n_loops - 1]
                        else:
                            rel_last[t, n_loops] = -1
                    n_loops += 1
        n_above[L] = n_loops
        steps = prefix[n_loops]
        ok = True
        instances[n, 0] = 1
        for lv in range(L):
            used = 1
            for a in range(A):
                axis_use[a] = 1
            for d in range(D):
                f = spatial[n, lv, d]
                used *= f
                if f > 1:
                    a = axis[n, lv, d]
                    if a < 0 or a >= A:
                        ok = False
                    else:
                        axis_use[a] *= f
            for a in range(A):
                if axis_use[a] > axis_size[lv, a]:
                    ok = False
            instances[n, lv + 1] = instances[n, lv] * used
        for d in range(D):
            tile[L, d] = 1
            union[L, d] = 1
        for lv in range(L - 1, -1, -1):
            for d in range(D):
                tile[lv, d] = tile[lv + 1, d] * temporal[n, lv, d] * spatial[n, lv, d]
                union[lv, d] = union[lv + 1, d] * spatial[n, lv, d]
        for d in range(D):
            steps_d = 1  # all temporal factors of d
            for lv in range(L):
                steps_d *= temporal[n, lv, d]
            for lv in range(L + 1):
                whole[lv, d] = union[lv, d] * steps_d
        for lv in range(L):
            for t in range(T):
                reads[n, lv, t] = 0.0
                fills[n, lv, t] = 0.0
                updates[n, lv, t] = 0.0
        for t in range(T):
            parent = 0  # the outermost keeper (DRAM, or the on-chip home of a fused intermediate)
            while parent < L - 1 and not keep[n, parent, t]:
                parent += 1
            for child in range(parent + 1, L + 1):
                if child < L and not keep[n, child, t]:
                    continue
                if child == L:  # the compute units below the innermost keeper
                    moved = steps * _shared(relevant, spatial, n, t, parent, L)
                    if is_output[t]:
                        updates[n, parent, t] += moved
                        reads[n, parent, t] += moved - _volume(nnz, nz_dim, nz_coef, t, whole, parent)
                    else:
                        reads[n, parent, t] += moved
                    break
                w_child = _moved(coef, nnz, nz_dim, nz_coef, t, tile, child, tile, child, n_above, rel_last,
                                 loop_level, loop_dim, loop_factor, prefix, spatial, n)
                w_parent = w_child * _shared(relevant, spatial, n, t, parent, child)
                if is_output[t]:
                    updates[n, parent, t] += w_parent
                    reads[n, parent, t] += w_parent - _volume(nnz, nz_dim, nz_coef, t, whole, parent)
                    fills[n, child, t] += w_child - _volume(nnz, nz_dim, nz_coef, t, whole, child)
                else:
                    reads[n, parent, t] += w_parent
                    fills[n, child, t] += w_child
                parent = child
        # divisions are skipped where they cannot change the result (x / inf = 0 below a positive
        # compute time; x / 1 = x; 0 / b = 0): they dominate the cost of a mapping otherwise
        cyc = steps * op_cycles
        for lv in range(L):
            rd = 0.0
            wr = 0.0
            for t in range(T):
                rd += reads[n, lv, t]
                wr += fills[n, lv, t] + updates[n, lv, t]
            if bw_read[lv] != np.inf:
                cyc = max(cyc, rd / bw_read[lv])
            if bw_write[lv] != np.inf:
                cyc = max(cyc, wr / bw_write[lv])
        cycles[n] = cyc
        for lv in range(L):
            e = 0.0
            words = 0.0
            b = block[lv]
            for t in range(T):
                r = reads[n, lv, t]
                f = fills[n, lv, t]
                u = updates[n, lv, t]
                if b != 1.0:  # counts are whole words; a partly used block costs a whole access
                    r = np.ceil(r / b) if r != 0.0 else r
                    f = np.ceil(f / b) if f != 0.0 else f
                    u = np.ceil(u / b) if u != 0.0 else u
                e += r * e_read[lv] + f * e_write[lv] + u * e_update[lv]
                if keep[n, lv, t]:
                    words += _volume(nnz, nz_dim, nz_coef, t, tile, lv)
            # accesses of the used instances; leakage of every built one (idle ones leak too) or of the used ones
            energy[n, lv] = e * instances[n, lv] + leak[lv] * cyc * (built[lv] if idle_leaks[lv] else instances[n, lv])
            tile_words[n, lv] = words
            if lv > 0 and words > capacity[lv]:
                ok = False
        energy[n, L] = steps * instances[n, L] * op_energy
        valid[n] = ok
