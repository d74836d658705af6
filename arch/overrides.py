"""``--set Component.field=value`` overrides, applied to the YAML data before validation.

A path starts with a component name (``GlobalBuffer.capacity_B``) or a top-level field
(``clock_Hz``); deeper segments are field names, mapping keys or list indices
(``Array2D.ops.mac.energy_pJ``, ``Flash.read_throughput.0.throughput_Bps``). Values are read as
YAML scalars or flow collections (``[128,128]``, ``8MiB``), never evaluated.
"""

from __future__ import annotations

import copy
import difflib
import re
import typing
from typing import Any, Iterable, Mapping

from pydantic import BaseModel

from einsim.arch.architecture import Architecture
from einsim.arch.fields import unwrap, child_type, field_name, model_at, scaled_spellings, yaml_keys
from einsim.errors import EinsimError, Location
from einsim.yamlsrc import load_plain


_SEXAGESIMAL = re.compile(r"\s*[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?\s*")


def parse_override(text: str, flag: str = "--set", example: str = "GlobalBuffer.capacity_B=8MiB") -> tuple[str, Any]:
    """Split 'PATH=VALUE' and read VALUE as safe YAML (strings stay strings). A value YAML 1.1
    would read as a base-60 number (``8:16`` as 496) stays the text typed: on a command line an
    N:M pattern or a time is meant, never a sexagesimal number."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        what = "PATH" if flag == "--set" else "NAME"
        raise EinsimError(f"{flag} {text!r} is not {what}=VALUE (e.g. {example})")
    if _SEXAGESIMAL.fullmatch(raw):
        return path.strip(), raw.strip()
    try:
        value = load_plain(raw, f"{flag} {path.strip()}") if raw.strip() else ""
    except EinsimError:
        value = raw
    return path.strip(), value


def apply_overrides(
    data: dict, overrides: Iterable[str] | Mapping[str, Any]
) -> tuple[dict, dict[tuple, str]]:
    """Return (a copy of ``data`` with the overrides set, {yaml path: override text})."""
    pairs = (
        [(k, v, f"{k}={v}") for k, v in overrides.items()]
        if isinstance(overrides, Mapping)
        else [(*parse_override(t), t) for t in overrides]
    )
    data = copy.deepcopy(data)
    origins: dict[tuple, str] = {}
    for dotted, value, text in pairs:
        path = resolve_path(data, dotted)
        node = data
        for seg in path[:-1]:
            node = node.setdefault(seg, {}) if isinstance(node, dict) else node[seg]
        model = model_at(Architecture, data, path[:-1])
        if model is not None and isinstance(node, dict):
            name = field_name(model, path[-1])
            for k in [k for k in node if k != path[-1] and field_name(model, k) == name]:
                del node[k]  # the same field written in another unit spelling
        node[path[-1]] = value
        origins[path] = text
    return data, origins


def resolve_path(data: dict, dotted: str) -> tuple:
    """YAML path for a dotted override path; an unknown path lists the nearest valid ones."""
    segs: list[Any] = [int(s) if s.isdigit() else s for s in dotted.split(".")]
    comps = data.get("components")
    if isinstance(comps, dict) and segs[0] in comps:
        if len(segs) == 1:
            _unknown(dotted, data, "name a field of the component, e.g. " + _example(data, segs[0]))
        segs.insert(0, "components")
    tp: Any = Architecture
    node: Any = data
    for i, seg in enumerate(segs):
        nxt = child_type(tp, seg, node)
        last = i == len(segs) - 1
        if isinstance(node, list):
            ok = isinstance(seg, int) and 0 <= seg < len(node)
            node = node[seg] if ok else None
        else:
            is_model = isinstance(unwrap(tp), type) and issubclass(unwrap(tp), BaseModel)
            # a new mapping entry (a new op, a new partition) may only be the last segment
            ok = (nxt is not None and (is_model or last)) or (isinstance(node, dict) and seg in node)
            node = _existing(tp, node, seg)
        if not ok:
            _unknown(dotted, data)
        tp = nxt
    return tuple(segs)


def _existing(tp: Any, node: Any, seg: Any) -> Any:
    """The value under ``seg`` in a YAML mapping, whichever unit spelling the file used."""
    if not isinstance(node, dict):
        return None
    if seg in node:
        return node[seg]
    model = unwrap(tp)
    if isinstance(model, type) and issubclass(model, BaseModel):
        name = field_name(model, seg)
        for k, v in node.items():
            if name is not None and field_name(model, k) == name:
                return v
    return None


def valid_paths(data: dict) -> list[str]:
    """Every settable dotted path of the spec in ``data`` (fields and existing entries)."""
    out = [k for k in yaml_keys(Architecture) if k not in ("components", "sources")]
    comps = data.get("components") if isinstance(data.get("components"), dict) else {}
    for name, comp in comps.items():
        model = model_at(Architecture, data, ("components", name))
        if model is not None:
            out += _paths_under(model, comp, str(name))
    return out


def _paths_under(model: type[BaseModel], node: Any, prefix: str) -> list[str]:
    out = []
    for key in yaml_keys(model):
        if key == "kind":
            continue
        out.append(f"{prefix}.{key}")
        out += [f"{prefix}.{s}" for s in scaled_spellings(key)]
        value = node.get(key) if isinstance(node, dict) else None
        inner = unwrap(model.model_fields[key].annotation)
        if isinstance(value, dict) and typing.get_origin(inner) is dict:
            elem = unwrap(typing.get_args(inner)[-1])
            for k, v in value.items():
                out.append(f"{prefix}.{key}.{k}")
                if isinstance(elem, type) and issubclass(elem, BaseModel):
                    out += _paths_under(elem, v, f"{prefix}.{key}.{k}")
        elif isinstance(value, list) and typing.get_origin(inner) is list:
            elem = unwrap(typing.get_args(inner)[0])
            for i, v in enumerate(value):
                if isinstance(elem, type) and issubclass(elem, BaseModel):
                    out += _paths_under(elem, v, f"{prefix}.{key}.{i}")
    return out


def _example(data: dict, comp: str) -> str:
    paths = [p for p in valid_paths(data) if p.startswith(comp + ".")]
    return paths[0] if paths else comp + ".FIELD"


def _unknown(dotted: str, data: dict, hint: str = "") -> typing.NoReturn:
    valid = valid_paths(data)
    near = difflib.get_close_matches(dotted, valid, n=5, cutoff=0.5)
    if not near:
        head = dotted.split(".")[0]
        near = [p for p in valid if p.split(".")[0] == head][:8] or sorted(
            {p.split(".")[0] for p in valid}
        )[:12]
    msg = f"unknown override path {dotted!r}" + (f": {hint}" if hint else "")
    raise EinsimError(f"{msg} (nearest valid paths: {', '.join(near)})", Location("--set"))
