"""`einsim reproduce NAME [--compare] [--json]`: a paper's results through the model.

The paper modules are reached through the entry-point group ``einsim.reproduce`` (one module per
paper in ``einsim.reproduce``, never imported here). ``--json`` prints the module's ``run(name)``
rows (for fusemax the 120 grid points: ``model``, ``seq_len``, ``config``, ``attn_latency_s``,
``attn_energy_J``, ``dram_bytes``, ``util_2d``, ``util_1d``, ``e2e_latency_s``, ``e2e_energy_J``);
``--compare`` one row per published number (``paper``, ``figure``, ``metric``, ``config``,
``model_value``, ``paper_value``, ``unit``, ``tolerance``, ``within``, ...).
"""

from __future__ import annotations

import argparse
import importlib
import textwrap
from importlib.metadata import entry_points

from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import print_json, table
from einsim.errors import EinsimError

WIDTH = 100  # columns of the text view
NOTE_KEYS = ("source",)  # columns printed as numbered notes under their table

PLUGIN_GROUP = "einsim.reproduce"  # entry points: paper name -> module with run(name) and compare()


def plugin_targets() -> dict[str, str]:
    """Paper modules registered under the entry-point group ``einsim.reproduce`` (pyproject.toml):
    the package ``einsim.reproduce`` is reached through them, never imported by ``explore``."""
    return {ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP)}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help=SUMMARIES["reproduce"],
        description="Run a paper's configurations through the model and print the results (fusemax: the grid of "
        "4 models x 6 sequence lengths x 5 configurations at batch 64, with the mean speedups/energy ratios "
        "beside the paper's); --compare sets every published number beside the model's.",
        epilog="example: einsim reproduce fusemax --json > fusemax.json; einsim reproduce flightllm --compare",
    )
    p.add_argument("paper", choices=list(plugin_targets()), help="which paper")
    p.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    p.add_argument("--compare", action="store_true",
                   help="one row per published number: model, paper, ratio, tolerance, PASS/MISS")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    targets = plugin_targets()
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
    module = importlib.import_module(targets[args.paper])
    rows = module.run(args.paper)
    if args.json:
        print_json(rows)
        return 0
    print(tables(rows + getattr(module, "summary_rows", lambda _: [])(rows)))
    for note in getattr(module, "notes", lambda: [])():
        print("\n" + textwrap.fill(f"note: {note}", WIDTH, subsequent_indent="  "))
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
