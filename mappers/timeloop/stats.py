"""Timeloop's reported outputs (``*.stats.txt``): per-level access counts, cycles, computes, energy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from einsim.errors import EinsimError


@dataclass
class TimeloopStats:
    """What a Timeloop ``*.stats.txt`` reports: totals over the utilized instances."""

    cycles: int
    computes: int
    counts: dict[str, dict[str, dict[str, int]]]  # level -> data space -> {reads, fills, updates}
    energy_fJ_per_compute: dict[str, float]  # component -> fJ per compute, and "Total"


def read_stats(path: Path) -> TimeloopStats:
    """Parse the per-level access counts, cycles and energy of a Timeloop stats file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EinsimError(f"{path}: cannot read a Timeloop stats file ({exc})") from None
    counts: dict[str, dict[str, dict[str, int]]] = {}
    head, _, summary = text.partition("Summary Stats")
    parts = re.split(r"^=== (\S+) ===$", head, flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2]):
        spaces = re.split(r"^    (\w+):$", body, flags=re.M)
        for ds, ds_body in zip(spaces[1::2], spaces[2::2]):
            def grab(label: str) -> int:
                m = re.search(rf"{label}\s*:\s*([\d.]+)", ds_body)
                return int(float(m.group(1))) if m else 0
            inst = grab(r"Utilized instances \(max\)")
            counts.setdefault(name, {})[ds] = {
                "reads": grab(r"Scalar reads \(per-instance\)") * inst,
                "fills": grab(r"Scalar fills \(per-instance\)") * inst,
                "updates": grab(r"Scalar updates \(per-instance\)") * inst,
            }
    cycles = re.search(r"^Cycles: (\d+)", summary, flags=re.M)
    computes = re.search(r"^Computes = (\d+)", summary, flags=re.M)
    if not cycles or not computes:
        raise EinsimError(f"{path}: no 'Summary Stats' with Cycles and Computes (not a Timeloop stats file)")
    scale = 1000.0 if re.search(r"^pJ/Compute", summary, flags=re.M) else 1.0
    energy = {m.group(1): float(m.group(2)) * scale
              for m in re.finditer(r"^\s+(\S+)\s+= ([\d.]+)$", summary, flags=re.M)}
    return TimeloopStats(int(cycles.group(1)), int(computes.group(1)), counts, energy)
