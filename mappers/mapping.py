"""Mapping: how one Einsum is laid onto a path of storage levels down to a compute unit.

A mapping lists the storage levels from the outermost (DRAM) to the innermost; each level gives
its temporal loop factors and their order (outer to inner), the spatial factors that spread its
children over the instances below it, and which tensors it keeps (the rest bypass it). Factors
are keyed by the Einsum's index variables; a missing factor is 1. It round-trips through plain
data (YAML/JSON)::

    einsum: Z
    unit: MAC
    levels:
      - {target: DRAM, temporal: {m: 4}, order: [m]}
      - {target: Buffer, temporal: {k: 8, n: 2}, order: [n, k], spatial: {m: 16}, keep: [A, Z]}

Below a 2D array the spatial factors are given per array axis, as Timeloop's meshX/meshY:
``spatial: [{m: 16}, {n: 8, k: 2}]`` spreads m along axis 0 and n, k along axis 1; each axis's
factors must fit its side. A plain ``spatial: {..}`` names no axes: the cost model places each
factor on the axis with the most room (einsim.sim.nest.assign_axes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping as TMapping, Sequence

import yaml

from einsim import jsonout
from einsim.errors import EinsimError, did_you_mean
from einsim.yamlsrc import load_plain

_LEVEL_KEYS = ("target", "temporal", "order", "spatial", "keep")
_TOP_KEYS = ("einsum", "unit", "levels")


class PlainData:
    """YAML/JSON text of a class with ``to_dict`` and ``from_dict(data, where)``."""

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)  # type: ignore[attr-defined]

    def to_json(self) -> str:
        return jsonout.dumps(self.to_dict())  # type: ignore[attr-defined]

    @classmethod
    def from_yaml(cls, text: str, where: str = "mapping"):
        return cls.from_dict(load_plain(text, where), where)  # type: ignore[attr-defined]


def check_keys(data: Any, allowed: Sequence[str], required: Sequence[str], where: str, what: str) -> None:
    """``data`` is an object with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(data, dict):
        raise EinsimError(f"{where}: {what}")
    for key in data:
        if key not in allowed:
            raise EinsimError(f"{where}: unknown key {key!r}" + did_you_mean(str(key), allowed))
    for key in required:
        if key not in data:
            raise EinsimError(f"{where}: missing key {key!r}")


@dataclass(frozen=True)
class LevelMapping:
    target: str
    temporal: dict[str, int] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # temporal loops, outer to inner; unlisted indices go innermost
    spatial: dict[str, int] = field(default_factory=dict)
    keep: tuple[str, ...] | None = None  # None: keeps every tensor
    spatial_axis: dict[str, int] | None = None  # index -> array axis of its spatial factor (None: not stated)

    def spatial_on(self, axis: int) -> dict[str, int]:
        """The spatial factors along one array axis (needs ``spatial_axis``)."""
        return {v: f for v, f in self.spatial.items() if (self.spatial_axis or {}).get(v, 0) == axis}

    def loop_order(self, indices: Sequence[str]) -> list[str]:
        """All indices, outer to inner: the listed order first, then the rest in ``indices`` order."""
        listed = [v for v in self.order if v in indices]
        return listed + [v for v in indices if v not in listed]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target}
        if self.temporal:
            out["temporal"] = dict(self.temporal)
        if self.order:
            out["order"] = list(self.order)
        if self.spatial and self.spatial_axis is None:
            out["spatial"] = dict(self.spatial)
        elif self.spatial:
            n_axes = max(self.spatial_axis.get(v, 0) for v in self.spatial) + 1
            out["spatial"] = [self.spatial_on(a) for a in range(n_axes)]
        if self.keep is not None:
            out["keep"] = list(self.keep)
        return out


