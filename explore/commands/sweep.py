"""`einsim sweep`: run (or resume) a sweep spec into a run directory with an SQLite results store."""

from __future__ import annotations

import argparse
import os

from einsim.explore.commands._common import print_json, table
from einsim.explore.engine import default_out, sweep
from einsim.explore.report import spec_pareto, write_report
from einsim.explore.spec import load_sweep


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a design-space sweep (grid, random or NSGA-II) into DIR/results.sqlite; rerun to resume",
        description="Run the design points of a sweep spec on local processes or a Dask cluster and store one row "
        "per point in DIR/results.sqlite. Running the same command again computes only the missing points.",
        epilog="examples: einsim sweep designs/sweeps/fusemax_pe_buffer.yaml --out runs/pe --html runs/pe/report.html\n"
        "          einsim sweep mamba2_chunk_array -j 2 --dask local --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", metavar="SWEEP.yaml", help="sweep spec (or a bundled name under designs/sweeps)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: the number of cores)")
    p.add_argument("--dask", metavar="ADDRESS|local", help="run on a Dask scheduler; 'local' starts a LocalCluster of N workers")
    p.add_argument("--out", metavar="DIR", help="run directory (default: einsim-runs/<name>-<spec hash>)")
    p.add_argument("--html", metavar="FILE", help="also write the HTML report (as einsim report DIR --html FILE)")
    p.add_argument("--csv", metavar="FILE", help="also export every point as CSV (needs pandas)")
    p.add_argument("--parquet", metavar="FILE", help="also export every point as Parquet (needs pandas, pyarrow)")
    p.add_argument("--json", action="store_true", help="print one JSON object: counts and the Pareto front")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from einsim.errors import EinsimError

    if args.jobs < 1:
        raise EinsimError(f"-j expects at least 1 worker, got {args.jobs}")
    spec = load_sweep(args.spec)
    out = args.out or str(default_out(spec))
    res = sweep(spec, out, jobs=args.jobs, dask=args.dask, progress=not args.quiet)
    if args.csv:
        res.to_csv(args.csv)
    if args.parquet:
        res.to_parquet(args.parquet)
    if args.html:
        write_report(out, args.html)
    metrics = spec_pareto(res)
    front = res.pareto(metrics)
    failed = res.rows("error")
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
    print(table([[str(r["axes"].get(a)) for a in axes] + [f"{r[m]:.4g}" for m in metrics] for r in front], axes + metrics))
    if args.html:
        print(f"report: {args.html}")
    return 0
