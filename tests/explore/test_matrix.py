"""`einsim matrix`, the per-design default mapper it uses, and the cross-family decode sweep."""

from __future__ import annotations

import json
import re

import pytest

from einsim.arch import load_arch
from einsim.designs import names
from einsim.designs import path as bundled_path
from einsim.explore import load_sweep, sweep
from einsim.explore.cli import main
from einsim.explore.commands.matrix import matrix
from einsim.explore.design import default_mappers, evaluate
from einsim.mappers import registry

ROW_KEYS = {"model", "phase", "length", "design", "mapper", "latency_s", "tokens_per_s", "energy_J_per_token",
            "bound", "bound_fraction", "reason", "bug", "notes", "elapsed_s"}
NUMBERS = ("latency_s", "tokens_per_s")
# what a Python exception's text looks like when it leaks into a reason
EXCEPTION_TEXT = re.compile(r"Traceback|\b(Key|Value|Type|Attribute|Index|ZeroDivision|Assertion)Error\b|object has no attribute")
SUBSET_MODELS = ["llama2_7b", "mamba2_2p7b", "bert_base"]
SUBSET_DESIGNS = ["fusemax", "u280", "oneplus12", "m1max", "a100"]


def check_row(row: dict) -> None:
    """A cell is a number (positive latency, tokens/s = tokens / latency) or a one-line stated reason."""
    assert set(row) == ROW_KEYS
    if row["reason"] is None:
        assert row["mapper"] in registry.names()
        assert row["latency_s"] > 0
        tokens = row["length"] if row["phase"] == "prefill" else 1
        assert row["tokens_per_s"] == pytest.approx(tokens / row["latency_s"])
        assert row["bound"] is not None and 0 < row["bound_fraction"]
    else:
        assert all(row[k] is None for k in NUMBERS) and row["energy_J_per_token"] is None
        assert row["reason"].strip() and "\n" not in row["reason"]
        assert not EXCEPTION_TEXT.search(row["reason"]), row["reason"]
        assert not row["bug"]


@pytest.fixture(scope="module")
def subset() -> dict[tuple[str, str, str], dict]:
    rows = matrix(SUBSET_MODELS, SUBSET_DESIGNS)
    assert len(rows) == len(SUBSET_MODELS) * len(SUBSET_DESIGNS) * 2
    return {(r["model"], r["phase"], r["design"]): r for r in rows}


def test_subset_every_cell_is_a_number_or_a_stated_reason(subset) -> None:
    for row in subset.values():
        check_row(row)


def test_subset_decode_cells_that_must_have_numbers(subset) -> None:
    fusemax = subset[("llama2_7b", "decode", "fusemax")]
    assert fusemax["mapper"] == "ideal"
    # one decode step streams the 6.7 G weights: the DRAM is the bound, busy for the whole step
    assert fusemax["bound"] == "DRAM" and fusemax["bound_fraction"] > 0.95
    u280 = subset[("llama2_7b", "decode", "u280")]
    assert u280["mapper"] == "flightllm" and u280["energy_J_per_token"] > 0
    phone = subset[("llama2_7b", "decode", "oneplus12")]
    # PowerInfer-2 has no activation statistics of LLaMA-2 7B: it runs dense over the general lowering, and says so
    assert phone["mapper"] == "powerinfer2"
    assert phone["notes"] == []  # the design's first default ran: nothing refused
    assert evaluate("oneplus12", model="llama2_7b", phase="decode", seq_len=1024).notes[0].startswith(
        "powerinfer2: dense fallback, llama2_7b has no activation statistics")
    # a scan on the phone: Mamba-2's decode token reads its weights and its recurrent state from DRAM
    scan = subset[("mamba2_2p7b", "decode", "oneplus12")]
    assert scan["mapper"] == "powerinfer2" and scan["bound"] == "DRAM" and scan["energy_J_per_token"] > 0
    assert subset[("mamba2_2p7b", "decode", "fusemax")]["tokens_per_s"] > 0
    assert subset[("mamba2_2p7b", "decode", "u280")]["mapper"] == "flightllm"


