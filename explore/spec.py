"""Sweep specs: YAML -> SweepSpec (pydantic, ``extra="forbid"``), every error located in the file.

::

    name: fusemax_pe_buffer
    base:                                  # the design every point starts from
      arch: fusemax                        # file (relative to this spec) or bundled name
      workload: attention_1pass            # or model: llama2_7b, phase: prefill, seq: 4096, batch: 1
      mapper: ideal                        # default: each design's default_mapper
      set: {rank.M: 262144, arch.GlobalBuffer.capacity_B: 16 MiB}
    axes:                                  # what varies; `path` says what an axis sets
      side: {path: arch.Array2D.shape.0, values: [64, 128, 256]}
      buffer_MiB: {low: 4, high: 64, log: true, num: 5}     # a free variable (no path)
    derived:                               # expressions of axes and earlier derived values
      cols: {path: arch.Array2D.shape.1, expr: side}
      buffer: {path: arch.GlobalBuffer.capacity_B, expr: buffer_MiB * 1048576}
    strategy: {kind: grid}                 # or {kind: random, samples: 100, seed: 1}
                                           # or {kind: nsga2, objectives: [latency_s, energy_J], ...}
    report:
      pareto: [latency_s, energy_J]
      lines: [{x: side, y: latency_s}]     # a metric (or 1 / it: reciprocal: true) against an axis

Paths: ``arch.<dotted path>`` (any architecture field, as ``--set``), ``rank.<NAME>`` (a workload
rank size), ``mapper.<option>``, or one of ``workload model phase seq batch mapper arch``.
Expressions use numbers, names, + - * / and sqrt/exp/log (einsim's size grammar; never eval).
"""

from __future__ import annotations

import hashlib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from einsim.arch.overrides import resolve_path
from einsim.einsum import load_workload
from einsim.errors import EinsimError, Location, did_you_mean
from einsim.designs import resolve
from einsim.explore import derive
from einsim.explore.design import DESIGN_KEYS, METRICS, check_mapper_options, load_design_arch, resolve_confined
from einsim.mappers import registry
from einsim.yamlsrc import YamlSource, load_yaml_file

Value = Any  # a YAML scalar, list or mapping (an arch override may set a whole op entry)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Base(_Spec):
    arch: str
    workload: str | None = None
    model: str | None = None
    phase: Literal["prefill", "decode"] = "prefill"
    seq: int | None = Field(default=None, gt=0)
    batch: int = Field(default=1, gt=0)
    mapper: str | None = None  # None: each point's design's default_mapper
    set: dict[str, Value] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_workload(self) -> "Base":
        if (self.workload is None) == (self.model is None):
            raise ValueError("give either workload: or model: (with phase: and seq:)")
        if self.model is not None and self.seq is None:
            raise ValueError("a model needs seq: (prompt length in prefill, KV-cache length in decode)")
        return self


