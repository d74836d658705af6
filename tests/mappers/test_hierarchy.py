"""The storage path the cost model sees: a buffer's ``may_keep`` limits what it can hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from einsim.arch import load_arch
from einsim.einsum import parse_workload
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Constraints, Mapspace
from einsim.sim.nest import NestProblem

ROOT = Path(__file__).resolve().parents[2]
GEMM = parse_workload("name: g\nranks: {M: 4, K: 4, N: 4}\ntensors: {A: [M, K], B: [K, N], Z: [M, N]}\n"
                      "einsums: |\n  Z[m, n] = A[m, k] * B[k, n]\n")


def test_a_weight_register_keeps_only_the_weight() -> None:
    arch = load_arch(ROOT / "benchmarks" / "accelforge" / "arch_pe.yaml")
    e = GEMM.einsum("Z")
    hier = hierarchy_for(arch, "PEArray", e)
    assert hier.levels[-1].name == "Register" and "B" in hier.levels[-1].may_keep
    space = Mapspace(NestProblem.from_einsum(e), hier, Constraints(enumerate_keep=True))
    enc = space.encode(space.sample(np.random.default_rng(0), 256))
    t = {name: i for i, name in enumerate(space.problem.tensors)}
    assert not enc.keep[:, -1, t["A"]].any() and not enc.keep[:, -1, t["Z"]].any()
    assert enc.keep[:, -1, t["B"]].any() and not enc.keep[:, -1, t["B"]].all()  # kept or bypassed: a choice


def test_without_may_keep_a_level_may_hold_any_tensor() -> None:
    arch = load_arch(ROOT / "benchmarks" / "accelforge" / "arch_pe.yaml")
    hier = hierarchy_for(arch, "PEArray", GEMM.einsum("Z"))
    assert hier.levels[1].name == "GlobalBuffer" and hier.levels[1].may_keep is None
