"""Record SCALE-Sim v3 GEMM goldens for the systolic cycle model (tests/golden/scalesim_gemm.json).

SCALE-Sim is a peer tool, never an einsim dependency: run this with a Python that has it, e.g.

    python3.11 -m venv /tmp/venv_scalesim && /tmp/venv_scalesim/bin/pip install scalesim "numpy<2.3"
    /tmp/venv_scalesim/bin/python benchmarks/record_scalesim_goldens.py

which reruns every case in SHAPES × DATAFLOWS and replaces their entries in the golden file (other
entries, e.g. those quoted from peers.md, are kept). `--one M K N ROWS COLS DATAFLOW` runs a single
GEMM and prints its report as JSON (used by benchmarks/systolic_speed.py --run-peer); add `--add` to
store it in the golden file too (how the GEMM-1024 entries, minutes each, were recorded).

The config follows shared/reference/peers.md §3.2: the wheel's parser needs [layout] and
[sparsity], a layout CSV is mandatory, `InterfaceBandwidth: CALC` makes the run stall-free.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import io
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "scalesim_gemm.json"

# (M, K, N, rows, cols): odd shapes, non-multiples of the array, M != N, K < rows, 1-wide edges.
SHAPES: list[tuple[int, int, int, int, int]] = [
    (1, 1, 1, 4, 4),
    (5, 3, 7, 4, 4),
    (9, 2, 9, 4, 4),
    (13, 4, 6, 4, 4),
    (7, 9, 2, 4, 4),
    (8, 8, 8, 8, 8),
    (10, 20, 30, 8, 8),
    (3, 17, 11, 8, 8),
    (20, 7, 33, 16, 8),
    (33, 40, 9, 16, 8),
    (20, 7, 33, 8, 16),
    (7, 11, 13, 3, 5),
    (6, 5, 4, 1, 4),
    (50, 3, 70, 32, 32),
    (64, 100, 31, 32, 32),
]
DATAFLOWS = ("os", "ws", "is")

CONFIG = """[general]
run_name = {run_name}
[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:   64
FilterSramSzkB:  64
OfmapSramSzkB:   64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks:   1
ReadRequestBuffer: 512
WriteRequestBuffer: 512
[layout]
IfmapCustomLayout: False
FilterCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2
[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40
[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""
LAYOUT_HEADER = (
    "Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, Filter Height Intraline Factor, "
    "Filter Width Intraline Factor, Channel Intraline Factor, Num Filter Intraline Factor, IFMAP Height Intraline "
    "Order, IFMAP Width Intraline Order, Channel Intraline Order, IFMAP Height Interline Order, IFMAP Width Interline "
    "Order, Channel Interline Order, Num Filter Intraline Order, Channel Intraline Order, Filter Height Interline "
    "Order, Filter Width Interline Order, Channel Interline Order, Num Filter Interline Order, Filter Height "
    "Interline Order, Filter Width Interline Order,\n"
)
LAYOUT_ROW = "gemm, 1, 1, 1, 1, 1, 1, 0, 1, 2, 0, 1, 2, 3, 2, 1, 0, 0, 1, 2, 3,\n"


def run_scalesim(M: int, K: int, N: int, rows: int, cols: int, dataflow: str, workdir: Path) -> dict:
    """Run SCALE-Sim on one GEMM (M rows of the left operand, K reduction, N output columns)."""
    from scalesim.scale_sim import scalesim

    run_name = f"gemm_{M}x{K}x{N}_{rows}x{cols}_{dataflow}"
    cfg, topo, layout = workdir / f"{run_name}.cfg", workdir / "gemm.csv", workdir / "layout_gemm.csv"
    cfg.write_text(CONFIG.format(run_name=run_name, rows=rows, cols=cols, dataflow=dataflow))
    topo.write_text(f"Layer Name, M, N, K,\ngemm, {M}, {N}, {K},\n")
    layout.write_text(LAYOUT_HEADER + LAYOUT_ROW)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                       layout=str(layout), input_type_gemm=True)
        sim.run_scale(top_path=str(workdir))
    wall_s = time.perf_counter() - t0
    report_dir = workdir / sim.config.get_run_name()
    compute = _report_row(report_dir / "COMPUTE_REPORT.csv")
    access = _report_row(report_dir / "DETAILED_ACCESS_REPORT.csv")
    return {
        "M": M, "K": K, "N": N, "rows": rows, "cols": cols, "dataflow": dataflow,
        "cycles": int(compute["Total Cycles"]),
        "cycles_incl_prefetch": int(compute["Total Cycles (incl. prefetch)"]),
        "stall_cycles": int(compute["Stall Cycles"]),
        "overall_util_pct": float(compute["Overall Util %"]),
        "mapping_efficiency_pct": float(compute["Mapping Efficiency %"]),
        "compute_util_pct": float(compute["Compute Util %"]),
        "sram_ifmap_reads": int(float(access["SRAM IFMAP Reads"])),
        "sram_filter_reads": int(float(access["SRAM Filter Reads"])),
        "sram_ofmap_writes": int(float(access["SRAM OFMAP Writes"])),
        "wall_s": wall_s,
    }


def _report_row(path: Path) -> dict[str, str]:
    header, row = [[cell.strip() for cell in line if cell.strip()] for line in csv.reader(path.open())][:2]
    return dict(zip(header, row))


def _key(entry: dict) -> tuple:
    return tuple(entry[k] for k in ("M", "K", "N", "rows", "cols", "dataflow"))


def _stamp(command: str) -> str:
    from importlib.metadata import version

    return f"recorded with scalesim {version('scalesim')} on {datetime.date.today().isoformat()} by `{command}`"


def store(golden: Path, results: list[dict], command: str) -> None:
    """Put `results` into the golden file, replacing earlier recordings of the same GEMM and array."""
    data = json.loads(golden.read_text())
    new = {_key(r): {**{k: v for k, v in r.items() if k != "wall_s"}, "source": _stamp(command)} for r in results}
    kept = [entry for entry in data["entries"]
            if not (entry["source"].startswith("recorded") and _key(entry) in new)]
    data["entries"] = kept + list(new.values())
    golden.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{len(new)} recorded entries stored, {len(kept)} kept -> {golden}", file=sys.stderr)


def record_all(golden: Path, command: str) -> int:
    results = []
    with tempfile.TemporaryDirectory(prefix="scalesim_goldens_") as tmp:
        for M, K, N, rows, cols in SHAPES:
            for dataflow in DATAFLOWS:
                results.append(run_scalesim(M, K, N, rows, cols, dataflow, Path(tmp)))
                print(json.dumps(results[-1]), file=sys.stderr)
    store(golden, results, command)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", type=Path, default=GOLDEN)
    parser.add_argument("--one", nargs=6, metavar=("M", "K", "N", "ROWS", "COLS", "DATAFLOW"))
    parser.add_argument("--add", action="store_true", help="with --one: also store the run in the golden file")
    args = parser.parse_args(argv)
    try:
        import scalesim  # noqa: F401
    except ImportError:
        print("scalesim is not importable by this Python; see the module docstring", file=sys.stderr)
        return 2
    command = shlex.join([sys.executable, *sys.argv])
    if args.one:
        M, K, N, rows, cols = (int(x) for x in args.one[:5])
        with tempfile.TemporaryDirectory(prefix="scalesim_one_") as tmp:
            result = run_scalesim(M, K, N, rows, cols, args.one[5], Path(tmp))
        print(json.dumps(result))
        if args.add:
            store(args.golden, [result], command)
        return 0
    return record_all(args.golden, command)


if __name__ == "__main__":
    sys.exit(main())
