"""The one quantity parser and display helper: '16 MiB', '400 GB/s', '940 MHz' <-> SI floats.

``format_quantity`` writes a value back in a form ``parse_quantity`` reads; ``reader_unit`` and
``format_reader`` show results in the units a reader expects (µs, mJ, mm², GB/s) in reports.

Each dimension has a base SI unit; decimal prefixes (k, M, G, T) are powers of 1000 and binary
prefixes (Ki, Mi, Gi, Ti) powers of 1024, exactly. 'KB' is refused as ambiguous.
"""

from __future__ import annotations

import math
import re
from typing import Iterable

# dimension name -> (base unit spelled in messages, human description, example)
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "B": ("B", "bytes", "16 MiB"),
    "B/s": ("B/s", "a bandwidth", "400 GB/s"),
    "Hz": ("Hz", "a frequency", "940 MHz"),
    "s": ("s", "a time", "1.0638 ns"),
    "J": ("J", "an energy", "17.16 pJ"),
    "W": ("W", "a power", "45 W"),
    "m^2": ("m^2", "an area", "0.5 mm^2"),
    "op/s": ("OP/s", "a throughput in operations per second", "312 TFLOP/s"),
    "1/s": ("/s", "a rate", "2e12 /s"),
    "1": ("", "a plain number", "0.7"),
}

_DECIMAL = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}
_SMALL = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}


def _unit_table() -> dict[str, tuple[str, float]]:
    table: dict[str, tuple[str, float]] = {}
    for p, f in {**_DECIMAL, **_BINARY}.items():
        table[f"{p}B"] = ("B", f)
        table[f"{p}B/s"] = ("B/s", f)
        table[f"{p}Bps"] = ("B/s", f)
    for p, f in _DECIMAL.items():
        table[f"{p}Hz"] = ("Hz", f)
        table[f"{p}W"] = ("W", f)
        for op in ("op/s", "OP/s", "OPS", "FLOP/s", "FLOPS"):
            table[f"{p}{op}"] = ("op/s", f)
    for p, f in _SMALL.items():
        table[f"{p}s"] = ("s", f)
        table[f"{p}J"] = ("J", f)
        table[f"{p}W"] = ("W", f)
    for name, f in {"m": 1.0, "cm": 1e-2, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "nm": 1e-9}.items():
        table[f"{name}^2"] = ("m^2", f * f)
        table[f"{name}2"] = ("m^2", f * f)
    for p, f in _DECIMAL.items():
        table[f"{p}/s"] = ("1/s", f)
    table["kB"] = ("B", 1e3)
    table["%"] = ("1", 0.01)
    return table


_UNITS = _unit_table()
_AMBIGUOUS = {"KB": "kB (1000 B) or KiB (1024 B)", "KB/s": "kB/s or KiB/s", "Kb": "kB or KiB"}
_NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\s\d].*?)?\s*$")


class UnitError(ValueError):
    """A quantity that does not parse, or parses to the wrong dimension (message is user-facing)."""


def parse_quantity(value: object, dimension: str, scale: float = 1.0) -> float:
    """Parse ``value`` as a quantity of ``dimension`` (a key of DIMENSIONS) and return SI.

    A plain number is taken in the key's unit: it is multiplied by ``scale`` (e.g. 1e-12 for a
    ``*_pJ`` key). A string carries its own unit, which must belong to ``dimension``.
    """
    if dimension not in DIMENSIONS:
        raise KeyError(dimension)
    if isinstance(value, bool):
        raise UnitError(f"expected {_describe(dimension)}, got a boolean")
    if isinstance(value, (int, float)):
        return _finite(_to_float(value) * scale, value, dimension)
    if not isinstance(value, str):
        raise UnitError(f"expected {_describe(dimension)}, got {type(value).__name__}")
    m = _NUMBER.match(value)
    if not m:
        raise UnitError(f"cannot read {value!r} as {_describe(dimension)}")
    number, unit = float(m.group(1)), (m.group(2) or "").strip()
    if not unit:
        return _finite(number * scale, value, dimension)
    if unit in _AMBIGUOUS:
        raise UnitError(f"unit {unit!r} in {value!r} is ambiguous: write {_AMBIGUOUS[unit]}")
    if unit not in _UNITS:
        raise UnitError(f"unknown unit {unit!r} in {value!r}; expected {_describe(dimension)}")
    dim, factor = _UNITS[unit]
    if dim != dimension:
        raise UnitError(
            f"{value!r} is {DIMENSIONS[dim][1]} but {_describe(dimension)} is expected"
        )
    return _finite(number * factor, value, dimension)


def _to_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        return math.inf if value > 0 else -math.inf


def _finite(si: float, written: object, dimension: str) -> float:
    """``si`` if it is a finite number; infinities and NaN (also from overflow: 1e400 B) are refused."""
    if not math.isfinite(si):
        if isinstance(written, int):
            shown = f"a {len(str(abs(written)))}-digit number"
        else:
            shown = str(written)
        raise UnitError(f"{shown} is not a finite quantity; expected {_describe(dimension)} within the float range")
    return si


