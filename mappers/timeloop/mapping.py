"""A Timeloop v0.4 mapping (a ``mapping:`` list) as an einsim Mapping, checked as strictly as einsim's own.

Entries: ``type: temporal`` (factors and a permutation, innermost first, at a storage level),
``type: spatial`` (factors spread over a fan-out: the target is a container, its
``inter_<container>_spatial`` name, or the storage level above it; ``split`` puts the first
``split`` permuted dimensions on meshX and the rest on meshY) and ``type: dataspace`` (also
``datatype``/``bypass``: ``keep``/``bypass`` lists of data spaces). Factors are ``R=3 P=16``,
``R=3,P=16`` or ``C1 M8``; a dimension left out has factor 1.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from einsim.errors import EinsimError, did_you_mean
from einsim.mappers.mapping import LevelMapping, Mapping
from einsim.mappers.timeloop.arch import Component, Container

_TYPES = ("temporal", "spatial", "dataspace", "datatype", "bypass")
_KEYS = ("target", "type", "factors", "permutation", "split", "keep", "bypass")
_TOKEN_EQ = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(-?\d+)$")
_TOKEN_JOINED = re.compile(r"^([A-Za-z_]+)(-?\d+)$")


def parse_factors(value: Any, dims: list[str], what: str) -> dict[str, int]:
    """``R=3 P=16`` / ``R=3,P=16`` / ``C1 M8`` / ``[R=3, P=16]`` / ``{R: 3}`` -> {dim: factor}."""
    if value is None:
        return {}
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
    else:
        tokens = value if isinstance(value, list) else str(value).replace(",", " ").split()
        items = []
        for token in tokens:
            token = str(token).strip()
            m = _TOKEN_EQ.match(token) or _TOKEN_JOINED.match(token)
            if not m:
                raise EinsimError(f"{what}: factor {token!r:.30} is not DIM=N (e.g. R=3 P=16)")
            items.append((m.group(1), int(m.group(2))))
    out: dict[str, int] = {}
    for dim, n in items:
        if dim not in dims:
            raise EinsimError(f"{what}: factor for unknown dimension {dim!r}" + did_you_mean(dim, dims))
        if dim in out:
            raise EinsimError(f"{what}: dimension {dim} has two factors")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise EinsimError(f"{what}: the factor of {dim} must be a positive whole number, got {n!r}")
        out[dim] = n
    return out


def parse_permutation(value: Any, dims: list[str], what: str) -> list[str]:
    """A permutation (a string of one-letter dimensions or a list), innermost first."""
    if value is None:
        return []
    if isinstance(value, list):
        names = [str(v) for v in value]
    elif isinstance(value, str):
        names = list(value.replace(" ", "").replace(",", "")) if all(len(d) == 1 for d in dims) else value.replace(",", " ").split()
    else:
        raise EinsimError(f"{what}: a permutation is a string like RPK or a list of dimensions")
    for d in names:
        if d not in dims:
            raise EinsimError(f"{what}: permutation names unknown dimension {d!r}" + did_you_mean(d, dims))
    if len(set(names)) != len(names):
        raise EinsimError(f"{what}: permutation repeats a dimension")
    return names


@dataclass
class _Level:
    temporal: dict[str, int] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    spatial: dict[str, int] = field(default_factory=dict)
    keep: tuple[str, ...] | None = None
    seen: set[str] = field(default_factory=set)


def _claim(level: _Level, kind: str, what: str, target: str) -> _Level:
    """The level, once per kind of entry: a second entry of the same kind is an error, not a silent override."""
    if kind in level.seen:
        raise EinsimError(f"{what}: a second {kind} entry for {target}")
    level.seen.add(kind)
    return level


def _fanout_check(container: Container, factors: dict[str, int], perm: list[str], split: Any, what: str) -> None:
    total = math.prod(factors.values())
    if total > container.fanout:
        raise EinsimError(f"{what}: spatial factors use {total} instances, but {container.name} has {container.fanout} "
                          f"(meshX {container.mesh_x} x meshY {container.mesh_y})")
    if split is None:
        return
    if isinstance(split, bool) or not isinstance(split, int) or split < 0:
        raise EinsimError(f"{what}: split must be a non-negative whole number, got {split!r}")
    order = perm + [d for d in factors if d not in perm]
    x = math.prod(factors.get(d, 1) for d in order[:split])
    y = math.prod(factors.get(d, 1) for d in order[split:])
    if x > container.mesh_x or y > container.mesh_y:
        raise EinsimError(f"{what}: the split puts {x} instances on meshX ({container.mesh_x}) and {y} on meshY "
                          f"({container.mesh_y}) of {container.name}")


def build_mapping(entries: Any, storage: list[Component], containers: list[Container], dims: list[str],
                  tensors: list[str], einsum: str, unit: str, where: Path) -> Mapping:
    """The einsim Mapping of a Timeloop ``mapping:`` list (dimensions lower-cased as einsim indices)."""
    if not isinstance(entries, list) or not entries:
        raise EinsimError(f"{where}: 'mapping:' must be a non-empty list of entries")
    names = [c.name for c in storage]
    by_container = {c.name: c for c in containers} | {f"inter_{c.name}_spatial": c for c in containers}
    per = {n: _Level() for n in names}
    spatial_seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise EinsimError(f"{where}: mapping entry {i} must be a mapping with target and type")
        unknown = [k for k in entry if k not in _KEYS]
        if unknown:
            raise EinsimError(f"{where}: mapping entry {i}: unknown key {unknown[0]!r}" + did_you_mean(str(unknown[0]), _KEYS))
        target, kind = entry.get("target"), entry.get("type", "temporal")
        if not isinstance(target, str):
            raise EinsimError(f"{where}: mapping entry {i} needs a target (a storage level or container name)")
        if kind not in _TYPES:
            raise EinsimError(f"{where}: mapping entry {i} ({target}): unknown type {kind!r}" + did_you_mean(str(kind), _TYPES))
        what = f"{where}: mapping entry {i} ({target}, {kind})"
        if target not in names and target not in by_container:
            raise EinsimError(f"{what}: no storage level or container of that name" + did_you_mean(target, names + list(by_container)))
        factors = parse_factors(entry.get("factors"), dims, what)
        perm = parse_permutation(entry.get("permutation"), dims, what)
        if kind in ("dataspace", "datatype", "bypass"):
            keep, bypass = entry.get("keep") or [], entry.get("bypass") or []
            if not isinstance(keep, list) or not isinstance(bypass, list):
                raise EinsimError(f"{what}: keep and bypass are lists of data spaces")
            for t in keep + bypass:
                if t not in tensors:
                    raise EinsimError(f"{what}: unknown data space {t!r}" + did_you_mean(str(t), tensors))
            both = set(keep) & set(bypass)
            if both:
                raise EinsimError(f"{what}: {sorted(both)[0]} is both kept and bypassed")
            if target in by_container:
                if keep:
                    raise EinsimError(f"{what}: a container stores nothing, it cannot keep {keep[0]}")
                continue
            level = _claim(per[target], "dataspace", what, target)
            level.keep = tuple(t for t in tensors if t not in bypass)
            continue
        if kind == "temporal":
            if target in by_container:
                if any(n > 1 for n in factors.values()):
                    raise EinsimError(f"{what}: a container has no temporal loops; put the factors on a storage level")
                continue
            level = _claim(per[target], "temporal", what, target)
            level.temporal = {d.lower(): n for d, n in factors.items() if n > 1}
            inner_first = perm + [d for d in dims if d not in perm]  # unlisted dimensions sit outermost
            level.order = tuple(d.lower() for d in reversed(inner_first))
            continue
        if target in by_container:
            container = by_container[target]
        else:
            below = next((c for c in containers if c.above == target), None)
            if below is None:
                fans = ", ".join(c.name for c in containers) or "none"
                raise EinsimError(f"{what}: {target} has no fan-out below it (fan-out containers: {fans})")
            container = below
        if container.name in spatial_seen:
            raise EinsimError(f"{what}: a second spatial entry for {container.name}")
        spatial_seen.add(container.name)
        _fanout_check(container, factors, perm, entry.get("split"), what)
        level = per[container.above]
        for d, n in factors.items():
            if n > 1:
                level.spatial[d.lower()] = level.spatial.get(d.lower(), 1) * n
    return Mapping(einsum, unit, tuple(
        LevelMapping(n, per[n].temporal, per[n].order, per[n].spatial, per[n].keep) for n in names
    ))
