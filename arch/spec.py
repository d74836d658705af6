"""Base of the spec models: quantity types, unit-suffixed keys, sources, the Component base.

YAML keys carry their unit (``clock_Hz``, ``capacity_B``, ``bandwidth_Bps``) and also accept quantity
strings (``940 MHz``). Energies and areas are stored as ``*_J`` / ``*_m2``; the YAML may write them
as ``*_pJ`` / ``*_um2`` / ``*_mm2`` (plain numbers in that unit). Every component has a ``source``
and may override it per field with ``sources: {field: "..."}``; sub-entries (ops, table rows) may
carry their own ``source``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from einsim.arch.units import UnitError, parse_quantity
from einsim.errors import did_you_mean


class ReferenceProblem(ValueError):
    """A name that points nowhere; ``path`` is its YAML path (absolute when it starts with
    'components', else relative to the model that raised it)."""

    def __init__(self, message: str, path: tuple):
        super().__init__(message)
        self.path = path


class _Scaled:
    """A YAML value written under a scaled key (``*_pJ``): plain numbers get ``scale``."""

    def __init__(self, value: Any, scale: float):
        self.value, self.scale = value, scale


def _quantity(dimension: str):
    def parse(value: Any) -> float:
        if isinstance(value, _Scaled):
            return parse_quantity(value.value, dimension, value.scale)
        try:
            return parse_quantity(value, dimension)
        except UnitError as exc:
            raise ValueError(str(exc)) from None

    return BeforeValidator(parse)


Bytes = Annotated[float, _quantity("B"), Field(ge=0)]
Capacity = Annotated[float, _quantity("B"), Field(gt=0)]  # a store of 0 B holds nothing
Bandwidth = Annotated[float, _quantity("B/s"), Field(gt=0)]
Frequency = Annotated[float, _quantity("Hz"), Field(gt=0)]
Energy = Annotated[float, _quantity("J"), Field(ge=0)]
Area = Annotated[float, _quantity("m^2"), Field(ge=0)]
Power = Annotated[float, _quantity("W"), Field(ge=0)]
OpsPerSecond = Annotated[float, _quantity("op/s"), Field(gt=0)]
Fraction = Annotated[float, _quantity("1"), Field(gt=0, le=1)]

# YAML key suffix -> (SI suffix of the model field, scale of a plain number)
SCALED_SUFFIXES: dict[str, tuple[str, float]] = {
    "_pJ": ("_J", 1e-12),
    "_nJ": ("_J", 1e-9),
    "_um2": ("_m2", 1e-12),
    "_mm2": ("_m2", 1e-6),
}


def si_key(key: str) -> tuple[str, float] | None:
    """('read_energy_J', 1e-12) for 'read_energy_pJ'; None when ``key`` has no scaled suffix."""
    for suffix, (si, scale) in SCALED_SUFFIXES.items():
        if key.endswith(suffix):
            return key[: -len(suffix)] + si, scale
    return None


class Spec(BaseModel):
    """Base: unknown keys are errors; scaled keys (``*_pJ``) are renamed to their SI field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _rename_scaled_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            alt = si_key(key) if isinstance(key, str) and key not in cls.model_fields else None
            if alt and alt[0] in cls.model_fields:
                if alt[0] in data:
                    raise ValueError(f"both {key!r} and {alt[0]!r} are given; keep one")
                out[alt[0]] = None if value is None else _Scaled(value, alt[1])
            else:
                out[key] = value
        return out


class Sourced(Spec):
    """A spec with a default ``source`` and optional per-field ``sources``."""

    source: str | None = None
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sources_name_fields(self) -> "Sourced":
        fields = [f for f in type(self).model_fields if f != "sources"]
        for key in self.sources:
            if key not in fields:
                raise ReferenceProblem(
                    f"sources names unknown field {key!r}" + did_you_mean(key, fields),
                    ("sources", key),
                )
        return self

    def source_of(self, field: str) -> str | None:
        """Where the number in ``field`` comes from (per-field override, else the default)."""
        return self.sources.get(field, self.source)


class Component(Sourced):
    """Common fields: parent in the tree (``inside``), per-instance area, free description."""

    inside: str | None = None
    description: str = ""
    area_m2: Area | None = None

    _name: str = PrivateAttr(default="")

    on_chip: ClassVar[bool] = True

    @property
    def name(self) -> str:
        return self._name
