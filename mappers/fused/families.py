"""The constraint-file families as part of the whole-cascade mapspace, timed by the tile DAG.

The spatial back-end lays attention out in *families* of loop plans (einsim.mappers.spatial.
attention): ``fused`` (Cascade 5: one group over (h, p2, m1, p1), P1 the largest that fits),
``flat`` (the 3-pass cascade fused over a block of query rows, FLAT's own choice of row block and
QK/A placement) and ``unfused`` (QK, the softmax and AV one after another). A constraint file
picks a family and fixes its free choices. Each bundled file seeds a **family base** (its family,
workload, staged tensors, factor rules, loop orders, op extras and fusion groups); the mapspace
of a base is every combination of the choices the files fix:

- **bindings**: each Einsum on every unit that has its ops and that the family's plans lay out
  (``PLAN_UNITS``; the flat and unfused plans spread QK and AV over the 2D array, ``PINNED``);
- **homes** of the fused family's intermediates, by one of three rules (``HOME_RULES``): the
  seed file's home wherever it is still a level both ends can reach, else the innermost one;
  the innermost (a per-PE register file when producer and readers share a unit, a staging level
  on no unit's path when they do not, else the innermost shared buffer; a state of an iterative
  rank lives in a shared buffer); every intermediate in the innermost shared buffer. The flat
  and unfused plans place their intermediates themselves;
- **slots** of the fusion groups: 1, 2 or ``fit``.

Every point is evaluated as the constraint file it is (einsim.mappers.spatial.registered.
run_configuration): the family fills the open factors, the nest kernel scores each Einsum and
``sim/tile_dag.py`` times the groups, the same model that times the hand configurations. So a
bundled file is one point of its base's space, and ``restrict`` limits the search to what a file
fixes (a file fixes every choice above: its restriction is its own point).

**Branch and bound.** A point's latency is at least, per fusion group (groups run one after
another), its busiest unit's compute time (the tile DAG never beats its busiest resource), and
a unit's compute time of an Einsum does not depend on homes, slots or the family's tile sizes
(its temporal steps are the points over its spatial fan-out). Its energy is at least the ops'
energy plus every buffer's leakage over that latency. Both come from a table of each Einsum's
compute time and op energy on each unit; bindings are visited in order of their bound and the
search stops when the bound exceeds the best score found (ties never prune). The answer is the
optimum of the enumerated space.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

from einsim.arch import Architecture, PEArray
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Cascade, Einsum
from einsim.errors import EinsimError
from einsim.mappers.constraint_file import ConstraintFile
from einsim.mappers.hierarchy import storage_path
from einsim.mappers.search import objective_score
from einsim.mappers.spatial.attention import AttentionResult, design, workload
from einsim.mappers.spatial.cost import leakage_energy
from einsim.mappers.spatial.registered import run_configuration
from einsim.mappers.spatial.strategies import STRATEGIES

PLAN_UNITS = ("Array2D", "Array1D")  # the units the families' loop plans lay an Einsum out on
PLAN_LEVELS = ("GlobalBuffer", "RF2D")  # the levels the plans name
PINNED = {"flat": {"QK": "Array2D", "AV": "Array2D"}, "unfused": {"QK": "Array2D", "AV": "Array2D"}}
HOME_RULES = ("file", "inner", "shared")
SLOTS: tuple[int | str, ...] = (1, 2, "fit")


@dataclass
class Point:
    """One evaluated point of a family space: the constraint file it is and its result."""

    spec: ConstraintFile
    result: AttentionResult
    score: float


@dataclass
class FamilySearchResult:
    objective: str
    best: Point | None
    mapspace_size: int  # points of the searched family spaces
    evaluated: int  # points timed by the tile DAG
    bounded: int  # bindings skipped: their bound exceeds the best score
    seconds: float  # CPU time (user + sys) of the search
    bases: list[str] = field(default_factory=list)  # the seed files whose bases were searched

    @property
    def optimal(self) -> bool:
        return self.best is not None


def _einsums(cascade: Cascade) -> list[Einsum]:
    return [e for e in cascade.einsums if not e.init]


def _shape(einsums: list[Einsum]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {e.name: (e.output, tuple(e.inputs)) for e in einsums}


def applies(seed: ConstraintFile, cascade: Cascade, arch: Architecture) -> bool:
    """Whether ``seed``'s family lays ``cascade`` out on ``arch``: the cascade has the seed's
    Einsums (names, outputs, inputs), attention's ranks, and the design the units and levels the
    family's plans name (a 2D and a 1D PE array, a global buffer and the 2D PEs' registers)."""
    if any(r not in cascade.ranks for r in ("H", "E", "F", "M", "P")):
        return False
    if _shape(_einsums(cascade)) != _shape(_einsums(workload(seed.workload, {}))):
        return False
    units = {u.name for u in arch.compute_units()}
    if not all(u in units and isinstance(arch.component(u), PEArray) for u in PLAN_UNITS):
        return False
    return all(lv in arch.components for lv in PLAN_LEVELS) and len(arch.component("Array2D").shape) == 2


def _base_key(seed: ConstraintFile) -> str:
    free = {"name", "label", "source", "arch", "bindings", "homes", "fusion"}
    groups = [(g.einsums, [lp.model_dump() for lp in g.loops]) for g in seed.fusion]
    return repr((seed.model_dump(exclude=free), groups))


def _written_for(arch: Architecture) -> list[ConstraintFile]:
    """The bundled files, those written for ``arch``'s design (by its name) first."""
    return sorted(STRATEGIES.values(), key=lambda s: design(s.arch).name != arch.name)


