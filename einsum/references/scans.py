"""References for the scans workloads (see the workload files that name them)."""
