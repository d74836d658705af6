"""Helpers shared by the subcommands: --set parsing and JSON/text output."""

from __future__ import annotations

import sys
from typing import Any

from einsim import jsonout
from einsim.errors import EinsimError


def parse_sets(items: list[str] | None) -> dict[str, str]:
    """``["M=1024", "Buf.capacity_B=8MiB"]`` -> ``{"M": "1024", ...}``; values stay text."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise EinsimError(f"--set expects NAME=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def print_json(obj: Any) -> None:
    jsonout.dump(obj, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain left-aligned text table."""
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)
