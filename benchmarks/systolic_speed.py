"""Speed of the systolic cycle model against SCALE-Sim v3 on the same GEMM (default 1024³ on 32×32).

    python benchmarks/systolic_speed.py [--json]
    python benchmarks/systolic_speed.py --run-peer --scalesim-python /tmp/venv_scalesim/bin/python

By default the peer figures are the SCALE-Sim cycles and wall times measured in shared/reference/peers.md
(labelled as such); --run-peer runs SCALE-Sim live through benchmarks/record_scalesim_goldens.py --one
(about 4-6 minutes and 3.5 GB per dataflow for the default problem). The model is timed after warm-up,
per scalar call (`systolic_gemm`) and per GEMM in one batch-kernel call.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from einsim.sim.kernels import systolic as kernel
from einsim.sim.kernels.policy import warm_up
from einsim.sim.systolic import DATAFLOWS, systolic_gemm

RECORDER = Path(__file__).resolve().with_name("record_scalesim_goldens.py")
PEERS_MD = "shared/reference/peers.md §2 (SCALE-Sim 3.0.0, measured on the project machine kind, ±15 %)"
# (M, K, N, rows, cols) -> dataflow -> (Total Cycles, wall seconds) as quoted in peers.md.
PEERS_MD_RUNS = {
    (1024, 1024, 1024, 32, 32): {"os": (1112063, 336.0), "ws": (1144831, 228.0), "is": (1144831, 347.0)},
    (256, 256, 256, 32, 32): {"os": (20351, 4.3), "ws": (22399, 3.7), "is": (22399, 4.5)},
}


def time_model(M: int, K: int, N: int, rows: int, cols: int, dataflow: str, min_seconds: float) -> float:
    """Mean seconds of one scalar `systolic_gemm` call, over as many calls as fit in `min_seconds`."""
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(1000):
            systolic_gemm(M, K, N, rows, cols, dataflow)
        calls += 1000
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def time_batch(M: int, K: int, N: int, rows: int, cols: int, size: int, min_seconds: float) -> float:
    """Mean seconds per GEMM of `kernel.gemm_batch` on `size` copies of the problem (dataflows cycling)."""
    args = [np.full(size, v, dtype=np.int64) for v in (M, K, N, rows, cols)]
    args.append(np.arange(size, dtype=np.int64) % len(DATAFLOWS))
    warm_up(kernel.gemm_batch, *args)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        kernel.gemm_batch(*args)
        calls += 1
    return (time.perf_counter() - start) / (calls * size)


def run_peer(python: str, M: int, K: int, N: int, rows: int, cols: int, dataflow: str) -> dict:
    out = subprocess.run([python, str(RECORDER), "--one", str(M), str(K), str(N), str(rows), str(cols), dataflow],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemm", nargs=3, type=int, default=[1024, 1024, 1024], metavar=("M", "K", "N"))
    parser.add_argument("--array", nargs=2, type=int, default=[32, 32], metavar=("ROWS", "COLS"))
    parser.add_argument("--run-peer", action="store_true", help="run SCALE-Sim live instead of quoting peers.md")
    parser.add_argument("--scalesim-python", help="Python with scalesim installed (default: this one, if it has it)")
    parser.add_argument("--min-seconds", type=float, default=0.5, help="timing window per measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    M, K, N = args.gemm
    rows, cols = args.array
    problem = (M, K, N, rows, cols)

    peer_python = args.scalesim_python
    if peer_python is None and importlib.util.find_spec("scalesim") is not None:
        peer_python = sys.executable
    if args.run_peer and peer_python is None:
        parser.error("--run-peer needs scalesim importable here or --scalesim-python PATH")

    warm_s = warm_up(systolic_gemm, M, K, N, rows, cols, "os")
    batch_s = time_batch(M, K, N, rows, cols, 3000, args.min_seconds)
    rows_out = []
    for dataflow in DATAFLOWS:
        result = systolic_gemm(M, K, N, rows, cols, dataflow)
        model_s = time_model(M, K, N, rows, cols, dataflow, args.min_seconds)
        if args.run_peer:
            peer = run_peer(peer_python, M, K, N, rows, cols, dataflow)
            peer_cycles, peer_s = peer["cycles"], peer["wall_s"]
            peer_source = f"measured live by {RECORDER.name} --one with {peer_python}"
        elif problem in PEERS_MD_RUNS:
            peer_cycles, peer_s = PEERS_MD_RUNS[problem][dataflow]
            peer_source = PEERS_MD
        else:
            peer_cycles = peer_s = None
            peer_source = "none (no quoted figure for this problem; use --run-peer)"
        rows_out.append({
            "dataflow": dataflow, "cycles": result.cycles, "scalesim_cycles": peer_cycles,
            "cycles_identical": None if peer_cycles is None else result.cycles == peer_cycles,
            "model_s": model_s, "scalesim_s": peer_s,
            "speed_ratio": None if peer_s is None else peer_s / model_s,
            "scalesim_source": peer_source,
        })

    report = {"problem": {"M": M, "K": K, "N": N, "rows": rows, "cols": cols},
              "warm_up_s": warm_s, "batch_s_per_gemm": batch_s, "dataflows": rows_out}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"GEMM M={M} K={K} N={N} on {rows}x{cols}; warm-up {warm_s:.3f} s; "
              f"batch kernel {batch_s * 1e9:.0f} ns/GEMM")
        for r in rows_out:
            peer = "n/a" if r["scalesim_s"] is None else f"{r['scalesim_s']:.1f} s"
            ratio = "n/a" if r["speed_ratio"] is None else f"{r['speed_ratio']:.3g}x"
            print(f"  {r['dataflow']}: cycles {r['cycles']:,} (SCALE-Sim {r['scalesim_cycles']}, identical: "
                  f"{r['cycles_identical']}); model {r['model_s'] * 1e6:.2f} us/call vs SCALE-Sim {peer}: {ratio}")
        print(f"  peer figures: {rows_out[0]['scalesim_source']}")
    return 0 if all(r["cycles_identical"] is not False for r in rows_out) else 1


if __name__ == "__main__":
    sys.exit(main())