def bases_for(cascade: Cascade, arch: Architecture) -> list[ConstraintFile]:
    """The bundled files whose family applies, one per distinct base (files written for the
    design first, then the bundle's order)."""
    out: dict[str, ConstraintFile] = {}
    for seed in _written_for(arch):
        if applies(seed, cascade, arch):
            out.setdefault(_base_key(seed), seed)
    return list(out.values())


def _able(arch: Architecture, einsum: Einsum) -> list[str]:
    ops = ops_per_point(einsum)
    return [u for u in PLAN_UNITS if all(op in arch.compute_unit(u).ops for op in ops)]


def binding_choices(base: ConstraintFile, cascade: Cascade, arch: Architecture) -> list[tuple[str, list[str]]]:
    """(Einsum, the units it may take) in the cascade's order."""
    pinned = PINNED.get(base.tiling, {})
    out = []
    for e in _einsums(cascade):
        units = [pinned[e.name]] if e.name in pinned else _able(arch, e)
        if not units or any(u not in _able(arch, e) for u in units):
            return []
        out.append((e.name, units))
    return out


def _staging_levels(arch: Architecture) -> list[str]:
    """Buffers on no compute unit's path (e.g. FuseMax's StageRF between the two arrays)."""
    on_path = {lv for u in arch.compute_units() for part in storage_path(arch, u.name) for lv in part}
    return [c.name for c in arch.storage_levels() if c.name not in on_path and c.name != "DRAM"
            and c.inside is not None]


def home_candidates(arch: Architecture, units: set[str], state: bool) -> list[str]:
    """Levels an intermediate written and read on ``units`` may live at, innermost first."""
    shared = None
    for u in sorted(units):
        mine = storage_path(arch, u)[0][1:]
        shared = mine if shared is None else [lv for lv in shared if lv in mine]
    out = list(reversed(shared or []))
    if state:
        return out
    if len(units) == 1:
        return storage_path(arch, next(iter(units)))[1] + out
    return _staging_levels(arch) + out


def homes_for(base: ConstraintFile, rule: str, binding: dict[str, str], cascade: Cascade,
              arch: Architecture) -> dict[str, str] | None:
    """The homes of ``base``'s intermediates under ``binding`` by ``rule`` (None: one has no level)."""
    if base.tiling != "fused":
        return dict(base.homes)  # the flat and unfused plans place their intermediates themselves
    einsums = _einsums(cascade)
    out = {}
    for t, seed_home in base.homes.items():
        writers = [e.name for e in einsums if e.output == t]
        readers = [e.name for e in einsums if t in e.inputs]
        units = {binding[n] for n in writers + readers}
        cands = home_candidates(arch, units, bool(cascade.tensors[t].iterative))
        if not cands:
            return None
        shared = [lv for lv in cands if lv in storage_path(arch, next(iter(units)))[0]]
        out[t] = {"file": seed_home if seed_home in cands else cands[0], "inner": cands[0],
                  "shared": shared[0] if shared else cands[0]}[rule]
    return out


