"""`einsim reproduce fusemax`: the FuseMax paper's grid through the model, next to the paper's means.

JSON output (``--json``): a list of objects with ``model``, ``seq_len``, ``config`` (``unfused``,
``flat``, ``cascade``, ``architecture``, ``fusemax``), ``attn_latency_s``, ``attn_energy_J``,
``dram_bytes``, ``util_2d``, ``util_1d``, ``e2e_latency_s`` and ``e2e_energy_J``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from importlib.metadata import entry_points

from einsim.explore.commands._common import print_json, table
from einsim.errors import EinsimError
from einsim.explore.progress import status_line

WIDTH = 100  # columns of the text view
NOTE_KEYS = ("source",)  # columns printed as numbered notes under their table

# targets served by another back-end: name -> module with run(name) -> list of row dicts
TARGETS = {"flightllm": "einsim.mappers.fpga.reproduce_flightllm",
           "lightmamba": "einsim.mappers.fpga.reproduce_lightmamba"}
PLUGIN_GROUP = "einsim.reproduce"  # entry points: paper name -> module with run(name) and compare()


def plugin_targets() -> dict[str, str]:
    """Paper modules registered under the entry-point group ``einsim.reproduce`` (pyproject.toml):
    the package ``einsim.reproduce`` is reached through them, never imported by ``explore``."""
    return {ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP)}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="reproduce a paper's results through the model (fusemax)",
        description="Evaluate the FuseMax grid (4 models x 6 sequence lengths x 5 configurations, batch 64) "
        "and print per-point results and the mean speedups/energy ratios beside the paper's.",
        epilog="example: einsim reproduce fusemax --json > fusemax.json",
    )
    p.add_argument("paper", choices=["fusemax", *TARGETS, *plugin_targets()], help="which paper")
    p.add_argument("--json", action="store_true", help="print the 120 points as a JSON list")
    p.add_argument("--compare", action="store_true",
                   help="one row per published number: model, paper, ratio, tolerance, PASS/MISS")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    targets = {**TARGETS, **plugin_targets()}
    if args.compare:
        module = importlib.import_module(targets[args.paper]) if args.paper in targets else None
        if module is None or not hasattr(module, "compare"):
            with_compare = [n for n, m in targets.items() if hasattr(importlib.import_module(m), "compare")]
            raise EinsimError(f"--compare: {args.paper} has no comparison table yet (have: {', '.join(with_compare)})")
        compared = module.compare()
        if args.json:
            print_json([r.to_dict() for r in compared])
        else:
            print(module.compare_table(compared))
        return 0
    if args.paper in targets:
        module = importlib.import_module(targets[args.paper])
        rows = module.run(args.paper)
        if args.json:
            print_json(rows)
        else:
            print(tables(rows))
            for note in getattr(module, "notes", lambda: [])():
                print("\n" + textwrap.fill(f"note: {note}", WIDTH, subsequent_indent="  "))
        return 0
    from einsim.mappers.spatial.reproduce import PAPER, run_grid, summary  # the spatial mapper: FuseMax only

    points = run_grid(progress=status_line if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if args.json:
        print_json([p.to_dict() for p in points])
        return 0
    rows = [[p.model, str(p.seq_len), p.config, f"{p.attn_latency_s:.4g}", f"{p.attn_energy_J:.4g}",
             f"{p.dram_bytes:.4g}", f"{p.util_2d:.3f}", f"{p.util_1d:.3f}", f"{p.e2e_latency_s:.4g}",
             f"{p.e2e_energy_J:.4g}"] for p in points]
    print(table(rows, ["model", "seq", "config", "attn_s", "attn_J", "dram_B", "util_2d", "util_1d", "e2e_s", "e2e_J"]))
    print()
    means = summary(points)
    print(table([[k, f"{v:.3f}", f"{PAPER[k]:g}", f"{v / PAPER[k] - 1:+.1%}"] for k, v in means.items()],
                ["FuseMax vs baseline (mean over 24 points)", "model", "paper", "diff"]))
    return 0


def _cell(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else "" if v is None else str(v)


def tables(rows: list[dict], width: int = WIDTH) -> str:
    """Text view of reproduction rows within ``width`` columns (the --json keys as headers).

    Rows are grouped by their ``kind`` (one titled table each, only the columns that kind fills);
    sources become numbered notes under the table; a table still too wide is split into several
    that repeat its identifying columns (the text and integer ones: device, model, lengths, name).
    """
    kinds = list(dict.fromkeys(r.get("kind") for r in rows))
    out = []
    for kind in kinds:
        group = [r for r in rows if r.get("kind") == kind]
        keys = [k for k in dict.fromkeys(k for r in group for k in r) if k != "kind"
                and any(r.get(k) is not None for r in group)]
        cells = [{k: _cell(r.get(k)) for k in keys} for r in group]
        notes: list[str] = []
        for k in keys:
            if k in NOTE_KEYS:
                for c in cells:
                    if c[k] not in notes:
                        notes.append(c[k])
                    c[k] = f"[{notes.index(c[k]) + 1}]"
        ids = [k for k in keys if all(isinstance(r.get(k), (str, int)) and not isinstance(r.get(k), bool)
                                      for r in group) and k not in NOTE_KEYS]
        title = [f"{kind}:"] if kind is not None else []
        for part in _split([k for k in keys if k not in ids], ids, cells, width):
            out.append("\n".join(title + [table([[c[k] for k in part] for c in cells], part)]))
            title = []
        out[-1] += "".join(f"\n  [{i}] {text}" for i, text in enumerate(notes, 1))
    return "\n\n".join(out)


def _split(data: list[str], ids: list[str], cells: list[dict], width: int) -> list[list[str]]:
    """``ids + data`` cut into column lists of at most ``width`` characters, each starting with ``ids``."""
    def col(k: str) -> int:
        return max([len(k)] + [len(c[k]) for c in cells]) + 2

    parts: list[list[str]] = []
    current = list(ids)
    for k in data:
        if len(current) > len(ids) and sum(map(col, current)) + col(k) - 2 > width:
            parts.append(current)
            current = list(ids)
        current.append(k)
    parts.append(current)
    return parts
