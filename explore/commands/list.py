"""`einsim list [workloads|models|designs|sweeps|mappings] [--json]`: the bundled items, one line each with its source.

An item's source is its ``source:`` (first line); a model preset, which sources each number, shows
the source of its shape (``d_model``); a sweep, which holds no numbers of its own, its description.

JSON output (``--json``): ``{kind: [{"name", "file", "source"}]}`` for the kinds asked.
"""

from __future__ import annotations

import argparse
from typing import Any

from einsim.designs import names, path
from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import print_json
from einsim.yamlsrc import load_yaml_file

# command-line kind -> bundled folder
FOLDERS = {"workloads": "workloads", "models": "models", "designs": "arch", "sweeps": "sweeps", "mappings": "mappings"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list",
        help=SUMMARIES["list"],
        description="List the bundled items (usable by name wherever a file is expected), one line each "
        "with its source (mappings: the constraint files of designs/mappings, for --constraints).",
        epilog="examples: einsim list\n          einsim list designs --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("kind", nargs="?", choices=tuple(FOLDERS), help="only this kind (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def source_of(data: Any) -> str:
    """The one-line source of a bundled item's YAML data."""
    if not isinstance(data, dict):
        return ""
    text = data.get("source")
    if text is None and isinstance(data.get("d_model"), dict):
        text = data["d_model"].get("source")
    if text is None:
        text = data.get("description")
    lines = str(text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def items(kind: str) -> list[dict[str, str]]:
    """``[{"name", "file", "source"}]`` of one kind, sorted by name."""
    folder = FOLDERS[kind]
    out = []
    for name in names(folder):
        file = path(folder, f"{name}.yaml")
        out.append({"name": name, "file": str(file), "source": source_of(load_yaml_file(file).data)})
    return out


def run(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else list(FOLDERS)
    listed = {kind: items(kind) for kind in kinds}
    if args.json:
        print_json(listed)
        return 0
    for i, kind in enumerate(kinds):
        if len(kinds) > 1:
            print(("\n" if i else "") + f"{kind}:")
        width = max((len(it["name"]) for it in listed[kind]), default=0)
        for it in listed[kind]:
            print(f"  {it['name'].ljust(width)}  {it['source']}")
    return 0