class Axis(_Spec):
    path: str | None = None  # None: a free variable that derived expressions use
    values: list[Value] | None = Field(default=None, min_length=1)
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    num: int | None = Field(default=None, gt=0)  # grid points of a [low, high] range
    # how reports name each of ``values`` (a value may be a whole table); display only, so not in the digest
    labels: list[str] | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _domain(self) -> "Axis":
        ranged = self.low is not None or self.high is not None
        if (self.values is None) == (not ranged):
            raise ValueError("an axis has either values: [...] or a range low:/high:")
        if self.labels is not None and (self.values is None or len(self.labels) != len(self.values)):
            raise ValueError("labels: name each of values: (as many labels as values)")
        if ranged:
            if self.low is None or self.high is None or not self.low <= self.high:
                raise ValueError("a range needs low <= high")
            if self.log and self.low <= 0:
                raise ValueError("a log range needs low > 0")
        elif self.log or self.integer or self.num is not None:
            raise ValueError("log/integer/num apply to a low/high range, not to values")
        return self

    def grid(self) -> list[Any]:
        """The axis's grid values (a range needs num)."""
        if self.values is not None:
            return list(self.values)
        import numpy as np

        assert self.low is not None and self.high is not None and self.num is not None
        pts = np.geomspace(self.low, self.high, self.num) if self.log else np.linspace(self.low, self.high, self.num)
        return [self.cast(float(x)) for x in pts]

    def at(self, u: float) -> Any:
        """The axis value at ``u`` in [0, 1) (uniform or log-uniform over the range; a choice of values)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        import math

        assert self.low is not None and self.high is not None
        if self.log:
            return self.cast(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        return self.cast(self.low + u * (self.high - self.low))

    def cast(self, x: float) -> Any:
        return int(round(x)) if self.integer else x


class Derived(_Spec):
    path: str | None = None
    expr: str


class Grid(_Spec):
    kind: Literal["grid"]


class Random(_Spec):
    kind: Literal["random"]
    samples: int = Field(gt=0)
    seed: int = 0


class NSGA2(_Spec):
    kind: Literal["nsga2"]
    objectives: list[Literal[METRICS]] = Field(min_length=2, max_length=3)  # type: ignore[valid-type]
    population: int = Field(default=16, ge=4)
    generations: int = Field(default=8, ge=1)
    seed: int = 0


class Line(_Spec):
    """A report chart of one metric against one axis: a line per combination of the other axes' values."""

    x: str  # an axis name
    y: Literal[METRICS]  # type: ignore[valid-type]
    reciprocal: bool = False  # plot 1 / y: e.g. tokens/s from the latency of one decode token
    label: str | None = None  # the y-axis title (default: the metric's name and unit)


class Report(_Spec):
    pareto: list[Literal[METRICS]] = Field(default=["latency_s", "energy_J"], min_length=2, max_length=3)  # type: ignore[valid-type]
    lines: list[Line] = Field(default_factory=list, exclude=True)  # display only: not in the digest


Strategy = Annotated[Union[Grid, Random, NSGA2], Field(discriminator="kind")]


