"""The spatial mappers in the registry, so `einsim eval --mapper fusemax` and sweeps run them on any
two-array design (e.g. FuseMax with a resized array or buffer): the five attention configurations
of the FuseMax paper, and ``fused``, any cascade fused step by step (einsim.mappers.spatial.generic)."""

from __future__ import annotations

from typing import Any

from einsim.arch import Architecture
from einsim.einsum import Cascade
from einsim.errors import EinsimError
from einsim.mappers.registry import register
from einsim.mappers.spatial.attention import AttentionResult, array_of, evaluate_attention
from einsim.mappers.spatial.generic import evaluate_cascade
from einsim.mappers.spatial.strategies import STRATEGIES
from einsim.sim.result import Result


def to_result(res: AttentionResult, arch: Architecture, name: str) -> Result:
    clock = arch.clock_of("Array2D")
    busy, capacity = {}, {}
    for unit, util in res.utilization.items():
        pes = array_of(arch, unit).pe_count
        capacity[unit] = pes * res.latency_s
        busy[unit] = util * capacity[unit]
    breakdown = [{"component": comp, "action": action, "count": count, "energy_J": joules}
                 for (comp, action), (count, joules) in sorted(res.energy.items())]
    return Result(name, res.latency_s, res.energy_J, res.latency_s * clock, {"DRAM": res.dram_bytes}, busy, capacity,
                  breakdown, res.notes)


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


def _make(config: str):
    def mapper(arch: Architecture, cascade: Cascade, fill_drain: bool = False, **options: Any) -> Result:
        if options:
            raise EinsimError(f"mapper {config}: unknown option(s) {', '.join(options)} (valid: fill_drain)")
        missing = [r for r in ("H", "E", "F", "M", "P") if r not in cascade.ranks]
        if missing:
            raise EinsimError(f"mapper {config} maps attention cascades with ranks H, E, F, M, P; "
                              f"{cascade.name} lacks {', '.join(missing)}")
        r = cascade.ranks
        res = evaluate_attention(STRATEGIES[config], r["H"], r["M"], r["P"], r["E"], r["F"], bool(fill_drain), arch,
                                 is_causal(cascade, config))
        return to_result(res, arch, f"{cascade.name}:{config}")

    mapper.__name__ = f"attention_{config}"
    mapper.__doc__ = f"Attention under the {config} configuration of the FuseMax paper (einsim.mappers.spatial)."
    return mapper


for _name in STRATEGIES:
    register(_name)(_make(_name))


@register("fused")
def fused(arch: Architecture, cascade: Cascade, **options: Any) -> Result:
    """Any cascade fused on a two-array design: contractions on the 2D array, the rest on the 1D array,
    intermediates in the global buffer (spilling what does not fit), one step of the iterative rank at
    a time (einsim.mappers.spatial.generic)."""
    if options:
        raise EinsimError(f"mapper fused: unknown option(s) {', '.join(options)} (it takes none)")
    return to_result(evaluate_cascade(cascade, arch).result, arch, f"{cascade.name}:fused")
