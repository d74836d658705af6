"""`einsim map`: search the mapspace of a whole cascade (fused) or of one Einsum, print the best mapping.

Without ``--unit`` the whole cascade is mapped (einsim.mappers.fused: units picked from the op
tables, intermediates fused where that pays, optimal when every per-Einsum space fits the
budget); ``--einsum NAME`` maps that Einsum alone. JSON output (``--json``)::

    {"workload", "objective", "latency_s", "energy_J", "score", "mapping": {cascade mapping},
     "mapspace_size", "evaluated", "seconds", "optimal", "front_exact", "einsums": [{"einsum", "unit", "latency_s",
     "energy_J"}], "search": {Einsum: {"units", "evaluated", "partial_pareto"}},
     "pareto": [{"latency_s", "energy_J", "mapping"}]}

On an attention cascade the search also covers the constraint-file families
(einsim.mappers.fused.families: every binding, home rule and buffer depth of each bundled file's
family, timed by the tile DAG) and runs the per-Einsum join only where its lower bound can beat
them (einsim.mappers.fused.whole). When a family point wins, ``mapping`` is that point as a
constraint file, and the JSON adds ``cpu_seconds``, ``family`` (its bases, points, evaluated,
bounded, timing, utilization), ``join`` (``searched``, ``lower_bound``) and ``configurations``
(each bundled file of the workload on the design, same model: ``name``, ``latency_s``,
``energy_J``, ``differences``).

``--constraints FILE`` (a constraint file, or a bundled one: ``fusemax``, ``architecture``,
``cascade``, ``flat``, ``unfused``) evaluates the mapping the file constrains, its open factors
chosen by its rules, timed by the tile pipeline; ``--arch`` and ``--workload`` default to the
file's. JSON: ``{"workload", "constraints", "latency_s", "energy_J", "dram_bytes", "utilization",
"notes", "mapping": {the constraint file}}``.

``--simulate`` adds ``simulation``: per tile schedule of the best mapping (einsim.mappers.fused.
simulate_mapping) its Einsums, tiles, buffers, ``closed_form_s``, ``lower_bound_s``, ``simulated_s``,
``exact`` and per unit ``busy_s``, ``compute_s``, ``memory_s``, ``stall_s`` and ``bound``.

With ``--unit`` one Einsum is searched on that unit (einsim.mappers.search)::

    {"einsum", "unit", "objective", "method", "mapspace_size", "evaluations", "evaluated",
     "valid_evaluations", "seconds", "evals_per_s", "latency_s", "energy_J", "cycles", "score",
     "optimal", "level_bytes": {level: bytes}, "mapping": {...}, "pareto": [...]}
"""

from __future__ import annotations

import argparse
import sys

import yaml
from pathlib import Path