def point_spec(base: ConstraintFile, binding: dict[str, str], homes: dict[str, str], slots: int | str,
               arch: Architecture | None = None, name: str = "search") -> ConstraintFile:
    """The constraint file of one point of ``base``'s space (on the bundled design named as ``arch``,
    where there is one)."""
    own = next((s.arch for s in _written_for(arch) if design(s.arch).name == arch.name), base.arch) if arch else base.arch
    spec = base.model_copy(update={
        "name": name, "arch": own, "label": f"search ({base.tiling} family of {base.name})",
        "source": f"einsim map: a point of the {base.tiling} family seeded by designs/mappings/{base.name}.yaml",
        "bindings": dict(binding), "homes": dict(homes),
        "fusion": [g.model_copy(update={"slots": slots, "source": f"einsim map: the group of "
                                        f"designs/mappings/{base.name}.yaml with {slots}-tile buffers"})
                   for g in base.fusion]})
    spec._source = None
    return spec


def evaluate_point(spec: ConstraintFile, arch: Architecture, cascade: Cascade) -> AttentionResult | None:
    """The configuration's result, or None where it does not fit (an error or an over-full level)."""
    try:
        res = run_configuration(spec, arch, cascade)
    except EinsimError:
        return None
    return res if all(c.valid for c in res.costs) and math.isfinite(res.latency_s) else None


def _compute_table(base: ConstraintFile, choices: list[tuple[str, list[str]]], cascade: Cascade,
                   arch: Architecture) -> tuple[dict[tuple[str, str], tuple[float, float]], list[tuple[str, list[str]]]]:
    """((Einsum, unit) -> (compute seconds, op joules), the choices the family can lay out).

    A unit's compute time and op energy of an Einsum do not depend on the other Einsums' units,
    the homes or the slots, so each comes from one evaluation: every Einsum that may take the
    unit bound there, or, where that configuration has no layout, the seed's binding with that
    Einsum alone moved. A unit no such evaluation lays the Einsum out on (its plan places no
    factor of an index, or no tile fits at all) is not a choice of the family."""
    table: dict[tuple[str, str], tuple[float, float]] = {}

    def record(binding: dict[str, str]) -> bool:
        for rule in ("file", "shared", "inner"):
            homes = homes_for(base, rule, binding, cascade, arch)
            res = None if homes is None else _evaluate_any(point_spec(base, binding, homes, 1), arch, cascade)
            if res is not None:
                for c in res.costs:
                    ops = sum(j for (comp, _), (_, j) in c.energy.items() if comp == c.unit)
                    table[(c.name, c.unit)] = (c.compute_s, ops)
                return True
        return False

    seed = {n: base.bindings[n] if base.bindings.get(n) in units else units[0] for n, units in choices}
    for unit in PLAN_UNITS:
        if not record({n: unit if unit in units else seed[n] for n, units in choices}):
            for n, units in choices:
                if unit in units and (n, unit) not in table:
                    record({**seed, n: unit})
    kept = [(n, [u for u in units if (n, u) in table]) for n, units in choices]
    return table, kept if all(units for _, units in kept) else []


def _evaluate_any(spec: ConstraintFile, arch: Architecture, cascade: Cascade) -> AttentionResult | None:
    """The result even where a level is over-full (its compute times and op energies are still right)."""
    try:
        return run_configuration(spec, arch, cascade)
    except EinsimError:
        return None


def lower_bound(base: ConstraintFile, binding: dict[str, str], table: dict[tuple[str, str], tuple[float, float]],
                arch: Architecture) -> tuple[float, float]:
    """(latency, energy) no point of ``base`` with ``binding`` goes under (module docstring)."""
    latency = 0.0
    energy = 0.0
    for g in base.fusion:
        busy: dict[str, float] = {}
        for n in g.einsums:
            t, j = table.get((n, binding[n]), (0.0, 0.0))
            busy[binding[n]] = busy.get(binding[n], 0.0) + t
            energy += j
        latency += max(busy.values(), default=0.0)
    return latency, energy + sum(j for _, j in leakage_energy(arch, latency).values())


def space_size(base: ConstraintFile, choices: list[tuple[str, list[str]]]) -> int:
    rules = len(HOME_RULES) if base.tiling == "fused" else 1
    return math.prod(len(u) for _, u in choices) * rules * len(SLOTS)