class SweepSpec(_Spec):
    name: str
    description: str = ""
    base: Base
    axes: dict[str, Axis] = Field(min_length=1)
    derived: dict[str, Derived] = Field(default_factory=dict)
    strategy: Strategy = Grid(kind="grid")
    report: Report = Report()

    _root: Path = Path(".")
    _text: str = ""

    @property
    def root(self) -> Path:
        """Folder that relative paths in the spec resolve against."""
        return self._root

    @property
    def digest(self) -> str:
        """Hash of the validated spec: a run directory holds the results of one spec only."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- loading


def load_sweep(path: str | Path) -> SweepSpec:
    """Load and check a sweep spec; a bundled name (``fusemax_pe_buffer``) finds designs/sweeps/."""
    return sweep_from_source(load_yaml_file(resolve(path, "sweeps")))


def sweep_from_source(src: YamlSource) -> SweepSpec:
    if not isinstance(src.data, dict):
        raise EinsimError("a sweep spec is a mapping with name:, base: and axes:", Location(src.file, 1, 1))
    try:
        spec = SweepSpec.model_validate(src.data)
    except ValidationError as exc:
        raise _located(exc, src) from None
    spec._root = Path(src.file).resolve().parent
    spec._text = src.text
    _check(spec, src)
    return spec


def _located(exc: ValidationError, src: YamlSource) -> EinsimError:
    errors = exc.errors()
    err = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("grid", "random", "nsga2")))
    dotted = ".".join(str(p) for p in loc)
    if err["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}" + did_you_mean(str(loc[-1]), _fields_at(src.data, loc[:-1]))
        where = src.key_where(*loc)
    elif err["type"] == "missing":
        message = f"{'.'.join(str(p) for p in loc[:-1]) or 'the spec'}: missing {loc[-1]!r}"
        where = src.where(*loc[:-1])
    else:
        message = f"{dotted}: {err['msg'].removeprefix('Value error, ')}"
        if err["type"] not in ("model_type",) and not isinstance(err.get("input"), dict):
            message += f" (got {err['input']!r})"
        where = src.where(*loc)
    return EinsimError(message, where)


def _fields_at(data: Any, path: tuple) -> list[str]:
    model: Any = SweepSpec
    node = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if model is SweepSpec and key == "strategy":
            kind = node.get("kind") if isinstance(node, dict) else None
            return list({"grid": Grid, "random": Random, "nsga2": NSGA2}.get(kind, Grid).model_fields)
        field = model.model_fields.get(key) if isinstance(key, str) and isinstance(model, type) else None
        if field is None:
            if model in (Axis, Derived) or typing.get_origin(model) is dict:
                continue
            return []
        ann = field.annotation
        args = typing.get_args(ann)
        model = args[-1] if typing.get_origin(ann) is dict else ann
        if typing.get_origin(ann) is dict:
            model = dict[str, args[-1]]  # type: ignore[valid-type]
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
    if typing.get_origin(model) is dict:
        model = typing.get_args(model)[-1]
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


# ----------------------------------------------------------------------------- the files a spec names

_FILE_KINDS = {"arch": "arch", "workload": "workloads", "model": "models"}


def file_refs(spec: SweepSpec) -> list[tuple[str, Any, tuple]]:
    """``(kind, value, spec path)`` of every value that names an input file: the base's arch,
    workload or model, ``set:`` entries and axis values with those paths, and ``mapper.<option>``
    values naming a file next to the spec (``kind`` is ``"mapper"`` for those)."""
    base = spec.base
    refs: list[tuple[str, Any, tuple]] = [("arch", base.arch, ("base", "arch"))]
    if base.workload is not None:
        refs.append(("workloads", base.workload, ("base", "workload")))
    if base.model is not None:
        refs.append(("models", base.model, ("base", "model")))
    entries = [(key, [value], ("base", "set", key)) for key, value in base.set.items()]
    entries += [(axis.path, list(axis.values), ("axes", name, "values")) for name, axis in spec.axes.items()
                if axis.path is not None and axis.values is not None]
    for path, values, where in entries:
        for i, value in enumerate(values):
            at = where + (i,) if where[0] == "axes" else where
            if path in _FILE_KINDS:
                refs.append((_FILE_KINDS[path], value, at))
            elif path.startswith("mapper.") and isinstance(value, str) and (spec.root / value).is_file():
                refs.append(("mapper", value, at))
    return refs


def resolved_files(spec: SweepSpec, src: YamlSource | None = None) -> list[tuple[str, str, Path]]:
    """``(kind, spec field, file)`` of every input file the spec names, each checked to stay in bounds."""
    out = []
    for kind, value, where in file_refs(spec):
        field = ".".join(str(w) for w in where)
        if not isinstance(value, str):
            raise EinsimError(f"{field}: expected a file or bundled name, got {value!r}", src.where(*where) if src else None)
        try:
            path = resolve_confined(value, kind, spec.root) if kind != "mapper" else _confined_option(spec.root, value)
        except EinsimError as exc:
            raise EinsimError(f"{field}: {exc.bare_message}", src.where(*where) if src else None) from None
        out.append((kind, field, path))
    return out


def _confined_option(root: Path, value: str) -> Path:
    path = (root / value).resolve()
    if not path.is_relative_to(root.resolve()):
        raise EinsimError(f"{value!r} is {path}, outside the spec's folder {root.resolve()}")
    return path


# ----------------------------------------------------------------------------- semantic checks


def _check(spec: SweepSpec, src: YamlSource) -> None:
    base = spec.base
    refs = resolved_files(spec, src)
    for kind, field, path in refs:  # every architecture a point may use is loaded and checked
        if kind == "arch":
            try:
                load_design_arch(path, {}, None)
            except EinsimError as exc:
                raise EinsimError(f"{exc.bare_message} (the architecture {field} of {src.file} names)", exc.location) from None
    files = {field: path for _, field, path in refs}
    arch_data = load_yaml_file(files["base.arch"]).data
    mappers = [(base.mapper, src.where("base", "mapper"))] if base.mapper is not None else []
    mappers += [(base.set["mapper"], src.where("base", "set", "mapper"))] if "mapper" in base.set else []
    mappers += [(v, src.where("axes", name, "values", i)) for name, axis in spec.axes.items() if axis.path == "mapper"
                for i, v in enumerate(axis.values or [])]
    options = [(key[7:], src.key_where("base", "set", key)) for key in base.set if key.startswith("mapper.")]
    options += [(a.path[7:], src.where(part, name, "path")) for part, table in (("axes", spec.axes), ("derived", spec.derived))
                for name, a in table.items() if a.path is not None and a.path.startswith("mapper.")]
    option_values = [(key[7:], v, src.where("base", "set", key)) for key, v in base.set.items() if key.startswith("mapper.")]
    option_values += [(a.path[7:], v, src.where("axes", name, "values", i)) for name, a in spec.axes.items()
                      if a.path is not None and a.path.startswith("mapper.") for i, v in enumerate(a.values or [])]
    for mapper, where in mappers:
        if mapper not in registry.names():
            raise EinsimError(f"unknown mapper {mapper!r}" + did_you_mean(str(mapper), registry.names()), where)
        for option, at in options:
            try:
                check_mapper_options(mapper, [option])
            except EinsimError as exc:
                raise EinsimError(exc.bare_message, at) from None
        checks = getattr(registry.get(mapper), "option_checks", {})  # a mapper's check of an option's values
        for option, value, at in option_values:
            if option in checks:
                try:
                    checks[option](value)
                except EinsimError as exc:
                    raise EinsimError(exc.bare_message, at) from None
    ranks: set[str] = set()
    if base.workload is not None:
        try:
            ranks = set(load_workload(str(files["base.workload"])).ranks)
        except EinsimError as exc:
            raise EinsimError(f"base.workload: {exc}", src.where("base", "workload")) from None
    elif base.model is not None:
        try:
            from einsim.einsum import load_model

            load_model(str(files["base.model"]))
        except EinsimError as exc:
            raise EinsimError(f"base.model: {exc}", src.where("base", "model")) from None

    def check_path(path: str, where: Location) -> None:
        if path.startswith("arch."):
            try:
                resolve_path(arch_data, path[5:])
            except EinsimError as exc:
                raise EinsimError(exc.bare_message, where) from None
        elif path.startswith("rank."):
            if base.workload is None:
                raise EinsimError(f"{path}: rank sizes apply to a workload; this sweep's base has a model (vary seq or batch)", where)
            if path[5:] not in ranks:
                raise EinsimError(f"unknown rank {path[5:]!r}" + did_you_mean(path[5:], ranks), where)
        elif path.startswith("mapper."):
            if not path[7:]:
                raise EinsimError("mapper.<option> needs an option name", where)
        elif path not in DESIGN_KEYS:
            raise EinsimError(f"unknown path {path!r}: use arch.<dotted path>, rank.<NAME>, mapper.<option> or one of "
                              + ", ".join(DESIGN_KEYS), where)

    for key in base.set:
        check_path(key if key.startswith(("arch.", "rank.", "mapper.")) else key, src.key_where("base", "set", key))
    targets: dict[str, str] = {}
    for name, axis in spec.axes.items():
        if axis.path is not None:
            check_path(axis.path, src.where("axes", name, "path"))
            if axis.path in targets:
                raise EinsimError(f"axes {targets[axis.path]} and {name} both set {axis.path}", src.where("axes", name, "path"))
            targets[axis.path] = name
        needs_grid = isinstance(spec.strategy, Grid)
        if needs_grid and axis.values is None and axis.num is None:
            raise EinsimError(f"axis {name}: a grid needs values: or num: (points of the low/high range)", src.where("axes", name))
    for i, line in enumerate(spec.report.lines):
        if line.x not in spec.axes:
            raise EinsimError(f"report.lines x: unknown axis {line.x!r}" + did_you_mean(line.x, list(spec.axes)),
                              src.where("report", "lines", i, "x"))
    known = set(spec.axes)
    for name, d in spec.derived.items():
        where = src.where("derived", name, "expr")
        if name in known:
            raise EinsimError(f"derived {name!r} has the name of an axis or an earlier derived value", src.key_where("derived", name))
        for n in derive.names(derive.parse(d.expr, where)):
            if n not in known:
                raise EinsimError(f"derived {name}: unknown name {n!r}" + did_you_mean(n, known), where)
        if d.path is not None:
            check_path(d.path, src.where("derived", name, "path"))
            if d.path in targets:
                raise EinsimError(f"derived {name} and {targets[d.path]} both set {d.path}", src.where("derived", name, "path"))
            targets[d.path] = name
        known.add(name)
