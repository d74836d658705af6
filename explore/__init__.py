"""Public API (evaluate, sweep), sweep engine, results store, Pareto, plots and the `einsim` CLI."""
