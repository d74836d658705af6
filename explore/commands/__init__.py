"""One module per `einsim` subcommand; each defines ``register(subparsers)``.

``SUMMARIES`` holds each command's one-line help, in the order `einsim --help` lists them: the top-level
help is built from it alone, without importing the command modules (and what they import).
"""

SUMMARIES = {
    "list": "list the bundled workloads, models, designs, sweeps and mapping constraint files with their sources",
    "check": "parse, validate and verify a workload cascade; print its op counts and passes",
    "arch": "inspect architecture specs",
    "eval": "evaluate a given mapping (or a Timeloop input set) and print latency, energy and bytes",
    "map": "search the mapspace of a cascade (fused) or one Einsum; print the best mapping and its cost",
    "matrix": "every bundled model (prefill, decode) on every bundled design with its default mapper",
    "sweep": "run a design-space sweep (grid, random or NSGA-II) into DIR/results.sqlite; rerun to resume",
    "report": "Pareto front of a sweep's results; --html writes a self-contained plotly page",
    "reproduce": "reproduce a paper's results through the model (fusemax, flightllm, lightmamba, phone papers)",
}
