"""`einsim eval`: a given mapping on a bundled design, and a Timeloop set evaluated directly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from einsim.explore.cli import main
from einsim.explore.design import evaluate
from einsim.sim.result import par, seq

MAPPING = """\
einsum: Z
unit: Array2D
levels:
  - {target: DRAM, temporal: {m: 2, n: 2}, order: [m, n]}
  - {target: GlobalBuffer, temporal: {k: 64}, spatial: {m: 32, n: 32}}
  - {target: RF2D}
"""
SIZES = ["--set", "M=64", "--set", "N=64", "--set", "K=64"]
TIMELOOP_CONV1D = (Path(__file__).resolve().parents[1] / "golden" / "timeloop"
                   / "tutorial_exercises/01_accelergy_timeloop_2020_ispass/timeloop/01-model-conv1d-2level")


def run_json(capsys, *args: str) -> dict:
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_gemm_on_edge(capsys, tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING)
    out = run_json(capsys, "--arch", "designs/arch/edge.yaml", "--workload", "gemm", "--mapping", str(path), *SIZES)
    # 64^3 MACs on 1024 PEs is 256 cycles of compute. DRAM loops m (outer), n (inner): A does not
    # depend on n, so it is read once (4096 words); B is read once per m step (2 x 4096); Z is
    # written once (4096). Words are 2 B.
    assert out["dram_bytes"] == (4096 + 2 * 4096 + 4096) * 2
    assert out["cycles"] >= 256
    assert 0 < out["utilization"]["Array2D"] <= 1
    assert out["utilization"]["Array2D"] == pytest.approx(256 / out["cycles"])
    assert sum(b["energy_J"] for b in out["breakdown"]) == pytest.approx(out["energy_J"], rel=1e-12)
    compute = next(b for b in out["breakdown"] if b["action"] == "compute")
    assert compute["count"] == 64**3


def test_eval_rejects_a_mapping_that_does_not_multiply_out(capsys, tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING)
    assert main(["eval", "--arch", "designs/arch/edge.yaml", "--workload", "gemm", "--mapping", str(path)]) == 2
    assert "factors of index m multiply to 64, but its size is 4096" in capsys.readouterr().err


def test_eval_timeloop_set(capsys) -> None:
    out = run_json(capsys, "--timeloop", str(TIMELOOP_CONV1D), "--timeloop-set", "ref-output/os")
    assert out["cycles"] == 48
    assert out["energy_J"] == pytest.approx(360.0e-12, rel=0.01)  # Timeloop: 7500.08 fJ/MAC x 48 MACs


def test_schedule_operators_compose() -> None:
    from einsim.sim.result import Result

    a = Result("a", 2.0, 1.0, 20, {"DRAM": 10.0}, {"U": 1.0}, {"U": 2.0}, [{"component": "U", "action": "compute", "count": 5, "energy_J": 1.0}])
    b = Result("b", 3.0, 2.0, 30, {"DRAM": 5.0}, {"V": 3.0}, {"V": 3.0}, [{"component": "U", "action": "compute", "count": 1, "energy_J": 2.0}])
    s = seq(a, b)
    assert (s.latency_s, s.energy_J, s.cycles, s.bytes_per_level["DRAM"]) == (5.0, 3.0, 50, 15.0)
    assert s.breakdown == [{"component": "U", "action": "compute", "count": 6, "energy_J": 3.0}]
    p = par(a, b)
    assert (p.latency_s, p.energy_J) == (3.0, 3.0)
    assert p.utilization["U"] == pytest.approx(1.0 / 3.0)  # busy 1 s of 3 s


def test_search_mapper_reports_each_einsum() -> None:
    seen: list[str] = []
    result = evaluate("edge", "gemm", "search", mapper_options={"budget": 50}, progress=seen.append,
                      M=64, N=64, K=64)
    assert seen[:2] == ["search: gemm", "search: gemm Z on Array2D (1/1)"]
    assert "search: gemm Z on Array1D (1/1)" in seen  # every able unit
    assert all(s.startswith("search: gemm Z on ") for s in seen[1:])
    assert result.latency_s > 0


def test_mapper_without_progress_is_not_given_one() -> None:
    seen: list[str] = []
    evaluate("edge", "gemm", "ideal", progress=seen.append, M=64, N=64, K=64)
    assert seen == []


@pytest.mark.parametrize("flags, named", [
    (["--seq", "512"], "--seq applies to --model"),
    (["--phase", "decode"], "--phase applies to --model"),
    (["--phase", "prefill", "--seq", "512"], "--phase and --seq apply to --model"),
])
def test_phase_and_seq_with_a_workload_are_refused(capsys, flags: list[str], named: str) -> None:
    assert main(["eval", "--arch", "edge", "--workload", "gemm", *SIZES, *flags]) == 2
    err = capsys.readouterr().err
    assert named in err and err.count("\n") == 1


@pytest.mark.parametrize("simulate", [False, True])
def test_eval_refuses_a_mapping_file_that_is_not_utf8(tmp_path, capsys, simulate: bool) -> None:
    bad = tmp_path / "mapping.yaml"
    bad.write_bytes(b"\xff\xfeeinsum: Z\n")
    argv = ["eval", "--arch", "fusemax", "--workload", "gemm", "--mapping", str(bad)] + (["--simulate"] if simulate else [])
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and f"{bad}:1:1: not UTF-8" in err


def test_eval_refuses_a_search_budget_that_is_not_a_whole_number(capsys) -> None:
    argv = ["eval", "--arch", "fusemax", "--workload", "gemm", "--mapper", "search", "--mapper-option", "budget=abc"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "option budget must be a whole number, got 'abc'" in err


@pytest.mark.parametrize("phase, seq, tokens", [("decode", "1024", 1), ("prefill", "512", 512)])
def test_eval_of_a_model_prints_tokens_per_s_energy_per_token_and_the_bound(capsys, phase, seq, tokens) -> None:
    assert main(["eval", "--arch", "oneplus12", "--model", "mamba2_2p7b", "--phase", phase, "--seq", seq]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    result = evaluate("oneplus12", model="mamba2_2p7b", phase=phase, seq_len=int(seq))
    assert last.startswith(f"tokens/s {tokens / result.latency_s:.4g}, J/token ")
    assert last.endswith("bound DRAM 100%" if phase == "decode" else "bound NPU 87%")
