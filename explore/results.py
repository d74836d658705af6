"""A finished (or partial) sweep's results: rows, a pandas DataFrame, CSV/Parquet, Pareto fronts."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from einsim.errors import EinsimError, did_you_mean
from einsim.explore.design import METRICS
from einsim.explore.pareto import front_mask
from einsim.explore.store import Store, db_path
from einsim.yamlsrc import load_plain


class Results:
    """Read-only view of a run directory (``DIR/results.sqlite``)."""

    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir)
        with Store(self.dir) as store:
            self._rows = store.rows()
            spec_text = store.meta("spec") or ""
        self.spec_text = spec_text

    @property
    def db(self) -> Path:
        return db_path(self.dir)

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Stored points in sweep order (``status="ok"`` keeps the successful ones)."""
        return [r for r in self._rows if status is None or r["status"] == status]

    def __len__(self) -> int:
        return len(self._rows)

    def axis_names(self, derived: bool = True) -> list[str]:
        """The spec's axes (then its derived values) in spec order."""
        spec = load_plain(self.spec_text, "stored sweep spec") if self.spec_text else None
        spec = spec if isinstance(spec, dict) else {}
        names = list(spec.get("axes") or {}) + (list(spec.get("derived") or {}) if derived else [])
        for r in self._rows:
            names += [n for n in r["axes"] if n not in names and (derived or n not in (spec.get("derived") or {}))]
        return names

    def dataframe(self):
        """One row per point: key, generation, status, error, one column per axis, the metrics."""
        try:
            import pandas as pd
        except ImportError:
            raise EinsimError("DataFrames need pandas: pip install 'einsim[explore]'") from None
        axes = self.axis_names()
        records = [{"key": r["key"], "idx": r["idx"], "generation": r["generation"], "status": r["status"],
                    "error": r["error"], **{a: _plain(r["axes"].get(a)) for a in axes},
                    **{m: r[m] for m in METRICS}, "elapsed_s": r["elapsed_s"]} for r in self._rows]
        return pd.DataFrame.from_records(records, columns=["key", "idx", "generation", "status", "error", *axes,
                                                          *METRICS, "elapsed_s"])

    def to_csv(self, path: str | Path) -> Path:
        frame = self.dataframe()
        with _writing("--csv", path):
            frame.to_csv(path, index=False)
        return Path(path)

    def to_parquet(self, path: str | Path) -> Path:
        try:
            import pyarrow  # noqa: F401  (pandas picks it as the engine)
        except ImportError:
            raise EinsimError("Parquet needs pyarrow: pip install 'einsim[explore]'") from None
        frame = self.dataframe()
        with _writing("--parquet", path):
            frame.to_parquet(path, index=False)
        return Path(path)

    def pareto(self, metrics: Sequence[str] = ("latency_s", "energy_J")) -> list[dict[str, Any]]:
        """The successful points that no other point beats on every metric (all minimized)."""
        metrics = check_metrics(metrics)
        ok = self.rows("ok")
        if not ok:
            return []
        mask = front_mask(np.array([[r[m] for m in metrics] for r in ok], dtype=float))
        return sorted((r for r, on in zip(ok, mask) if on), key=lambda r: [r[m] for m in metrics])


def check_metrics(metrics: Sequence[str]) -> list[str]:
    metrics = list(metrics)
    if not 2 <= len(metrics) <= 3:
        raise EinsimError(f"a Pareto front is over 2 or 3 metrics, got {len(metrics)}")
    for m in metrics:
        if m not in METRICS:
            raise EinsimError(f"unknown metric {m!r}" + did_you_mean(m, METRICS))
    return metrics


@contextlib.contextmanager
def _writing(flag: str, path: str | Path) -> Iterator[None]:
    """An export that cannot be written is the flag's error, in one line."""
    try:
        yield
    except OSError as exc:
        raise EinsimError(f"{flag} {path}: cannot write ({exc.strerror or exc}); name a file in a folder you can write") from None


def _plain(value: Any) -> Any:
    """Lists (e.g. an array shape) become text so every column has one scalar type."""
    return "x".join(str(v) for v in value) if isinstance(value, list) else value
