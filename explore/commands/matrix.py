"""`einsim matrix`: every bundled model, prefill and decode, on every bundled design with its default mapper.

A cell is a number (latency, tokens/s, J/token and the resource that bounds it) or the one-line
reason the design's mappers give for not modelling it (an encoder has no decode phase, the
weights exceed the memory, no mapper models a GPU's kernels, ...). The mapper is the design's
``default_mapper`` (einsim.explore.design.default_mappers), the first of them that models the
model. Lengths: a prefill of ``--prefill-len`` prompt tokens and one decode step at a KV cache of
``--decode-len`` tokens, batch 1.

JSON output (``--json``): ``{"lengths": {...}, "rows": [{model, phase, length, design, mapper,
latency_s, tokens_per_s, energy_J_per_token, bound, bound_fraction, reason, bug, notes, elapsed_s}]}``;
``reason`` is null for a number and the numbers are null for a reason; ``bug`` is true where a
back-end raised something other than a modelling refusal (then ``reason`` says where).
``--markdown`` prints the decode tokens/s as a models x designs table with the reasons as notes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from einsim.arch import Architecture
from einsim.arch.units import format_reader
from einsim.designs import names
from einsim.designs import path as bundled_path
from einsim.errors import EinsimError, did_you_mean
from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import print_json, table
from einsim.explore.design import bound, choose_and_run, evaluate, load_design_arch
from einsim.explore.progress import Progress
from einsim.sim.result import Result

PHASES = ("prefill", "decode")
PREFILL_LEN = 512
DECODE_LEN = 1024


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "matrix",
        help=SUMMARIES["matrix"],
        description="Evaluate every bundled model in prefill and decode on every bundled design with the "
        "design's default mapper: a number (tokens/s, latency, J/token, bound) or the reason it cannot run.",
        epilog="examples: einsim matrix\n          einsim matrix --models llama2_7b,mamba2_2p7b --designs fusemax,u280 --json\n"
        "          einsim matrix --phase decode --markdown",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--models", metavar="A,B", help="only these bundled models (default: all)")
    p.add_argument("--designs", metavar="A,B", help="only these bundled designs (default: all)")
    p.add_argument("--phase", choices=PHASES, help="only this phase (default: both)")
    p.add_argument("--prefill-len", type=int, default=PREFILL_LEN, metavar="N",
                   help=f"prompt tokens of a prefill (default {PREFILL_LEN})")
    p.add_argument("--decode-len", type=int, default=DECODE_LEN, metavar="N",
                   help=f"KV-cache length of a decode step (default {DECODE_LEN})")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--markdown", action="store_true", help="print the decode tokens/s table in Markdown")
    p.set_defaults(handler=run)


def _chosen(given: str | None, kind: str, flag: str) -> list[str]:
    valid = names(kind)
    if given is None:
        return valid
    chosen = [n.strip() for n in given.split(",") if n.strip()]
    for name in chosen:
        if name not in valid:
            raise EinsimError(f"{flag}: {name!r} is not a bundled {kind} name" + did_you_mean(name, valid))
    if not chosen:
        raise EinsimError(f"{flag} names no {kind}")
    return chosen


def _bug(exc: Exception) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return (f"einsim bug (not a modelling limit): {type(exc).__name__} at {Path(where.filename).name}:{where.lineno}; "
            "rerun this cell with einsim --debug eval")


def cell(design: str, arch: Architecture | None, arch_error: str | None, model: str, phase: str, length: int) -> dict[str, Any]:
    """One row of the matrix: the numbers of ``model``'s ``phase`` on ``design``, or the reason."""
    row: dict[str, Any] = {"model": model, "phase": phase, "length": length, "design": design, "mapper": None,
                           "latency_s": None, "tokens_per_s": None, "energy_J_per_token": None, "bound": None,
                           "bound_fraction": None, "reason": arch_error, "bug": False, "notes": []}
    if arch is None:
        return row
    t0 = time.perf_counter()
    try:
        def one(mapper: str) -> Result:
            return evaluate(arch, model=model, phase=phase, seq_len=length, mapper=mapper)
        mapper, result, refused = choose_and_run(arch, True, one)
    except EinsimError as exc:
        # bundled files by their place in the package (designs/arch/x.yaml), so a reason reads the same anywhere
        row["reason"] = " ".join(str(exc).replace(f"{bundled_path().parent}{os.sep}", "").split())
    except Exception as exc:  # a back-end bug must not stop the matrix: the row says where it is
        row.update(reason=_bug(exc), bug=True)
    else:
        tokens = length if phase == "prefill" else 1  # batch 1: a decode step yields one token
        row.update(mapper=mapper, latency_s=result.latency_s, reason=None, notes=refused,
                   tokens_per_s=tokens / result.latency_s if result.latency_s > 0 else None,
                   energy_J_per_token=result.energy_J / tokens if result.energy_J > 0 else None)
        if row["energy_J_per_token"] is None:
            row["notes"] = refused + [f"no energy: {arch.name} has no energy model for this mapper (power_W or "
                                      "per-action energies)"]
        row["bound"], row["bound_fraction"] = bound(result.utilization, result.bytes_per_level, result.latency_s, arch)
    row["elapsed_s"] = time.perf_counter() - t0
    return row