def search_families(cascade: Cascade, arch: Architecture, objective: str = "latency",
                    restrict: ConstraintFile | None = None) -> FamilySearchResult | None:
    """The best point of the family spaces that apply to ``cascade`` on ``arch`` (None: none
    applies), or of the restriction of its base's space to what ``restrict`` fixes."""
    start = time.process_time()
    if restrict is not None:
        if not applies(restrict, cascade, arch):
            raise EinsimError(f"constraints {restrict.name}: its {restrict.tiling} family does not lay out "
                              f"{cascade.name} on {arch.name}")
        bases = [restrict]
    else:
        bases = bases_for(cascade, arch)
    if not bases:
        return None
    ranked = []
    size = 0
    for bi, base in enumerate(bases):
        choices = binding_choices(base, cascade, arch)
        if restrict is not None:
            choices = [(n, [restrict.bindings[n]]) for n, _ in choices]
        if not choices:
            continue
        table, choices = _compute_table(base, choices, cascade, arch)
        if restrict is None and not choices:
            continue
        size += 1 if restrict is not None else space_size(base, choices)
        names = [n for n, _ in choices]
        for k, combo in enumerate(itertools.product(*(u for _, u in choices))):
            binding = dict(zip(names, combo))
            lat, en = lower_bound(base, binding, table, arch)
            ranked.append((objective_score(objective, lat, en), bi, k, binding))
    ranked.sort(key=lambda r: (r[0], r[1], r[2]))
    best: Point | None = None
    evaluated = bounded = 0
    seen: set[str] = set()
    for i, (bound, bi, _, binding) in enumerate(ranked):
        if best is not None and bound > best.score * (1 + 1e-9):
            bounded = len(ranked) - i
            break
        base = bases[bi]
        rules = HOME_RULES if base.tiling == "fused" and restrict is None else ("file",)
        slots = SLOTS if restrict is None else (restrict.fusion[0].slots,)
        for rule in rules:
            homes = dict(restrict.homes) if restrict is not None else homes_for(base, rule, binding, cascade, arch)
            if homes is None:
                continue
            for sl in slots:
                spec = point_spec(base, binding, homes, sl, arch)
                key = repr((bi, sorted(binding.items()), sorted(homes.items()), sl))
                if key in seen:
                    continue
                seen.add(key)
                res = evaluate_point(spec if restrict is None else restrict, arch, cascade)
                evaluated += 1
                if res is None:
                    continue
                score = objective_score(objective, res.latency_s, res.energy_J)
                if best is None or score < best.score:
                    best = Point(spec if restrict is None else restrict, res, score)
    return FamilySearchResult(objective, best, size, evaluated, bounded, time.process_time() - start,
                              [b.name for b in bases])


def differences(found: ConstraintFile, hand: ConstraintFile) -> list[str]:
    """How ``found`` differs from ``hand``: one line per choice (binding, home, slots, family)."""
    out = []
    if found.tiling != hand.tiling or found.workload != hand.workload:
        return [f"family: {found.tiling} on {found.workload} (the file: {hand.tiling} on {hand.workload})"]
    for n, u in found.bindings.items():
        if hand.bindings.get(n) != u:
            out.append(f"binding {n}: {u} (the file: {hand.bindings.get(n)})")
    for t, h in found.homes.items():
        if hand.homes.get(t) != h:
            out.append(f"home {t}: {h} (the file: {hand.homes.get(t)})")
    for g, hg in zip(found.fusion, hand.fusion):
        if g.slots != hg.slots:
            out.append(f"slots of [{', '.join(g.einsums)}]: {g.slots} (the file: {hg.slots})")
    if found.extra_ops != hand.extra_ops:
        out.append(f"extra ops: {found.extra_ops or 'none'} (the file: {hand.extra_ops or 'none'})")
    return out


def hand_configurations(cascade: Cascade, arch: Architecture) -> list[ConstraintFile]:
    """The bundled files whose family applies to ``cascade`` on ``arch`` (to compare with)."""
    return [s for s in _written_for(arch) if applies(s, cascade, arch)]


def describe(point: Point) -> dict[str, Any]:
    """A point as plain data: the constraint file it is and what the tile DAG made of it."""
    return {"constraints": point.spec.model_dump(exclude_defaults=True, mode="json"),
            "choice": point.result.choice, "timing": [g.to_dict() for g in point.result.timing],
            "utilization": point.result.utilization}


def against_files(point: Point, cascade: Cascade, arch: Architecture) -> list[dict[str, Any]]:
    """The hand configurations whose family applies, each evaluated by the same model, beside the
    found point: name, label, latency_s, energy_J and how the found point differs."""
    out = []
    for hand in hand_configurations(cascade, arch):
        res = evaluate_point(hand, arch, cascade)
        out.append({"name": hand.name, "label": hand.label,
                    "latency_s": res.latency_s if res else None, "energy_J": res.energy_J if res else None,
                    "differences": differences(point.spec, hand)})
    return out
