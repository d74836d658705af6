"""Mapper speed: mapping evaluations per second of the batch kernel, and the time to the best mapping.

    python benchmarks/mapper_speed.py [--json] [--exhaustive]

Problem: GEMM 1024³ (Z[m,n] = A[m,k] B[k,n]) on the bundled edge design (designs/arch/edge.yaml:
its Array2D is a 32×32 PE array under a 512 KiB global buffer and 50 GiB/s DRAM), EDP objective.

- ``evals_per_s``: rows of random legal mappings (drawn from the mapspace, 2^16 per kernel call,
  already encoded) evaluated per second by ``evaluate_encoded`` on one thread, after warm-up;
  the best of several repeats (wall clock), and the same on that thread's CPU time
  (``evals_per_s_cpu``, robust to other processes sharing the core).
- ``search_*``: the default search (``auto`` with a 1e6 budget: hill climbing here) on one worker,
  end to end (sampling, mutation, encoding, kernel): its time is the time to the best mapping.
  ``--exhaustive`` also enumerates the whole space to check the optimum (about 15 M mappings).

Peers: ZigZag is run live when importable (its bundled tpu_like 32×32 design, LOMA lpf=6, as in
peers.md); AccelForge needs CPython >= 3.12 and cannot be imported here. Otherwise the figures
measured in shared/reference/peers.md and accelforge.md are printed, labelled as recorded.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Mapspace
from einsim.mappers.search import search
from einsim.sim.nest import NestProblem, evaluate_encoded

ROOT = Path(__file__).resolve().parents[1]
ARCH = ROOT / "designs" / "arch" / "edge.yaml"
# Recorded peer figures, GEMM-1024 (shared/reference/peers.md §2-3, accelforge.md §5.2; 2-core x86_64, ±15 %)
RECORDED = {
    "zigzag": {"evals_per_s": 720 / 3.07, "seconds_to_best": 3.07, "best_latency_cycles": 1_179_712,
               "source": "peers.md §2: zigzag-dse 3.9.1, tpu_like 32x32, LOMA lpf=6: 720 mappings in 3.07 s, "
                         "1,179,712 cycles (88.9 % utilization)"},
    "accelforge": {"evals_per_s": 1.05e5, "seconds_to_best": 1.7, "best_latency_cycles": None,
                   "source": "accelforge.md §5.2: accelforge 1.0.467, GEMM 1024 on 16x16, --jobs 1: 1.73e5 "
                             "pmappings evaluated in 1.7 s (1.05e5/s; 7e3-3.5e4/s on small cases)"},
}


def problem(size: int = 1024):
    einsum = load_workload("gemm", {"M": size, "K": size, "N": size}).einsum("Z")
    arch = load_arch(str(ARCH))
    return Mapspace(NestProblem.from_einsum(einsum), hierarchy_for(arch, "Array2D", einsum))


def kernel_speed(space: Mapspace, rows: int, repeats: int, seed: int) -> tuple[float, float]:
    """(evaluations/s by wall clock, by thread CPU time): best of ``repeats`` kernel calls."""
    enc = space.encode(space.sample(np.random.default_rng(seed), rows))
    evaluate_encoded(space.problem, space.hierarchy, enc)  # warm-up: compile or load from cache
    wall = cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.thread_time()
        evaluate_encoded(space.problem, space.hierarchy, enc)
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.thread_time() - c0)
    return rows / wall, rows / cpu


def run_zigzag() -> dict:
    """ZigZag live on GEMM-1024 (tpu_like, LOMA lpf=6, latency), as in peers.md §3.1."""
    import zigzag
    from zigzag import api

    hw = Path(zigzag.__file__).parent / "inputs" / "hardware" / "tpu_like.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        wl, mp = Path(tmp, "gemm.yaml"), Path(tmp, "mapping.yaml")
        wl.write_text("- id: 0\n  name: gemm\n  operator_type: Gemm\n  equation: O[b][k]+=I[b][c]*W[c][k]\n"
                      "  dimension_relations: []\n  loop_dims: [B, C, K]\n  loop_sizes: [1024, 1024, 1024]\n"
                      "  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}\n  operand_source: {I: 0, W: 0}\n")
        mp.write_text("- name: default\n  spatial_mapping:\n    D1:\n      - K, 32\n    D2:\n      - C, 32\n"
                      "  memory_operand_links:\n    O: O\n    W: I2\n    I: I1\n")
        start = time.perf_counter()
        _, latency, cmes = api.get_hardware_performance_zigzag(
            workload=str(wl), accelerator=str(hw), mapping=str(mp), opt="latency",
            temporal_mapping_search_engine="loma", lpf_limit=6, nb_spatial_mappings_generated=3,
            dump_folder=os.path.join(tmp, "out"), loma_show_progress_bar=False)
        seconds = time.perf_counter() - start
    evaluations = RECORDED["zigzag"]["evals_per_s"] * RECORDED["zigzag"]["seconds_to_best"]  # 720 at lpf=6
    return {"live": True, "seconds_to_best": seconds, "evals_per_s": evaluations / seconds,
            "best_latency_cycles": float(latency),
            "source": "live run; evaluations taken as the 720 temporal mappings LOMA lpf=6 generates (peers.md)"}


def peers() -> dict:
    out = {}
    if importlib.util.find_spec("zigzag") is not None:
        try:
            out["zigzag"] = run_zigzag()
        except Exception as exc:  # a peer's failure must not hide our numbers
            out["zigzag"] = {**RECORDED["zigzag"], "live": False, "live_error": f"{type(exc).__name__}: {exc}"}
    else:
        out["zigzag"] = {**RECORDED["zigzag"], "live": False}
    out["accelforge"] = {**RECORDED["accelforge"], "live": False,
                         "note": "not importable here (needs CPython >= 3.12)"
                         if importlib.util.find_spec("accelforge") is None else "installed, live run not automated"}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rows", type=int, default=1 << 16, help="mappings per kernel call (default 2^16)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--exhaustive", action="store_true", help="also search the whole space (slow)")
    args = ap.parse_args()

    space = problem()
    size = space.size()
    wall, cpu = kernel_speed(space, args.rows, args.repeats, seed=0)
    res = search(space, "edp", "auto", budget=1_000_000, seed=0, workers=1, size=size)
    hierarchy = space.hierarchy
    ideal = space.problem.points / hierarchy.levels[1].fanout
    report = {
        "problem": "GEMM M=K=N=1024 on designs/arch/edge.yaml Array2D (32x32 PEs), objective edp",
        "mapspace_size": size,
        "evals_per_s": wall,
        "evals_per_s_cpu": cpu,
        "kernel_rows_per_call": args.rows,
        "search_method": res.method,
        "search_evaluations": res.evaluations,
        "search_evals_per_s": res.evals_per_s,
        "seconds_to_best": res.seconds,
        "best_latency_s": res.latency_s,
        "best_energy_J": res.energy_J,
        "best_cycles": res.counts.cycles,
        "ideal_cycles": ideal,
        "best_mapping": res.best.to_dict(),
    }
    if args.exhaustive:
        full = search(space, "edp", "exhaustive", workers=1, size=size)
        report.update(exhaustive_seconds=full.seconds, exhaustive_evals_per_s=full.evals_per_s,
                      exhaustive_best_edp=full.score, search_best_edp=res.score)
    report["peers"] = peers()
    report["ratios"] = {name: {"evals_per_s": wall / p["evals_per_s"],
                               "time_to_best": p["seconds_to_best"] / res.seconds,
                               "recorded": not p["live"]} for name, p in report["peers"].items()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(report["problem"])
    print(f"mapspace: {size:,} mappings")
    print(f"kernel: {wall:,.0f} evaluations/s (wall, best of {args.repeats} calls of {args.rows} rows, one thread); "
          f"{cpu:,.0f}/s on thread CPU time")
    print(f"search ({res.method}, 1 worker): {res.evaluations:,} evaluations in {res.seconds:.3g} s "
          f"({res.evals_per_s:,.0f}/s end to end) -> best latency {res.latency_s:.6g} s "
          f"({res.counts.cycles:,.0f} cycles; ideal {ideal:,.0f}), energy {res.energy_J:.6g} J")
    if args.exhaustive:
        print(f"exhaustive: {report['exhaustive_seconds']:.3g} s, best EDP {report['exhaustive_best_edp']:.6g} "
              f"(search: {report['search_best_edp']:.6g})")
    for name, p in report["peers"].items():
        label = "LIVE" if p["live"] else "RECORDED (not run here)"
        r = report["ratios"][name]
        print(f"{name} [{label}]: {p['evals_per_s']:,.0f} evaluations/s, {p['seconds_to_best']:.3g} s to best -> "
              f"einsim is {r['evals_per_s']:,.0f}x faster per evaluation, {r['time_to_best']:.3g}x in time to best")
        print(f"  source: {p['source']}" + (f"; {p['note']}" if "note" in p else "")
              + (f"; live run failed: {p['live_error']}" if "live_error" in p else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
