"""Import Timeloop/Accelergy v0.4 inputs (architecture, problem, mapping, ERT) into einsim.

Enough of the format for the reference sets in shared/peer_vectors and ordinary Timeloop
exercises: flat ``nodes`` architectures with ``!Container``/``!Component``/``!Parallel``,
``spatial: {meshX, meshY}`` fan-outs, dataspace keep/bypass constraints; problems with
projections ``[[R], [P]]`` and coefficient names (``Wstride``); mappings with ``temporal``,
``spatial`` and ``datatype``/``bypass`` entries (``factors: R=3 P=1`` or ``C1 M16``, permutations
listed innermost first). The problem becomes an einsim workload (so it goes through the cascade
language), the architecture a Hierarchy with the ERT's energies, the mapping a Mapping.

Instance counts per level come from the ERT's component names (``GlobalBuffer[1..16]``), which
record the architecture as Accelergy resolved it; without an ERT they follow the containers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from einsim.errors import EinsimError, did_you_mean
from einsim.yamlsrc import BoundedSafeLoader, load_plain, read_text_file
from einsim.einsum import Cascade, parse_workload
from einsim.mappers.mapping import LevelMapping, Mapping
from einsim.sim.nest import Hierarchy, Level, NestProblem

_COMPUTE_CLASSES = ("intmac", "fpmac", "mac", "compute")


class _Loader(BoundedSafeLoader):
    """Safe loading that keeps Timeloop's node tags (!Container, !Component, !Parallel) as data."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        data = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        data = {"nodes": loader.construct_sequence(node, deep=True)}
    else:
        data = {"value": loader.construct_scalar(node)}
    data["__tag__"] = suffix
    return data


_Loader.add_multi_constructor("!", _tagged)


def _read(path: Path) -> Any:
    return load_plain(read_text_file(path), str(path), _Loader)


# ----------------------------------------------------------------------------- architecture


@dataclass
class _Node:
    name: str
    klass: str
    attributes: dict[str, Any]
    constraints: dict[str, Any]
    instances: int  # from the containers above it
    after_container: str | None  # the spatial container just above it, if any


def _flatten(nodes: list[Any], where: Path) -> tuple[list[_Node], list[str]]:
    """Storage and compute components in order, and the names of spatial containers in order."""
    out: list[_Node] = []
    containers: list[str] = []
    multiplier = 1
    pending: str | None = None

    def visit(items: list[Any]) -> None:
        nonlocal multiplier, pending
        for node in items:
            if not isinstance(node, dict):
                raise EinsimError(f"{where}: architecture nodes are mappings, got {node!r}")
            tag = node.get("__tag__")
            if tag == "Container":
                mesh = node.get("spatial") or {}
                fan = int(mesh.get("meshX", 1)) * int(mesh.get("meshY", 1))
                if fan > 1:
                    multiplier *= fan
                    containers.append(str(node.get("name")))
                    pending = str(node.get("name"))
            elif tag == "Parallel":
                visit(node.get("nodes") or [])
            elif tag == "Component":
                out.append(_Node(str(node["name"]), str(node.get("class", "")), dict(node.get("attributes") or {}),
                                 dict(node.get("constraints") or {}), multiplier, pending))
                pending = None
            else:
                raise EinsimError(f"{where}: unknown architecture node tag !{tag}")

    visit(nodes)
    return out, containers


def _ert(path: Path | None) -> dict[str, tuple[int, dict[str, float]]]:
    """Component -> (instances, {action: energy J}) from an ERT summary."""
    if path is None:
        return {}
    data = _read(path)
    out = {}
    for entry in (data.get("ERT_summary") or {}).get("table_summary") or []:
        full = str(entry["name"])
        match = re.match(r"^(?:.*\.)?([^.\[]+)\[(\d+)\.\.(\d+)\]$", full)
        if match:
            name, count = match.group(1), int(match.group(3)) - int(match.group(2)) + 1
        else:
            name, count = full.split(".")[-1], 1
        actions = {str(a["name"]): float(a["energy"]) * 1e-12 for a in entry.get("actions") or []}
        out[name] = (count, actions)
    return out


def _action(actions: dict[str, float], *names: str) -> float:
    for n in names:
        if n in actions:
            return actions[n]
    return 0.0


# ----------------------------------------------------------------------------- problem


