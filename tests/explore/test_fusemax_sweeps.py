"""The bundled FuseMax area-latency sweep (the analogue of the paper's Fig. 12)."""

from __future__ import annotations

import yaml

from einsim.arch import load_arch
from einsim.designs import path as designs_path
from einsim.explore import load_sweep, sweep
from einsim.explore.points import initial_points
from einsim.mappers.spatial import STRATEGIES, evaluate_attention

NAME = "fusemax_area_latency"


def test_spec_covers_the_papers_array_range_at_256k() -> None:
    spec = load_sweep(NAME)
    assert spec.base.mapper == "fusemax"
    assert spec.base.set == {"rank.M": 262144, "rank.P": 262144}
    assert spec.axes["side"].values == [16, 32, 64, 128, 256, 512]
    assert list(spec.report.pareto) == ["latency_s", "area_m2"]
    assert len(initial_points(spec)) == 6


def test_buffer_holds_exactly_the_p1_1_working_set() -> None:
    """The derived capacity is the a.7 footprint at P1 = 1 with the staged tensors double-buffered,
    as the fused mapper computes it."""
    for point in initial_points(load_sweep(NAME)):
        side, buffer_B = point.axes["side"], point.axes["buffer_B"]
        arch = load_arch(designs_path("arch", "fusemax.yaml"),
                         overrides={"components.Array2D.shape": [side, side], "components.Array1D.shape": [side],
                                    "components.GlobalBuffer.capacity_B": buffer_B})
        # P = 2 P0 so that P1 = 2 would be a candidate if the buffer allowed it
        r = evaluate_attention(STRATEGIES["fusemax"], H=1, M=side, P=2 * side, E=point.axes["E"], F=point.axes["F"],
                               arch=arch)
        assert r.choice["P1"] == 1
        assert r.choice["footprint_words"] * 2 == buffer_B


def test_pareto_is_monotone_on_a_reduced_grid(tmp_path) -> None:
    text = yaml.safe_load(designs_path("sweeps", f"{NAME}.yaml").read_text())
    text["axes"]["side"]["values"] = [16, 64, 256, 512]
    reduced = tmp_path / f"{NAME}.yaml"
    reduced.write_text(yaml.safe_dump(text))
    res = sweep(reduced, out=tmp_path / "run")
    assert len(res.rows("ok")) == 4
    front = sorted(res.pareto(["latency_s", "area_m2"]), key=lambda r: r["axes"]["side"])
    assert [r["axes"]["side"] for r in front] == [16, 64, 256, 512]  # every size is Pareto-optimal
    for small, big in zip(front, front[1:]):
        assert big["latency_s"] < small["latency_s"]
        assert big["area_m2"] > small["area_m2"]