from einsim.arch import Architecture, load_arch
from einsim.einsum import load_workload
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Einsum
from einsim.errors import EinsimError, did_you_mean
from einsim.explore.commands import SUMMARIES
from einsim.explore.commands._common import parse_sets, print_json, table
from einsim.explore.design import evaluate
from einsim.mappers.constraint_file import bundled_name, load_constraints
from einsim.explore.progress import Progress
from einsim.mappers.cascade_mapping import validate
from einsim.mappers.fused import map_cascade, simulate_mapping
from einsim.mappers.fused.families import against_files, describe
from einsim.mappers.fused.whole import WholeSearchResult, map_whole
from einsim.mappers.fused.evaluate import einsum_cost
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Mapspace
from einsim.mappers.search import METHODS, OBJECTIVES, search
from einsim.sim.nest import NestProblem


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "map",
        help=SUMMARIES["map"],
        description="Map a whole cascade: each Einsum's unit (from the op tables), tilings, spatial splits per "
        "array axis, loop orders, and which intermediates stay on chip (fused). The search keeps per-Einsum "
        "Pareto sets keyed by what a fused neighbour needs and joins them, so it is optimal when every "
        "per-Einsum space fits --budget. Prints the best mapping (YAML), its cost, the latency-energy front "
        "and the search statistics. With --unit, one Einsum is searched on that unit.",
        epilog="examples: einsim map --arch designs/arch/fusemax.yaml --workload gemm --json;  "
        "einsim map --arch designs/arch/edge.yaml --workload gemm --unit Array2D --set M=1024 --set K=1024 "
        "--set N=1024 --objective edp",
    )
    p.add_argument("--arch", help="architecture YAML file (required unless --constraints names one)")
    p.add_argument("--workload", help="workload YAML file or bundled name (required unless --constraints names one)")
    p.add_argument("--constraints", metavar="FILE",
                   help="a constraint file (designs/mappings; bundled: fusemax, architecture, cascade, flat, unfused): "
                   "evaluate the mapping it constrains")
    p.add_argument("--einsum", help="map this Einsum alone (default: the whole cascade)")
    p.add_argument("--unit", help="search one Einsum on this compute unit (default: units are chosen by the search)")
    p.add_argument("--objective", choices=OBJECTIVES, default="edp", help="what to minimize (default edp)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="bind a rank size (repeatable)")
    p.add_argument("--search", choices=METHODS, default="auto",
                   help="auto: exhaustive where a space fits the budget, else hill climbing (default); "
                   "random only with --unit")
    p.add_argument("--no-fuse", action="store_true", help="keep every intermediate in DRAM")
    p.add_argument("--budget", type=int, default=1_000_000, help="evaluations for random/hill (default 1e6)")
    p.add_argument("--seed", type=int, default=0, help="seed of random and hill (default 0)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker threads (same answer for any count)")
    p.add_argument("--simulate", action="store_true",
                   help="run the event simulation of the best mapping's tile schedule (per-unit busy, bound, stalls)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def pick_einsum(cascade, name: str | None) -> Einsum:
    names = [e.name for e in cascade]
    if name is not None:
        if name not in names:
            raise EinsimError(f"workload {cascade.name} has no Einsum {name!r}" + did_you_mean(name, names))
        return cascade.einsum(name)
    if len(names) != 1:
        raise EinsimError(f"workload {cascade.name} has {len(names)} Einsums; choose one with --einsum "
                          f"(valid: {', '.join(names)})")
    return cascade.einsum(names[0])


def pick_unit(arch: Architecture, einsum: Einsum, name: str | None) -> str:
    """``name``, else the only compute unit that has every op the Einsum needs."""
    if name is not None:
        arch.compute_unit(name)
        return name
    ops = ops_per_point(einsum)
    able = [u.name for u in arch.compute_units() if all(op in u.ops for op in ops)]
    if len(able) != 1:
        listed = ", ".join(able) or "none"
        raise EinsimError(f"choose a compute unit with --unit: {len(able)} units of {arch.name} run Einsum "
                          f"{einsum.name} (valid: {listed})")
    return able[0]


def run_constraints(args: argparse.Namespace) -> int:
    """``--constraints FILE``: the mapping a constraint file constrains, evaluated and timed."""
    spec = load_constraints(args.constraints)
    for flag, given in (("--unit", args.unit), ("--einsum", args.einsum), ("--simulate", args.simulate),
                        ("--no-fuse", args.no_fuse)):
        if given:
            raise EinsimError(f"{flag} cannot be combined with --constraints (the file fixes units and fusion)")
    arch = args.arch or bundled_name(spec.arch)
    workload = args.workload or spec.workload
    result = evaluate(arch, workload, "constraints", mapper_options={"file": args.constraints}, root=Path.cwd(),
                      **parse_sets(args.set))
    report = {"workload": workload, "constraints": spec.name, "latency_s": result.latency_s,
              "energy_J": result.energy_J, "dram_bytes": result.dram_bytes, "utilization": result.utilization,
              "notes": result.notes, "mapping": spec.model_dump(exclude_defaults=True)}
    if args.json:
        print_json(report)
        return 0
    print(f"{spec.label} ({spec.name}) on {arch}, {workload}: latency {result.latency_s:.6g} s, "
          f"energy {result.energy_J:.6g} J, DRAM {result.dram_bytes:.6g} B")
    print("utilization: " + ", ".join(f"{u} {v:.1%}" for u, v in result.utilization.items()))
    for note in result.notes:
        print(note)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.budget < 1 or args.jobs < 1:
        raise EinsimError("--budget and -j take positive whole numbers")
    if args.constraints:
        return run_constraints(args)
    missing = [flag for flag, v in (("--arch", args.arch), ("--workload", args.workload)) if not v]
    if missing:
        raise EinsimError(f"map needs {' and '.join(missing)} (or --constraints FILE)")
    arch = load_arch(args.arch)
    cascade = load_workload(args.workload, parse_sets(args.set))
    if args.unit is None:
        return run_cascade(args, arch, cascade)
    if args.simulate:
        raise EinsimError("--simulate times a whole-cascade mapping; drop --unit")
    einsum = pick_einsum(cascade, args.einsum)
    unit = pick_unit(arch, einsum, args.unit)
    space = Mapspace(NestProblem.from_einsum(einsum), hierarchy_for(arch, unit, einsum))
    size = space.size()
    bar = Progress(min(size, args.budget), label="mappings", enabled=sys.stderr.isatty())

    def advance(n: int) -> None:
        bar.grow(max(0, bar.done + n - bar.total))  # hill climbing may overshoot its budget by a batch
        bar.update(n)

    res = search(space, args.objective, args.search, budget=args.budget, seed=args.seed, workers=args.jobs, size=size,
                 progress=advance)
    bar.close()
    report = {
        "einsum": einsum.name, "unit": unit, "objective": res.objective, "method": res.method,
        "mapspace_size": size, "evaluations": res.evaluations, "evaluated": res.evaluations,
        "optimal": res.method == "exhaustive", "valid_evaluations": res.valid_evaluations,
        "seconds": res.seconds, "evals_per_s": res.evals_per_s,
        "latency_s": res.latency_s if res.best else None, "energy_J": res.energy_J if res.best else None,
        "cycles": res.counts.cycles if res.counts else None, "score": res.score if res.best else None,
        "level_bytes": res.level_bytes, "mapping": res.best.to_dict() if res.best else None,
        "pareto": [{"latency_s": p.latency_s, "energy_J": p.energy_J, "mapping": p.mapping.to_dict()} for p in res.pareto],
    }
    if args.json:
        print_json(report)
        return 0 if res.best else 1
    print(f"einsum {einsum.name} on {unit}: mapspace {size:,} mappings; {res.method} search, "
          f"{res.evaluations:,} evaluated ({res.valid_evaluations:,} valid) in {res.seconds:.3g} s, "
          f"{res.evals_per_s:,.0f} evaluations/s")
    if res.best is None:
        print("no valid mapping found (capacity or fan-out); raise --budget or check the architecture")
        return 1
    print(f"best by {res.objective}: latency {res.latency_s:.6g} s, energy {res.energy_J:.6g} J, "
          f"cycles {res.counts.cycles:.6g}")
    print(table([[name, f"{b:.6g}"] for name, b in res.level_bytes.items()], ["level", "bytes"]))
    print(f"Pareto set (latency vs energy): {len(res.pareto)} mapping(s)")
    print("mapping:")
    print(res.best.to_yaml().rstrip())
    return 0


def run_cascade(args: argparse.Namespace, arch: Architecture, cascade) -> int:
    """Map the whole cascade (or ``--einsum`` alone) with the fused search."""
    if args.search == "random":
        raise EinsimError("--search random needs --unit; the cascade search is auto, exhaustive or hill")
    if args.einsum is not None:
        pick_einsum(cascade, args.einsum)
    bar = Progress(0, label="mappings", enabled=sys.stderr.isatty())

    def status(msg: str, expected: int) -> None:
        bar.label = msg
        bar.grow(expected)

    def advance(n: int) -> None:
        bar.grow(max(0, bar.done + n - bar.total))  # hill climbing may overshoot its budget by a batch
        bar.update(n)

    def join():
        return map_cascade(cascade, arch, args.objective, einsum=args.einsum, budget=args.budget, seed=args.seed,
                           workers=args.jobs, fuse=not args.no_fuse, method=args.search, progress=advance, status=status)

    if args.einsum is None and not args.no_fuse:
        whole = map_whole(cascade, arch, args.objective, join=join)
        bar.close()
        if whole.family_wins:
            return report_family(args, cascade, arch, whole)
        res = whole.join
    else:
        res = join()
        bar.close()
    if res.best is None:
        if args.json:
            print_json({"workload": cascade.name, "objective": res.objective, "mapping": None, "latency_s": None,
                        "energy_J": None, "mapspace_size": res.mapspace_size, "evaluated": res.evaluated,
                        "seconds": res.seconds, "optimal": res.optimal})
        else:
            print("no valid mapping found (capacity or fan-out); raise --budget or check the architecture")
        return 1
    if args.einsum is None:
        validate(res.best, cascade, arch)  # the printed mapping is a valid whole-cascade mapping
    homes = res.best.fused_tensors()
    per = []
    for m in res.best.mappings:
        c = einsum_cost(arch, cascade.einsum(m.einsum), m, homes)
        per.append({"einsum": m.einsum, "unit": m.unit, "latency_s": c.latency_s, "energy_J": c.energy_J})
    report = {
        "workload": cascade.name, "objective": res.objective, "latency_s": res.latency_s, "energy_J": res.energy_J,
        "score": res.score, "mapping": res.best.to_dict(), "mapspace_size": res.mapspace_size,
        "evaluated": res.evaluated, "seconds": res.seconds, "optimal": res.optimal, "front_exact": res.front_exact,
        "einsums": per,
        "search": res.per_einsum,
        "pareto": [{"latency_s": lat, "energy_J": en, "mapping": cm.to_dict()} for lat, en, cm in res.pareto],
    }
    if args.simulate:
        if args.einsum is not None:
            raise EinsimError("--simulate times a whole-cascade mapping; drop --einsum")
        report["simulation"] = simulate_mapping(res.best, cascade, arch)
    if args.json:
        print_json(report)
        return 0
    what = f"Einsum {args.einsum}" if args.einsum else f"cascade {cascade.name} ({len(res.best.mappings)} Einsums)"
    print(f"{what} on {arch.name}: mapspace {res.mapspace_size:,} mappings; {res.evaluated:,} partial mappings "
          f"evaluated in {res.seconds:.3g} s; {'optimal' if res.optimal else 'not proven optimal (a space exceeded --budget)'}"
          + ("" if res.front_exact or not res.optimal else " (front of the evaluated mappings; the rest were bounded out)"))
    print(f"best by {res.objective}: latency {res.latency_s:.6g} s, energy {res.energy_J:.6g} J")
    print(table([[r["einsum"], r["unit"], f"{r['latency_s']:.6g}", f"{r['energy_J']:.6g}"] for r in per],
                ["einsum", "unit", "latency s", "energy J"]))
    groups = [f"[{', '.join(g.einsums)}] at {', '.join(f'{t}@{h}' for t, h in g.homes.items())}" for g in res.best.fusion]
    print("fused: " + ("; ".join(groups) if groups else "none (every intermediate in DRAM)"))
    print(f"Pareto front (latency vs energy): {len(res.pareto)} mapping(s)")
    print(table([[f"{lat:.6g}", f"{en:.6g}"] for lat, en, _ in res.pareto], ["latency s", "energy J"]))
    print("mapping:")
    print(res.best.to_yaml().rstrip())
    if args.simulate:
        print(simulation_text(report["simulation"]))
    return 0


def report_family(args: argparse.Namespace, cascade, arch: Architecture, whole: WholeSearchResult) -> int:
    """The best mapping is a point of a constraint-file family: print it as the constraint file it is,
    timed by the tile DAG, beside the hand configurations evaluated by the same model."""
    fam = whole.families
    best = fam.best
    join = whole.join
    optimal = join is None or join.optimal
    files = against_files(best, cascade, arch)
    report = {
        "workload": cascade.name, "objective": whole.objective, "latency_s": best.result.latency_s,
        "energy_J": best.result.energy_J, "score": best.score, "mapping": describe(best)["constraints"],
        "mapspace_size": fam.mapspace_size + (join.mapspace_size if join else 0),
        "evaluated": fam.evaluated + (join.evaluated if join else 0), "seconds": whole.seconds,
        "cpu_seconds": whole.cpu_seconds, "optimal": optimal, "front_exact": False,
        "family": {"bases": fam.bases, "mapspace_size": fam.mapspace_size, "evaluated": fam.evaluated,
                   "bounded": fam.bounded, "cpu_seconds": fam.seconds, **describe(best)},
        "join": {"searched": join is not None, "lower_bound": whole.join_bound,
                 "score": join.score if join else None, "mapspace_size": join.mapspace_size if join else None},
        "configurations": files,
        "pareto": [{"latency_s": best.result.latency_s, "energy_J": best.result.energy_J,
                    "mapping": describe(best)["constraints"]}],
    }
    if args.simulate:
        raise EinsimError("--simulate runs the event simulation of a join mapping; the best here is a "
                          "constraint-file family point, timed by the tile DAG (its schedule is printed)")
    if args.json:
        print_json(report)
        return 0
    join_text = (f"the per-Einsum join's space was bounded out (its lower bound {whole.join_bound:.6g} is no better)"
                 if join is None else f"the per-Einsum join ({join.mapspace_size:,} mappings) scored {join.score:.6g}")
    print(f"cascade {cascade.name} on {arch.name}: {fam.mapspace_size:,} constraint-file family points "
          f"({', '.join(fam.bases)} bases), {fam.evaluated:,} timed by the tile DAG, {fam.bounded:,} bindings bounded "
          f"out; {join_text}; {whole.cpu_seconds:.3g} s CPU; "
          + ("optimal within the mapspace" if optimal else "not proven optimal"))
    print(f"best by {whole.objective}: latency {best.result.latency_s:.6g} s, energy {best.result.energy_J:.6g} J "
          f"(tile DAG, sim/tile_dag.py)")
    print(table([[", ".join(g.einsums), f"{g.tiles:,}", str(g.slots), f"{g.period_s:.6g}", f"{g.latency_s:.6g}"]
                 for g in best.result.timing], ["group", "tiles", "slots", "period s", "latency s"]))
    print("utilization: " + ", ".join(f"{u} {v:.1%}" for u, v in best.result.utilization.items()))
    print("the hand configurations, same model:")
    for f in files:
        if f["latency_s"] is None:
            print(f"  {f['name']}: does not fit")
            continue
        print(f"  {f['name']} ({f['label']}): latency {f['latency_s']:.6g} s, energy {f['energy_J']:.6g} J; "
              f"found / file = {best.result.latency_s / f['latency_s']:.4f} in latency; differs: "
              + ("; ".join(f["differences"]) or "nothing (the same point)"))
    print("mapping (a constraint file; einsim map --constraints FILE evaluates it):")
    print(yaml.safe_dump(report["mapping"], sort_keys=False).rstrip())
    return 0


def simulation_text(rows: list[dict]) -> str:
    """The event simulation of a mapping's tile schedules as text (rows: simulate_mapping's)."""
    lines = ["tile pipeline (event simulation; schedules run one after another):"]
    for r in rows:
        buffers = ", ".join(f"{k}: {v} tile(s)" for k, v in r["buffers"].items())
        lines.append(f"  [{', '.join(r['einsums'])}] {r['tiles']} tile(s){'; buffers ' + buffers if buffers else ''}: "
                     f"simulated {r['simulated_s']:.6g} s, closed form {r['closed_form_s']:.6g} s "
                     f"({'exact' if r['exact'] else 'upper bound; lower bound ' + format(r['lower_bound_s'], '.6g') + ' s'})")
        lines.append(table([[u["unit"], f"{u['busy_s']:.6g}", f"{u['compute_s']:.6g}", f"{u['memory_s']:.6g}",
                             f"{u['stall_s']:.6g}", u["bound"]] for u in r["units"]],
                           ["unit", "busy s", "compute s", "memory s", "stall s", "bound"]))
    return "\n".join(lines)