@dataclass(frozen=True)
class Mapping(PlainData):
    einsum: str
    unit: str
    levels: tuple[LevelMapping, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for lv in self.levels:
            if lv.target in seen:
                raise EinsimError(f"mapping of {self.einsum} lists level {lv.target} twice; give each storage level "
                                  "once (its temporal, spatial and keep entries together)")
            seen.add(lv.target)

    def level(self, target: str) -> LevelMapping:
        for lv in self.levels:
            if lv.target == target:
                return lv
        raise EinsimError(f"mapping has no level {target!r}" + did_you_mean(target, [lv.target for lv in self.levels]))

    def to_dict(self) -> dict[str, Any]:
        return {"einsum": self.einsum, "unit": self.unit, "levels": [lv.to_dict() for lv in self.levels]}

    @classmethod
    def from_dict(cls, data: Any, where: str = "mapping") -> "Mapping":
        check_keys(data, _TOP_KEYS, _TOP_KEYS, where, "a mapping is a YAML/JSON object with einsum, unit and levels")
        if not isinstance(data["levels"], list) or not data["levels"]:
            raise EinsimError(f"{where}.levels: a non-empty list of levels, outermost first")
        levels = tuple(_level_from_dict(lv, f"{where}.levels[{i}]") for i, lv in enumerate(data["levels"]))
        return cls(str(data["einsum"]), str(data["unit"]), levels)


def _factors(value: Any, where: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EinsimError(f"{where}: factors are an object of index: whole number")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise EinsimError(f"{where}.{k}: a factor is a positive whole number, got {v!r}")
        out[str(k)] = v
    return out


def _level_from_dict(data: Any, where: str) -> LevelMapping:
    check_keys(data, _LEVEL_KEYS, ("target",), where, "a level is an object with target, temporal, order, spatial, keep")
    order = data.get("order") or []
    keep = data.get("keep")
    if not isinstance(order, list) or (keep is not None and not isinstance(keep, list)):
        raise EinsimError(f"{where}: order and keep are lists of names")
    spatial, axis = _spatial(data.get("spatial"), f"{where}.spatial")
    return LevelMapping(
        target=str(data["target"]),
        temporal=_factors(data.get("temporal"), f"{where}.temporal"),
        order=tuple(str(v) for v in order),
        spatial=spatial,
        keep=None if keep is None else tuple(str(t) for t in keep),
        spatial_axis=axis,
    )


def _spatial(value: Any, where: str) -> tuple[dict[str, int], dict[str, int] | None]:
    """``{index: factor}`` (no axes stated) or a list with one such object per array axis."""
    if not isinstance(value, list):
        return _factors(value, where), None
    spatial: dict[str, int] = {}
    axis: dict[str, int] = {}
    for a, per_axis in enumerate(value):
        for v, f in _factors(per_axis, f"{where}[{a}]").items():
            if v in spatial:
                raise EinsimError(f"{where}: index {v} is spread along axes {axis[v]} and {a}; give it one axis")
            spatial[v], axis[v] = f, a
    return spatial, axis


def validate_factors(mapping: Mapping, sizes: TMapping[str, int], tensors: Sequence[str]) -> None:
    """Factors multiply to each index's size; names are indices and tensors of the Einsum."""
    product = {v: 1 for v in sizes}
    for lv in mapping.levels:
        for kind, table in (("temporal", lv.temporal), ("spatial", lv.spatial)):
            for v, f in table.items():
                if v not in sizes:
                    raise EinsimError(
                        f"mapping of {mapping.einsum}, level {lv.target}: {kind} factor for unknown index {v!r}"
                        + did_you_mean(v, sizes)
                    )
                product[v] *= f
        for v in lv.order:
            if v not in sizes:
                raise EinsimError(f"mapping of {mapping.einsum}, level {lv.target}: order names unknown index {v!r}" + did_you_mean(v, sizes))
        if len(set(lv.order)) != len(lv.order):
            raise EinsimError(f"mapping of {mapping.einsum}, level {lv.target}: order repeats an index")
        for t in lv.keep or ():
            if t not in tensors:
                raise EinsimError(f"mapping of {mapping.einsum}, level {lv.target}: keeps unknown tensor {t!r}" + did_you_mean(t, tensors))
    for v, n in sizes.items():
        if product[v] != n:
            raise EinsimError(
                f"mapping of {mapping.einsum}: the factors of index {v} multiply to {product[v]}, but its size is {n}"
            )
