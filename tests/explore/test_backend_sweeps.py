"""The FPGA and phone back-ends as registry mappers, and their bundled sweeps on reduced grids."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from einsim.designs import path as designs_path
from einsim.errors import EinsimError
from einsim.explore import evaluate, load_sweep, sweep
from einsim.explore.cli import main
from einsim.explore.report import axis_labels, line_figure, render, spec_lines
from einsim.mappers import registry
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.llmflash import Run, llm_in_a_flash
from einsim.mappers.phone.naive import llama_cpp
from einsim.mappers.phone.powerinfer2 import powerinfer2
from einsim.mappers.fpga import flightllm as fl

FPGA = "fpga_dsp_hbm_sparsity"
PHONE = "phone_budget_flash_policy"
MIXTRAL = "turbosparse_mixtral_47b"


def reduced(tmp_path: Path, name: str, values: dict[str, list]) -> Path:
    """The bundled sweep with some axes cut to ``values``, written where the test can run it."""
    data = yaml.safe_load(designs_path("sweeps", f"{name}.yaml").read_text())
    for axis, vals in values.items():
        data["axes"][axis]["values"] = vals
    out = tmp_path / f"{name}.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def by_axes(rows: list[dict], *names: str) -> dict[tuple, float]:
    return {tuple(r["axes"][n] if not isinstance(r["axes"][n], list) else len(r["axes"][n]) for n in names):
            r["latency_s"] for r in rows}


@pytest.mark.parametrize("name", [FPGA, PHONE])
def test_bundled_sweeps_load(name: str) -> None:
    spec = load_sweep(name)
    assert spec.base.phase == "decode" and spec.base.mapper in registry.names()
    if name == PHONE:
        assert set(spec.axes["policy"].values or []) <= set(registry.names())


def test_registry_lists_the_backend_mappers() -> None:
    assert {"flightllm", "llama.cpp", "llm-in-a-flash", "powerinfer2"} <= set(registry.names())


def test_flightllm_matches_the_reproduction() -> None:
    r = evaluate("vhk158", model="llama2_7b", phase="decode", seq_len=512, mapper="flightllm")
    assert r.latency_s == pytest.approx(fl.decode_step("VHK158", "llama2_7b", 512).latency_s, rel=1e-12)
    u280 = evaluate("u280", model="llama2_7b", phase="decode", seq_len=512, mapper="flightllm")
    ref = fl.decode_step("U280", "llama2_7b", 512)
    assert u280.latency_s == pytest.approx(ref.latency_s, rel=1e-12)
    assert u280.dram_bytes == pytest.approx(ref.hbm_bytes)
    assert u280.energy_J == pytest.approx(45 * ref.latency_s)  # U280 board power x time
    assert u280.utilization["HBM"] == pytest.approx(ref.hbm_utilization)
    off = evaluate("u280", model="llama2_7b", phase="decode", seq_len=512, mapper="flightllm",
                   mapper_options={"on_chip": False})
    assert off.latency_s == pytest.approx(fl.decode_step("U280", "llama2_7b", 512, False).latency_s, rel=1e-12)


def test_phone_mappers_match_the_policies() -> None:
    dev, fp, budget = load_device("oneplus12"), footprint(MIXTRAL), 11e9
    expected = {"powerinfer2": powerinfer2(dev, fp, budget),
                "llm-in-a-flash": llm_in_a_flash(dev, fp, "bundling", Run(weight_B=INT4_B), memory_B=budget),
                "llama.cpp": llama_cpp(dev, fp, budget)}
    for mapper, cost in expected.items():
        r = evaluate("oneplus12", model=MIXTRAL, phase="decode", seq_len=128, mapper=mapper,
                     mapper_options={"memory_GB": 11})
        assert r.latency_s == pytest.approx(cost.latency_s, rel=1e-12), mapper
        assert r.bytes_per_level == pytest.approx({"DRAM": cost.dram_B, "flash": cost.flash_B})
        assert sum(b["count"] for b in r.breakdown) == pytest.approx(r.latency_s)
        assert sum(b["energy_J"] for b in r.breakdown) == pytest.approx(r.energy_J) and r.energy_J > 0


def test_cli_eval_with_whole_model_mappers(capsys) -> None:
    assert main(["eval", "--arch", "designs/arch/oneplus12.yaml", "--model", MIXTRAL, "--phase", "decode",
                 "--seq", "128", "--mapper", "powerinfer2", "--mapper-option", "memory_GB=12", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"latency_s"' in out and '"breakdown"' in out


@pytest.mark.parametrize("mapper, options, message", [
    ("flightllm", {"sparsity": 496}, "quote it"),  # an unquoted 8:16 read by YAML
    ("flightllm", {"sparsity": "3:16"}, "sparsity_patterns"),
    ("flightllm", {"sparse": "8:16"}, "unknown option"),
    ("powerinfer2", {"memory_GB": 30}, "exceeds"),
    ("llm-in-a-flash", {"config": "window"}, "config must be"),
])
def test_bad_options_are_errors(mapper: str, options: dict, message: str) -> None:
    arch, model = ("u280", "llama2_7b") if mapper == "flightllm" else ("oneplus12", MIXTRAL)
    with pytest.raises(EinsimError, match=message):
        evaluate(arch, model=model, phase="decode", seq_len=128, mapper=mapper, mapper_options=options)


def test_whole_model_mapper_refuses_a_workload() -> None:
    with pytest.raises(EinsimError, match="whole model"):
        evaluate("u280", "gemm", mapper="flightllm")


def test_fpga_sweep_trends(tmp_path: Path) -> None:
    spec = reduced(tmp_path, FPGA, {"dsp_count": [768, 1536, 6144], "hbm_GBps": [230, 460, 1840],
                                    "sparsity": ["16:16", "4:16"]})
    res = sweep(spec, out=tmp_path / "run", jobs=1)
    assert len(res.rows("ok")) == 18
    lat = by_axes(res.rows("ok"), "dsp_count", "hbm_GBps", "sparsity")
    dsps, bws, sps = [768, 1536, 6144], [230, 460, 1840], ["16:16", "4:16"]
    for bw, sp in itertools.product(bws, sps):
        assert all(lat[a, bw, sp] >= lat[b, bw, sp] for a, b in zip(dsps, dsps[1:]))  # more DSPs: not slower
    for d, sp in itertools.product(dsps, sps):
        assert all(lat[d, a, sp] >= lat[d, b, sp] for a, b in zip(bws, bws[1:]))  # more HBM bandwidth: not slower
    assert all(lat[d, bw, "16:16"] > lat[d, bw, "4:16"] for d, bw in itertools.product(dsps, bws))
    # DSPs and bandwidth are complements: extra DSPs only pay once there is bandwidth to feed them
    assert lat[768, 230, "16:16"] == pytest.approx(lat[6144, 230, "16:16"])
    assert lat[6144, 1840, "16:16"] < 0.2 * lat[768, 1840, "16:16"]


def test_bundled_phone_sweep_covers_the_budget_curve() -> None:
    spec = load_sweep(PHONE)
    assert spec.axes["memory_GB"].values == list(range(7, 20))  # 7 ... 19 GB in 1 GB steps
    assert set(spec.axes["policy"].values or []) == {"powerinfer2", "llm-in-a-flash", "llama.cpp"}
    assert spec.axes["flash"].labels == ["UFS 4.0", "UFS 3.1"]
    (line,) = spec.report.lines
    assert (line.x, line.y, line.reciprocal) == ("memory_GB", "latency_s", True)


def test_phone_sweep_trends(tmp_path: Path) -> None:
    spec = reduced(tmp_path, PHONE, {"memory_GB": [7, 11, 19], "policy": ["powerinfer2", "llama.cpp"]})
    res = sweep(spec, out=tmp_path / "run", jobs=1)
    # the report's memory-budget curve: tokens/s = 1 / latency, a line per flash table and policy
    (line,) = spec_lines(res)
    fig = line_figure(res, line, axis_labels(res))
    curves = {tr.name: (list(tr.x), list(tr.y)) for tr in fig.data}
    assert set(curves) == {f"flash={f}, policy={p}" for f in ("UFS 4.0", "UFS 3.1") for p in ("powerinfer2", "llama.cpp")}
    lat_at = {(len(r["axes"]["flash"]), r["axes"]["policy"], r["axes"]["memory_GB"]): r["latency_s"] for r in res.rows("ok")}
    x, y = curves["flash=UFS 3.1, policy=powerinfer2"]
    assert x == [7, 11, 19] and y == [1 / lat_at[3, "powerinfer2", gb] for gb in x]
    assert fig.layout.yaxis.title.text == "decode tokens/s"
    assert 'id="chart-line-0"' in render(res)
    assert len(res.rows("ok")) == 12
    lat = by_axes(res.rows("ok"), "policy", "flash", "memory_GB")  # flash: 9 rows = UFS 4.0, 3 = UFS 3.1
    for policy, flash in itertools.product(["powerinfer2", "llama.cpp"], [9, 3]):
        tokens_per_s = [1 / lat[policy, flash, gb] for gb in (7, 11, 19)]
        assert tokens_per_s == sorted(tokens_per_s), (policy, flash)  # more DRAM: not slower
        assert lat[policy, 3, 19] > lat[policy, 9, 19]  # UFS 3.1 is slower than UFS 4.0
    assert 1 / lat["powerinfer2", 9, 19] > 3 / lat["powerinfer2", 9, 7]
    assert all(lat["powerinfer2", f, gb] < lat["llama.cpp", f, gb] for f in (9, 3) for gb in (7, 11, 19))
