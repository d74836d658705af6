"""`einsim sweep`: run (or resume) a sweep spec into a run directory with an SQLite results store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from einsim.errors import EinsimError
from einsim.explore.backends import cap_workers, machine_cores
from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import print_json, table
from einsim.explore.engine import default_out, sweep
from einsim.explore.points import DEFAULT_MAX_POINTS, check_size, parallel_points
from einsim.explore.report import axis_labels, front_rows, spec_pareto, write_report
from einsim.explore.spec import load_sweep


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help=SUMMARIES["sweep"],
        description="Run the design points of a sweep spec on local processes or a Dask cluster and store one row "
        "per point in DIR/results.sqlite. Running the same command again computes only the missing points.",
        epilog="examples: einsim sweep designs/sweeps/fusemax_pe_buffer.yaml --out runs/pe --html runs/pe/report.html\n"
        "          einsim sweep mamba2_chunk_array -j 2 --dask local --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", metavar="SWEEP.yaml", help="sweep spec (or a bundled name under designs/sweeps)")
    p.add_argument("-j", "--jobs", type=int, default=machine_cores(), metavar="N",
                   help="worker processes (default and most: the number of cores)")
    p.add_argument("--dask", metavar="ADDRESS|local", help="run on a Dask scheduler; 'local' starts a LocalCluster of N workers")
    p.add_argument("--out", metavar="DIR", help="run directory (default: einsim-runs/<name>-<spec hash>)")
    p.add_argument("--html", metavar="FILE", help="also write the HTML report (as einsim report DIR --html FILE)")
    p.add_argument("--csv", metavar="FILE", help="also export every point as CSV (needs pandas)")
    p.add_argument("--parquet", metavar="FILE", help="also export every point as Parquet (needs pandas, pyarrow)")
    p.add_argument("--max-points", type=int, default=DEFAULT_MAX_POINTS, metavar="N",
                   help=f"refuse a sweep of more than N points (default {DEFAULT_MAX_POINTS:.0e})")
    p.add_argument("--force", action="store_true",
                   help="start the run directory over (needed when an input file changed since its results)")
    p.add_argument("--json", action="store_true", help="print one JSON object: counts and the Pareto front")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise EinsimError(f"-j expects at least 1 worker, got {args.jobs}")
    if args.max_points < 1:
        raise EinsimError(f"--max-points expects at least 1, got {args.max_points}")
    for flag in ("html", "csv", "parquet"):
        _check_output_file(f"--{flag}", getattr(args, flag))
    spec = load_sweep(args.spec)
    check_size(spec, args.max_points)
    workers, note = cap_workers(args.jobs, parallel_points(spec))
    if note and args.jobs != machine_cores() and not (args.dask and args.dask != "local"):
        sys.stderr.write(f"einsim: {note}\n")
    out = args.out or str(default_out(spec))
    res = sweep(spec, out, jobs=workers, dask=args.dask, progress=not args.quiet, max_points=args.max_points,
                force=args.force)
    failed = res.rows("error")
    if len(res) and len(failed) == len(res):
        firsts = "; ".join(dict.fromkeys(r["error"] for r in failed))
        raise EinsimError(f"sweep {spec.name}: all {len(res)} points failed: {_clip(firsts)}")
    if args.csv:
        res.to_csv(args.csv)
    if args.parquet:
        res.to_parquet(args.parquet)
    if args.html:
        write_report(out, args.html)
    metrics = spec_pareto(res)
    front = res.pareto(metrics)
    axes = res.axis_names(derived=False)
    if args.json:
        print_json({"dir": out, "db": str(res.db), "points": len(res), "ok": len(res) - len(failed), "failed": len(failed),
                    "pareto_metrics": metrics,
                    "pareto": [{"key": r["key"], "axes": r["axes"], **{m: r[m] for m in metrics}} for r in front]})
        return 0
    print(f"{spec.name}: {len(res)} points ({len(failed)} failed) in {res.db}")
    if failed:
        print(f"first failure: {failed[0]['error']}")
    print(f"Pareto front over {', '.join(metrics)} ({len(front)} points):")
    print(table(*front_rows(front, axes, metrics, axis_labels(res))))
    if args.html:
        print(f"report: {args.html}")
    return 0


def _clip(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _check_output_file(flag: str, path: str | None) -> None:
    """An output file flag must not name a folder (written after the sweep, so refused before it)."""
    if path and Path(path).is_dir():
        raise EinsimError(f"{flag} {path}: is a folder; name the file to write")
