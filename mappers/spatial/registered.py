"""The spatial mappers in the registry, so `einsim eval --mapper fusemax` and sweeps run them on any
two-array design (e.g. FuseMax with a resized array or buffer): the five attention configurations
of the FuseMax paper (their bundled constraint files), ``constraints`` (any constraint file:
``--mapper-option file=PATH``, what ``einsim eval --mapping FILE`` and ``einsim map --constraints
FILE`` run), and ``fused``, any cascade fused step by step (einsim.mappers.spatial.generic)."""

from __future__ import annotations

from typing import Any

from einsim.arch import Architecture
from einsim.einsum import Cascade
from einsim.errors import EinsimError
from einsim.memo import by_identity
from einsim.mappers.constraint_file import ConstraintFile, check_against, load_constraints
from einsim.mappers.registry import register
from einsim.mappers.spatial.attention import (AttentionResult, array_of, evaluate_attention,
                                             evaluate_attention_batch, workload)
from einsim.mappers.spatial.generic import evaluate_cascade
from einsim.mappers.spatial.strategies import STRATEGIES
from einsim.sim.result import Result, unit_times


def timing_notes(res: AttentionResult, arch: Architecture) -> list[str]:
    """One line per fusion group: its tiles, buffer depth, steady-state period and latency."""
    clock = arch.clock_of("Array2D")
    return [f"tile pipeline [{', '.join(g.einsums)}]: {g.tiles:,} tiles, {g.slots}-tile buffers, "
            f"{g.period_s * clock:.6g} cycles per tile, {g.latency_s:.6g} s "
            f"({g.latency_s / g.lower_bound_s:.4f} x its busiest resource)" if g.lower_bound_s else
            f"tile pipeline [{', '.join(g.einsums)}]: {g.latency_s:.6g} s" for g in res.timing]


def to_result(res: AttentionResult, arch: Architecture, name: str) -> Result:
    clock = arch.clock_of("Array2D")
    busy, capacity = {}, {}
    for unit, util in res.utilization.items():
        pes = array_of(arch, unit).pe_count
        capacity[unit] = pes * res.latency_s
        busy[unit] = util * capacity[unit]
    breakdown = [{"component": comp, "action": action, "count": count, "energy_J": joules}
                 for (comp, action), (count, joules) in sorted(res.energy.items())]
    # the tile DAG's units: a stage's time is its compute (its DRAM transfers are the DRAM resource's jobs)
    by_name = {c.name: c for c in res.costs}
    units = unit_times((g.latency_s, [(by_name[n].unit, by_name[n].compute_s, by_name[n].compute_s) for n in g.einsums])
                       for g in res.timing)
    return Result(name, res.latency_s, res.energy_J, res.latency_s * clock, {"DRAM": res.dram_bytes}, busy, capacity,
                  breakdown, res.notes + timing_notes(res, arch), units)


def is_causal(cascade: Cascade, mapper: str) -> bool:
    """Whether the attention cascade carries the causal mask (key position m <= query p); any other
    filter is refused, since the configurations model that mask only."""
    key_positions = [{"m": 1}, {"m0": 1, "m1": cascade.ranks.get("M0")}]  # m, or m1*M0 + m0
    for e in cascade.einsums:
        for c in e.filters:
            if not (c.op == "<=" and c.right.is_var == "p" and c.left.const == 0 and dict(c.left.terms) in key_positions):
                raise EinsimError(f"mapper {mapper} models the causal mask m <= p only; "
                                  f"{cascade.name} {e.name} has the filter {c}", e.location)
    return any(e.filters for e in cascade.einsums)


@by_identity(maxsize=256)
def _check(spec: ConstraintFile, arch: Architecture, where: str) -> None:
    """The file's bindings against its own cascade and the design (once per file and design)."""
    own = workload(spec.workload, {})
    check_against(spec, {e.name: e for e in own.einsums if not e.init}, arch, where)


def _attention_point(spec: ConstraintFile, arch: Architecture, cascade: Cascade, where: str) -> dict[str, Any]:
    """H, M, P, E, F and the causal mask of an attention ``cascade`` (refused if it is none)."""
    missing = [r for r in ("H", "E", "F", "M", "P") if r not in cascade.ranks]
    if missing:
        raise EinsimError(f"{where} maps attention cascades with ranks H, E, F, M, P; "
                          f"{cascade.name} lacks {', '.join(missing)}")
    _check(spec, arch, where)
    r = cascade.ranks
    return {"H": r["H"], "M": r["M"], "P": r["P"], "E": r["E"], "F": r["F"], "causal": is_causal(cascade, spec.name)}


