"""numba batch kernels; every one is compiled with the single policy in `policy` and has a pure-Python twin in
`einsim.sim.reference`."""