def _problem_text(problem: dict, where: Path) -> str:
    """The Timeloop problem as an einsim workload (one Einsum)."""
    shape, instance = problem.get("shape") or {}, problem.get("instance") or {}
    dims = [str(d) for d in shape.get("dimensions") or []]
    if not dims:
        raise EinsimError(f"{where}: problem.shape.dimensions is missing")
    coefs = {str(c["name"]): c.get("default", 1) for c in shape.get("coefficients") or []}
    coefs.update({k: v for k, v in instance.items() if k in coefs})
    sizes = {d: int(instance.get(d, 1)) for d in dims}
    ranks = dict(sizes)
    tensors, accesses = {}, {}
    output = None
    for ds in shape.get("data_spaces") or []:
        name = str(ds["name"])
        ranks_of, index = [], []
        for i, terms in enumerate(ds.get("projection") or []):
            parts = []
            for term in terms:
                dim = str(term[0])
                if dim not in sizes:
                    raise EinsimError(f"{where}: data space {name} projects unknown dimension {dim}" + did_you_mean(dim, dims))
                coef = int(coefs.get(str(term[1]), term[1])) if len(term) > 1 else 1
                parts.append((dim, coef))
            if len(parts) == 1 and parts[0][1] == 1:
                ranks_of.append(parts[0][0])
            else:
                rank = f"{name}{i}"
                ranks[rank] = sum(c * (sizes[d] - 1) for d, c in parts) + 1
                ranks_of.append(rank)
            index.append(" + ".join(f"{c}*{d.lower()}" if c != 1 else d.lower() for d, c in parts))
        tensors[name] = ranks_of
        accesses[name] = f"{name}[{', '.join(index)}]"
        if ds.get("read_write"):
            output = name
    if output is None:
        raise EinsimError(f"{where}: no data space is read_write (the output)")
    operands = " * ".join(accesses[t] for t in tensors if t != output)
    lines = [f"name: {shape.get('name', 'timeloop')}", "source: imported from Timeloop v0.4", "ranks:"]
    lines += [f"  {r}: {n}" for r, n in ranks.items()]
    lines += ["tensors:"] + [f"  {t}: [{', '.join(r)}]" for t, r in tensors.items()]
    lines += ["einsums: |", f"  {accesses[output]} = {operands}"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- mapping

_FACTOR = re.compile(r"([A-Za-z]+)\s*=?\s*(\d+)")


def _factors(text: Any) -> dict[str, int]:
    if isinstance(text, dict):
        return {str(k): int(v) for k, v in text.items()}
    return {d: int(n) for d, n in _FACTOR.findall(str(text or ""))}


@dataclass
class TimeloopSet:
    """A Timeloop input set in einsim terms, with the reference outputs when present."""

    name: str
    cascade: Cascade
    problem: NestProblem
    hierarchy: Hierarchy
    mapping: Mapping
    spatial_allowed: dict[str, dict[str, int]] = field(default_factory=dict)  # level -> index -> largest spatial factor
    fixed_ones: dict[str, set[str]] = field(default_factory=dict)  # level -> indices whose temporal factor is 1


def load_timeloop(arch: Path, problem: Path, mapping: Path, ert: Path | None = None, name: str = "") -> TimeloopSet:
    """Read a Timeloop v0.4 arch, problem, mapping and (optional) ERT summary."""
    arch_data, prob_data, map_data = _read(Path(arch)), _read(Path(problem)), _read(Path(mapping))
    nodes = ((arch_data or {}).get("architecture") or {}).get("nodes")
    if not nodes:
        raise EinsimError(f"{arch}: expected architecture.nodes (Timeloop v0.4)")
    components, containers = _flatten(nodes, Path(arch))
    energies = _ert(Path(ert) if ert else None)
    storage = [c for c in components if c.klass not in _COMPUTE_CLASSES]
    compute = [c for c in components if c.klass in _COMPUTE_CLASSES]
    if not compute or not storage:
        raise EinsimError(f"{arch}: need storage components and one compute component")
    unit = compute[-1]
    inst = [energies.get(c.name, (c.instances, {}))[0] for c in storage] + [energies.get(unit.name, (unit.instances, {}))[0]]

    cascade = parse_workload(_problem_text((prob_data or {}).get("problem") or {}, Path(problem)), file=str(problem))
    einsum = cascade.einsums[0]
    nest = NestProblem.from_einsum(einsum)

    levels = []
    spatial_allowed: dict[str, dict[str, int]] = {}
    fixed_ones: dict[str, set[str]] = {}
    for i, comp in enumerate(storage):
        attrs = comp.attributes
        actions = energies.get(comp.name, (0, {}))[1]
        datawidth = int(attrs.get("datawidth", attrs.get("word-bits", 16)))
        block = max(1, int(attrs.get("width", datawidth)) // datawidth)
        dram = comp.klass.upper() == "DRAM"
        capacity = math.inf if dram or "depth" not in attrs else int(attrs["depth"]) * block
        keep = (comp.constraints.get("dataspace") or {}).get("keep")
        levels.append(Level(
            comp.name, fanout=inst[i + 1] // inst[i], capacity_words=capacity, block_words=block,
            read_J=_action(actions, "read"), write_J=_action(actions, "write"),
            update_J=_action(actions, "update", "write"), leak_J_per_cycle=_action(actions, "leak"),
            read_bw_words=float(attrs.get("read_bandwidth", math.inf)),
            write_bw_words=float(attrs.get("write_bandwidth", math.inf)),
            may_keep=tuple(keep) if keep is not None else None,
        ))
        temporal_c = comp.constraints.get("temporal") or {}
        fixed_ones[comp.name] = {d.lower() for d, n in _factors(" ".join(temporal_c.get("factors") or [])).items() if n == 1}
    fans = [lv.name for lv in levels if lv.fanout > 1]
    for node in nodes:
        if isinstance(node, dict) and node.get("__tag__") == "Container" and node.get("name") in containers:
            k = containers.index(node.get("name"))
            if k < len(fans):
                spatial_allowed[fans[k]] = _spatial_caps(node, einsum.space)
    compute_actions = energies.get(unit.name, (0, {}))[1]
    hierarchy = Hierarchy(tuple(levels), unit.name, _action(compute_actions, "compute", "mac_random", "mac"), 1.0)
    mapping_obj = _mapping(map_data, levels, containers, einsum.name, unit.name, einsum.space, Path(mapping))
    return TimeloopSet(name or cascade.name, cascade, nest, hierarchy, mapping_obj, spatial_allowed, fixed_ones)


def _spatial_caps(container: dict, space: dict[str, int]) -> dict[str, int]:
    """Index -> largest spatial factor under a container: a constraint's factor-1 indices cannot be
    spatial; with a permutation and ``split``, the first ``split`` indices run along meshX and the
    rest along meshY, so each is capped by its side (Timeloop's spatial constraint semantics)."""
    mesh = container.get("spatial") or {}
    x, y = int(mesh.get("meshX", 1)), int(mesh.get("meshY", 1))
    spatial = (container.get("constraints") or {}).get("spatial") or {}
    ones = _factors(" ".join(spatial.get("factors") or []))
    caps = {d: x * y for d in space if ones.get(d.upper()) != 1}
    perm = [str(d).lower() for d in spatial.get("permutation") or []]
    split = spatial.get("split")
    if perm and split is not None:
        for i, d in enumerate(perm):
            if d in caps:
                caps[d] = x if i < int(split) else y
    return caps


def _mapping(data: Any, levels: list[Level], containers: list[str], einsum: str, unit: str, space: dict[str, int],
             where: Path) -> Mapping:
    entries = (data or {}).get("mapping")
    if not isinstance(entries, list):
        raise EinsimError(f"{where}: expected a top-level 'mapping:' list")
    names = [lv.name for lv in levels]
    fans = [lv.name for lv in levels if lv.fanout > 1]
    per: dict[str, dict[str, Any]] = {n: {"temporal": {}, "order": (), "spatial": {}, "keep": None} for n in names}
    for entry in entries:
        target, kind = str(entry.get("target")), str(entry.get("type", "temporal"))
        factors = {d.lower(): n for d, n in _factors(entry.get("factors")).items() if n > 1}
        unknown = [d for d in factors if d not in space]
        if unknown:
            raise EinsimError(f"{where}: mapping of {target} names unknown dimension {unknown[0]!r}")
        if target in names and kind == "temporal":
            per[target]["temporal"] = factors
            perm = [c.lower() for c in str(entry.get("permutation", ""))]
            per[target]["order"] = tuple(d for d in reversed(perm) if d in space)
        elif kind == "spatial":
            if target in names and levels[names.index(target)].fanout > 1:
                level = target
            else:
                container = target if target in containers else target.replace("inter_", "").replace("_spatial", "")
                if container not in containers:
                    raise EinsimError(f"{where}: spatial mapping targets {target!r}, which has no fan-out" + did_you_mean(target, containers))
                level = fans[containers.index(container)]
            per[level]["spatial"] = factors
        elif kind in ("datatype", "bypass"):
            if target in names:
                per[target]["keep"] = tuple(str(t) for t in entry.get("keep") or [])
        elif kind == "temporal" and factors:
            raise EinsimError(f"{where}: temporal factors on {target!r}, which is not a storage level" + did_you_mean(target, names))
    return Mapping(einsum, unit, tuple(
        LevelMapping(n, per[n]["temporal"], per[n]["order"], per[n]["spatial"], per[n]["keep"]) for n in names
    ))


# ----------------------------------------------------------------------------- reference outputs


@dataclass
class TimeloopStats:
    """What a Timeloop ``*.stats.txt`` reports: totals over the utilized instances."""

    cycles: int
    computes: int
    counts: dict[str, dict[str, dict[str, int]]]  # level -> data space -> {reads, fills, updates}
    energy_fJ_per_compute: dict[str, float]  # component -> fJ per compute, and "Total"


def read_stats(path: Path) -> TimeloopStats:
    """Parse the per-level access counts, cycles and energy of a Timeloop stats file."""
    text = Path(path).read_text()
    counts: dict[str, dict[str, dict[str, int]]] = {}
    head, _, summary = text.partition("Summary Stats")
    parts = re.split(r"^=== (\S+) ===$", head, flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2]):
        spaces = re.split(r"^    (\w+):$", body, flags=re.M)
        for ds, ds_body in zip(spaces[1::2], spaces[2::2]):
            def grab(label: str) -> int:
                m = re.search(rf"{label}\s*:\s*([\d.]+)", ds_body)
                return int(float(m.group(1))) if m else 0
            inst = grab(r"Utilized instances \(max\)")
            counts.setdefault(name, {})[ds] = {
                "reads": grab(r"Scalar reads \(per-instance\)") * inst,
                "fills": grab(r"Scalar fills \(per-instance\)") * inst,
                "updates": grab(r"Scalar updates \(per-instance\)") * inst,
            }
    cycles = int(re.search(r"^Cycles: (\d+)", summary, flags=re.M).group(1))
    computes = int(re.search(r"^Computes = (\d+)", summary, flags=re.M).group(1))
    energy = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(\S+)\s+= ([\d.]+)$", summary, flags=re.M)}
    return TimeloopStats(cycles, computes, counts, energy)


def find_sets(root: Path) -> list[dict[str, Path]]:
    """Every Timeloop reference set under ``root``: dicts with arch, problem, mapping, ert, stats.

    A set is a directory holding a ``*.stats.txt`` and its ERT summary; the problem, mapping and
    architecture are next to it (mapper outputs) or in the exercise's prob/, map/ and arch/ folders
    (a mapping whose name ends in the output folder's name, e.g. ``...-os.map.yaml`` for ``os/``)."""
    sets = []
    for stats in sorted(Path(root).rglob("*.stats.txt")):
        here = stats.parent
        ert = next(iter(sorted(here.glob("*ERT_summary.yaml"))), None)
        problem = next(iter(sorted(here.glob("parsed-processed-input.yaml"))), None)
        mapping = next(iter(sorted(here.glob("*.map.yaml"))), None)
        up = here
        arch = None
        for _ in range(4):
            up = up.parent
            problem = problem or next(iter(sorted(up.glob("prob/*.yaml"))), None)
            if mapping is None:
                mapping = next((m for m in sorted(up.glob("map/*.map.yaml")) if re.search(rf"-{here.name}(-|\.)", m.name)), None)
            arch = arch or next(iter(sorted(up.glob("arch/*.yaml"))), None) or next(iter(sorted(up.glob("arch.yaml"))), None)
        if ert and problem and mapping and arch:
            sets.append({"name": str(here.relative_to(root)), "arch": arch, "problem": problem, "mapping": mapping,
                         "ert": ert, "stats": stats})
    return sets