def matrix(models: list[str] | None = None, designs: list[str] | None = None, phases: tuple[str, ...] = PHASES,
           prefill_len: int = PREFILL_LEN, decode_len: int = DECODE_LEN,
           progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """The matrix rows, design by design (each design is loaded once; models are parsed once per process)."""
    rows = []
    for design in designs or names("arch"):
        arch, arch_error = None, None
        try:
            arch = load_design_arch(design, {})
        except EinsimError as exc:
            arch_error = f"the design does not load: {exc}"
        for model in models or names("models"):
            for phase in phases:
                rows.append(cell(design, arch, arch_error, model, phase, prefill_len if phase == "prefill" else decode_len))
                if progress is not None:
                    progress(1)
    return rows


def _number(value: float | None, unit: str) -> str:
    return "-" if value is None else format_reader(value, unit)


def _rate(value: float) -> str:
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


def text(rows: list[dict[str, Any]]) -> str:
    header = ["model", "phase", "design", "mapper", "tokens/s", "latency", "J/token", "bound (or why not)"]
    body = []
    for r in rows:
        if r["reason"] is not None:
            body.append([r["model"], r["phase"], r["design"], r["mapper"] or "-", "-", "-", "-", r["reason"]])
            continue
        bound_text = f"{r['bound']} {r['bound_fraction']:.0%}" if r["bound"] else "-"
        body.append([r["model"], r["phase"], r["design"], r["mapper"], _rate(r["tokens_per_s"]),
                     _number(r["latency_s"], "s"), _number(r["energy_J_per_token"], "J"), bound_text])
    return table(body, header)


def markdown(rows: list[dict[str, Any]], phase: str = "decode") -> str:
    """tokens/s of ``phase``, models x designs; a cell that cannot run shows a note number."""
    rows = [r for r in rows if r["phase"] == phase]
    models = list(dict.fromkeys(r["model"] for r in rows))
    designs = list(dict.fromkeys(r["design"] for r in rows))
    at = {(r["model"], r["design"]): r for r in rows}
    reasons: list[str] = []
    lines = ["| model | " + " | ".join(designs) + " |", "|---|" + "---:|" * len(designs)]
    for model in models:
        cells = []
        for design in designs:
            r = at[(model, design)]
            if r["reason"] is None:
                cells.append(_rate(r["tokens_per_s"]))
                continue
            if r["reason"] not in reasons:
                reasons.append(r["reason"])
            cells.append(f"[{reasons.index(r['reason']) + 1}]")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"[{i}] {reason}" + "  " for i, reason in enumerate(reasons, 1)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    for flag, value in (("--prefill-len", args.prefill_len), ("--decode-len", args.decode_len)):
        if value < 1:
            raise EinsimError(f"{flag} must be a positive number of tokens, got {value}")
    models = _chosen(args.models, "models", "--models")
    designs = _chosen(args.designs, "arch", "--designs")
    phases = (args.phase,) if args.phase else PHASES
    if args.markdown and "decode" not in phases:
        raise EinsimError("--markdown shows the decode table: drop --phase prefill")
    bar = Progress(len(models) * len(designs) * len(phases), "cells", enabled=sys.stderr.isatty())
    t0 = time.perf_counter()
    rows = matrix(models, designs, phases, args.prefill_len, args.decode_len, bar.update)
    elapsed = time.perf_counter() - t0
    if bar.live:
        sys.stderr.write("\n")
    lengths = {"prefill_tokens": args.prefill_len, "decode_context": args.decode_len, "batch": 1}
    if args.json:
        print_json({"lengths": lengths, "elapsed_s": elapsed, "rows": rows})
        return 0
    lengths_text = {"prefill": f"prefill: {args.prefill_len} prompt tokens",
                    "decode": f"decode: one token at a {args.decode_len}-token KV cache"}
    stated = "; ".join([lengths_text[p] for p in phases] + ["batch 1; each design's default mapper"])
    if args.markdown:
        print(f"decode tokens/s ({stated})\n")
        print(markdown(rows))
        return 0
    print(stated)
    print(text(rows))
    slow = sorted((r for r in rows if r.get("elapsed_s", 0) > 5), key=lambda r: -r["elapsed_s"])
    for r in slow:
        print(f"slow cell: {r['model']} {r['phase']} on {r['design']} took {r['elapsed_s']:.1f} s")
    print(f"{len(rows)} cells in {elapsed:.1f} s")
    return 0
