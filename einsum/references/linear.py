"""References for the linear workloads (see the workload files that name them)."""
