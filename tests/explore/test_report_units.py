"""Reports show quantities in the units a reader expects (mm², µs/ms, mJ, GB/s) through the one
display helper, and the Pareto staircase joins only points of the plotted pair's own front."""

from __future__ import annotations

import re

import pytest

from einsim.arch.units import format_quantity, format_reader, reader_unit
from einsim.explore.report import Scale, front_rows, pareto_figure, staircase
from einsim.explore.results import Results


@pytest.mark.parametrize("value, dim, text", [
    (6e-4, "m^2", "600 mm²"), (2.5e-7, "m^2", "0.25 mm²"), (3.598e-2, "s", "35.98 ms"), (1.2e-5, "s", "12 µs"),
    (2.0, "s", "2 s"), (4e11, "B/s", "400 GB/s"), (2.946e-2, "J", "29.46 mJ"), (3.6e-10, "J", "360 pJ"),
    (1.5e9, "B", "1.5 GB"), (0.0, "s", "0 s"), (0.25, "1", "0.25"),
])
def test_format_reader(value, dim, text) -> None:
    assert format_reader(value, dim) == text


def test_one_unit_per_column_from_its_median() -> None:
    assert reader_unit([2e-6, 3e-3, 4e-3], "s") == ("ms", 1e-3)
    assert reader_unit([1e-2, 5e-4], "m^2") == ("mm²", 1e-6)  # area is always mm², even 10000 mm²


def test_format_quantity_still_parses_back() -> None:  # the YAML-side helper is unchanged
    assert format_quantity(6e-4, "m^2") == "600 mm^2"


def _results(rows: list[dict]) -> Results:
    res = Results.__new__(Results)
    res._rows = [{"key": str(i), "status": "ok", "axes": {"p": i}, "idx": i, "generation": 0, **r} for i, r in enumerate(rows)]
    res.spec_text = ""
    return res


# a 3-objective front: (3, 3, 1) is on it (best area) but dominated by (1, 1, 9) in latency/energy
ROWS = [{"latency_s": 1e-3, "energy_J": 1e-3, "area_m2": 9e-6}, {"latency_s": 2e-3, "energy_J": 0.5e-3, "area_m2": 8e-6},
        {"latency_s": 3e-3, "energy_J": 3e-3, "area_m2": 1e-6}, {"latency_s": 4e-3, "energy_J": 4e-3, "area_m2": 5e-6}]


def test_staircase_uses_the_plotted_pairs_front() -> None:
    stairs = staircase(_results(ROWS).rows("ok"), "latency_s", "energy_J")
    assert [r["key"] for r in stairs] == ["0", "1"]


def test_three_objective_plot_draws_the_2d_staircase_and_says_so() -> None:
    res = _results(ROWS)
    assert {r["key"] for r in res.pareto(["latency_s", "energy_J", "area_m2"])} == {"0", "1", "2"}
    fig = pareto_figure(res, ["latency_s", "energy_J", "area_m2"])
    line = next(t for t in fig.data if t.mode == "lines")
    assert list(line.x) == pytest.approx([1.0, 2.0])  # in ms, through the two 2-D front points only
    assert line.showlegend and "2-D front of latency and energy only" in line.name
    assert fig.layout.xaxis.title.text == "latency (ms)" and fig.layout.yaxis.title.text == "energy (mJ)"
    front = next(t for t in fig.data if t.name == "Pareto front (3 objectives)")
    assert front.marker.colorbar.title.text == "area (mm²)" and max(front.marker.color) == pytest.approx(9.0)


def test_area_axis_and_table_in_mm2() -> None:
    res = _results([{"latency_s": 1e-3, "energy_J": 1e-3, "area_m2": 6e-4}, {"latency_s": 2e-3, "energy_J": 1e-3, "area_m2": 3e-4}])
    fig = pareto_figure(res, ["latency_s", "area_m2"])
    assert fig.layout.yaxis.title.text == "area (mm²)"
    assert sorted(next(t for t in fig.data if t.name == "Pareto front").y) == pytest.approx([300.0, 600.0])
    rows, header = front_rows(res.pareto(["latency_s", "area_m2"]), ["p"], ["latency_s", "area_m2"])
    assert header == ["p", "latency (ms)", "area (mm²)"] and rows[0] == ["0", "1", "600"]
    assert Scale("area_m2", res.rows())(res.rows()[0]) == pytest.approx(600.0)


@pytest.mark.parametrize("design", ["fusemax", "flat", "edge", "edge_systolic", "v100s"])
def test_arch_show_gives_every_area_in_mm2(design: str, capsys) -> None:
    # issue 16: areas in mm² everywhere (a MAC datapath was '1545 um^2' beside '0.023741 mm^2' for the
    # divider); an area per stored bit is a density and reads um^2/bit
    import re

    from einsim.explore.cli import main

    assert main(["arch", "show", design]) == 0
    shown = [line.split("   [")[0] for line in capsys.readouterr().out.splitlines()]  # the values, not sources
    units = {m.group(0) for line in shown for m in re.finditer(r"\b\w*m\^2(/bit)?", line)}
    assert units <= {"mm^2", "um^2/bit"} and "mm^2" in units


def test_progress_shows_points_per_minute() -> None:
    import io

    from einsim.explore.progress import Progress

    out = io.StringIO()
    bar = Progress(10, stream=out)
    bar.update(10)
    bar.close()
    assert re.search(r"10/10 points  [\d,]+ points/min", out.getvalue())
