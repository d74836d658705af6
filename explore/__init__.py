"""Public API (evaluate, sweep), sweep engine, results store, Pareto, plots and the `einsim` CLI.

::

    from einsim.explore import evaluate, sweep, load_sweep, Results, pareto_front

    r = evaluate("fusemax", "attention_1pass", M=4096, P=4096)             # a Result
    r = evaluate("fusemax", model="bert_base", phase="prefill", seq_len=512,
                 **{"GlobalBuffer.capacity_B": "8 MiB"})
    res = sweep("designs/sweeps/fusemax_pe_buffer.yaml", out="runs/pe", jobs=2)
    res.dataframe(); res.to_csv("pe.csv"); res.to_parquet("pe.parquet")
    res.pareto(["latency_s", "area_m2"])

pandas, pyarrow and dask are optional (``pip install 'einsim[explore]'``): only DataFrames,
Parquet and ``dask=`` need them.
"""

from einsim.explore.design import METRICS, evaluate
from einsim.explore.engine import sweep
from einsim.explore.pareto import front_mask as pareto_front
from einsim.explore.results import Results
from einsim.explore.spec import SweepSpec, load_sweep

__all__ = ["METRICS", "Results", "SweepSpec", "evaluate", "load_sweep", "pareto_front", "sweep"]
