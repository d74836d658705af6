"""Public API (evaluate, sweep), sweep engine, results store, Pareto, plots and the `einsim` CLI.

::

    from einsim.explore import evaluate, sweep, load_sweep, Results, pareto_front

    r = evaluate("fusemax", "attention_1pass", M=4096, P=4096)             # a Result
    r = evaluate("fusemax", model="bert_base", phase="prefill", seq_len=512,
                 **{"GlobalBuffer.capacity_B": "8 MiB"})
    res = sweep("designs/sweeps/fusemax_pe_buffer.yaml", out="runs/pe", jobs=2)
    res.dataframe(); res.to_csv("pe.csv"); res.to_parquet("pe.parquet")
    res.pareto(["latency_s", "area_m2"])

``write_report(run_dir, html_path)`` writes a sweep's HTML report; ``per_token_rows(results)`` gives
tokens/s, J/token and the bound of every model point (the report's first table).
``status_line(msg)`` rewrites one progress line on stderr (a long run's live status).

pandas, pyarrow and dask are optional (``pip install 'einsim[explore]'``): only DataFrames,
Parquet and ``dask=`` need them.
"""

import importlib
from typing import Any

# public name -> (module, attribute); imported on first use, so a command that needs one part (e.g.
# `einsim reproduce`) does not load the sweep engine, the mappers and plotly
_WHERE = {"METRICS": ("einsim.explore.design", "METRICS"), "evaluate": ("einsim.explore.design", "evaluate"),
          "sweep": ("einsim.explore.engine", "sweep"), "pareto_front": ("einsim.explore.pareto", "front_mask"),
          "Results": ("einsim.explore.results", "Results"), "SweepSpec": ("einsim.explore.spec", "SweepSpec"),
          "load_sweep": ("einsim.explore.spec", "load_sweep"),
          "status_line": ("einsim.explore.progress", "status_line"),
          "per_token_rows": ("einsim.explore.per_token", "per_token_rows"),
          "write_report": ("einsim.explore.report", "write_report")}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'einsim.explore' has no attribute {name!r}")
    module, attr = _WHERE[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


__all__ = ["METRICS", "Results", "SweepSpec", "evaluate", "load_sweep", "pareto_front", "per_token_rows", "status_line",
           "sweep", "write_report"]
