"""One design point: resolve an architecture, a workload or model phase and a mapper, and score it.

``evaluate`` is the public entry; ``evaluate_params`` scores the flat parameter dict a sweep stores
per point (``arch``, ``workload`` or ``model``/``phase``/``seq``/``batch``, ``mapper``, and
prefixed keys ``arch.<dotted path>``, ``rank.<NAME>``, ``mapper.<option>``).
"""

from __future__ import annotations

import functools
import inspect
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from einsim.arch import DRAM, Architecture, total_area_m2
from einsim.arch.load import arch_from_source, bundled_dir, check_sources
from einsim.einsum import Cascade, expand, load_workload
from einsim.einsum.load import cascade_from_source
from einsim.designs import resolve
from einsim.einsum.models import Plan
from einsim.errors import EinsimError, did_you_mean
from einsim.mappers import registry
from einsim.sim.result import Result, scaled, seq
from einsim.yamlsrc import YamlSource, load_yaml_file

DESIGN_KEYS = ("arch", "workload", "model", "phase", "seq", "batch", "mapper")
PREFIXES = ("arch.", "rank.", "mapper.")


def resolve_confined(name: str, kind: str, root: Path) -> Path:
    """``resolve`` for a name in a spec: the file must lie in the spec's folder, the current
    folder or the bundled designs (DESIGN §5: paths stay inside the places the user named)."""
    path = resolve(name, kind, root)
    places = (root.resolve(), Path.cwd().resolve(), bundled_dir().parent.resolve())
    if not any(path.is_relative_to(place) for place in places):
        raise EinsimError(f"{name!r} is {path}, outside the spec's folder {places[0]}, the current folder "
                          f"{places[1]} and the bundled designs: copy the file next to the spec")
    return path


@functools.lru_cache(maxsize=64)
def mapper_options(name: str) -> tuple[str, ...] | None:
    """The keyword options a registered mapper takes (None: it takes any, through ``**options``)."""
    params = list(inspect.signature(registry.get(name)).parameters.values())[2:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            and p.name != "progress")


def check_mapper_options(name: str, options: Mapping[str, Any] | Iterable[str]) -> None:
    """Refuse an option the mapper does not take, listing the ones it does."""
    valid = mapper_options(name)
    if valid is None:
        return
    for option in options:
        if option not in valid:
            raise EinsimError(f"mapper {name!r} has no option {option!r}"
                              + (did_you_mean(option, valid) if valid else "; it takes no options"))


@functools.lru_cache(maxsize=32)
def _arch_source(path: Path, mtime: float) -> YamlSource:
    return load_yaml_file(path)


def load_design_arch(arch: str | Path | Architecture, overrides: Mapping[str, Any], root: Path | None = None) -> Architecture:
    """An Architecture with dotted-path overrides; files are parsed once per process."""
    if isinstance(arch, Architecture):
        src = getattr(arch, "_src", None)
        if src is None:
            raise EinsimError("an Architecture given to evaluate() must come from load_arch (it keeps its source)")
        return _validated(src, dict(overrides))
    path = _resolve_cached(str(arch), "arch", root)
    return _cached_arch(path, path.stat().st_mtime, json.dumps(overrides, sort_keys=True, default=str))


@functools.lru_cache(maxsize=256)
def _resolve_cached(name: str, kind: str, root: Path | None) -> Path:
    return resolve(name, kind, root)


@functools.lru_cache(maxsize=512)
def _cached_arch(path: Path, mtime: float, overrides_json: str) -> Architecture:
    # architectures are not modified after loading, so points with equal overrides share one
    return _validated(_arch_source(path, mtime), json.loads(overrides_json))


def _validated(src: YamlSource, overrides: dict[str, Any]) -> Architecture:
    loaded = arch_from_source(src, overrides or None)
    if Path(src.file).resolve().parent == bundled_dir().resolve():
        check_sources(loaded)
    return loaded


@functools.lru_cache(maxsize=256)
def _cascade(workload: str, sizes: tuple[tuple[str, Any], ...]) -> Cascade:
    path = resolve(workload, "workloads")
    return cascade_from_source(_workload_source(path, path.stat().st_mtime), dict(sizes))


@functools.lru_cache(maxsize=32)
def _workload_source(path: Path, mtime: float) -> YamlSource:
    # a sweep's points bind a workload at many sizes: its YAML is parsed once per process
    return load_yaml_file(path)


