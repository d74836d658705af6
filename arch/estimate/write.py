"""Write estimated numbers into a spec YAML, keeping its comments and layout.

Each number replaces the component's line for that field (whatever unit suffix it used) or is
inserted before the component's ``source:``; its provenance goes into ``sources:``.
"""

from __future__ import annotations

import re
from pathlib import Path

from einsim.arch.spec import si_key

DISPLAY = {"_J": ("_pJ", 1e12), "_m2": ("_um2", 1e12), "_W": ("_W", 1.0)}


def _yaml_key(field: str) -> tuple[str, float]:
    for suffix, (shown, scale) in DISPLAY.items():
        if field.endswith(suffix):
            return field[: -len(suffix)] + shown, scale
    return field, 1.0


def _si_name(key: str) -> str:
    scaled = si_key(key)
    return scaled[0] if scaled else key


def _block(lines: list[str], component: str) -> tuple[int, int]:
    start = next(i for i, line in enumerate(lines) if line.rstrip() == f"  {component}:")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith("    ")):
        end += 1
    while lines[end - 1].strip() == "":
        end -= 1
    return start, end


def _set(lines: list[str], component: str, field: str, value_text: str, source: str) -> None:
    start, end = _block(lines, component)
    key, _ = _yaml_key(field)
    pattern = re.compile(r"^    ([A-Za-z_0-9]+):")
    for i in range(start + 1, end):
        m = pattern.match(lines[i])
        if m and _si_name(m.group(1)) == field:
            lines[i] = f"    {key}: {value_text}\n"
            break
    else:
        at = next((i for i in range(start + 1, end) if lines[i].startswith("    source:")), end)
        lines.insert(at, f"    {key}: {value_text}\n")
    start, end = _block(lines, component)
    quoted = '"' + source.replace("\\", "\\\\").replace('"', "'") + '"'
    sources = next((i for i in range(start + 1, end) if lines[i].rstrip() == "    sources:"), None)
    if sources is None:
        lines.insert(end, "    sources:\n")
        lines.insert(end + 1, f"      {field}: {quoted}\n")
        return
    i = sources + 1
    while i < end and lines[i].startswith("      "):
        if lines[i].startswith(f"      {field}:"):
            lines[i] = f"      {field}: {quoted}\n"
            return
        i += 1
    lines.insert(i, f"      {field}: {quoted}\n")


REPLACES = {"area_per_bit_m2": "area_m2"}  # a per-bit area replaces a fixed per-instance one


def _drop(lines: list[str], component: str, field: str) -> None:
    start, end = _block(lines, component)
    pattern = re.compile(r"^    ([A-Za-z_0-9]+):|^      ([A-Za-z_0-9]+):")
    keep = []
    for i, line in enumerate(lines):
        m = pattern.match(line) if start < i < end else None
        if m and _si_name(m.group(1) or m.group(2)) == field:
            continue
        keep.append(line)
    lines[:] = keep


def write_values(path: str | Path, values: list) -> None:
    """Write ``Estimated`` values into the YAML file at ``path``."""
    p = Path(path)
    lines = p.read_text().splitlines(keepends=True)
    for v in values:
        if v.field in REPLACES:
            _drop(lines, v.component, REPLACES[v.field])
        _, scale = _yaml_key(v.field)
        _set(lines, v.component, v.field, f"{v.value * scale:.6g}", v.source)
    p.write_text("".join(lines))
