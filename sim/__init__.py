"""Cost models: numba batch kernels, their slow reference twins, event and cycle models, Result."""
