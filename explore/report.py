"""The HTML report of a sweep: one self-contained page (plotly.js inlined, no network).

For a sweep of model phases, a table first: tokens/s, J/token and the bound of every point
(``einsim.explore.per_token``). Charts: the spec's ``report.lines`` (a metric, or its reciprocal, against an axis, a line per
combination of the other axes), the Pareto scatter over two metrics (a third, if given, colours the points; hover shows
each point's axes), the per-component energy of the front's points, their compute-unit
utilization, and a parallel-coordinates view of the axes and metrics of every successful point.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from einsim.arch.units import reader_unit
from einsim.errors import EinsimError
from einsim.explore.design import METRIC_DISPLAY
from einsim.explore.pareto import front_mask
from einsim.explore.per_token import per_token_rows
from einsim.explore.results import Results, check_metrics
from einsim.yamlsrc import load_plain

SELECTED = 12  # front points shown in the breakdown and utilization charts


class Scale:
    """How one metric is shown over a set of rows: its label with the unit a reader expects, and
    the divisor from SI (area in mm², latency in µs/ms/s, energy in mJ, ...)."""

    def __init__(self, metric: str, rows: Sequence[dict[str, Any]]):
        name, dimension = METRIC_DISPLAY[metric]
        self.metric = metric
        self.unit, self.size = reader_unit([r[metric] for r in rows if r.get(metric) is not None], dimension)
        self.label = f"{name} ({self.unit})" if self.unit else name

    def __call__(self, row: dict[str, Any]) -> float:
        return row[self.metric] / self.size


def scales(metrics: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[Scale]:
    return [Scale(m, rows) for m in metrics]


def _label(row: dict[str, Any], axes: Sequence[str], names: AxisLabels | None = None) -> str:
    return ", ".join(f"{k}={_short(row['axes'][k], k, names)}" for k in axes if k in row["axes"])


AxisLabels = dict[str, list[tuple[Any, str]]]  # per axis with labels: (value, label) pairs


def _short(v: Any, axis: str | None = None, names: AxisLabels | None = None) -> str:
    for value, label in (names or {}).get(axis or "", ()):
        if value == v:
            return label
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def axis_labels(res: Results) -> AxisLabels:
    """The ``labels:`` the stored spec gives its axes' values (a value may be a whole table)."""
    axes = _spec_data(res).get("axes")
    out: AxisLabels = {}
    for name, axis in (axes.items() if isinstance(axes, dict) else ()):
        if isinstance(axis, dict) and isinstance(axis.get("labels"), list) and isinstance(axis.get("values"), list):
            out[name] = list(zip(axis["values"], map(str, axis["labels"])))
    return out


def line_figure(res: Results, line: dict[str, Any], names: AxisLabels) -> go.Figure:
    """One metric (or its reciprocal) against one axis, a line per combination of the other axes."""
    ok = res.rows("ok")
    x, metric, reciprocal = line["x"], line["y"], bool(line.get("reciprocal", False))
    others = [a for a in res.axis_names(derived=False) if a != x]
    if reciprocal:
        value, title = (lambda r: 1.0 / r[metric]), line.get("label") or f"1 / {metric}"
    else:
        sc = Scale(metric, ok)
        value, title = sc, line.get("label") or sc.label
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in ok:
        groups.setdefault(_label(r, others, names) or metric, []).append(r)
    fig = go.Figure()
    for name, rows in groups.items():
        rows = sorted(rows, key=lambda r: r["axes"][x])
        fig.add_trace(go.Scatter(x=[r["axes"][x] for r in rows], y=[value(r) for r in rows], mode="lines+markers",
                                 name=name, text=[_label(r, others, names) for r in rows], hoverinfo="x+y+text"))
    fig.update_layout(title=f"{title} vs {x}", xaxis={"title": x}, yaxis={"title": title}, height=480)
    return fig


def _hover(row: dict[str, Any], shown: Sequence[Scale]) -> str:
    lines = [f"{k} = {_short(v)}" for k, v in row["axes"].items()]
    lines += [f"{sc.label} = {sc(row):.4g}" for sc in shown]
    return "<br>".join(lines)


def staircase(rows: Sequence[dict[str, Any]], x: str, y: str) -> list[dict[str, Any]]:
    """The rows on the 2-D Pareto front of the pair (x, y), by increasing x: the points a staircase
    joins. With a third objective the full front has points that are dominated in this projection,
    so the staircase is drawn from the projection's own front, never through the 3-D front."""
    if not rows:
        return []
    mask = front_mask(np.array([[r[x], r[y]] for r in rows], dtype=float))
    return sorted((r for r, on in zip(rows, mask) if on), key=lambda r: (r[x], r[y]))


