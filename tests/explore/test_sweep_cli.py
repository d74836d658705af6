"""`einsim sweep`, `einsim report` and `einsim eval --mapper/--model`: help, JSON, exports, one-line errors."""

from __future__ import annotations

import json

import pytest

from einsim.explore import Results, evaluate
from einsim.explore.cli import main


@pytest.mark.parametrize("command", ["sweep", "report", "eval"])
def test_help_has_an_example(capsys, command) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "example" in capsys.readouterr().out


def test_sweep_json_exports_and_report(capsys, small_spec, tmp_path) -> None:
    out = tmp_path / "run"
    assert main(["sweep", str(small_spec), "--out", str(out), "-j", "1", "--json", "--quiet", "--csv", str(tmp_path / "p.csv"),
                 "--parquet", str(tmp_path / "p.parquet"), "--html", str(tmp_path / "r.html")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["points"] == 12 and data["failed"] == 6 and data["pareto_metrics"] == ["latency_s", "area_m2"]
    assert data["pareto"] and all({"side", "buffer_MiB", "tokens"} <= set(p["axes"]) for p in data["pareto"])
    pd = pytest.importorskip("pandas")
    frame = pd.read_parquet(tmp_path / "p.parquet")
    csv = pd.read_csv(tmp_path / "p.csv")
    assert len(frame) == len(csv) == 12
    assert {"key", "status", "error", "side", "buffer_MiB", "tokens", "latency_s", "energy_J", "area_m2", "edp_Js"} <= set(frame.columns)
    assert (tmp_path / "r.html").stat().st_size > 1_000_000  # plotly.js is inlined

    assert main(["report", str(out), "--pareto", "latency_s,energy_J,area_m2", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["points"] == 12 and rep["pareto_metrics"] == ["latency_s", "energy_J", "area_m2"]
    assert main(["report", str(out)]) == 0
    assert "Pareto front over latency_s, area_m2" in capsys.readouterr().out

    df = Results(out).dataframe()
    assert df.equals(Results(out / "results.sqlite").dataframe())


@pytest.mark.parametrize("args,message", [
    (["sweep", "nope.yaml"], "no such file: nope.yaml"),
    (["sweep", "fusemax_pe_buffr"], "no sweep spec 'fusemax_pe_buffr'"),
    (["report", "/nonexistent/dir"], "no sweep results here"),
    (["eval", "--arch", "fusemax", "--workload", "attention_1pass", "--mapper", "fast"], "unknown mapper 'fast'"),
    (["eval", "--arch", "fusemax", "--model", "bert_base"], "--model needs --seq N"),
    (["eval", "--arch", "fusemax", "--workload", "attention_1pass", "--set", "GlobalBufer.capacity_B=1"], "unknown override path"),
])
def test_one_line_errors(capsys, args, message) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_report_rejects_an_unknown_metric(capsys, small_spec, tmp_path) -> None:
    assert main(["sweep", str(small_spec), "--out", str(tmp_path / "run"), "-j", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--pareto", "latency_s,speed"]) == 2
    assert "unknown metric 'speed'" in capsys.readouterr().err


def test_eval_with_a_mapper_and_a_model(capsys) -> None:
    assert main(["eval", "--arch", "fusemax", "--workload", "attention_1pass", "--set", "M=4096", "--set", "P=4096",
                 "--set", "GlobalBuffer.capacity_B=8MiB", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert {"latency_s", "energy_J", "dram_bytes", "utilization", "breakdown"} <= set(one)
    direct = evaluate("fusemax", "attention_1pass", M=4096, P=4096)
    assert one["latency_s"] == pytest.approx(direct.latency_s)
    # the roofline bound: 2 H E M P MACs (QK and AV) dominate on the 2D array
    assert direct.latency_s >= 2 * 768 * 64 * 4096 * 4096 / (256 * 256 * 940e6)


def test_a_model_is_layers_times_one_layer() -> None:
    spec = dict(model="mamba2_370m", phase="prefill", seq_len=2048,
                **{"arch.Array1D.ops.softplus": {"compose": {"mac": 12, "add": 1}, "source": "estimate: test"}})
    whole = evaluate("fusemax", **spec)
    from einsim.einsum import expand

    plan = expand("mamba2_370m", "prefill", seq_len=2048)
    per_layer = sum(evaluate("fusemax", op.workload, **{**op.bindings, "arch.Array1D.ops.softplus": spec["arch.Array1D.ops.softplus"]}).latency_s * op.count
                    for op in plan.layer_types[0].ops)
    head = sum(evaluate("fusemax", op.workload, **op.bindings).latency_s for op in plan.head)
    assert whole.latency_s == pytest.approx(plan.layer_types[0].layers * per_layer + head)
