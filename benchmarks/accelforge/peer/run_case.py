"""Run one mapper case in AccelForge (inside the CPython 3.12 venv that benchmarks/mapper_speed.py builds).

    python run_case.py '{"arch": ..., "workload": ..., "jinja": {...}, "max_fused_loops": null}'

``arch``/``workload`` are file paths, or ``examples:<attribute>`` for AccelForge's bundled examples
(e.g. ``examples:arches.tpu_v4i``). Energy objective, one job, as shared/reference/accelforge.md §5
(its af_bench.py, Appendix A): make_pmappings + join_pmappings, then the same re-evaluation of the
joined mappings that map_workload_to_arch() does. Prints one line ``RESULT {json}``.
"""

import json
import sys
import time

t0 = time.perf_counter()
import accelforge as af  # noqa: E402
from accelforge.mapper.FFM.main import join_pmappings, make_pmappings  # noqa: E402

t_import = time.perf_counter() - t0


def _path(spec: str):
    if spec.startswith("examples:"):
        obj = af.examples
        for part in spec.split(":", 1)[1].split("."):
            obj = getattr(obj, part)
        return obj
    return spec


def main() -> None:
    case = json.loads(sys.argv[1])
    af.set_n_parallel_jobs(1)
    spec = af.Spec.from_yaml(_path(case["arch"]), _path(case["workload"]), jinja_parse_data=case.get("jinja", {}))
    spec.mapper.metrics = af.mapper.Metrics.ENERGY
    if case.get("max_fused_loops") is not None:
        spec.mapper.max_fused_loops = case["max_fused_loops"]
    t1 = time.perf_counter()
    pm = make_pmappings(spec, print_progress=False)
    t2 = time.perf_counter()
    mp = join_pmappings(pm, metrics=spec.mapper.metrics, require_all_einsums=True, print_progress=False)
    t3 = time.perf_counter()
    from copy import deepcopy

    from accelforge._accelerated_imports import pd
    from accelforge.model.main import evaluate_mapping
    from accelforge.util import _fillna_and__numeric_cast

    rows = []
    for i in range(len(mp.data)):
        local = deepcopy(spec)
        local.model.metrics = local.mapper.info_metrics
        local.mapping = mp.data.iloc[i]["Total<SEP>mapping"](_for_model=True)
        rows.append(evaluate_mapping(local, flattened_arches=mp.flattened_arches, evaluated_specs=mp.evaluated_specs).data)
    mp.data = _fillna_and__numeric_cast(pd.concat(rows), 0)
    t4 = time.perf_counter()
    from accelforge._version import __version__

    out = {"version": __version__,
           "t_import_s": t_import, "t_make_pmappings_s": t2 - t1, "t_join_s": t3 - t2, "t_detail_eval_s": t4 - t3,
           "n_total_pmappings": float(pm.n_total_pmappings()), "n_evaluated_pmappings": int(pm.n_evaluated_pmappings()),
           "energy_J": float(mp.energy()), "latency_s": float(mp.latency()),
           "energy_per_component_J": {str(k): float(v) for k, v in mp.energy(per_component=True).items()},
           "latency_per_einsum_s": {str(k): float(v) for k, v in mp.latency(per_einsum=True).items()},
           "t_in_process_s": time.perf_counter() - t0}
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
