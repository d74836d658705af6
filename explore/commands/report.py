"""`einsim report`: summarize a sweep's run directory and write its self-contained HTML report."""

from __future__ import annotations

import argparse

from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import print_json, table
from einsim.explore.report import axis_labels, front_rows, spec_pareto, write_report
from einsim.explore.results import Results, check_metrics


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help=SUMMARIES["report"],
        description="Read DIR/results.sqlite (or a .sqlite file), print the Pareto front and optionally write an "
        "HTML page: Pareto scatter, per-component energy and utilization of the front, parallel coordinates.",
        epilog="example: einsim report runs/pe --html runs/pe/report.html --pareto latency_s,area_m2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR|DB", help="run directory of einsim sweep (or its results.sqlite)")
    p.add_argument("--html", metavar="FILE", help="write the HTML report to FILE")
    p.add_argument("--pareto", metavar="M1,M2[,M3]",
                   help="metrics of the front: latency_s, energy_J, edp_Js, area_m2, dram_bytes, cycles (default: the spec's)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the front")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    res = Results(args.dir)
    metrics = check_metrics(args.pareto.split(",")) if args.pareto else spec_pareto(res)
    front = res.pareto(metrics)
    if args.html:
        write_report(args.dir, args.html, metrics)
    axes = res.axis_names(derived=False)
    if args.json:
        print_json({"points": len(res), "failed": len(res.rows("error")), "pareto_metrics": metrics,
                    "pareto": [{"key": r["key"], "axes": r["axes"], **{m: r[m] for m in metrics}} for r in front],
                    **({"html": args.html} if args.html else {})})
        return 0
    print(f"{len(res)} points ({len(res.rows('error'))} failed); Pareto front over {', '.join(metrics)} ({len(front)} points):")
    print(table(*front_rows(front, axes, metrics, axis_labels(res))))
    if args.html:
        print(f"report: {args.html}")
    return 0
