"""Sweep throughput: a FuseMax design-space sweep of 1-pass attention, stored in SQLite.

    python benchmarks/sweep_speed.py [--json] [--jobs 2]

Grid: 2D-array side (8) x global buffer (8) x tokens M = P (8) x heads H (4) = 2,048 points on the
FuseMax architecture with the FuseMax mapper (einsim.mappers.spatial: Cascade 5, the paper's binding
and schedule, P1 from the buffer capacity, per-Einsum nest-kernel counts). Each run starts from an empty
run directory and includes everything ``einsim sweep`` does: expanding the grid, scoring every
point, writing every row to SQLite; the Dask figure includes starting the LocalCluster. Prints
``points_per_min`` (local process pool) and ``dask_points_per_min`` (Dask LocalCluster, same
workers), and checks that both databases hold the same values.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from einsim.explore import load_sweep, sweep

SPEC = """\
name: sweep_speed
description: FuseMax 1-pass attention, array side x buffer x tokens x heads
base: {arch: fusemax, workload: attention_1pass, mapper: fusemax}
axes:
  side: {path: arch.Array2D.shape.0, values: [16, 32, 64, 128, 256, 384, 512, 1024]}
  buffer_MiB: {values: [1, 2, 4, 8, 16, 32, 64, 128]}
  tokens: {path: rank.M, values: [1024, 2048, 4096, 8192, 16384, 32768, 65536, 262144]}
  heads: {path: rank.H, values: [12, 96, 384, 768]}
derived:
  cols: {path: arch.Array2D.shape.1, expr: side}
  width_1d: {path: arch.Array1D.shape.0, expr: side}
  queries: {path: rank.P, expr: tokens}
  buffer_B: {path: arch.GlobalBuffer.capacity_B, expr: buffer_MiB * 1048576}
"""


def _values(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT key, status, latency_s, energy_J, area_m2, result FROM points ORDER BY key").fetchall()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "sweep_speed.yaml"
        spec_path.write_text(SPEC)
        spec = load_sweep(spec_path)
        timings = {}
        dbs = {}
        for label, dask in (("local", None), ("dask", "local")):
            start = time.perf_counter()
            res = sweep(spec, Path(tmp) / label, jobs=args.jobs, dask=dask)
            timings[label] = time.perf_counter() - start
            dbs[label] = res.db
            points = len(res)
            failed = len(res.rows("error"))
        same = _values(dbs["local"]) == _values(dbs["dask"])
    out = {
        "points": points, "failed": failed, "jobs": args.jobs,
        "seconds": round(timings["local"], 3), "points_per_min": round(points / timings["local"] * 60),
        "dask_seconds": round(timings["dask"], 3), "dask_points_per_min": round(points / timings["dask"] * 60),
        "identical_results": same, "mapper": "fusemax", "goal_points_per_min": 10000,
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
