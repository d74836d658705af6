"""References for the dense workloads (see the workload files that name them)."""
