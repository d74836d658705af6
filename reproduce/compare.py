"""One published number beside the model's value, and the text table of such rows.

A row is PASS when the model's value is within ``tolerance`` (relative) of the paper's; a row the
model cannot compute yet has ``model_value`` None and names the mechanism it lacks in ``missing``.
A published range [lo, hi] is a row whose ``paper_value`` is its midpoint and whose ``tolerance``
is its half-width over the midpoint (``published_range``), so PASS means inside the range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

TOLERANCE = 0.25  # the default, where the paper states no tighter figure


@dataclass(frozen=True)
class CompareRow:
    paper: str
    figure: str  # where in the paper (table, figure, section)
    metric: str
    config: str  # model, device, policy, budget ... as text
    model_value: float | None
    paper_value: float
    unit: str
    tolerance: float = TOLERANCE
    source: str = ""  # the reference the published value is read from
    missing: str = ""  # why the model misses it (the mechanism it lacks), on a MISS

    def __post_init__(self) -> None:  # plain floats (a numpy scalar would not serialise as JSON)
        if self.model_value is not None:
            object.__setattr__(self, "model_value", float(self.model_value))
        object.__setattr__(self, "paper_value", float(self.paper_value))

    @property
    def ratio(self) -> float | None:
        return None if self.model_value is None else self.model_value / self.paper_value

    @property
    def within(self) -> bool:
        return self.ratio is not None and bool(abs(self.ratio - 1.0) <= self.tolerance + 1e-12)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "within": self.within}


def published_range(lo: float, hi: float) -> tuple[float, float]:
    """(paper_value, tolerance) of a published range: PASS exactly inside [lo, hi]."""
    mid = 0.5 * (lo + hi)
    return mid, (hi - lo) / (hi + lo)


def fraction_within(rows: list[CompareRow]) -> float:
    return sum(r.within for r in rows) / len(rows) if rows else 0.0


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def compare_table(rows: list[CompareRow]) -> str:
    """Text view: one line per published number, then the MISS rows' reasons as numbered notes."""
    header = ["figure", "metric", "config", "model", "paper", "unit", "ratio", "tol", "result"]
    notes: list[str] = []
    cells = []
    for r in rows:
        verdict = "PASS" if r.within else "MISS"
        if not r.within and r.missing:
            if r.missing not in notes:
                notes.append(r.missing)
            verdict += f" [{notes.index(r.missing) + 1}]"
        cells.append([r.figure, r.metric, r.config, _fmt(r.model_value), _fmt(r.paper_value), r.unit,
                      _fmt(r.ratio), f"{r.tolerance:.0%}", verdict])
    widths = [max(len(c[i]) for c in cells + [header]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)).rstrip() for cell in cells]
    n_pass = sum(r.within for r in rows)
    lines.append(f"\n{n_pass} of {len(rows)} published numbers within tolerance ({fraction_within(rows):.0%})")
    lines += [f"  [{i}] {text}" for i, text in enumerate(notes, 1)]
    return "\n".join(lines)
