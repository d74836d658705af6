"""The Architecture: a named tree of components, with look-up and op-cost helpers."""

from __future__ import annotations

from typing import Iterable, NamedTuple

from pydantic import Field, PrivateAttr, field_validator, model_validator

from einsim.arch.compute import ComputeUnit, DSPEngine, PEArray
from einsim.arch.kinds import COMPUTE_KINDS, AnyComponent
from einsim.arch.spec import Component, Frequency, Power, ReferenceProblem, Sourced
from einsim.arch.storage import DRAM, Buffer, Flash
from einsim.errors import EinsimError, Location, did_you_mean
from einsim.yamlsrc import YamlSource


class OpCost(NamedTuple):
    """Cost of one point of an op on one PE/lane: issue cycles and energy (None if unknown)."""

    cycles: float
    energy_J: float | None


class Architecture(Sourced):
    """An architecture: ``components`` by name; ``inside`` links make the storage/compute tree."""

    name: str
    description: str = ""
    technology: str | None = None
    clock_Hz: Frequency | None = None
    power_W: Power | None = None
    # mappers a caller gets without naming one, in preference order (einsim.explore.design.default_mappers);
    # [] says no mapper models this design; sources.default_mapper gives the reason for the choice
    default_mapper: list[str] | None = None
    components: dict[str, AnyComponent] = Field(min_length=1)

    _src: YamlSource | None = PrivateAttr(default=None)

    @field_validator("default_mapper", mode="before")
    @classmethod
    def _one_mapper_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _default_mapper_has_reason(self) -> "Architecture":
        if self.default_mapper is not None and not self.sources.get("default_mapper"):
            raise ReferenceProblem("default_mapper needs its reason in sources.default_mapper (why this mapper "
                                   "models the design, or why none does)", ("default_mapper",))
        return self

    @model_validator(mode="after")
    def _link(self) -> "Architecture":
        names = list(self.components)
        for name, comp in self.components.items():
            comp._name = name
            if comp.inside is not None and comp.inside not in self.components:
                raise ReferenceProblem(
                    f"{name}.inside names unknown component {comp.inside!r}"
                    + did_you_mean(comp.inside, names),
                    ("components", name, "inside"),
                )
            if comp.inside == name:
                raise ReferenceProblem(f"{name} is inside itself", ("components", name, "inside"))
            if isinstance(comp, Buffer) and comp.per_pe:
                parent = self.components.get(comp.inside or "")
                if not isinstance(parent, PEArray):
                    raise ReferenceProblem(
                        f"{name} has per_pe: true, so 'inside' must name a pe_array"
                        + did_you_mean(comp.inside or "", self._names_of(PEArray)),
                        ("components", name, "per_pe"),
                    )
            if isinstance(comp, DRAM):
                compute = [n for n, c in self.components.items() if c.kind in COMPUTE_KINDS]
                for i, mix in enumerate(comp.bandwidth_by_engines):
                    for j, engine in enumerate(mix.engines):
                        if engine not in compute:
                            raise ReferenceProblem(
                                f"{name}.bandwidth_by_engines names unknown compute component "
                                f"{engine!r}" + did_you_mean(engine, compute),
                                ("components", name, "bandwidth_by_engines", i, "engines", j),
                            )
            if isinstance(comp, (PEArray, DSPEngine)):
                if comp.clock_Hz is None and self.clock_Hz is None:
                    raise ReferenceProblem(
                        f"{name} has no clock_Hz and the architecture sets no default clock_Hz",
                        ("components", name),
                    )
        for name in self.components:
            self._check_tree(name)
        return self

    def _check_tree(self, name: str) -> None:
        seen = [name]
        parent = self.components[name].inside
        while parent is not None:
            if parent in seen:
                raise ReferenceProblem(
                    f"'inside' links form a cycle: {' -> '.join(seen + [parent])}",
                    ("components", name, "inside"),
                )
            seen.append(parent)
            parent = self.components[parent].inside

    def _names_of(self, cls: type) -> list[str]:
        return [n for n, c in self.components.items() if isinstance(c, cls)]

    # ------------------------------------------------------------------ look-up

    @property
    def file(self) -> str:
        return self._src.file if self._src else "<spec>"

    def where(self, *path: object) -> Location:
        """Location in the source YAML of the node at ``path`` (file only if unknown)."""
        return self._src.where(*path) if self._src else Location(self.file)

    def component(self, name: str) -> Component:
        """The component called ``name``; an unknown name is an error listing the valid ones."""
        try:
            return self.components[name]
        except KeyError:
            raise EinsimError(
                f"architecture {self.name!r} has no component {name!r}"
                + did_you_mean(name, self.components),
                self.where("components"),
            ) from None

    def compute_unit(self, name: str) -> ComputeUnit:
        """The compute component called ``name`` (error if it is a storage level)."""
        comp = self.component(name)
        if not isinstance(comp, ComputeUnit):
            raise EinsimError(
                f"{name!r} is a {comp.kind}, not a compute unit"
                + did_you_mean(name, self._names_of(ComputeUnit)),
                self.where("components", name),
            )
        return comp

    def compute_units(self) -> list[ComputeUnit]:
        return [c for c in self.components.values() if isinstance(c, ComputeUnit)]

    def storage_levels(self) -> list[Component]:
        """DRAM, flash and buffers, in file order."""
        return [c for c in self.components.values() if isinstance(c, (DRAM, Buffer, Flash))]

    def children(self, name: str) -> list[Component]:
        return [c for c in self.components.values() if c.inside == name]

    def clock_of(self, unit_name: str) -> float:
        """Clock of a compute unit in Hz (its own, else the architecture's)."""
        unit = self.compute_unit(unit_name)
        clock = unit.clock_Hz or self.clock_Hz
        if clock is None:
            raise EinsimError(f"{unit_name} has no clock_Hz", self.where("components", unit_name))
        return clock

    def instances(self, name: str) -> int:
        """How many copies of a component exist (per-PE buffers multiply by the PE count)."""
        comp = self.component(name)
        if isinstance(comp, Buffer):
            n = comp.instances
            if comp.per_pe:
                n *= self.components[comp.inside].pe_count  # type: ignore[index, union-attr]
            return n
        return 1

    # ------------------------------------------------------------------ ops

    def require_ops(self, unit_name: str, ops: Iterable[str]) -> None:
        """Raise an EinsimError naming the first op in ``ops`` that ``unit_name`` cannot run."""
        unit = self.compute_unit(unit_name)
        for op in ops:
            if op not in unit.ops:
                raise EinsimError(
                    f"compute unit {unit_name!r} has no op {op!r} in its op table, "
                    f"but the workload needs it" + did_you_mean(op, unit.ops),
                    self.where("components", unit_name, "ops"),
                )

    def op_cost(self, unit_name: str, op: str) -> OpCost:
        """(cycles per point, energy J per point) of ``op`` on one PE of ``unit_name``.

        Composite ops add up their parts (FuseMax exp = 6 mac + 1 add -> 7 cycles).
        """
        self.require_ops(unit_name, [op])
        return resolve_op(self.compute_unit(unit_name), op)


def resolve_op(unit: ComputeUnit, op: str) -> OpCost:
    spec = unit.ops[op]
    if spec.compose is None:
        return OpCost(spec.cycles or 1.0, spec.energy_J)
    cycles, energy = 0.0, 0.0
    for part, count in spec.compose.items():
        sub = resolve_op(unit, part)
        cycles += count * sub.cycles
        energy = None if energy is None or sub.energy_J is None else energy + count * sub.energy_J
    return OpCost(cycles, energy)
