"""`einsim reproduce powerinfer2|llm-in-a-flash|llmcad --json`: keys and the asserted targets."""

from __future__ import annotations

import json

import pytest

from einsim.explore.cli import main
from einsim.mappers.phone.reproduce import PAPER


def _run(capsys, name: str) -> list[dict]:
    assert main(["reproduce", name, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_powerinfer2(capsys):
    rows = _run(capsys, "powerinfer2")
    for key in ("model", "device", "policy", "memory_GB", "tokens_per_s", "io_s", "compute_s"):
        assert all(key in r for r in rows)
    assert {r["policy"] for r in rows} == {"powerinfer2", "llm-in-a-flash", "llama.cpp"}
    mem = {(r["policy"], r["memory_GB"]): r for r in rows if r["case"] == "memory"}
    # the paper's 11.68 at 19 GB is a strict xfail in tests/mappers/phone (docs/phone.md, Gaps): pin the model
    assert mem[("powerinfer2", 19)]["tokens_per_s"] == pytest.approx(8.54, rel=0.02)
    assert mem[("powerinfer2", 7)]["tokens_per_s"] == pytest.approx(PAPER["powerinfer2_7GB"], rel=0.2)
    steps = [r["step"] for r in rows if r["case"] == "ablation"]
    assert steps == ["baseline", "+bundle", "+neuron cache", "+pipeline", "+xpu"]
    assert {r["model"] for r in rows if r["case"] == "offload50"} == {"bamboo_7b", "llama2_13b", "qwen2_7b"}


def test_llm_in_a_flash(capsys):
    rows = _run(capsys, "llm-in-a-flash")
    opt = [r for r in rows if r["model"] == "opt_6p7b" and "cpu" in r["device"]]
    assert [r["config"] for r in opt] == ["naive", "hybrid", "predictor", "windowing", "bundling"]
    for r in opt:
        assert r["io_ms"] == pytest.approx(PAPER["llmflash_io_ms"][r["config"]], rel=0.15)
        assert r["total_ms"] == pytest.approx(r["io_ms"] + r["mem_ms"] + r["compute_ms"])
    assert {r["device"] for r in rows} == {"m1max-cpu", "m1max-gpu"}
    assert "falcon_7b" in {r["model"] for r in rows}


def test_llmcad(capsys):
    (row,) = _run(capsys, "llmcad")
    lo, hi = PAPER["llmcad_speedup_phone"]
    assert lo <= row["speedup"] <= hi
