"""Every bundled spatial design runs every op the bundled workloads and models use, out of the box.

A design's PE arrays define each op or compose it from their sourced primitives (the composition
is shown by ``einsim arch show``); designs without op tables (GPU, CPU, NPU, FPGA DSP engines)
are lowered by their family's mapper and are not enumerated here.
"""

from __future__ import annotations

import inspect
import re
import shlex

import pytest

from einsim.arch import load_arch
from einsim.arch.architecture import resolve_op
from einsim.designs import names
from einsim.einsum import expand, load_workload
from einsim.einsum.analysis import ops_per_point
from einsim.explore.cli import build_parser, main
from einsim.explore.commands.arch import render
from einsim.arch import describe
from einsim.explore.design import evaluate

SPATIAL = [a for a in names("arch") if any(u.kind == "pe_array" for u in load_arch(a).compute_units())]


def _workloads_used() -> list[str]:
    used = set(names("workloads"))
    for model in names("models"):
        plan = expand(model, "prefill", seq_len=512)
        used |= {op.workload for layer in plan.layer_types for op in layer.ops} | {op.workload for op in plan.head}
    return sorted(used)


# (workload, Einsum name, the ops of one point) for every Einsum of every bundled workload
EINSUM_OPS = [(w, e.name, frozenset(ops_per_point(e))) for w in _workloads_used() for e in load_workload(w)]


def test_the_spatial_designs_are_the_bundled_arrays() -> None:
    assert SPATIAL == ["edge", "edge_systolic", "flat", "fusemax", "unfused"]


@pytest.mark.parametrize("design", SPATIAL)
def test_every_einsum_has_a_unit_with_all_its_ops(design: str) -> None:
    units = load_arch(design).compute_units()
    missing = [(w, e, sorted(ops)) for w, e, ops in EINSUM_OPS if not any(ops <= set(u.ops) for u in units)]
    assert missing == []


@pytest.mark.parametrize("design", SPATIAL)
def test_every_used_op_is_defined_with_a_source(design: str) -> None:
    used = set().union(*(ops for _, _, ops in EINSUM_OPS))
    assert {"gelu", "silu", "softplus", "exp", "max", "divide"} <= used
    for op in used:
        specs = [u.ops[op] for u in load_arch(design).compute_units() if op in u.ops]
        assert specs and all(s.source for s in specs), op


def test_compositions_add_up_their_sourced_primitives_and_are_shown() -> None:
    arch = load_arch("fusemax")
    unit = arch.compute_unit("Array1D")
    mac, add, mul, div = (resolve_op(unit, op) for op in ("mac", "add", "mul", "divide"))
    exp = resolve_op(unit, "exp")
    assert (exp.cycles, exp.energy_J) == pytest.approx((6 * mac.cycles + add.cycles, 6 * mac.energy_J + add.energy_J))
    gelu = resolve_op(unit, "gelu")
    assert gelu.energy_J == pytest.approx(2 * mul.energy_J + mac.energy_J + exp.energy_J + add.energy_J + div.energy_J)
    assert gelu.cycles == 2 + 1 + 7 + 1 + 1
    log = resolve_op(unit, "log")
    assert resolve_op(unit, "softplus").cycles == exp.cycles + add.cycles + log.cycles == 7 + 1 + 9
    assert resolve_op(unit, "silu").cycles == 7 + 1 + 1
    text = render(describe(arch))
    assert "op gelu = 2 mul + 1 mac + 1 exp + 1 add + 1 divide: 12 cycles" in text
    assert "op softplus = 1 exp + 1 add + 1 log: 17 cycles" in text


@pytest.mark.parametrize("design", SPATIAL)
@pytest.mark.parametrize("model", names("models"))
def test_every_model_prefill_runs_on_every_spatial_design(design: str, model: str) -> None:
    result = evaluate(design, model=model, phase="prefill", seq_len=512)
    assert result.latency_s > 0 and result.energy_J > 0


def _help_examples() -> list[list[str]]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    epilog = sub.choices["eval"].epilog
    return [shlex.split(line.strip().removeprefix("examples:").strip())[1:] for line in epilog.splitlines()]


def test_the_model_example_of_eval_help_runs(capsys) -> None:
    example = next(argv for argv in _help_examples() if "--model" in argv)
    assert main(example + ["--json"]) == 0
    assert '"latency_s"' in capsys.readouterr().out


def test_the_evaluate_docstring_examples_run() -> None:
    calls = re.findall(r"^\s*(evaluate\(.*\))\s*$", inspect.getdoc(evaluate), re.M)
    assert any("model=" in c for c in calls)
    for call in calls:
        result = eval(call, {"evaluate": evaluate})
        assert result.latency_s > 0