def _describe(dimension: str) -> str:
    base, what, example = DIMENSIONS[dimension]
    return f"{what} (e.g. {example!r})" if base else what


def format_quantity(value: float, dimension: str) -> str:
    """Human display of an SI value: binary prefixes for exact power-of-two byte sizes."""
    base = DIMENSIONS[dimension][0]
    if dimension == "1" or value == 0 or not math.isfinite(value):
        return f"{value:g}" + (f" {base}" if base and value == 0 else "")
    if dimension in ("B", "B/s"):
        for prefix, f in reversed(list(_BINARY.items())):
            q = value / f
            if f <= abs(value) < 1024 * f and q == round(q, 3):
                return f"{_num(q)} {prefix}{base}"
        return _decimal(value, base, _DECIMAL)
    if dimension == "m^2":  # every area in mm^2, a MAC datapath (0.001545 mm^2) as a chip (400.9 mm^2)
        return f"{_num(value / 1e-6)} mm^2"
    if dimension in ("s", "J") or abs(value) < 1:
        return _decimal(value, base, {**_DECIMAL, **_SMALL})
    return _decimal(value, base, _DECIMAL)


def format_area_per_bit(value_m2: float) -> str:
    """An area per stored bit (a density, not an area): um^2/bit, as memory cells are quoted."""
    return f"{_num(value_m2 / 1e-12)} um^2/bit"


# the units a reader of a report expects, per dimension, smallest first (µs, mJ, mm², GB/s)
_READER_UNITS: dict[str, tuple[tuple[str, float], ...]] = {
    "s": (("ps", 1e-12), ("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)),
    "J": (("fJ", 1e-15), ("pJ", 1e-12), ("nJ", 1e-9), ("µJ", 1e-6), ("mJ", 1e-3), ("J", 1.0), ("kJ", 1e3)),
    "J*s": (("fJ·s", 1e-15), ("pJ·s", 1e-12), ("nJ·s", 1e-9), ("µJ·s", 1e-6), ("mJ·s", 1e-3), ("J·s", 1.0)),
    "m^2": (("mm²", 1e-6),),  # chip areas: always mm², however small or large
    "B": (("B", 1.0), ("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12)),
    "B/s": (("B/s", 1.0), ("kB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12)),
    "Hz": (("Hz", 1.0), ("kHz", 1e3), ("MHz", 1e6), ("GHz", 1e9)),
    "W": (("µW", 1e-6), ("mW", 1e-3), ("W", 1.0), ("kW", 1e3)),
    "1": (("", 1.0),),
}


def reader_unit(values: Iterable[float], dimension: str) -> tuple[str, float]:
    """``(unit, its size in SI)`` for showing ``values`` in one unit a reader expects (a table
    column, a plot axis): the largest unit not above the median magnitude ('µs', 'mm²', 'GB/s')."""
    units = _READER_UNITS[dimension]
    magnitudes = sorted(abs(v) for v in values if v and math.isfinite(v))
    if not magnitudes:
        return units[_unit_one(units)]
    typical = magnitudes[len(magnitudes) // 2]
    best = units[0]
    for unit in units:
        if typical >= unit[1] * (1 - 1e-9):
            best = unit
    return best


def _unit_one(units: tuple[tuple[str, float], ...]) -> int:
    return next((i for i, (_, f) in enumerate(units) if f == 1.0), len(units) - 1)


def format_reader(value: float, dimension: str, unit: tuple[str, float] | None = None) -> str:
    """``value`` (SI) in the unit a reader expects, or in ``unit`` from ``reader_unit``: '12.3 µs'."""
    name, size = unit or reader_unit([value], dimension)
    if not math.isfinite(value):
        return f"{value:g}"
    return f"{value / size:.4g} {name}".rstrip()


def _decimal(value: float, base: str, prefixes: dict[str, float]) -> str:
    best = ""
    for prefix, f in sorted(prefixes.items(), key=lambda kv: kv[1]):
        if prefix != "µ" and abs(value) >= f:
            best = prefix
    return f"{_num(value / prefixes[best])} {best}{base}"


def _num(q: float) -> str:
    return f"{q:.6g}"


_KEY_SUFFIXES = (
    ("_Bps", "B/s"),
    ("_B", "B"),
    ("_Hz", "Hz"),
    ("_J", "J"),
    ("_m2", "m^2"),
    ("_W", "W"),
    ("ops_per_s", "op/s"),
    ("_s", "s"),
)


def dimension_of_key(key: str) -> str | None:
    """Dimension a spec key carries by its suffix ('capacity_B' -> 'B'), None if unitless."""
    for suffix, dim in _KEY_SUFFIXES:
        if key.endswith(suffix):
            return dim
    return None
