"""Masked tiles of a mapping: which array steps of a filtered Einsum run.

A filter (causal ``m <= p``) removes points of an Einsum's iteration space. A mapping runs the
space in array steps (``array_step_tile``); a step none of whose points passes the filters is
skipped and a partly masked one runs whole, so the mapping's time, work, traffic and energy
scale by the fraction of steps that run (einsim.einsum.masks.active_tile_fraction).
"""

from __future__ import annotations

import functools

import numpy as np

from einsim.einsum.cascade import Einsum
from einsim.einsum.masks import active_tile_fraction
from einsim.mappers.mapping import Mapping
from einsim.sim.nest import Encoded


def least_active_share(einsum: Einsum) -> float:
    """The least share of its points a masked Einsum runs, whatever the tiling (1 without filters): a
    step that runs holds at least one passing point and the steps divide the space."""
    return active_tile_fraction(einsum.filters, einsum.space, {d: 1 for d in einsum.space}) if einsum.filters else 1.0


def array_step_tile(mapping: Mapping) -> dict[str, int]:
    """Index values in one array step, the grain at which a masked tile is skipped: the spatial
    factors of the outermost level that fans out and every factor of the levels below it (the
    PEs run in lock step, so one unmasked point keeps the whole step). With no fan-out a step is
    one point."""
    outer = next((i for i, lm in enumerate(mapping.levels) if lm.spatial), None)
    if outer is None:
        return {}
    tile: dict[str, int] = {}
    for i, lm in enumerate(mapping.levels[outer:]):
        for d, f in (*lm.spatial.items(), *(lm.temporal.items() if i else ())):
            tile[d] = tile.get(d, 1) * f
    return tile


def mask_fraction(einsum: Einsum, mapping: Mapping) -> float:
    """Fraction of ``mapping``'s array steps of ``einsum`` that are not wholly masked by its filters."""
    if not einsum.filters:
        return 1.0
    tile = array_step_tile(mapping)
    return active_tile_fraction(einsum.filters, einsum.space, {d: tile.get(d, 1) for d in einsum.space})


def mask_fractions(einsum: Einsum, dims: tuple[str, ...], enc: Encoded) -> np.ndarray:
    """[N] ``mask_fraction`` of every row of ``enc`` (``dims``: its index order), as the search ranks
    them: the array step of a row is its outermost fanned-out level's spatial factors and every
    factor below that level (no fan-out: one point)."""
    n = len(enc.keep)
    if not einsum.filters:
        return np.ones(n)
    fanned = np.any(enc.spatial > 1, axis=2)  # [N, L]
    outer = np.where(fanned.any(axis=1), np.argmax(fanned, axis=1), enc.spatial.shape[1])
    below = np.arange(enc.spatial.shape[1])[None, :] > outer[:, None]  # [N, L]
    at = np.arange(enc.spatial.shape[1])[None, :] == outer[:, None]
    per_level = np.where(below[:, :, None], enc.temporal * enc.spatial, np.where(at[:, :, None], enc.spatial, 1))
    tiles = per_level.prod(axis=1)  # [N, D]
    uniq, inverse = np.unique(tiles, axis=0, return_inverse=True)
    space = tuple(einsum.space.items())
    fractions = np.array([_fraction(einsum.filters, space, tuple(int(row[dims.index(d)]) if d in dims else 1
                                                                 for d, _ in space)) for row in uniq])
    return fractions[inverse.reshape(-1)]


@functools.lru_cache(maxsize=1 << 16)
def _fraction(filters: tuple, space: tuple[tuple[str, int], ...], tile: tuple[int, ...]) -> float:
    """active_tile_fraction, memoised: a search meets the same array step many times."""
    return active_tile_fraction(filters, dict(space), {d: t for (d, _), t in zip(space, tile)})


def mask_note(einsum: str, active_fraction: float) -> str:
    """What a result says about a masked Einsum: the share of its array steps it skipped."""
    return (f"mask: {einsum} skips {1 - active_fraction:.2%} of its array steps (wholly masked); "
            f"partly masked steps run whole")