@functools.lru_cache(maxsize=64)
def _plan(model_ref: str, mtime: float, phase: str, seq_len: int | None, batch: int) -> Plan:
    # a sweep's points share a few (model, phase, length): the preset is parsed and expanded once per process
    if phase == "decode":
        return expand(model_ref, "decode", context_len=seq_len, batch=batch)
    return expand(model_ref, phase, seq_len=seq_len, batch=batch)


def _workload_name(workload: str, root: Path | None) -> str:
    return str(_resolve_cached(workload, "workloads", root))


def takes_model(name: str) -> bool:
    """True for a mapper that maps a whole model phase (a ``Plan``) instead of one cascade at a time.

    Such a mapper sets ``takes_model = True`` on its function and is called as
    ``fn(arch, plan, **options)`` with the model's ``expand`` result.
    """
    return bool(getattr(registry.get(name), "takes_model", False))


def _run_mapper(name: str, arch: Architecture, cascade: Cascade | Plan, options: Mapping[str, Any],
                seed: int | None, progress: Callable[[str], None] | None = None) -> Result:
    mapper = registry.get(name)
    check_mapper_options(name, options)
    kwargs = dict(options)
    accepts = inspect.signature(mapper).parameters
    if seed is not None and "seed" in accepts and "seed" not in kwargs:
        kwargs["seed"] = seed
    if progress is not None and "progress" in accepts:
        kwargs["progress"] = progress
    return mapper(arch, cascade, **kwargs)


