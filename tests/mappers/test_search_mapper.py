"""The "search" mapper of evaluate and sweeps (einsim.mappers.search_mapper): the whole-cascade
search of `einsim map`, its Result timed by the tile schedules, with the mapping and the search's
statistics."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from einsim.arch import load_arch
from einsim.arch.load import bundled_dir
from einsim.einsum import load_workload
from einsim.errors import EinsimError
from einsim.explore import evaluate
from einsim.mappers.fused import map_cascade
from einsim.mappers.fused.evaluate import cascade_result

FUSED = Path(__file__).parent / "fused"
TINY, CHAIN = str(FUSED / "tiny_arch.yaml"), str(FUSED / "chain2.yaml")


def _times_add_up(result) -> None:
    """Every unit's busy, stall and idle seconds make up the latency."""
    for unit, t in result.unit_timing().items():
        assert t["busy_s"] + t["stall_s"] + t["idle_s"] == pytest.approx(result.latency_s, rel=1e-9), unit
        assert t["compute_s"] + t["memory_s"] == pytest.approx(t["busy_s"], rel=1e-12)


@pytest.mark.parametrize("objective", ["energy", "edp"])
def test_search_fuses_a_two_einsum_chain_below_the_per_einsum_sum_and_reports_it(objective: str) -> None:
    arch, cascade = load_arch(TINY), load_workload(CHAIN)
    r = evaluate(TINY, CHAIN, "search", mapper_options={"objective": objective})
    unfused = map_cascade(cascade, arch, objective, fuse=False)  # each Einsum alone, intermediates in DRAM
    alone = cascade_result(unfused.best, cascade, arch)
    assert r.dram_bytes < alone.dram_bytes and r.energy_J < alone.energy_J
    out = r.to_dict()
    assert out["mapping"]["fusion"] == [{"einsums": ["H", "Y"], "homes": {"H": "GlobalBuffer"}}]
    fused = map_cascade(cascade, arch, objective, budget=2000)
    assert (out["optimal"], out["mapspace_size"], out["evaluated"]) == (True, fused.mapspace_size, fused.evaluated)
    assert (r.latency_s, r.energy_J) == (fused.latency_s, fused.energy_J)
    assert out["searches"][0]["found_by"] == "per-Einsum join" and out["searches"][0]["objective"] == objective
    _times_add_up(r)


def test_a_unit_that_runs_only_a_relu_is_mostly_not_running(tmp_path: Path) -> None:
    # a GEMM on the 2D array, then a ReLU on the 1D array: the 1D array idles while the GEMM runs
    path = tmp_path / "gemm_relu.yaml"
    path.write_text("name: gemm_relu\nranks: {M: 256, N: 256, K: 256}\n"
                    "tensors: {A: [M, K], B: [K, N], Z: [M, N], R: [M, N]}\n"
                    "einsums: |\n  Z[m, n] = A[m, k] * B[k, n]\n  R[m, n] = max(Z[m, n], 0)\n")
    r = evaluate("flat", str(path), "search", mapper_options={"budget": 60})
    relu = r.unit_timing()["Array1D"]
    # it waits for the GEMM (stalled, in a fused group) or sits out its schedule (idle)
    assert relu["busy_s"] < 0.2 * r.latency_s and relu["stall_s"] + relu["idle_s"] > 0.8 * r.latency_s
    arch = load_arch(bundled_dir() / "flat.yaml")
    for unit in ("Array2D", "Array1D"):  # busy PE-seconds over every PE for the whole run
        assert r.utilization[unit] == pytest.approx(r.busy_s[unit] / (arch.component(unit).pe_count * r.latency_s))
    assert r.utilization["Array1D"] < 0.2  # was 0.89: counted only while the ReLU ran
    assert r.unit_timing()["Array2D"]["busy_s"] > 0.8 * r.latency_s  # the GEMM's unit sets the time
    _times_add_up(r)


def test_an_iterative_cascade_is_mapped_and_timed() -> None:
    # attention_decode's SPD reads RD's state of the previous step: a loop-carried read, no
    # dependency across the schedules (it was "SPD reads what RD writes outside the group")
    r = evaluate("fusemax", "attention_decode", "search", mapper_options={"budget": 200}, H=2, M=512, E=16, F=16)
    out = r.to_dict()
    assert r.latency_s > 0 and out["searches"][0]["found_by"] == "per-Einsum join"
    assert len(out["mapping"]["einsums"]) == len(load_workload("attention_decode").einsums)
    _times_add_up(r)


def test_attention_on_fusemax_is_the_family_point_einsim_map_finds() -> None:
    sizes = {"H": 2, "M": 1024, "P": 1024}
    r = evaluate("fusemax", "attention_1pass", "search", **sizes)
    out = r.to_dict()
    assert out["searches"][0]["found_by"] == "constraint-file family" and out["optimal"] is True
    hand = evaluate("fusemax", "attention_1pass", "fusemax", **sizes)
    assert r.latency_s <= hand.latency_s
    assert out["mapping"]["fusion"][0]["einsums"][0] == "BQK"  # the cascade fused in one group
    assert set(out["units"]) == {"Array2D", "Array1D"}
    _times_add_up(r)


def test_the_found_family_point_evaluates_to_the_same_result(tmp_path: Path) -> None:
    sizes = {"H": 2, "M": 1024, "P": 1024}
    r = evaluate("fusemax", "attention_1pass", "search", **sizes)
    path = tmp_path / "found.yaml"
    path.write_text(yaml.safe_dump(r.to_dict()["mapping"], sort_keys=False))
    again = evaluate("fusemax", "attention_1pass", "constraints", mapper_options={"file": str(path)}, **sizes)
    assert (again.latency_s, again.energy_J) == (r.latency_s, r.energy_J)


def test_the_answer_is_the_same_for_one_or_two_workers() -> None:
    runs = [evaluate("edge", "gemm", "search", mapper_options={"budget": 50, "method": "hill", "workers": w},
                     M=64, N=64, K=64).to_dict() for w in (1, 2)]
    for run in runs:
        for found in run["searches"]:
            found.pop("seconds")
    assert runs[0] == runs[1]


def test_a_model_searches_each_layer_shape_once_and_reports_honestly() -> None:
    r = evaluate("fusemax", model="bert_base", seq_len=64, mapper="search", mapper_options={"budget": 50})
    out = r.to_dict()
    # q, k, v and o share one GEMM shape: three cascades searched, not six ops
    assert [s["cascade"] for s in out["searches"]] == ["gemm", "attention_1pass", "ffn"]
    assert out["optimal"] is False  # a budget of 50 climbs the large spaces
    assert out["evaluated"] == sum(s["evaluated"] for s in out["searches"])
    layer = evaluate("fusemax", "gemm", "search", mapper_options={"budget": 50}, M=64, K=768, N=768)
    assert r.unit_timing()["Array2D"]["busy_s"] >= 12 * 4 * layer.unit_timing()["Array2D"]["busy_s"] * (1 - 1e-12)
    _times_add_up(r)


@pytest.mark.parametrize("options, named", [
    ({"objective": "speed"}, "option objective must be one of latency, energy, edp, got 'speed'"),
    ({"method": "random"}, "option method must be one of auto, exhaustive, hill, got 'random'"),
    ({"workers": 0}, "options budget and workers must be at least 1"),
    ({"budget": "abc"}, "option budget must be a whole number, got 'abc'"),
])
def test_bad_options_are_one_error(options: dict, named: str) -> None:
    with pytest.raises(EinsimError, match=named):
        evaluate(TINY, CHAIN, "search", mapper_options=options)
