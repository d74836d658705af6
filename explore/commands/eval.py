"""`einsim eval`: score one design point with a mapper, a given mapping of one Einsum, or a Timeloop set.

With ``--mapper`` (without it, nor ``--mapping``/``--timeloop``: the design's ``default_mapper``),
the whole workload, or one layer of a model phase times its layer count, is mapped by the named
mapper (einsim.mappers.registry);
``--set`` binds rank sizes (``M=4096``) and architecture fields by dotted path
(``GlobalBuffer.capacity_B=8MiB``).

JSON output (``--json``): one object with ``latency_s``, ``energy_J``, ``cycles``, ``dram_bytes``,
``bytes_per_level`` ({level: bytes}), ``utilization`` ({compute unit: busy fraction}) and
``breakdown`` (a list of {component, action, count, energy_J}). A mapper that times tile schedules
adds ``units`` ({compute unit: {busy_s, compute_s, memory_s, stall_s, idle_s, bound}}); the
``search`` mapper adds ``optimal``, ``mapspace_size``, ``evaluated``, ``searches`` (per cascade:
``cascade``, ``found_by``, ``mapping``, ``optimal``, ``mapspace_size``, ``evaluated``,
``objective``, ``seconds``) and, for one cascade, its ``mapping`` (with its fusion groups).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from einsim.arch import load_arch
from einsim.errors import EinsimError, did_you_mean
from einsim.einsum import load_workload
from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import parse_sets, print_json, table
from einsim.arch import parse_override
from einsim.arch.units import format_reader, reader_unit
from einsim.explore.design import bound, evaluate, load_design_arch
from einsim.explore.progress import status_line
from einsim.mappers.constraint_file import bundled_name, is_constraint_file, load_constraints
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapping import Mapping, validate_factors
from einsim.mappers.timeloop import evaluate_set, find_sets, load_timeloop
from einsim.sim.nest import NestProblem, encode, evaluate_encoded
from einsim.sim.result import Result, from_counts
from einsim.yamlsrc import read_text_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help=SUMMARIES["eval"],
        description="Evaluate one mapping of one Einsum on an architecture, or a Timeloop v0.4 input set "
        "(arch, problem, mapping, ERT) found under --timeloop DIR.",
        epilog="examples: einsim eval --arch fusemax --workload attention_1pass --set M=4096 --set P=4096 --mapper ideal\n"
        "          einsim eval --arch fusemax --model bert_base --phase prefill --seq 512 --set GlobalBuffer.capacity_B=8MiB\n"
        "          einsim eval --arch designs/arch/edge.yaml --workload gemm --mapping map.yaml --json\n"
        "          einsim eval --timeloop tests/golden/timeloop/tutorial_exercises/01_accelergy_timeloop_2020_ispass/timeloop/01-model-conv1d-2level --timeloop-set ref-output/os",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--arch", help="architecture YAML")
    p.add_argument("--workload", help="workload YAML (or a bundled name)")
    p.add_argument("--model", help="model preset (bundled id or YAML) instead of --workload: one layer x layers")
    p.add_argument("--phase", choices=("prefill", "decode"), help="model phase (default prefill)")
    p.add_argument("--seq", type=int, metavar="N", help="prompt length (prefill) or KV-cache length (decode)")
    p.add_argument("--batch", type=int, default=1, metavar="B", help="sequences per batch (default 1)")
    p.add_argument("--mapper", metavar="NAME", help="mapper from einsim.mappers.registry: ideal (roofline bound), search, flightllm, powerinfer2, ... "
                   "(default: the design's default_mapper, else ideal)")
    p.add_argument("--mapper-option", action="append", metavar="NAME=VALUE", help="mapper option (repeatable)")
    p.add_argument("--mapping", help="mapping YAML of one Einsum (see einsim.mappers.mapping), or a constraint file "
                   "(designs/mappings: evaluated with the constraints mapper; --arch/--workload default to its own)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="bind a rank size (M=4096) or set an arch field by dotted path (repeatable)")
    p.add_argument("--timeloop", metavar="DIR", help="evaluate the Timeloop set inside DIR instead (files above DIR are never read)")
    p.add_argument("--timeloop-set", metavar="NAME", help="which set inside --timeloop DIR, when it holds several")
    p.add_argument("--simulate", action="store_true",
                   help="--mapping is a whole-cascade mapping: run the event simulation of its tile schedule and "
                        "report per unit busy time, bound and stalls")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def evaluate_mapping(arch_path: str, workload: str, mapping: Mapping, sizes: dict[str, str] | None = None) -> Result:
    """Result of one Mapping of one Einsum of a workload on an architecture."""
    cascade = load_workload(workload, sizes or {})
    einsum = cascade.einsum(mapping.einsum)
    arch = load_arch(arch_path)
    if mapping.unit not in [u.name for u in arch.compute_units()]:
        raise EinsimError(f"mapping names compute unit {mapping.unit!r}" + did_you_mean(mapping.unit, [u.name for u in arch.compute_units()]))
    hierarchy = hierarchy_for(arch, mapping.unit, einsum)
    problem = NestProblem.from_einsum(einsum)
    validate_factors(mapping, dict(einsum.space), [t.rstrip("'") for t in problem.tensors])
    counts = evaluate_encoded(problem, hierarchy, encode(problem, hierarchy, [mapping])).one(0)
    if not counts.valid:
        over = [f"{lv.name} holds {counts.tile_words[i]:g} words, capacity {lv.capacity_words:g}"
                for i, lv in enumerate(hierarchy.levels) if i and counts.tile_words[i] > lv.capacity_words]
        raise EinsimError("the mapping does not fit: " + ("; ".join(over) or "more spatial instances than the fan-out"))
    return from_counts(problem, hierarchy, counts, einsum.name)


def evaluate_timeloop(directory: str, chosen: str | None = None) -> Result:
    """Result of the Timeloop set inside ``directory`` (the only one, or the one named ``chosen``)."""
    sets, incomplete = find_sets(Path(directory))
    names = [s.name for s in sets]
    if chosen is not None:
        sets = [s for s in sets if s.name == chosen]
        if not sets:
            raise EinsimError(f"--timeloop-set {chosen}: no such set inside {directory}" + did_you_mean(chosen, names))
    if len(sets) != 1:
        if sets:
            raise EinsimError(f"--timeloop {directory} holds {len(sets)} sets; choose one with --timeloop-set NAME"
                              + did_you_mean("", names))
        raise EinsimError(incomplete[0] if incomplete else
                          f"--timeloop {directory}: no Timeloop set inside (a folder with an ERT summary, "
                          "a mapping, a problem and an architecture)")
    s = sets[0]
    imported = load_timeloop(s.arch, s.problem, s.mapping, s.ert)
    return from_counts(imported.problem, imported.hierarchy, evaluate_set(imported), imported.name)


def evaluate_design(args: argparse.Namespace) -> Result:
    """The --mapper path: a whole workload or model phase on an architecture."""
    if not args.arch or not (args.workload or args.model):
        raise EinsimError("eval needs --arch and --workload or --model (or --mapping / --timeloop)")
    if args.workload and args.model:
        raise EinsimError("give --workload or --model, not both")
    given = [flag for flag, v in (("--phase", args.phase), ("--seq", args.seq)) if v is not None]
    if args.workload and given:
        flags = " and ".join(given)
        raise EinsimError(f"{flags} appl{'y' if len(given) > 1 else 'ies'} to --model; a --workload takes its sizes from --set (e.g. --set M=4096)")
    if args.model and not args.seq:
        raise EinsimError("--model needs --seq N (prompt length in prefill, KV-cache length in decode)")
    given_options = {parse_override(item, "--mapper-option", "sparsity=8:16")[0]: item for item in args.mapper_option or []}
    options = dict(parse_override(item, "--mapper-option", "sparsity=8:16") for item in args.mapper_option or [])
    sets = {k: parse_override(f"{k}={v}")[1] if "." in k else v for k, v in parse_sets(args.set).items()}
    live = sys.stderr.isatty()
    try:
        result = evaluate(args.arch, args.workload, args.mapper, model=args.model, phase=args.phase or "prefill",
                          seq_len=args.seq, batch=args.batch, mapper_options=options, root=Path.cwd(),
                          progress=status_line if live else None, **sets)
    except EinsimError as exc:  # a mapper's complaint about an option given here: name the flag that gave it
        said = exc.bare_message
        item = next((text for name, text in given_options.items() if exc.location is None and (
            said.startswith(f"mapper {args.mapper}: {name}")
            or (said.startswith(f"mapper {args.mapper}: unknown option") and name in said))), None)
        if item is None:
            raise
        raise EinsimError(f"--mapper-option {item}: {exc.bare_message}") from None
    if live:
        status_line("")
        sys.stderr.write("\r")
    return result


def per_token(args: argparse.Namespace, result: Result) -> str:
    """A model phase's rate as the matrix shows it: tokens/s (batch x seq tokens in prefill, batch in
    decode), J/token (when the design has an energy model) and the busiest resource."""
    tokens = args.batch * (args.seq if (args.phase or "prefill") == "prefill" else 1)
    arch_sets = {k: parse_override(f"{k}={v}")[1] for k, v in parse_sets(args.set).items() if "." in k}
    name, share = bound(result.utilization, result.bytes_per_level, result.latency_s,
                        load_design_arch(args.arch, arch_sets, Path.cwd()))
    energy = format_reader(result.energy_J / tokens, "J") if result.energy_J > 0 else "unknown (no energy model)"
    return (f"tokens/s {tokens / result.latency_s:.4g}, J/token {energy}, bound "
            + (f"{name} {share:.0%}" if name else "unknown"))


def show(result: Result) -> None:
    print(f"{result.name}: latency {format_reader(result.latency_s, 's')} ({result.cycles:.6g} cycles), "
          f"energy {format_reader(result.energy_J, 'J')}")
    print(f"DRAM traffic: {format_reader(result.dram_bytes, 'B')}")
    print("utilization: " + ", ".join(f"{u} {v:.1%}" for u, v in result.utilization.items()))
    print("bytes moved: " + ", ".join(f"{k} {format_reader(v, 'B')}" for k, v in result.bytes_per_level.items()))
    for unit, t in result.unit_timing().items():
        print(f"{unit}: busy {format_reader(t['busy_s'], 's')} (memory {format_reader(t['memory_s'], 's')}), "
              f"stalled {format_reader(t['stall_s'], 's')}, idle {format_reader(t['idle_s'], 's')}; {t['bound']}-bound")
    for found in result.searches:
        groups = [f"[{', '.join(g['einsums'])}]" for g in found["mapping"].get("fusion", [])]
        print(f"search {found['cascade']}: {found['found_by']}, fused {', '.join(groups) or 'nothing'}; "
              f"{found['evaluated']:,} of {found['mapspace_size']:,} mappings evaluated, "
              + ("optimal" if found["optimal"] else "not proven optimal (a space exceeded the budget)"))
    for note in result.notes:
        print(note)
    unit = reader_unit([b["energy_J"] for b in result.breakdown], "J")
    rows = [[b["component"], b["action"], f"{b['count']:.6g}", f"{b['energy_J'] / unit[1]:.4g}"] for b in result.breakdown]
    print(table(rows, ["component", "action", "count", f"energy ({unit[0]})"]))


def simulate_cascade_mapping(args: argparse.Namespace) -> int:
    """``--mapping FILE --simulate``: the whole-cascade mapping's cost and the event simulation of its tile schedule."""
    from einsim.explore.commands.map import simulation_text
    from einsim.mappers.cascade_mapping import CascadeMapping
    from einsim.mappers.fused import evaluate_mapping as evaluate_cascade_mapping, simulate_mapping

    missing = [flag for flag, v in (("--arch", args.arch), ("--workload", args.workload)) if not v]
    if missing or not args.mapping:
        raise EinsimError(f"--simulate needs {', '.join(missing + ([] if args.mapping else ['--mapping']))}")
    cm = CascadeMapping.from_yaml(read_text_file(args.mapping), args.mapping)
    arch, cascade = load_arch(args.arch), load_workload(args.workload, parse_sets(args.set))
    cost = evaluate_cascade_mapping(cm, cascade, arch)
    rows = simulate_mapping(cm, cascade, arch)
    report = {"workload": cascade.name, "latency_s": cost.latency_s, "energy_J": cost.energy_J,
              "valid": cost.valid, "simulation": rows}
    if args.json:
        print_json(report)
    else:
        print(f"{cascade.name} on {arch.name}: latency {cost.latency_s:.6g} s (closed form), energy {cost.energy_J:.6g} J"
              + ("" if cost.valid else " (does not fit: a tile exceeds a level's capacity)"))
        print(simulation_text(rows))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.simulate:
        return simulate_cascade_mapping(args)
    if args.timeloop_set and not args.timeloop:
        raise EinsimError("--timeloop-set needs --timeloop DIR")
    if args.timeloop:
        given = [flag for flag, v in (("--mapping", args.mapping), ("--arch", args.arch), ("--workload", args.workload),
                                      ("--model", args.model), ("--mapper", args.mapper), ("--mapper-option", args.mapper_option),
                                      ("--set", args.set)) if v]
        if given:
            raise EinsimError(f"{given[0]} cannot be combined with --timeloop (the set's own files give the architecture, "
                              "problem and mapping)")
        result = evaluate_timeloop(args.timeloop, args.timeloop_set)
    elif not args.mapping:
        result = evaluate_design(args)
    elif is_constraint_file(args.mapping):
        if args.mapper or args.model:
            raise EinsimError(f"{'--mapper' if args.mapper else '--model'} cannot be combined with a constraint file "
                              "as --mapping (it is evaluated by the constraints mapper on a workload)")
        spec = load_constraints(args.mapping)
        args.arch = args.arch or bundled_name(spec.arch)
        args.workload = args.workload or spec.workload
        args.mapper, args.mapper_option = "constraints", [*(args.mapper_option or []), f"file={args.mapping}"]
        result = evaluate_design(args)
    else:
        missing = [flag for flag, v in (("--arch", args.arch), ("--workload", args.workload)) if not v]
        if missing:
            raise EinsimError(f"eval needs {', '.join(missing)} (or --timeloop DIR)")
        mapping = Mapping.from_yaml(read_text_file(args.mapping), args.mapping)
        result = evaluate_mapping(args.arch, args.workload, mapping, parse_sets(args.set))
    if args.json:
        print_json(result.to_dict())
    else:
        show(result)
        if args.model and not args.mapping and not args.timeloop:
            print(per_token(args, result))
    return 0
