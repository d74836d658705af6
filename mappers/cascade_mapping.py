"""CascadeMapping: a mapping of a whole cascade — one Mapping per Einsum plus its fusion groups.

Each Einsum has a Mapping (its compute unit; per storage level its kept tensors, temporal factors,
loop order and spatial factors per array axis). A fusion group lists Einsums that run under shared
loops: the outermost loops of every member's nest (outer to inner, factors > 1, at the same storage
level) are the group's ``loops``, and each tensor one member writes and another reads inside the
group lives at the group's ``homes`` level; an intermediate whose home is not the outermost level
(DRAM) is never written there — it is fused. An iterative rank (FuseMax's m1, a scan's chunk) is
sequential: in a group it is the outermost shared loop, at full count, and a tensor carried across
its iterations (the state, ``X[i+1] = f(X[i])``) lives at or above the level of that loop. Plain
data::

    cascade: ffn
    einsums:
      - {einsum: XW1, unit: Array2D, levels: [...]}
      - ...
    fusion:
      - einsums: [XW1, ACT]
        loops: [{index: m, factor: 8, level: DRAM}]
        homes: {XW1: GlobalBuffer}

``validate`` checks it against a cascade and an architecture and says which constraint failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from einsim.arch import Architecture
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Cascade
from einsim.errors import EinsimError, did_you_mean
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.mappers.mapping import Mapping, PlainData, check_keys, validate_factors
from einsim.sim.nest import NestProblem, axis_of

_TOP_KEYS = ("cascade", "einsums", "fusion")
_GROUP_KEYS = ("einsums", "loops", "homes")
_LOOP_KEYS = ("index", "factor", "level")


@dataclass(frozen=True)
class SharedLoop:
    index: str
    factor: int
    level: str  # the storage level whose temporal loop it is

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "factor": self.factor, "level": self.level}


@dataclass(frozen=True)
class FusionGroup:
    einsums: tuple[str, ...]
    loops: tuple[SharedLoop, ...] = ()  # outer to inner
    homes: dict[str, str] = field(default_factory=dict)  # tensor -> the level it lives at

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"einsums": list(self.einsums)}
        if self.loops:
            out["loops"] = [lp.to_dict() for lp in self.loops]
        if self.homes:
            out["homes"] = dict(self.homes)
        return out


@dataclass(frozen=True)
class CascadeMapping(PlainData):
    cascade: str
    mappings: tuple[Mapping, ...]  # one per Einsum, in the cascade's order
    fusion: tuple[FusionGroup, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for m in self.mappings:
            if m.einsum in seen:
                raise EinsimError(f"cascade mapping of {self.cascade} maps Einsum {m.einsum} twice")
            seen.add(m.einsum)
        grouped: set[str] = set()
        for g in self.fusion:
            for e in g.einsums:
                if e in grouped:
                    raise EinsimError(f"cascade mapping of {self.cascade}: Einsum {e} is in two fusion groups")
                grouped.add(e)

    def mapping(self, einsum: str) -> Mapping:
        for m in self.mappings:
            if m.einsum == einsum:
                return m
        raise EinsimError(f"cascade mapping has no Einsum {einsum!r}" + did_you_mean(einsum, [m.einsum for m in self.mappings]))

    def group_of(self, einsum: str) -> FusionGroup | None:
        return next((g for g in self.fusion if einsum in g.einsums), None)

    def fused_tensors(self) -> dict[str, str]:
        """Tensor -> home level of every tensor a fusion group keeps off the outermost level."""
        return {t: lv for g in self.fusion for t, lv in g.homes.items()}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cascade": self.cascade, "einsums": [m.to_dict() for m in self.mappings]}
        if self.fusion:
            out["fusion"] = [g.to_dict() for g in self.fusion]
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "cascade mapping") -> "CascadeMapping":
        check_keys(data, _TOP_KEYS, ("cascade", "einsums"), where,
                   "a cascade mapping is an object with cascade, einsums and fusion")
        if not isinstance(data["einsums"], list) or not data["einsums"]:
            raise EinsimError(f"{where}.einsums: a non-empty list of per-Einsum mappings")
        mappings = tuple(Mapping.from_dict(m, f"{where}.einsums[{i}]") for i, m in enumerate(data["einsums"]))
        fusion = data.get("fusion") or []
        if not isinstance(fusion, list):
            raise EinsimError(f"{where}.fusion: a list of fusion groups")
        groups = tuple(_group_from_dict(g, f"{where}.fusion[{i}]") for i, g in enumerate(fusion))
        return cls(str(data["cascade"]), mappings, groups)


def _group_from_dict(data: Any, where: str) -> FusionGroup:
    check_keys(data, _GROUP_KEYS, ("einsums",), where, "a fusion group is an object with einsums, loops and homes")
    names = data.get("einsums")
    if not isinstance(names, list) or not names:
        raise EinsimError(f"{where}.einsums: a non-empty list of Einsum names")
    loops = []
    for i, lp in enumerate(data.get("loops") or []):
        w = f"{where}.loops[{i}]"
        if not isinstance(lp, dict) or set(lp) != set(_LOOP_KEYS):
            raise EinsimError(f"{w}: a shared loop is an object with exactly {', '.join(_LOOP_KEYS)}")
        f = lp["factor"]
        if isinstance(f, bool) or not isinstance(f, int) or f < 1:
            raise EinsimError(f"{w}.factor: a positive whole number, got {f!r}")
        loops.append(SharedLoop(str(lp["index"]), f, str(lp["level"])))
    homes = data.get("homes") or {}
    if not isinstance(homes, dict):
        raise EinsimError(f"{where}.homes: an object of tensor: level")
    return FusionGroup(tuple(str(n) for n in names), tuple(loops), {str(t): str(lv) for t, lv in homes.items()})


def nest_loops(mapping: Mapping, dims: tuple[str, ...]) -> list[SharedLoop]:
    """The temporal loops of ``mapping`` with a factor > 1, outermost first, with their levels."""
    out = []
    for lv in mapping.levels:
        out += [SharedLoop(v, lv.temporal[v], lv.target) for v in lv.loop_order(dims) if lv.temporal.get(v, 1) > 1]
    return out


def validate(cm: CascadeMapping, cascade: Cascade, arch: Architecture) -> None:
    """Raise an EinsimError naming the first constraint ``cm`` breaks on ``cascade`` and ``arch``."""
    names = [e.name for e in cascade.einsums]
    for m in cm.mappings:
        if m.einsum not in names:
            raise EinsimError(f"cascade mapping names Einsum {m.einsum!r}, which {cascade.name} does not have"
                              + did_you_mean(m.einsum, names))
    missing = [n for n in names if n not in {m.einsum for m in cm.mappings}]
    if missing:
        raise EinsimError(f"cascade mapping leaves Einsum(s) {', '.join(missing)} of {cascade.name} unmapped")
    for e in cascade.einsums:
        m = cm.mapping(e.name)
        unit = arch.compute_unit(m.unit)
        lacking = [op for op in ops_per_point(e) if op not in unit.ops]
        if lacking:
            raise EinsimError(f"Einsum {e.name}: unit {m.unit} has no op {', '.join(lacking)} (unit binding)")
        problem = NestProblem.from_einsum(e)
        validate_factors(m, dict(e.space), [t.rstrip("'") for t in problem.tensors])
        hier = hierarchy_for(arch, m.unit)
        path = hier.names()
        for lm in m.levels:
            if lm.target not in path:
                raise EinsimError(f"Einsum {e.name}: level {lm.target} is not on the path to {m.unit} "
                                  f"(valid: {', '.join(path)})")
            level = hier.levels[path.index(lm.target)]
            sides = level.axis_sizes
            use = [1] * len(sides)
            for v, a in axis_of(lm, level).items():
                if a >= len(sides):
                    raise EinsimError(f"Einsum {e.name}, level {lm.target}: index {v} runs along axis {a}, but the "
                                      f"level fans out along {len(sides)} axis(es) {list(sides)}")
                use[a] *= lm.spatial[v]
            for a, (u, side) in enumerate(zip(use, sides)):
                if u > side:
                    raise EinsimError(f"Einsum {e.name}, level {lm.target}: the spatial factors along axis {a} "
                                      f"multiply to {u}, more than its fan-out {side} (per-axis fan-out)")
    for g in cm.fusion:
        _validate_group(g, cm, cascade, arch)
    grouped = {e for g in cm.fusion for e in g.einsums}
    for e in cascade.einsums:
        if e.iteration_var and e.name not in grouped:
            _check_sequential(e.name, e.iteration_var, cascade.iterations.get(e.iteration_var, e.space[e.iteration_var]),
                              nest_loops(cm.mapping(e.name), tuple(e.space)), "its nest")


def _check_sequential(einsum: str, var: str, count: int, loops: list[SharedLoop], where: str) -> None:
    if count <= 1:
        return
    if not loops or loops[0].index != var or loops[0].factor != count:
        raise EinsimError(f"Einsum {einsum}: iterative index {var} must be the outermost loop of {where} with all "
                          f"{count} iterations (iterative ranks are sequential)")


def _validate_group(g: FusionGroup, cm: CascadeMapping, cascade: Cascade, arch: Architecture) -> None:
    label = f"fusion group [{', '.join(g.einsums)}]"
    members = []
    for n in g.einsums:
        if n not in [e.name for e in cascade.einsums]:
            raise EinsimError(f"{label}: unknown Einsum {n!r}" + did_you_mean(n, [e.name for e in cascade.einsums]))
        members.append(cascade.einsum(n))
    for e in members:
        loops = nest_loops(cm.mapping(e.name), tuple(e.space))
        if loops[: len(g.loops)] != list(g.loops):
            got = ", ".join(f"{lp.index}{lp.factor}@{lp.level}" for lp in loops[: len(g.loops)]) or "none"
            raise EinsimError(f"{label}: the outermost loops of {e.name} are [{got}], not the group's shared loops "
                              f"[{', '.join(f'{lp.index}{lp.factor}@{lp.level}' for lp in g.loops)}]")
        if e.iteration_var:
            _check_sequential(e.name, e.iteration_var, cascade.iterations.get(e.iteration_var, e.space[e.iteration_var]),
                              list(g.loops), f"the shared loops of {label}")
    written = {e.output: e for e in members}
    for tensor, home in g.homes.items():
        if tensor not in cascade.tensors:
            raise EinsimError(f"{label}: homes names unknown tensor {tensor!r}" + did_you_mean(tensor, cascade.tensors))
        users = [e for e in members if e.output == tensor or tensor in e.inputs]
        state = bool(cascade.tensors[tensor].iterative)
        if tensor not in written or (len(users) < 2 and not state):
            raise EinsimError(f"{label}: {tensor} is not an intermediate of the group (one member must write it and "
                              "another read it) nor an iterative state; only those have a home")
        outside = [e.name for e in cascade.einsums if e not in members and tensor in e.inputs]
        for e in users:
            m = cm.mapping(e.name)
            shared, per_pe = storage_path(arch, m.unit)
            path = shared + per_pe
            if home not in path:
                raise EinsimError(f"{label}: home {home} of {tensor} is not on the path of {e.name}'s unit {m.unit} "
                                  f"(valid: {', '.join(path)})")
            lm = next((lv for lv in m.levels if lv.target == home), None)
            if home != path[0] and lm is not None and lm.keep is not None and tensor not in lm.keep:
                raise EinsimError(f"{label}: {e.name} bypasses {home}, the home of {tensor}")
            depth = path.index(home)
            for lp in g.loops:
                at = path.index(lp.level) if lp.level in path else -1
                if state and e.iteration_var == lp.index and depth > at:
                    raise EinsimError(f"{label}: state {tensor} lives at {home}, below the iterative loop "
                                      f"{lp.index} at {lp.level}; a state lives at or above its iterative loop")
            if home != path[0] and not state:
                above = [lp for lp in nest_loops(m, tuple(e.space)) if path.index(lp.level) < depth]
                if above != list(g.loops):
                    raise EinsimError(f"{label}: {e.name} has loops above {home}, the home of {tensor}, that are not "
                                      "the group's shared loops; every loop above a fused intermediate's home is shared")
        if home != arch_outermost(arch, cm.mapping(written[tensor].name).unit) and outside:
            raise EinsimError(f"{label}: {tensor} is fused at {home} but Einsum(s) {', '.join(outside)} outside the "
                              "group read it; an intermediate read outside its group lives in DRAM")


def arch_outermost(arch: Architecture, unit: str) -> str:
    return storage_path(arch, unit)[0][0]