def test_subset_refusals_give_the_physical_or_modelling_reason(subset) -> None:
    assert "encoder" in subset[("bert_base", "decode", "fusemax")]["reason"]
    assert "GPU" in subset[("llama2_7b", "decode", "a100")]["reason"]
    assert subset[("mamba2_2p7b", "prefill", "oneplus12")]["reason"] is None
    # without activation statistics LLM in a flash runs LLaMA-2 7B as its hybrid step (half the weights resident)
    m1 = subset[("llama2_7b", "decode", "m1max")]
    assert m1["mapper"] == "llm-in-a-flash" and m1["bound"] == "flash"


def test_matrix_json_rows_and_lengths(capsys) -> None:
    assert main(["matrix", "--models", "llama2_7b", "--designs", "fusemax,vhk158", "--phase", "decode",
                 "--decode-len", "2048", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lengths"] == {"prefill_tokens": 512, "decode_context": 2048, "batch": 1}
    assert [(r["design"], r["length"]) for r in out["rows"]] == [("fusemax", 2048), ("vhk158", 2048)]
    for row in out["rows"]:
        check_row(row)
    vhk = out["rows"][1]
    # the VHK158 design has no power_W: its energy is unknown, not zero
    assert vhk["energy_J_per_token"] is None and any("no energy" in n for n in vhk["notes"])


def test_matrix_text_and_markdown_state_the_lengths(capsys) -> None:
    assert main(["matrix", "--models", "llama2_7b,bert_base", "--designs", "fusemax,a100"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("prefill: 512 prompt tokens; decode: one token at a 1024-token KV cache; batch 1")
    assert "8 cells in" in text
    assert main(["matrix", "--models", "llama2_7b,bert_base", "--designs", "fusemax,a100", "--phase", "decode",
                 "--markdown"]) == 0
    md = capsys.readouterr().out.splitlines()
    assert md[0] == "decode tokens/s (decode: one token at a 1024-token KV cache; batch 1; each design's default mapper)"
    assert md[2] == "| model | fusemax | a100 |"
    assert re.fullmatch(r"\| llama2_7b \| [0-9.]+ \| \[1\] \|", md[4])
    assert md[5] == "| bert_base | [2] | [1] |"
    assert any(line.startswith("[1] no default mapper of A100") for line in md)


@pytest.mark.parametrize("args, message", [
    (["--models", "llama3"], "--models: 'llama3' is not a bundled models name"),
    (["--designs", "fusemax,h100"], "--designs: 'h100' is not a bundled arch name"),
    (["--decode-len", "0"], "--decode-len must be a positive number of tokens"),
    (["--phase", "prefill", "--markdown"], "--markdown shows the decode table"),
])
def test_matrix_bad_flags_exit_2_with_one_line(capsys, args, message) -> None:
    assert main(["matrix", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_full_matrix_every_cell_is_a_number_or_a_reason() -> None:
    """Takes about 100 s on one core (the Mamba-1 prefills on the FPGA designs are most of it)."""
    rows = matrix()
    assert len(rows) == len(names("models")) * len(names("arch")) * 2
    bugs = {(r["model"], r["design"]) for r in rows if r["bug"]}
    for row in rows:
        if not row["bug"]:
            check_row(row)
    assert not bugs


def test_moe_on_fpga_is_a_number_or_a_reason() -> None:
    (row,) = matrix(["mixtral_8x7b"], ["u280"], ("decode",))
    check_row(row)
    assert row["tokens_per_s"] > 0 and not row["bug"]


def test_every_bundled_design_names_registered_default_mappers_with_a_reason() -> None:
    for name in names("arch"):
        arch = load_arch(name)
        chosen = default_mappers(arch)
        assert chosen == (arch.default_mapper if arch.default_mapper is not None else [registry.DEFAULT])
        if arch.default_mapper is not None:
            assert arch.source_of("default_mapper") and arch.sources["default_mapper"]


def test_eval_without_mapper_runs_the_design_default(capsys) -> None:
    # before the per-design default, eval ran the registry's "ideal" here (no MPE op table for a model)
    assert main(["eval", "--arch", "u280", "--model", "mamba2_2p7b", "--phase", "decode", "--seq", "1024", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "mapper flightllm: the design's default" in out["notes"]
    named = evaluate("u280", model="mamba2_2p7b", phase="decode", seq_len=1024, mapper="flightllm")
    assert out["latency_s"] == pytest.approx(named.latency_s)
    # a workload skips the whole-model FlightLLM and takes the design's next default, the general lowering
    one = evaluate("u280", "gemm", M=256, N=256, K=256)
    assert one.latency_s == pytest.approx(evaluate("u280", "gemm", "fpga", M=256, N=256, K=256).latency_s)


@pytest.mark.parametrize("extra, message", [
    ("default_mapper: [flightllm]\n", "default_mapper needs its reason in sources.default_mapper"),
    ("default_mapper: [flightlm]\nsources: {default_mapper: a reason}\n", "default_mapper: unknown mapper 'flightlm'"),
])
def test_bad_default_mapper_is_one_located_line(tmp_path, capsys, extra, message) -> None:
    spec = tmp_path / "u280.yaml"
    original = bundled_path("arch", "u280.yaml").read_text()
    start = original.index("default_mapper:")
    end = original.index("components:")
    spec.write_text(original[:start] + extra + "\n" + original[end:])
    assert main(["eval", "--arch", str(spec), "--model", "llama2_7b", "--phase", "decode", "--seq", "64"]) == 2
    err = capsys.readouterr().err
    assert message in err and f"{spec}:" in err and err.count("\n") == 1


def test_cross_family_sweep_spec_names_the_six_designs() -> None:
    spec = load_sweep("cross_family_decode")
    assert spec.base.mapper is None and spec.base.phase == "decode" and spec.base.seq == 1024
    assert spec.axes["design"].values == ["fusemax", "u280", "vhk158", "vck190", "oneplus12", "m1max"]
    assert spec.axes["model"].values == ["llama2_7b", "mamba2_2p7b"]


def test_cross_family_sweep_reduced_grid_records_refusals(tmp_path) -> None:
    text = bundled_path("sweeps", "cross_family_decode.yaml").read_text()
    reduced = text.replace("values: [fusemax, u280, vhk158, vck190, oneplus12, m1max]", "values: [fusemax, oneplus12]")
    assert reduced != text
    path = tmp_path / "cross_family_decode.yaml"
    path.write_text(reduced)
    results = sweep(load_sweep(path), out=tmp_path / "out", jobs=1)
    rows = {(r["axes"]["design"], r["axes"]["model"]): r for r in results.rows()}
    assert len(rows) == 4
    assert rows[("fusemax", "llama2_7b")]["status"] == "ok"
    assert rows[("oneplus12", "llama2_7b")]["status"] == "ok"
    assert any(n.startswith("mapper powerinfer2: the design's default")
               for n in rows[("oneplus12", "llama2_7b")]["result"]["notes"])
    scan = rows[("oneplus12", "mamba2_2p7b")]
    assert scan["status"] == "ok" and any("dense fallback" in n for n in scan["result"]["notes"])


def test_cross_family_report_shows_tokens_energy_and_bound_per_design_and_model(tmp_path) -> None:
    from einsim.explore import per_token_rows, write_report

    text = bundled_path("sweeps", "cross_family_decode.yaml").read_text()
    reduced = text.replace("values: [fusemax, u280, vhk158, vck190, oneplus12, m1max]", "values: [fusemax, vhk158]")
    path = tmp_path / "cross_family_decode.yaml"
    path.write_text(reduced.replace("values: [llama2_7b, mamba2_2p7b]", "values: [mamba2_2p7b]"))
    results = sweep(load_sweep(path), out=tmp_path / "out", jobs=1)
    rows = {r["design"]: r for r in per_token_rows(results)}
    assert set(rows) == {"fusemax", "vhk158"}
    for design, r in rows.items():
        point = next(p for p in results.rows("ok") if p["axes"]["design"] == design)
        assert r["tokens_per_s"] == pytest.approx(1 / point["latency_s"])  # batch 1: one token per step
        assert r["bound"] and 0 < r["bound_fraction"] <= 1.0 + 1e-9
    assert rows["fusemax"]["J_per_token"] == pytest.approx(next(
        p["energy_J"] for p in results.rows("ok") if p["axes"]["design"] == "fusemax"))
    assert rows["vhk158"]["J_per_token"] is None  # no power model for the VHK158
    page = write_report(results.dir, tmp_path / "report.html").read_text()
    assert "<h2>Per token</h2>" in page and "<th>tokens/s</th>" in page and "<th>bound (busiest resource)</th>" in page
    assert f"<td>{rows['fusemax']['tokens_per_s']:.4g}</td>" in page and "- (no energy model)" in page