def pareto_figure(res: Results, metrics: Sequence[str]) -> go.Figure:
    ok = res.rows("ok")
    front = res.pareto(metrics)
    keys = {r["key"] for r in front}
    rest = [r for r in ok if r["key"] not in keys]
    shown = scales(metrics, ok)
    sx, sy = shown[0], shown[1]
    fig = go.Figure()
    front_name = "Pareto front" + (" (3 objectives)" if len(metrics) == 3 else "")
    for rows, name, style in ((rest, "dominated", {"color": "#b0b7c3", "size": 7}),
                              (front, front_name, {"color": "#d62728", "size": 10})):
        marker = dict(style)
        if len(metrics) == 3 and rows:
            marker.update(color=[shown[2](r) for r in rows], colorscale="Viridis", showscale=name == front_name,
                          colorbar={"title": shown[2].label}, line={"width": 1.5, "color": style["color"]})
        fig.add_trace(go.Scatter(x=[sx(r) for r in rows], y=[sy(r) for r in rows], mode="markers", name=name,
                                 marker=marker, text=[_hover(r, shown) for r in rows], hoverinfo="text"))
    stairs = staircase(ok, metrics[0], metrics[1])
    stairs_name = "front" if len(metrics) == 2 else f"2-D front of {sx.label.split(' (')[0]} and {sy.label.split(' (')[0]} only"
    fig.add_trace(go.Scatter(x=[sx(r) for r in stairs], y=[sy(r) for r in stairs], mode="lines", name=stairs_name,
                             line={"color": "#d62728", "dash": "dot", "shape": "hv"}, hoverinfo="skip",
                             showlegend=len(metrics) == 3))
    log = lambda m: "log" if all(r[m] > 0 for r in ok) and _spread(ok, m) > 100 else "linear"  # noqa: E731
    fig.update_layout(title=f"Pareto front: {sx.label} vs {sy.label}" + (f", colour {shown[2].label}" if len(metrics) == 3 else ""),
                      xaxis={"title": sx.label, "type": log(metrics[0]) if ok else "linear"},
                      yaxis={"title": sy.label, "type": log(metrics[1]) if ok else "linear"}, height=480,
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    return fig


def _spread(rows: list[dict[str, Any]], m: str) -> float:
    values = [r[m] for r in rows]
    return max(values) / min(values) if min(values) > 0 else 1.0


def breakdown_figure(selected: list[dict[str, Any]], axes: Sequence[str], names: AxisLabels | None = None) -> go.Figure:
    per_point = []
    for r in selected:
        comp: dict[str, float] = {}
        for b in r["result"]["breakdown"]:
            comp[b["component"]] = comp.get(b["component"], 0.0) + b["energy_J"]
        per_point.append(comp)
    components = sorted({c for p in per_point for c in p})
    labels = [_label(r, axes, names) for r in selected]
    unit, size = reader_unit([sum(p.values()) for p in per_point], "J")
    fig = go.Figure([go.Bar(name=c, x=labels, y=[p.get(c, 0.0) / size for p in per_point]) for c in components])
    fig.update_layout(barmode="stack", title="Energy per component (Pareto points)", yaxis={"title": f"energy ({unit})"},
                      height=420)
    return fig


def utilization_figure(selected: list[dict[str, Any]], axes: Sequence[str], names: AxisLabels | None = None) -> go.Figure:
    units = sorted({u for r in selected for u in r["result"]["utilization"]})
    labels = [_label(r, axes, names) for r in selected]
    fig = go.Figure([go.Bar(name=u, x=labels, y=[r["result"]["utilization"].get(u, 0.0) for r in selected]) for u in units])
    fig.update_layout(barmode="group", title="Compute-unit utilization (Pareto points)",
                      yaxis={"title": "busy fraction", "range": [0, 1.05]}, height=420)
    return fig


def parallel_figure(res: Results, metrics: Sequence[str]) -> go.Figure:
    ok = res.rows("ok")
    dims = []
    for name in res.axis_names(derived=False):
        values = [r["axes"].get(name) for r in ok]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            dims.append({"label": name, "values": values})
        else:
            cats = sorted({json.dumps(v) for v in values})
            dims.append({"label": name, "values": [cats.index(json.dumps(v)) for v in values],
                         "tickvals": list(range(len(cats))), "ticktext": [str(json.loads(c)) for c in cats]})
    for sc in scales(metrics, ok):
        values = [sc(r) for r in ok]
        use_log = all(v > 0 for v in values) and _spread(ok, sc.metric) > 100
        dims.append({"label": f"log10 {sc.label}" if use_log else sc.label,
                     "values": [math.log10(v) for v in values] if use_log else values})
    keys = {r["key"] for r in res.pareto(metrics)}
    fig = go.Figure(go.Parcoords(dimensions=dims, line={"color": [1 if r["key"] in keys else 0 for r in ok],
                                                         "colorscale": [[0, "#b0b7c3"], [1, "#d62728"]]}))
    fig.update_layout(title="Axes and metrics of every point (red: Pareto front)", height=460)
    return fig


def per_token_table(res: Results, names: AxisLabels | None = None) -> str:
    """The HTML table of :func:`per_token_rows` (empty when no point runs a model phase)."""
    rows = per_token_rows(res)
    if not rows:
        return ""
    axes = res.axis_names(derived=False)
    unit, size = reader_unit([r["J_per_token"] for r in rows if r["J_per_token"]] or [1.0], "J")
    head = "".join(f"<th>{html.escape(a)}</th>" for a in axes)
    body = []
    for r in rows:
        energy = f"{r['J_per_token'] / size:.4g}" if r["J_per_token"] else "- (no energy model)"
        where = (f"{r['bound']} {r['bound_fraction']:.0%}" if r["bound"] else r["bound_reason"] or "-")
        cells = [_short(r.get(a), a, names) for a in axes] + [f"{r['tokens_per_s']:.4g}", energy, where]
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return (f"<h2>Per token</h2><table><tr>{head}<th>tokens/s</th><th>J/token ({html.escape(unit)})</th>"
            f"<th>bound (busiest resource)</th></tr>{''.join(body)}</table>")


def render(res: Results, metrics: Sequence[str] = ("latency_s", "energy_J"), title: str | None = None) -> str:
    """The report page as one HTML string."""
    metrics = check_metrics(metrics)
    ok = res.rows("ok")
    failed = res.rows("error")
    selected = res.pareto(metrics)[:SELECTED]
    axes = res.axis_names(derived=False)
    charts = []
    if ok:
        names = axis_labels(res)
        figs = [(f"line-{i}", line_figure(res, line, names)) for i, line in enumerate(spec_lines(res))]
        figs += [("pareto", pareto_figure(res, metrics)), ("breakdown", breakdown_figure(selected, axes, names)),
                 ("utilization", utilization_figure(selected, axes, names)), ("parallel", parallel_figure(res, metrics))]
        charts = [fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
                              config={"displaylogo": False, "responsive": True}) for name, fig in figs]
    title = title or f"einsim sweep: {res.dir.name}"
    errors = "".join(f"<tr><td>{html.escape(_label(r, axes))}</td><td>{html.escape(r['error'] or '')}</td></tr>" for r in failed[:50])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:1200px}} .chart{{margin-bottom:1.5em}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}</style>
