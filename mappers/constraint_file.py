"""Constraint files (``designs/mappings/*.yaml``): a configuration of the mapspace as data.

A constraint file restricts the whole-cascade mapping of one workload on one design: the unit
each Einsum is bound to, the fusion groups (their shared loops, which make the tiles of the tile
pipeline, and how many tiles of buffer each fused intermediate gets), the level where each
intermediate lives (its home), the DRAM tensors staged in the global buffer, fixed or bounded
factors per level and loop orders. The FuseMax paper's five configurations are bundled
(``fusemax``, ``architecture``, ``cascade``, ``flat``, ``unfused``); ``--constraints NAME`` finds
them through ``einsim.designs.resolve``. Their latency is not written in the file: the tile
pipeline (einsim.sim.tile_dag) derives it from the cascade's dependencies, the bindings and the
buffer rules (docs/fusemax.md).

Every paper number carries a ``source:``. The schema is pydantic with ``extra="forbid"``; a bad
file is one located EinsimError.
"""

from __future__ import annotations

import typing
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from einsim.arch import Architecture
from einsim.designs import resolve
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Einsum
from einsim.errors import EinsimError, Location, did_you_mean
from einsim.yamlsrc import YamlSource, load_plain, load_yaml_file, read_text_file


MAX_SLOTS = 64  # the deepest buffer ``slots: fit`` gives a fused intermediate


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactorRule(_Spec):
    """A fixed or bounded temporal factor of one index at one level."""

    level: str
    index: str
    fixed: int | None = Field(default=None, ge=1)
    max: int | None = Field(default=None, ge=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one(self) -> "FactorRule":
        if (self.fixed is None) == (self.max is None):
            raise ValueError("give exactly one of fixed: or max:")
        return self


class LoopRef(_Spec):
    """A shared loop of a fusion group: ``index`` at ``level`` (no index: every loop of the level)."""

    level: str
    index: str | None = None


class GroupRule(_Spec):
    """Einsums fused under shared loops; every intermediate between them is ``slots`` tiles deep
    (1: one tile finishes before the next starts; 2: double buffering; more: deeper software
    pipelining; ``fit``: as many as its home holds), as far as its home's capacity allows."""

    einsums: list[str] = Field(min_length=1)
    loops: list[LoopRef] = Field(min_length=1)
    slots: int | Literal["fit"] = Field(union_mode="left_to_right")
    source: str = Field(min_length=1)

    @field_validator("slots", mode="before")
    @classmethod
    def _slots(cls, v: Any) -> Any:
        if v != "fit" and (isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SLOTS):
            raise ValueError(f"a whole number from 1 to {MAX_SLOTS}, or fit")
        return v

    @property
    def max_slots(self) -> int:
        return MAX_SLOTS if self.slots == "fit" else int(self.slots)


class ConstraintFile(_Spec):
    name: str = Field(min_length=1)
    label: str = Field(min_length=1)
    source: str = Field(min_length=1)
    arch: str = Field(min_length=1)  # bundled design (designs/arch) the configuration is defined on
    workload: str = Field(min_length=1)  # bundled cascade
    tiling: Literal["fused", "flat", "unfused"]  # the family of loop plans its factors fill
    bindings: dict[str, str]  # Einsum -> compute unit
    homes: dict[str, str] = Field(default_factory=dict)  # intermediate -> level it lives at
    staged: list[str] = Field(default_factory=list)  # DRAM tensors staged in the global buffer
    extra_ops: dict[str, dict[str, int]] = Field(default_factory=dict)  # op -> ops issued beside it
    factors: list[FactorRule] = Field(default_factory=list)
    loop_orders: dict[str, list[str]] = Field(default_factory=dict)  # level -> indices, outer to inner
    fusion: list[GroupRule] = Field(min_length=1)
    staging: int = Field(default=2, ge=1, le=8)  # tiles of staging buffer for DRAM transfers
    _source: YamlSource | None = PrivateAttr(default=None)  # where it was read, for located errors

    @model_validator(mode="after")
    def _groups(self) -> "ConstraintFile":
        seen: set[str] = set()
        for g in self.fusion:
            for e in g.einsums:
                if e in seen:
                    raise ValueError(f"Einsum {e} is in two fusion groups")
                if e not in self.bindings:
                    raise ValueError(f"fusion names Einsum {e}, which has no binding"
                                     + did_you_mean(e, list(self.bindings)))
                seen.add(e)
        unplaced = [e for e in self.bindings if e not in seen]
        if unplaced:
            raise ValueError(f"Einsum(s) {', '.join(unplaced)} are in no fusion group (a group of one runs alone)")
        return self

    def where(self, *path: Any) -> Location | None:
        """The file position of the value at ``path`` (None for a file built in code)."""
        return self._source.where(*path) if self._source is not None else None

    def unit_of(self, einsum: str) -> str:
        return self.bindings[einsum]

    def factor(self, level: str, index: str) -> FactorRule | None:
        return next((f for f in self.factors if f.level == level and f.index == index), None)

    def group_of(self, einsum: str) -> GroupRule:
        return next(g for g in self.fusion if einsum in g.einsums)


def check_against(spec: ConstraintFile, einsums: dict[str, Einsum], arch: Architecture, where: str) -> None:
    """The bindings name every Einsum of the cascade, and only units of ``arch`` that run them;
    homes and staged tensors name tensors of the cascade and levels of ``arch`` (located errors)."""
    missing = [n for n in einsums if n not in spec.bindings]
    if missing:
        raise EinsimError(f"{where}: bindings leave Einsum(s) {', '.join(missing)} of {spec.workload} unbound",
                          spec.where("bindings"))
    units = [u.name for u in arch.compute_units()]
    for name, unit in spec.bindings.items():
        at = spec.where("bindings", name)
        if name not in einsums:
            raise EinsimError(f"{where}: bindings name Einsum {name!r}, which {spec.workload} does not have"
                              + did_you_mean(name, list(einsums)), at)
        if unit not in units:
            raise EinsimError(f"{where}: bindings.{name}: unknown unit {unit!r}" + did_you_mean(unit, units), at)
        lacking = [op for op in ops_per_point(einsums[name]) if op not in arch.compute_unit(unit).ops]
        if lacking:
            raise EinsimError(f"{where}: bindings.{name}: unit {unit} has no op {', '.join(lacking)}", at)
    tensors = sorted({t for e in einsums.values() for t in (e.output, *e.inputs)})
    levels = sorted(arch.components)
    for tensor, level in spec.homes.items():
        if tensor not in tensors:
            raise EinsimError(f"{where}: homes names tensor {tensor!r}, which {spec.workload} does not have"
                              + did_you_mean(tensor, tensors), spec.where("homes", tensor))
        if level not in levels:
            raise EinsimError(f"{where}: homes.{tensor}: unknown level {level!r}" + did_you_mean(level, levels),
                              spec.where("homes", tensor))
    for i, tensor in enumerate(spec.staged):
        if tensor not in tensors:
            raise EinsimError(f"{where}: staged names tensor {tensor!r}, which {spec.workload} does not have"
                              + did_you_mean(tensor, tensors), spec.where("staged", i))


def is_constraint_file(path: str | Path) -> bool:
    """Whether the YAML file at ``path`` is a constraint file (it has bindings: and fusion:)."""
    data = load_plain(read_text_file(path), str(path))
    return isinstance(data, dict) and "bindings" in data and "fusion" in data


def bundled_name(file: str) -> str:
    """``fusemax.yaml`` -> ``fusemax``: the bundled name of a design or workload a file names."""
    return file.removesuffix(".yaml")


def load_constraints(name: str | Path) -> ConstraintFile:
    """A constraint file by path or bundled name (``fusemax``), checked; EinsimError located in the file."""
    return _load(str(resolve(name, "mappings")))


@lru_cache(maxsize=32)
def _load(path: str) -> ConstraintFile:
    src = load_yaml_file(path)
    if not isinstance(src.data, dict):
        raise EinsimError("a constraint file is a mapping with name:, arch:, workload:, bindings: and fusion:",
                          src.where())
    try:
        spec = ConstraintFile.model_validate(src.data)
    except ValidationError as exc:
        raise _located(exc, src) from None
    spec._source = src
    return spec


def _located(exc: ValidationError, src: YamlSource) -> EinsimError:
    err = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        return EinsimError(f"unknown key {loc[-1]!r}" + did_you_mean(str(loc[-1]), _fields_at(loc[:-1])),
                           src.key_where(*loc))
    if err["type"] == "missing":
        return EinsimError(f"{'.'.join(map(str, loc[:-1])) or 'the file'}: missing {loc[-1]!r}", src.where(*loc[:-1]))
    message = f"{'.'.join(map(str, loc)) or 'the file'}: {err['msg'].removeprefix('Value error, ')}"
    if not isinstance(err.get("input"), (dict, list)):
        message += f" (got {err['input']!r})"
    return EinsimError(message, src.where(*loc))


def _fields_at(path: tuple) -> list[str]:
    model: Any = ConstraintFile
    for key in path:
        if isinstance(key, int):
            continue
        field = model.model_fields.get(key)
        if field is None:
            return []
        ann = field.annotation
        args = [a for a in typing.get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = args[0] if args else ann
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return list(model.model_fields)
