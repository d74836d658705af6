"""The five attention configurations of the FuseMax paper: the bundled constraint files
``designs/mappings/{unfused,flat,cascade,architecture,fusemax}.yaml`` (einsim.mappers.constraint_file).

A configuration names a design, a cascade, the unit each Einsum is bound to, where each
intermediate lives, which DRAM tensors are staged in the global buffer, its factor bounds and
loop orders, the fusion groups with their buffer depth, and the tiling family whose factors it
fills (``fused``: Cascade 5 with the P1 rule; ``flat``: FLAT's row-block fusion of the 3-pass
softmax; ``unfused``: one phase per group with DRAM round trips). Its latency is derived by the
tile pipeline (einsim.mappers.spatial.timing), not written in the file.
"""

from __future__ import annotations

from einsim.errors import EinsimError, did_you_mean
from einsim.mappers.constraint_file import ConstraintFile, load_constraints

Strategy = ConstraintFile

CONFIGURATIONS = ("unfused", "flat", "cascade", "architecture", "fusemax")
STRATEGIES: dict[str, Strategy] = {name: load_constraints(name) for name in CONFIGURATIONS}


def strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise EinsimError(f"unknown attention configuration {name!r}" + did_you_mean(name, list(STRATEGIES)))
    return STRATEGIES[name]
