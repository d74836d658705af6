"""Run a sweep: points not yet in the store go to a backend in batches; rows are stored per batch."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from einsim.explore import nsga2
from einsim.explore.backends import cap_workers, make_backend
from einsim.explore.points import DEFAULT_MAX_POINTS, Point, check_size, parallel_points, point_chunks
from einsim.explore.progress import Progress
from einsim.explore.results import Results
from einsim.explore.spec import NSGA2, SweepSpec, load_sweep
from einsim.explore.inputs import input_digests
from einsim.explore.store import Store


def default_out(spec: SweepSpec) -> Path:
    """``einsim-runs/<name>-<spec digest>``: the same spec resumes in the same place."""
    return Path("einsim-runs") / f"{spec.name}-{spec.digest[:8]}"


def _batches(points: list[Point], workers: int) -> list[list[tuple[str, dict[str, Any], int]]]:
    # about 8 batches per worker keeps workers busy while rows reach the store often
    size = max(1, min(64, math.ceil(len(points) / (8 * workers))))
    items = [(p.key, p.params, p.seed) for p in points]
    return [items[i:i + size] for i in range(0, len(items), size)]


class _Runner:
    def __init__(self, store: Store, backend: Any, progress: Progress):
        self.store, self.backend, self.progress = store, backend, progress

    def evaluate(self, points: list[Point]) -> None:
        """Compute and store the points that are not stored yet."""
        done = self.store.stored([p.key for p in points])
        todo = [p for p in points if p.key not in done]
        self.progress.update(len(points) - len(todo))
        by_key = {p.key: p for p in todo}
        for rows in self.backend.run(_batches(todo, self.backend.workers)):
            for row in rows:
                p = by_key[row["key"]]
                row.update(idx=p.idx, generation=p.generation, axes=p.axes, params=p.params)
            self.store.add(rows)
            self.progress.update(len(rows), sum(r["status"] != "ok" for r in rows))


def sweep(spec: str | Path | SweepSpec, out: str | Path | None = None, jobs: int = 1,
          dask: str | None = None, progress: bool = False, max_points: int = DEFAULT_MAX_POINTS,
          force: bool = False) -> Results:
    """Run (or resume) a sweep and return its results.

    ``out`` is the run directory (default ``einsim-runs/<name>-<digest>``); points already stored
    there are not computed again, unless an input file changed since they were (refused, naming
    the file) or ``force`` starts the directory over. ``jobs`` worker processes (at most the
    machine's cores and the number of points) run locally, or ``dask`` names a scheduler address
    (``"local"`` starts a LocalCluster of ``jobs`` workers). A sweep of more than ``max_points``
    points is refused before anything runs; points are generated a chunk at a time.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec)
    total = check_size(spec, max_points)
    run_dir = Path(out) if out is not None else default_out(spec)
    store = Store(run_dir, spec.digest, spec._text, inputs=input_digests(spec), force=force)
    try:
        bar = Progress(total, enabled=progress)
        workers, _ = cap_workers(jobs, parallel_points(spec))
        backend = make_backend(str(spec.root), workers, dask)
        try:
            runner = _Runner(store, backend, bar)
            if isinstance(spec.strategy, NSGA2):
                nsga2.run(spec, lambda pts: _objectives(runner, store, pts, spec.strategy.objectives))  # type: ignore[union-attr]
            else:
                consumed = 0
                for chunk in point_chunks(spec):
                    bar.grow(len(chunk) - (chunk[-1].idx + 1 - consumed))  # equal designs merged in the chunk
                    consumed = chunk[-1].idx + 1
                    runner.evaluate(chunk)
        finally:
            backend.close()
            bar.close()
        store.finish()
    finally:
        store.close()
    return Results(run_dir)


def _objectives(runner: _Runner, store: Store, points: list[Point], names: list[str]) -> Mapping[str, np.ndarray]:
    runner.evaluate(points)
    keys = {p.key for p in points}
    cols = ", ".join(names)
    found = {}
    for key, status, *values in store.conn.execute(f"SELECT key, status, {cols} FROM points"):
        if key in keys:
            ok = status == "ok" and all(v is not None for v in values)
            found[key] = np.array(values if ok else [np.inf] * len(names), dtype=float)
    return found