def run_configuration(spec: ConstraintFile, arch: Architecture, cascade: Cascade, fill_drain: bool = False,
                      where: str | None = None) -> AttentionResult:
    """Attention of ``cascade``'s sizes (and causal mask) under the constraint file ``spec`` on
    ``arch``, on the file's own cascade (FLAT runs its 3-pass cascade whatever attention cascade
    it is given): the bindings are checked against that cascade and the design, the factors the
    file leaves open are chosen by its tiling family, and the latency is the tile pipeline's."""
    p = _attention_point(spec, arch, cascade, where or f"constraints {spec.name}")
    return evaluate_attention(spec, p["H"], p["M"], p["P"], p["E"], p["F"], bool(fill_drain), arch, p["causal"])


def run_configurations(spec: ConstraintFile, arch: Architecture, cascades: list[Cascade], fill_drain: bool = False,
                       where: str | None = None) -> list[AttentionResult | EinsimError]:
    """``run_configuration`` of N cascades on one design (einsim.mappers.spatial.attention's
    ``evaluate_attention_batch``); a cascade that cannot be mapped gets its EinsimError."""
    where = where or f"constraints {spec.name}"
    out: list[Any] = [None] * len(cascades)
    points, at = [], []
    for i, cascade in enumerate(cascades):
        try:
            points.append(_attention_point(spec, arch, cascade, where))
            at.append(i)
        except EinsimError as exc:
            out[i] = exc
    for i, res in zip(at, evaluate_attention_batch(spec, points, bool(fill_drain), arch)):
        out[i] = res
    return out


def _make(config: str):
    def mapper(arch: Architecture, cascade: Cascade, fill_drain: bool = False, **options: Any) -> Result:
        if options:
            raise EinsimError(f"mapper {config}: unknown option(s) {', '.join(options)} (valid: fill_drain)")
        res = run_configuration(STRATEGIES[config], arch, cascade, fill_drain, f"mapper {config}")
        return to_result(res, arch, f"{cascade.name}:{config}")

    def batch(arch: Architecture, cascades: list[Cascade], fill_drain: bool = False,
              **options: Any) -> list[Result | EinsimError]:
        """The mapper on N cascades of one design at once (the same results as one at a time)."""
        if options:
            raise EinsimError(f"mapper {config}: unknown option(s) {', '.join(options)} (valid: fill_drain)")
        results = run_configurations(STRATEGIES[config], arch, cascades, fill_drain, f"mapper {config}")
        return [r if isinstance(r, EinsimError) else to_result(r, arch, f"{c.name}:{config}")
                for r, c in zip(results, cascades)]

    mapper.batch = batch  # type: ignore[attr-defined]
    mapper.__name__ = f"attention_{config}"
    mapper.__doc__ = f"Attention under the {config} configuration of the FuseMax paper (designs/mappings/{config}.yaml)."
    return mapper


for _name in STRATEGIES:
    register(_name)(_make(_name))


@register("constraints")
def constraints(arch: Architecture, cascade: Cascade, file: str | None = None, fill_drain: bool = False,
                **options: Any) -> Result:
    """Attention under a constraint file (``file=PATH`` or a bundled name, e.g. ``file=fusemax``)."""
    if options or file is None:
        raise EinsimError("mapper constraints takes file=PATH (a constraint file or bundled name) and fill_drain"
                          + (f"; unknown option(s) {', '.join(options)}" if options else ""))
    spec = load_constraints(str(file))
    res = run_configuration(spec, arch, cascade, fill_drain)
    return to_result(res, arch, f"{cascade.name}:{spec.name}")


@register("fused")
def fused(arch: Architecture, cascade: Cascade, **options: Any) -> Result:
    """Any cascade fused on a two-array design: contractions on the 2D array, the rest on the 1D array,
    intermediates in the global buffer (spilling what does not fit), one step of the iterative rank at
    a time (einsim.mappers.spatial.generic)."""
    if options:
        raise EinsimError(f"mapper fused: unknown option(s) {', '.join(options)} (it takes none)")
    return to_result(evaluate_cascade(cascade, arch).result, arch, f"{cascade.name}:fused")
