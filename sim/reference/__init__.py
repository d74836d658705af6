"""Slow, obviously-correct pure-Python twins of the numba kernels, for property tests on small cases."""