<script type="text/javascript">{get_plotlyjs()}</script></head>
<body><h1>{html.escape(title)}</h1>
<p>{len(res)} points: {len(ok)} ok, {len(failed)} failed. Pareto front over {", ".join(metrics)}:
{len(res.pareto(metrics)) if ok else 0} points. Results: <code>{html.escape(str(res.db))}</code></p>
{per_token_table(res, axis_labels(res)) if ok else ""}
{"".join(f'<div class="chart">{c}</div>' for c in charts) or "<p>No successful points to plot.</p>"}
{f"<h2>Failed points</h2><table><tr><th>point</th><th>error</th></tr>{errors}</table>" if failed else ""}
</body></html>
"""


def write_report(run_dir: str | Path, html_path: str | Path, metrics: Sequence[str] | None = None) -> Path:
    """Write the report of ``run_dir`` to ``html_path``; metrics default to the spec's report.pareto."""
    res = Results(run_dir)
    if metrics is None:
        metrics = spec_pareto(res)
    out = Path(html_path)
    page = render(res, metrics)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise EinsimError(f"--html {html_path}: cannot write the report ({exc.strerror or exc}); name a file in a folder you can write") from None
    return out


def front_rows(front: Sequence[dict[str, Any]], axes: Sequence[str], metrics: Sequence[str],
               names: AxisLabels | None = None) -> tuple[list[list[str]], list[str]]:
    """A text table of front points (rows, header): axis values (their spec labels where given),
    then each metric in one unit a reader expects for its column (``latency (ms)``, ``area (mm²)``)."""
    shown = scales(metrics, front)
    rows = [[_short(r["axes"].get(a), a, names) if names and a in names else str(r["axes"].get(a)) for a in axes]
            + [f"{sc(r):.4g}" for sc in shown] for r in front]
    return rows, list(axes) + [sc.label for sc in shown]


def _spec_data(res: Results) -> dict[str, Any]:
    data = load_plain(res.spec_text, "stored sweep spec") if res.spec_text else None
    return data if isinstance(data, dict) else {}


def _spec_report(res: Results) -> dict[str, Any]:
    report = _spec_data(res).get("report")
    return report if isinstance(report, dict) else {}


def spec_pareto(res: Results) -> list[str]:
    """The stored spec's ``report.pareto`` metrics (latency and energy if it has none)."""
    pareto = _spec_report(res).get("pareto")
    return list(pareto) if pareto else ["latency_s", "energy_J"]


def spec_lines(res: Results) -> list[dict[str, Any]]:
    """The stored spec's ``report.lines`` charts (validated when the sweep was loaded)."""
    return [line for line in _spec_report(res).get("lines", []) if isinstance(line, dict)]
