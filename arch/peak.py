"""Peak throughput of each compute unit (SI: operations or points per second)."""

from __future__ import annotations

from einsim.arch.architecture import Architecture, resolve_op
from einsim.arch.interp import interp_log2
from einsim.arch.compute import CPU, GPU, NPU, DSPEngine, PEArray


def peak_throughput(arch: Architecture, unit_name: str) -> dict[str, float]:
    """{label: per second} for one compute unit.

    pe_array: points/s of each op on all PEs; dsp_engine: MAC/s of the DSPs per precision and of
    the MM/MV modes over all cores; cpu: MAC/s per cluster and precision; npu: op/s at the
    largest measured batch; gpu: op/s per precision.
    """
    unit = arch.compute_unit(unit_name)
    if isinstance(unit, PEArray):
        clock = arch.clock_of(unit_name)
        return {op: unit.pe_count * clock / resolve_op(unit, op).cycles for op in unit.ops}
    if isinstance(unit, DSPEngine):
        clock = arch.clock_of(unit_name)
        out = {
            f"dsp_{p}_mac": unit.dsp_count * m * clock
            for p, m in unit.macs_per_dsp_per_cycle.items()
            if unit.dsp_count is not None
        }
        for mode in ("mm", "mv"):
            per_core = unit.mode_macs_per_cycle(mode)
            if per_core is not None:
                out[f"{mode}_mac"] = per_core * clock * unit.parallel_speedup
        return out
    if isinstance(unit, CPU):
        out: dict[str, float] = {}
        for cname, cl in unit.clusters.items():
            for prec, macs in cl.macs_per_cycle.items():
                out[f"{cname}_{prec}_mac"] = cl.cores * cl.clock_Hz * macs
                out[f"all_{prec}_mac"] = out.get(f"all_{prec}_mac", 0.0) + out[f"{cname}_{prec}_mac"]
        return out
    if isinstance(unit, NPU):
        return {f"{unit.precision}_op": unit.throughput_by_batch[-1].ops_per_s}
    if isinstance(unit, GPU):
        return dict(unit.peak_ops_per_s)
    return {}


def npu_throughput(npu: NPU, batch: float) -> float:
    """NPU dense op/s at ``batch``, interpolated in log2(batch) over the measured points."""
    pts = npu.throughput_by_batch
    return interp_log2(batch, [p.batch for p in pts], [p.ops_per_s for p in pts])
