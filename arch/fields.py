"""Walk the spec models along a YAML path: which model sits there and which keys it accepts."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from einsim.arch.kinds import COMPONENT_KINDS
from einsim.arch.spec import SCALED_SUFFIXES, si_key


def yaml_keys(model: type[BaseModel]) -> list[str]:
    """Keys a YAML mapping for ``model`` may use (field names; scaled spellings omitted)."""
    return [name for name, f in model.model_fields.items() if not f.exclude]


def field_name(model: type[BaseModel], key: str) -> str | None:
    """The model field a YAML key sets ('read_energy_pJ' -> 'read_energy_J'), or None."""
    if key in model.model_fields:
        return key
    alt = si_key(key)
    return alt[0] if alt and alt[0] in model.model_fields else None


def scaled_spellings(field: str) -> list[str]:
    """Other YAML spellings of an SI field ('energy_J' -> ['energy_pJ', 'energy_nJ'])."""
    out = []
    for suffix, (si, _) in SCALED_SUFFIXES.items():
        if field.endswith(si):
            out.append(field[: -len(si)] + suffix)
    return out


def unwrap(tp: Any) -> Any:
    """Strip Annotated/Optional wrappers."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def child_type(tp: Any, segment: Any, data: Any) -> Any:
    """Type of ``tp``'s child at ``segment``; ``data`` is the YAML value at ``tp`` (for kinds)."""
    tp = unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        name = field_name(tp, segment) if isinstance(segment, str) else None
        return None if name is None else tp.model_fields[name].annotation
    origin = typing.get_origin(tp)
    if origin in (list, dict):
        inner = unwrap(typing.get_args(tp)[-1])
        if typing.get_origin(inner) is typing.Union:  # the component union: pick by kind
            node = data.get(segment) if isinstance(data, dict) else None
            kind = node.get("kind") if isinstance(node, dict) else None
            return COMPONENT_KINDS.get(kind) if isinstance(kind, str) else None
        return inner
    return None


def model_at(root: type[BaseModel], data: Any, path: tuple) -> type[BaseModel] | None:
    """The pydantic model class that validates the YAML node at ``path`` (None if not a model)."""
    tp: Any = root
    for seg in path:
        tp = child_type(tp, seg, data)
        if tp is None:
            return None
        data = _get(data, seg)
    tp = unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _get(data: Any, seg: Any) -> Any:
    if isinstance(data, dict):
        if seg in data:
            return data[seg]
        for key in data:  # a scaled spelling of the SI field
            alt = si_key(key) if isinstance(key, str) else None
            if alt and alt[0] == seg:
                return data[key]
        return None
    if isinstance(data, list) and isinstance(seg, int) and 0 <= seg < len(data):
        return data[seg]
    return None


def yaml_path(data: Any, path: tuple) -> tuple:
    """Map a model path (SI field names) to the keys actually written in the YAML data."""
    out = []
    for seg in path:
        key = seg
        if isinstance(data, dict) and seg not in data:
            for k in data:
                alt = si_key(k) if isinstance(k, str) else None
                if alt and alt[0] == seg:
                    key = k
                    break
        out.append(key)
        data = data.get(key) if isinstance(data, dict) else _get(data, seg)
    return tuple(out)
