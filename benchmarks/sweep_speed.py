"""Sweep throughput: a FuseMax design-space sweep of 1-pass attention, an FPGA or a phone one, stored in SQLite.

    python benchmarks/sweep_speed.py [--json] [--jobs 2] [--case fusemax|fpga|phone]

Grid: 2D-array side (8) x global buffer (8) x tokens M = P (8) x heads H (4) = 2,048 points on the
FuseMax architecture with the FuseMax mapper (einsim.mappers.spatial: Cascade 5, the paper's binding
and schedule, P1 from the buffer capacity, per-Einsum nest-kernel counts). Each run starts from an empty
run directory and includes everything ``einsim sweep`` does: expanding the grid, scoring every
point, writing every row to SQLite; the Dask figure includes starting the LocalCluster. Prints
``points_per_min`` (local process pool) and ``dask_points_per_min`` (Dask LocalCluster, same
workers), and checks that both databases hold the same values. ``cpu_points_per_min`` divides by
the local run's CPU time (this process and its workers) over ``jobs``; ``failure_reasons`` groups
the failed points by their error: the grid's 384-wide array divides none of the power-of-two token
counts, and Cascade 5 tiles M and P by the array's side exactly (256 of the 2,048 points).

``--case fpga``: FlightLLM on the U280, LLaMA2-7B decode at context 512 (mapper flightllm), the
axes of designs/sweeps/fpga_dsp_hbm_sparsity.yaml widened to 8 DSP counts x 16 HBM bandwidths x 4
N:M patterns = 512 points, local process pool only. Each worker lowers the model once and re-prices
it per point (einsim.mappers.fpga.lower). ``points_per_min`` is per wall-clock minute, so on a
shared machine it depends on the load (``load_average``, 1 minute, when it ends);
``cpu_points_per_min`` divides by the CPU time the sweep used (its processes and their workers)
over ``jobs``: the rate on that many otherwise idle cores.

``--case phone``: the bundled phone sweep (designs/sweeps/phone_budget_flash_policy.yaml:
TurboSparse-Mixtral-47B decode on the OnePlus 12, UFS 4.0 / 3.1 table x llama.cpp, LLM in a flash,
PowerInfer-2) with its memory budget from 7 to 19 GB in 0.05 GB steps instead of 1 GB: 241 x 2 x 3 =
1,446 points, local process pool only, reported like ``--case fpga``. Each worker builds the
activation traces, the profile and the LRU stack distances once and re-prices them per point.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

import yaml

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

FPGA_SPEC = """\
name: sweep_speed_fpga
description: FlightLLM U280, LLaMA2-7B decode at 512, DSP count x HBM bandwidth x N:M sparsity
base: {arch: u280, model: llama2_7b, phase: decode, seq: 512, mapper: flightllm}
axes:
  dsp_count: {path: arch.MPE.dsp_count, values: [96, 192, 384, 768, 1536, 3072, 6144, 9024]}
  hbm_GBps: {values: [115, 172, 230, 288, 345, 403, 460, 518, 575, 690, 805, 920, 1150, 1380, 1610, 1840]}
  sparsity: {path: mapper.sparsity, values: ["16:16", "8:16", "4:16", "2:16"]}
derived:
  mv_chains: {path: arch.MPE.mv_parallelism.2, expr: dsp_count / 96}
  mm_rows: {path: arch.MPE.mm_parallelism.0, expr: dsp_count / 48}
  hbm_Bps: {path: arch.HBM.bandwidth_Bps, expr: hbm_GBps * 1000000000}
"""


PHONE_BUDGETS_GB = [round(7 + 0.05 * i, 2) for i in range(241)]  # 7 ... 19 GB


def _phone_spec() -> str:
    """The bundled phone sweep with the budget axis in 0.05 GB steps."""
    from einsim.designs import path as designs_path

    data = yaml.safe_load(designs_path("sweeps", "phone_budget_flash_policy.yaml").read_text())
    data["name"] = "sweep_speed_phone"
    data["axes"]["memory_GB"]["values"] = PHONE_BUDGETS_GB
    return yaml.safe_dump(data, sort_keys=False)


# source: issue 13 ("Sweeps: ... FuseMax configuration ... >= 30,000 points/min on 2 processes"), issue 14 item 7
# ("an FPGA sweep >= 10,000 points/min on 2 processes"), issue 15 item 5 ("the phone sweep >= 10,000 points/min")
GOAL_POINTS_PER_MIN = {"fusemax": 30000, "fpga": 10000, "phone": 10000}


def _failure_reasons(db: Path) -> list[dict]:
    """The failed points grouped by their error with the numbers taken out (the FuseMax grid's
    384-wide array refuses every token count the same way): count and one message in full."""
    with sqlite3.connect(db) as conn:
        errors = [e for (e,) in conn.execute("SELECT error FROM points WHERE status != 'ok' ORDER BY idx")]
    groups: dict[str, dict] = {}
    for e in errors:
        g = groups.setdefault(re.sub(r"\d+", "N", e), {"count": 0, "example": e})
        g["count"] += 1
    return sorted(groups.values(), key=lambda g: -g["count"])


def _values(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT key, status, latency_s, energy_J, area_m2, result FROM points ORDER BY key").fetchall()


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its finished children (the pool's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--case", choices=("fusemax", "fpga", "phone"), default="fusemax", help="which sweep (default fusemax)")
    args = ap.parse_args()
    pool_only = args.case != "fusemax"  # the FPGA and phone cases: local pool only, CPU time reported
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "sweep_speed.yaml"
        spec_path.write_text({"fusemax": SPEC, "fpga": FPGA_SPEC, "phone": _phone_spec()}[args.case])
        spec = load_sweep(spec_path)
        timings = {}
        dbs = {}
        for label, dask in (("local", None),) if pool_only else (("local", None), ("dask", "local")):
            start, cpu = time.perf_counter(), _cpu_s()
            res = sweep(spec, Path(tmp) / label, jobs=args.jobs, dask=dask)
            timings[label] = time.perf_counter() - start
            cpu_s = _cpu_s() - cpu
            dbs[label] = res.db
            if label == "local":
                local_cpu_s = cpu_s
            points = len(res)
            failed = len(res.rows("error"))
            reasons = _failure_reasons(res.db)
        same = None if pool_only else _values(dbs["local"]) == _values(dbs["dask"])
    out = {
        "points": points, "failed": failed, "jobs": args.jobs,
        "seconds": round(timings["local"], 3), "points_per_min": round(points / timings["local"] * 60),
    }
    # the local pool's CPU time (this process and its workers): the rate on `jobs` cores nobody else uses
    out.update(cpu_seconds=round(local_cpu_s, 3), cpu_points_per_min=round(points / (local_cpu_s / args.jobs) * 60))
    if not pool_only:
        out.update(dask_seconds=round(timings["dask"], 3), dask_points_per_min=round(points / timings["dask"] * 60),
                   identical_results=same)
    out.update(mapper={"fusemax": "fusemax", "fpga": "flightllm", "phone": "llama.cpp, llm-in-a-flash, powerinfer2"}[args.case],
               goal_points_per_min=GOAL_POINTS_PER_MIN[args.case], failure_reasons=reasons,
               load_average=round(os.getloadavg()[0], 2))
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
