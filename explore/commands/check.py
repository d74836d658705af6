"""`einsim check WORKLOAD.yaml`: parse, validate, verify at small sizes, and report the cascade.

JSON output (``--json``)::

    {"workload": str, "ranks": {rank: size},
     "einsums": [{"name", "text", "space": {index: size}, "reduced": [index], "points", "ops": {op: count}}],
     "passes": {rank: count}, "live_footprint": {rank: {"tensors": [..], "elements": n, "bytes": n}},
     "footprints": {tensor: {"elements": n, "bytes": n}}, "datatype_bytes": n,
     "verified": true | false | null, "verification": {"reason", "sizes", "max_error"}}
"""

from __future__ import annotations

import argparse

from einsim.einsum import load_workload, op_counts, pass_analysis, points, verify
from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import parse_sets, print_json, table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help=SUMMARIES["check"],
        description="Parse and validate a workload, execute it at its small check: sizes against its numpy "
        "reference, and print per-Einsum iteration spaces, op counts, passes per rank and footprints.",
        epilog="example: einsim check designs/workloads/attention_1pass.yaml --set M=4096 --json",
    )
    p.add_argument("workload", help="workload YAML file (or the name of a bundled one, e.g. attention_1pass)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="bind a rank size or parameter (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random verification inputs (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def summarize(cascade, seed: int = 0) -> dict:
    """The check report of a cascade as plain data."""
    parts = {s for subs in cascade.partitions.values() for s in subs}
    reports = {r: pass_analysis(cascade, r) for r in cascade.ranks if r not in parts}
    result = verify(cascade, seed=seed)
    width = cascade.datatype_bytes
    return {
        "workload": cascade.name,
        "ranks": dict(cascade.ranks),
        "einsums": [
            {
                "name": e.name,
                "text": e.text,
                "space": dict(e.space),
                "reduced": list(e.reduced),
                "points": points(e),
                "ops": op_counts(e),
            }
            for e in cascade.topological_order()
        ],
        "passes": {r: rep.passes for r, rep in reports.items()},
        "live_footprint": {
            r: {"tensors": rep.live_tensors, "elements": rep.live_elements, "bytes": rep.live_elements * width}
            for r, rep in reports.items() if rep.live_tensors
        },
        "footprints": {t: {"elements": x.elements, "bytes": x.elements * width} for t, x in cascade.tensors.items()},
        "datatype_bytes": width,
        "verified": result.verified,
        "verification": {"reason": result.reason, "sizes": result.sizes, "max_error": result.max_error},
    }


def run(args: argparse.Namespace) -> int:
    cascade = load_workload(args.workload, parse_sets(args.set))
    report = summarize(cascade, seed=args.seed)
    if args.json:
        print_json(report)
        return 0 if report["verified"] is not False else 1
    print(f"workload {report['workload']}: " + ", ".join(f"{r}={n}" for r, n in report["ranks"].items()))
    rows = [
        [e["name"], ",".join(f"{v}:{n}" for v, n in e["space"].items()), f"{e['points']:.4g}",
         " ".join(f"{k}={v:.4g}" for k, v in e["ops"].items()) or "-"]
        for e in report["einsums"]
    ]
    print(table(rows, ["einsum", "iteration space", "points", "ops"]))
    print("passes: " + ", ".join(f"{r}={n}" for r, n in report["passes"].items()))
    for r, live in report["live_footprint"].items():
        print(f"  re-read across passes over {r}: {', '.join(live['tensors'])} "
              f"({live['elements']:.4g} elements, {live['bytes']:.4g} B)")
    verdict = {True: "verified", False: "FAILED", None: "not verified"}[report["verified"]]
    print(f"{verdict}: {report['verification']['reason']}"
          + (f" at {report['verification']['sizes']}" if report["verification"]["sizes"] else ""))
    return 0 if report["verified"] is not False else 1
