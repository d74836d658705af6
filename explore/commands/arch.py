"""`einsim arch show A.yaml [--set PATH=VALUE ...] [--json]`: the resolved architecture.

The text view lists every component with its values in display units, the source of each
number, the area and the peak throughput per compute unit. ``--json`` prints one object with
SI values, produced by ``einsim.arch.describe.describe``::

    {"name", "description", "technology", "file", "source", "clock_Hz", "power_W",
     "sources": {top-level field: source},
     "components": {NAME: {"kind", "inside", "description", "source",
                           "spec": {field: SI value, ...; sub-entries carry "source"},
                           "sources": {field: source},
                           "derived": {"instances", "area_m2", "capacity_B", "pe_count",
                                       "clock_Hz", "peak_per_s": {label: 1/s},
                                       "ops": {op: {"cycles", "energy_J"}}}}},
     "area": {"total_m2", "breakdown_m2": {NAME: m^2 or null}},
     "peak_per_s": {UNIT: {label: 1/s}}}

e.g. for designs/arch/fusemax.yaml: ``components.Array2D.derived.pe_count == 65536``,
``clock_Hz == 9.4e8``, ``components.GlobalBuffer.derived.capacity_B == 16777216``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from einsim import jsonout
from einsim.explore.commands import SUMMARIES
from einsim.arch import describe, load_arch
from einsim.arch.units import dimension_of_key, format_area_per_bit, format_quantity


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "arch", help=SUMMARIES["arch"], description="Inspect architecture specs.",
        epilog="example: einsim arch show designs/arch/fusemax.yaml --json",
    )
    sub = parser.add_subparsers(dest="arch_command", metavar="ACTION")
    sub.required = True
    show = sub.add_parser(
        "show",
        help="print the resolved spec with units, sources, area and peak throughput",
        description="Print an architecture with every number's source, its area and peaks.",
        epilog="example: einsim arch show designs/arch/fusemax.yaml --set GlobalBuffer.capacity_B=8MiB",
    )
    show.add_argument("spec", help="architecture YAML file, or a bundled design name (see einsim list designs)")
    show.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field by dotted path, e.g. Array2D.shape=[128,128] (repeatable)",
    )
    show.add_argument("--json", action="store_true", help="print one JSON object, SI units")
    show.set_defaults(handler=run_show)
    est = sub.add_parser(
        "estimate",
        help="per-action energy, leakage and area of every memory from hwcomponents",
        description=(
            "Estimate the DRAM, SRAM and register-file numbers of a spec with hwcomponents "
            "(CACTI, Aladdin, NeuroSim) at its technology node, each with its provenance. Needs "
            "hwcomponents: in-process on Python >= 3.12 with einsim[components], otherwise in a "
            "cached Python >= 3.12 environment einsim builds itself."
        ),
        epilog="example: einsim arch estimate designs/arch/fusemax.yaml --write",
    )
    est.add_argument("spec", help="architecture YAML file or bundled design name (e.g. fusemax)")
    est.add_argument("--write", action="store_true",
                     help="write the numbers and their sources into the YAML file")
    est.add_argument("--json", action="store_true", help="print one JSON object, SI units")
    est.set_defaults(handler=run_estimate)


def run_show(args: argparse.Namespace) -> int:
    arch = load_arch(args.spec, overrides=args.overrides or None)
    data = describe(arch)
    if args.json:
        jsonout.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(data))
    return 0


def run_estimate(args: argparse.Namespace) -> int:
    from einsim.arch.estimate import estimate_arch, write_estimate
    from einsim.arch.load import bundled_dir

    bundled = bundled_dir() / f"{args.spec}.yaml"
    if not Path(args.spec).exists() and bundled.is_file():
        args.spec = str(bundled)
    arch = load_arch(args.spec)
    est = estimate_arch(arch)
    if args.write:
        write_estimate(args.spec, est)
    if args.json:
        jsonout.dump(est.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    lines = [f"{est.design}: hwcomponents at {est.technology_m * 1e9:g} nm, ran {est.ran}"]
    for v in est.values:
        lines.append(f"  {v.component}.{v.field}: {_quantity(v.field, v.value, dimension_of_key(v.field) or '')}")
    sources = dict.fromkeys(v.source for v in est.values)
    lines += ["sources:"] + [f"  {s}" for s in sources]
    lines += [f"not estimated: {n}: {why}" for n, why in est.not_estimated.items()]
    if args.write:
        lines.append(f"wrote {len(est.values)} numbers into {args.spec}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def render(data: dict[str, Any]) -> str:
    """Text view of ``describe`` output."""
    lines = [f"{data['name']}  ({data['file']})"]
    if data["description"]:
        lines.append(f"  {data['description']}")
    lines.append(f"  source: {data['source']}")
    for key in ("technology", "clock_Hz", "power_W"):
        if data.get(key) is not None:
            src = data["sources"].get(key)
            lines.append(_row(key, data[key], src if src != data["source"] else None, "  "))
    for name, comp in data["components"].items():
        where = f", inside {comp['inside']}" if comp["inside"] else ""
        lines += ["", f"{name}  [{comp['kind']}{where}]"]
        if comp["description"]:
            lines.append(f"    {comp['description']}")
        lines.append(f"    source: {comp['source']}")
        for key, value in comp["spec"].items():
            if value is None or value == {} or value == [] or key == "ops":
                continue
            src = comp["sources"].get(key)
            lines += _field(key, value, src, comp["source"])
        derived = comp["derived"]
        for op, cost in derived.get("ops", {}).items():
            lines.append(_op_line(op, comp["spec"]["ops"][op], cost, comp["source"]))
        extra = [k for k in ("instances", "pe_count", "capacity_B", "clock_Hz") if k in derived]
        lines += [_row(k, derived[k], None, "    = ") for k in extra if derived[k] is not None]
        area = derived["area_m2"]
        lines.append(_row("area_m2", area, None, "    = ") if area is not None else "    = area: no model")
        for label, value in derived.get("peak_per_s", {}).items():
            lines.append(f"    = peak {label}: {format_quantity(value, '1/s')}")
    unknown = [n for n, a in data["area"]["breakdown_m2"].items() if a is None]
    known = len(unknown) < len(data["area"]["breakdown_m2"])
    total = format_quantity(data["area"]["total_m2"], "m^2") if known else "no area model"
    lines += ["", f"total on-chip area: {total}"]
    if unknown and known:
        lines.append(f"  (no area model: {', '.join(unknown)})")
    return "\n".join(lines) + "\n"


def _op_line(op: str, spec: dict, cost: dict, default_source: str | None) -> str:
    energy = "energy ?" if cost["energy_J"] is None else format_quantity(cost["energy_J"], "J")
    how = " = " + " + ".join(f"{n} {p}" for p, n in spec["compose"].items()) if spec["compose"] else ""
    extras = []
    if spec["area_m2"] is not None:
        extras.append(format_quantity(spec["area_m2"], "m^2"))
    if spec["shared_with"]:
        extras.append(f"shares {spec['shared_with']}")
    if not spec["pipelined"]:
        extras.append("not pipelined")
    src = f"   [{spec['source']}]" if spec["source"] != default_source else ""
    tail = f" ({', '.join(extras)})" if extras else ""
    return f"    op {op}{how}: {cost['cycles']:g} cycles, {energy}{tail}{src}"


def _field(key: str, value: Any, src: str | None, default_source: str | None) -> list[str]:
    """Lines for one spec field; sources are shown only where they differ from the default."""
    src = src if src != default_source else None
    if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
        out = [f"    {key}:"]
        for sub, entry in value.items():
            parts = [
                _fmt(k, v)
                for k, v in entry.items()
                if k != "source" and v is not None and v is not False
            ]
            out.append(f"      {sub}: {', '.join(parts)}")
            if entry.get("source") not in (None, default_source):
                out.append(f"        source: {entry['source']}")
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = [f"    {key}:"]
        for entry in value:
            parts = [_fmt(k, v) for k, v in entry.items() if k != "source" and v is not None]
            out.append(f"      - {', '.join(parts)}")
            if entry.get("source") not in (None, default_source):
                out.append(f"        source: {entry['source']}")
        return out
    return [_row(key, value, src, "    ")]


def _quantity(key: str, value: float, dim: str) -> str:
    """A field's value for display: areas in mm^2, an area per bit in um^2/bit."""
    return format_area_per_bit(value) if key.endswith("_per_bit_m2") else format_quantity(value, dim)


def _row(key: str, value: Any, src: str | None, indent: str) -> str:
    text = f"{indent}{_fmt(key, value)}"
    return text + (f"   [{src}]" if src else "")


def _fmt(key: str, value: Any) -> str:
    dim = dimension_of_key(key)
    if dim and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{key}: {_quantity(key, float(value), dim)}"
    if dim and isinstance(value, dict):
        inner = ", ".join(f"{k}={format_quantity(float(v), dim)}" for k, v in value.items())
        return f"{key}: {{{inner}}}"
    return f"{key}: {value}"
