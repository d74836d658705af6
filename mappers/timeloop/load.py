"""Load a Timeloop set (architecture, problem, mapping, ERT) into einsim terms, and evaluate it.

Instance counts and fan-outs come from the architecture; the ERT summary only supplies per-action
energies (matched by component name, whatever instance range Accelergy printed after it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from einsim.errors import EinsimError, did_you_mean
from einsim.einsum import Cascade, parse_workload
from einsim.mappers.mapping import Mapping, validate_factors
from einsim.mappers.timeloop.arch import Component, flatten
from einsim.mappers.timeloop.files import read_timeloop, read_yaml, section
from einsim.mappers.timeloop.mapping import build_mapping, parse_factors
from einsim.mappers.timeloop.problem import dimensions, workload_text
from einsim.sim.nest import Hierarchy, Level, NestCounts, NestProblem, encode, evaluate_encoded

_ERT_NAME = re.compile(r"^(?:.*\.)?([^.\[\]]+)(?:\[\d+\.\.\d+\])?$")


@dataclass
class TimeloopSet:
    """A Timeloop input set in einsim terms."""

    name: str
    cascade: Cascade
    problem: NestProblem
    hierarchy: Hierarchy
    mapping: Mapping
    spatial_allowed: dict[str, dict[str, int]] = field(default_factory=dict)  # level -> index -> largest spatial factor
    fixed_ones: dict[str, set[str]] = field(default_factory=dict)  # level -> indices whose temporal factor is 1
    sources: dict[str, Path] = field(default_factory=dict)  # arch, problem, mapping, ert -> file


def read_ert(path: Path | None) -> dict[str, dict[str, float]]:
    """Component -> {action: energy J} from an Accelergy ``ERT_summary`` (pJ per action)."""
    if path is None:
        return {}
    table = section(read_yaml(path), "ERT_summary", path).get("table_summary")
    if not isinstance(table, list):
        raise EinsimError(f"{path}: ERT_summary.table_summary must be a list of components")
    out: dict[str, dict[str, float]] = {}
    for entry in table:
        name = entry.get("name") if isinstance(entry, dict) else None
        m = _ERT_NAME.match(str(name)) if isinstance(name, str) else None
        if not m or not isinstance(entry.get("actions"), list):
            raise EinsimError(f"{path}: each table_summary entry needs a component name and an actions list")
        actions = {}
        for a in entry["actions"]:
            energy = a.get("energy") if isinstance(a, dict) else None
            if isinstance(energy, bool) or not isinstance(energy, (int, float)) or not math.isfinite(energy) or energy < 0:
                raise EinsimError(f"{path}: {name}: an action's energy must be a finite non-negative number of pJ, got {energy!r}")
            actions[str(a.get("name"))] = float(energy) * 1e-12
        out[m.group(1)] = actions
    return out


def _action(actions: dict[str, float], *names: str) -> float:
    return next((actions[n] for n in names if n in actions), 0.0)


def _attr(comp: Component, key: str, default: Any, where: Path, least: int = 1) -> Any:
    value = comp.attributes.get(key, default)
    if value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < least:
        raise EinsimError(f"{where}: {comp.name}.attributes.{key} must be a number >= {least}, got {value!r}")
    return value


def _bandwidth(comp: Component, key: str, where: Path) -> float:
    value = comp.attributes.get(key, math.inf)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise EinsimError(f"{where}: {comp.name}.attributes.{key} must be a positive number of words per cycle, got {value!r}")
    return float(value)


def _level(comp: Component, fanout: int, energies: dict[str, float], tensors: list[str], where: Path) -> Level:
    datawidth = _attr(comp, "datawidth", None, where) or _attr(comp, "word-bits", 16, where)
    width = _attr(comp, "width", datawidth, where)
    if width % datawidth:
        raise EinsimError(f"{where}: {comp.name}: width {width} is not a whole number of datawidth {datawidth} words")
    block = int(width // datawidth)
    if comp.klass.upper() == "DRAM" or "depth" not in comp.attributes:
        capacity = math.inf
    else:
        depth = comp.attributes["depth"]
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise EinsimError(f"{where}: {comp.name}.attributes.depth must be a positive whole number, got {depth!r}")
        capacity = depth * block
    constraint = comp.constraints.get("dataspace") or {}
    keep, bypass = constraint.get("keep"), constraint.get("bypass") or []
    for t in list(keep or []) + list(bypass):
        if t not in tensors:
            raise EinsimError(f"{where}: {comp.name}.constraints.dataspace names unknown data space {t!r}" + did_you_mean(str(t), tensors))
    may_keep = tuple(keep) if keep is not None else (tuple(t for t in tensors if t not in bypass) if bypass else None)
    return Level(comp.name, fanout=fanout, capacity_words=capacity, block_words=block,
                 read_J=_action(energies, "read"), write_J=_action(energies, "write"),
                 update_J=_action(energies, "update", "write"), leak_J_per_cycle=_action(energies, "leak"),
                 read_bw_words=float(_bandwidth(comp, "read_bandwidth", where)),
                 write_bw_words=float(_bandwidth(comp, "write_bandwidth", where)),
                 may_keep=may_keep, idle_leaks=False)  # Timeloop charges leakage on the instances a mapping uses


def _spatial_caps(container, space: dict[str, int], where: Path) -> dict[str, int]:
    """Index -> largest spatial factor under a container: a constraint's factor-1 indices cannot be
    spatial; with a permutation and ``split``, the first ``split`` indices run along meshX and the
    rest along meshY, so each is capped by its side (Timeloop's spatial constraint semantics)."""
    spatial = container.constraints.get("spatial") or {}
    dims = [d.upper() for d in space]
    ones = parse_factors(spatial.get("factors"), dims, f"{where}: {container.name}.constraints.spatial")
    caps = {d: container.fanout for d in space if ones.get(d.upper()) != 1}
    perm = [str(d).lower() for d in spatial.get("permutation") or []]
    split = spatial.get("split")
    if perm and isinstance(split, int):
        for i, d in enumerate(perm):
            if d in caps:
                caps[d] = container.mesh_x if i < split else container.mesh_y
    return caps


def load_timeloop(arch: Path, problem: Path, mapping: Path, ert: Path | None = None, name: str = "") -> TimeloopSet:
    """Read a Timeloop v0.4 architecture, problem, mapping (a file with a top-level ``mapping:``) and ERT summary."""
    arch, problem, mapping = Path(arch), Path(problem), Path(mapping)
    nodes = section(section(read_timeloop(arch), "architecture", arch), "nodes", arch, list, "architecture")
    components, containers = flatten(nodes, arch)
    prob = section(read_timeloop(problem), "problem", problem)
    entries = section(read_timeloop(mapping), "mapping", mapping, list)
    energies = read_ert(Path(ert) if ert else None)
    storage = [c for c in components if not c.is_compute]
    compute = [c for c in components if c.is_compute]
    if not storage:
        raise EinsimError(f"{arch}: no storage component (a Timeloop architecture needs at least one)")
    if len(compute) != 1:
        raise EinsimError(f"{arch}: expected one compute component (class {'/'.join(('intmac', 'fpmac', 'mac', 'compute'))}), "
                          f"found {len(compute)}")
    unit = compute[0]
    if components[-1] is not unit:
        raise EinsimError(f"{arch}: the compute component {unit.name} must come after every storage level")
    dims = dimensions(prob, problem)
    cascade = parse_workload(workload_text(prob, problem), file=str(problem))
    einsum = cascade.einsums[0]
    unused = [d for d in dims if d.lower() not in einsum.space]
    if unused:
        raise EinsimError(f"{problem}: dimension {unused[0]} indexes no data space")
    nest = NestProblem.from_einsum(einsum)
    tensors = [t.rstrip("'") for t in nest.tensors]
    if energies:
        missing = [c.name for c in components if c.name not in energies]
        if missing:
            raise EinsimError(f"{ert}: no energies for component {missing[0]}" + did_you_mean(missing[0], energies))
    instances = [c.instances for c in storage] + [unit.instances]
    levels = [_level(c, instances[i + 1] // instances[i], energies.get(c.name, {}), tensors, arch) for i, c in enumerate(storage)]
    fixed_ones = {}
    for c in storage:
        temporal_c = c.constraints.get("temporal") or {}
        ones = parse_factors(temporal_c.get("factors"), dims, f"{arch}: {c.name}.constraints.temporal")
        fixed_ones[c.name] = {d.lower() for d, n in ones.items() if n == 1}
    spatial_allowed = {}
    for c in storage:
        if c.containers:  # one container per level is what the search's caps can express
            spatial_allowed[c.name] = _spatial_caps(c.containers[-1], dict(einsum.space), arch)
    hierarchy = Hierarchy(tuple(levels), unit.name, _action(energies.get(unit.name, {}), "compute", "mac_random", "mac"), 1.0)
    mapped = build_mapping(entries, storage, containers, dims, tensors, einsum.name, unit.name, mapping)
    try:
        validate_factors(mapped, dict(einsum.space), tensors)
    except EinsimError as exc:
        raise EinsimError(f"{mapping}: {exc}") from None
    return TimeloopSet(name or cascade.name, cascade, nest, hierarchy, mapped, spatial_allowed, fixed_ones,
                       {"arch": arch, "problem": problem, "mapping": mapping, **({"ert": Path(ert)} if ert else {})})


def evaluate_set(imported: TimeloopSet) -> NestCounts:
    """The access counts of the set's mapping; a tile that overflows a level's capacity is an error."""
    counts = evaluate_encoded(imported.problem, imported.hierarchy,
                              encode(imported.problem, imported.hierarchy, [imported.mapping])).one(0)
    over = [f"{lv.name} holds {counts.tile_words[i]:g} words but has room for {lv.capacity_words:g}"
            for i, lv in enumerate(imported.hierarchy.levels) if counts.tile_words[i] > lv.capacity_words]
    if over or not counts.valid:
        where = imported.sources.get("mapping", imported.name)
        arch = imported.sources.get("arch", "the architecture")
        raise EinsimError(f"{where}: the mapping does not fit {arch}: "
                          + ("; ".join(over) or "more spatial instances than the fan-out"))
    return counts