def _split_overrides(overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(arch overrides by dotted path, rank sizes): a key with a dot (or ``arch.``) is an arch path."""
    arch_over: dict[str, Any] = {}
    ranks: dict[str, Any] = {}
    for key, value in overrides.items():
        if key.startswith("arch."):
            arch_over[key[5:]] = value
        elif key.startswith("rank."):
            ranks[key[5:]] = value
        elif "." in key:
            arch_over[key] = value
        else:
            ranks[key] = value
    return arch_over, ranks


def default_mappers(arch: Architecture) -> list[str]:
    """The mappers ``arch`` is evaluated with when the caller names none, in preference order: its
    ``default_mapper:`` (checked against the registry), else the registry's default."""
    if arch.default_mapper is None:
        return [registry.DEFAULT]
    for name in arch.default_mapper:
        if name not in registry.names():
            raise EinsimError(f"default_mapper: unknown mapper {name!r}" + did_you_mean(name, registry.names()),
                              arch.where("default_mapper"))
    return list(arch.default_mapper)


class NoDefaultMapper(EinsimError):
    """The design names no mapper that can take this input; the message says why (its stated reason)."""


def choose_and_run(arch: Architecture, whole_model: bool,
                   run: Callable[[str], Result]) -> tuple[str, Result, list[str]]:
    """Run the design's default mappers in order, skipping those that do not take the input's kind
    (a whole model or one cascade): the first that models the input gives the result. Returns
    (mapper, result, why each earlier one refused); if every one refuses, the error gives each reason."""
    names = [m for m in default_mappers(arch) if whole_model or not takes_model(m)]
    if not names:
        reason = arch.source_of("default_mapper") if arch.default_mapper is not None else ""
        what = "a model" if whole_model else "a workload"
        listed = ", ".join(arch.default_mapper or []) or "none"
        raise NoDefaultMapper(f"no default mapper of {arch.name} ({listed}) maps {what}"
                              + (f": {reason}" if reason else "") + "; name one with --mapper")
    refused: list[str] = []
    messages: list[str] = []
    for name in names:
        try:
            return name, run(name), refused
        except EinsimError as exc:
            if len(names) == 1:
                raise
            refused.append(f"{name}: {exc.bare_message}")
            messages.append(exc.bare_message)
    raise EinsimError(messages[0] if len(set(messages)) == 1 else "; ".join(refused))


def evaluate(
    arch: str | Path | Architecture,
    workload: str | Path | Cascade | None = None,
    mapper: str | None = None,
    *,
    model: str | None = None,
    phase: str = "prefill",
    seq_len: int | None = None,
    batch: int = 1,
    mapper_options: Mapping[str, Any] | None = None,
    seed: int | None = None,
    root: Path | None = None,
    progress: Callable[[str], None] | None = None,
    **overrides: Any,
) -> Result:
    """Score one design: ``arch`` (file, bundled name or loaded) running ``workload`` or a ``model`` phase.

    ``overrides`` bind rank sizes (``M=4096``) and set architecture fields by dotted path
    (``**{"GlobalBuffer.capacity_B": "8 MiB"}``). With ``model``, the result is one layer's
    cascades scaled by the layer count (plus the LM head), unless the mapper takes the whole
    model (``takes_model``: FlightLLM, the phone policies), which then gets the expanded ``Plan``;
    ``seq_len`` is the prompt length in prefill and the KV-cache length in decode. Relative paths
    resolve against ``root`` first. A mapper that reports progress (``progress`` keyword, e.g.
    "search") is passed ``progress``, its lines prefixed by the layer and op of a model. Without
    ``mapper``, the design's default mappers (``default_mappers``) are tried in order and the
    result notes which one ran.

    ``mapper="search"`` maps each cascade as ``einsim map`` does (einsim.mappers.search_mapper:
    the whole-cascade search, fused where that pays): the Result's ``units`` give per compute unit
    its busy, compute, memory and stall seconds of the tile schedules (``unit_timing()`` adds the
    idle time and the bound), ``searches`` per cascade the mapping found (its fusion groups),
    ``optimal``, ``mapspace_size``, ``evaluated`` and ``seconds``; options ``objective``,
    ``method``, ``budget`` (default 2,000: a larger per-Einsum space is climbed and the result is
    then not proven optimal), ``seed`` and ``workers``.

        evaluate("fusemax", "attention_1pass", M=4096, P=4096)
        evaluate("fusemax", model="llama2_7b", phase="prefill", seq_len=4096)
        evaluate("fusemax", "attention_1pass", "search").to_dict()["optimal"]
    """
    arch_over, ranks = _split_overrides(overrides)
    loaded = arch if isinstance(arch, Architecture) and not arch_over else load_design_arch(arch, arch_over, root)
    if mapper is None:
        def run(name: str) -> Result:
            return evaluate(loaded, workload, name, model=model, phase=phase, seq_len=seq_len, batch=batch,
                            mapper_options=mapper_options, seed=seed, root=root, progress=progress,
                            **{f"rank.{k}": v for k, v in ranks.items()})
        chosen, result, refused = choose_and_run(loaded, model is not None, run)
        result.notes.append(f"mapper {chosen}: the design's default" + "".join(f"; {r}" for r in refused))
        return result
    options = dict(mapper_options or {})
    if (workload is None) == (model is None):
        raise EinsimError("give either a workload or a model (with phase and seq_len)")
    if workload is not None:
        if takes_model(mapper):
            raise EinsimError(f"mapper {mapper!r} maps a whole model: give a model (with phase and seq_len), "
                              "not a workload")
        if isinstance(workload, Cascade):
            cascade = load_workload(workload.file, ranks) if ranks else workload
        else:
            cascade = _cascade(_workload_name(str(workload), root), tuple(sorted(ranks.items())))
        return _run_mapper(mapper, loaded, cascade, options, seed, progress)
    if ranks:
        raise EinsimError(f"rank sizes ({', '.join(sorted(ranks))}) apply to a workload, not to a model; "
                          "vary seq_len/batch instead")
    model_path = _resolve_cached(model, "models", root)
    plan = _plan(str(model_path), model_path.stat().st_mtime, phase, seq_len, batch)
    if takes_model(mapper):
        return _run_mapper(mapper, loaded, plan, options, seed, progress)
    def run_op(op: Any, where: str) -> Result:
        told = None if progress is None else (lambda msg: progress(f"{where}: {msg}"))
        cascade = _cascade(op.workload, tuple(sorted(op.bindings.items())))
        return scaled(_run_mapper(mapper, loaded, cascade, options, seed, told), op.count, op.name)

    parts: list[Result] = []
    for layer in plan.layer_types:
        per_layer = [run_op(op, f"{layer.name} {op.name}") for op in layer.ops]
        parts.append(scaled(seq(*per_layer, name=layer.name), layer.layers, layer.name))
    parts += [run_op(op, op.name) for op in plan.head]
    return seq(*parts, name=f"{plan.model} {phase}")


def evaluate_params(params: Mapping[str, Any], root: Path | None = None, seed: int | None = None) -> tuple[Result, Architecture]:
    """Score a sweep's flat parameter dict; returns the Result and the resolved Architecture."""
    unknown = [k for k in params if k not in DESIGN_KEYS and not k.startswith(PREFIXES)]
    if unknown:
        raise EinsimError(f"unknown design parameters {unknown}")
    arch_over = {k[5:]: v for k, v in params.items() if k.startswith("arch.")}
    ranks = {k[5:]: v for k, v in params.items() if k.startswith("rank.")}
    options = {k[7:]: v for k, v in params.items() if k.startswith("mapper.")}
    arch = load_design_arch(params["arch"], arch_over, root)
    result = evaluate(arch, params.get("workload"), params.get("mapper"),
                      model=params.get("model"), phase=params.get("phase", "prefill"), seq_len=params.get("seq"),
                      batch=params.get("batch", 1), mapper_options=options, seed=seed, root=root,
                      **{f"rank.{k}": v for k, v in ranks.items()})
    return result, arch


def batch_key(params: Mapping[str, Any]) -> str | None:
    """Points with the same key can be scored together by ``evaluate_params_batch``: they differ only
    in their rank sizes and name a workload and a mapper that scores N cascades of one design at
    once (its function's ``batch`` attribute, einsim.mappers.registry) and takes no seed. None: score
    the point alone."""
    name = params.get("mapper")
    if "model" in params or "workload" not in params or not isinstance(name, str) or name not in registry.names():
        return None
    mapper = registry.get(name)
    if getattr(mapper, "batch", None) is None or "seed" in inspect.signature(mapper).parameters:
        return None
    return json.dumps({k: v for k, v in params.items() if not k.startswith("rank.")}, sort_keys=True, default=str)


def evaluate_params_batch(points: list[Mapping[str, Any]], root: Path | None = None) -> list[tuple[Result, Architecture] | EinsimError]:
    """``evaluate_params`` of points that share a ``batch_key``, in one call of the mapper's ``batch``
    (the same results as one at a time); a point whose workload or mapping fails gets its
    EinsimError. An error of what they share (the design, the options) is raised."""
    first = points[0]
    unknown = [k for k in first if k not in DESIGN_KEYS and not k.startswith(PREFIXES)]
    if unknown:
        raise EinsimError(f"unknown design parameters {unknown}")
    arch = load_design_arch(first["arch"], {k[5:]: v for k, v in first.items() if k.startswith("arch.")}, root)
    name = first["mapper"]
    options = {k[7:]: v for k, v in first.items() if k.startswith("mapper.")}
    check_mapper_options(name, options)
    out: list[Any] = [None] * len(points)
    cascades, at = [], []
    for i, params in enumerate(points):
        ranks = {k[5:]: v for k, v in params.items() if k.startswith("rank.")}
        try:
            cascades.append(_cascade(_workload_name(str(params["workload"]), root), tuple(sorted(ranks.items()))))
            at.append(i)
        except EinsimError as exc:
            out[i] = exc
    for i, res in zip(at, registry.get(name).batch(arch, cascades, **options)):  # type: ignore[attr-defined]
        out[i] = res if isinstance(res, EinsimError) else (res, arch)
    return out


def metrics(result: Result, arch: Architecture) -> dict[str, float]:
    """The scalar metrics a sweep stores and a Pareto front can use."""
    busy = sum(result.busy_s.values())
    capacity = sum(result.capacity_s.values())
    return {"latency_s": result.latency_s, "energy_J": result.energy_J, "edp_Js": result.latency_s * result.energy_J,
            "area_m2": total_area_m2(arch), "dram_bytes": result.dram_bytes, "cycles": result.cycles,
            "utilization": busy / capacity if capacity else 0.0}


def bound(utilization: Mapping[str, float], bytes_per_level: Mapping[str, float], latency_s: float,
          arch: Architecture) -> tuple[str | None, float | None]:
    """(name, busy fraction) of the resource busiest over a run (a Result's ``utilization`` and
    ``bytes_per_level``): a compute unit, or a DRAM level whose bytes over its peak bandwidth fill
    that share of the latency (a level the result already counts as busy keeps its own figure)."""
    busy = {name: float(v) for name, v in utilization.items()}
    for level, moved in bytes_per_level.items():
        comp = arch.components.get(level)
        if level not in busy and isinstance(comp, DRAM) and comp.bandwidth_Bps and latency_s > 0:
            busy[level] = moved / comp.bandwidth_Bps / latency_s
    if not busy:
        return None, None
    name = max(busy, key=busy.__getitem__)
    return name, busy[name]


METRICS = ("latency_s", "energy_J", "edp_Js", "area_m2", "dram_bytes", "cycles", "utilization")
# each metric's name for a reader and its dimension (einsim.arch.units.reader_unit)
METRIC_DISPLAY = {"latency_s": ("latency", "s"), "energy_J": ("energy", "J"), "edp_Js": ("EDP", "J*s"),
                  "area_m2": ("area", "m^2"), "dram_bytes": ("DRAM traffic", "B"), "cycles": ("cycles", "1"),
                  "utilization": ("utilization", "1")}
