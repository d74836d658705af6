"""Malformed sweep specs: each error names the file, line and column and says what is wrong."""

from __future__ import annotations

import re

import pytest

from einsim.errors import EinsimError
from einsim.explore import load_sweep

GOOD = """\
name: t
base:
  arch: fusemax
  workload: attention_1pass
  set: {rank.M: 1024, rank.P: 1024}
axes:
  side: {path: arch.Array2D.shape.0, values: [16, 32]}
derived:
  cols: {path: arch.Array2D.shape.1, expr: side}
"""

CASES = [
    # (replace this, with that, expected message fragment, expected line)
    ("name: t\n", "name: t\nbogus: 1\n", "unknown key 'bogus' (valid: axes, base, derived, description, name, report, strategy", 2),
    ("  workload: attention_1pass\n", "  workload: attention_1pass\n  mapr: ideal\n", "did you mean mapper", 5),
    ("  arch: fusemax\n", "  arch: fusemaxx\n", "no arch file or bundled design 'fusemaxx'", 3),
    ("  workload: attention_1pass\n", "  workload: attention_1pass\n  mapper: nope\n", "unknown mapper 'nope'", 5),
    ("arch.Array2D.shape.0", "arch.Array2D.shap.0", "unknown override path 'Array2D.shap.0'", 7),
    ("rank.M: 1024", "rank.Z: 1024", "unknown rank 'Z'", 5),
    ("{path: arch.Array2D.shape.0, values: [16, 32]}", "{path: arch.Array2D.shape.0, values: []}", "values: List should have at least 1 item", 7),
    ("{path: arch.Array2D.shape.0, values: [16, 32]}", "{path: arch.Array2D.shape.0, low: 16, high: 64}", "a grid needs values: or num:", 7),
    ("{path: arch.Array2D.shape.0, values: [16, 32]}", "{path: arch.Array2D.shape.0, low: 64, high: 16, num: 3}", "a range needs low <= high", 7),
    ("expr: side", "expr: side * rows", "unknown name 'rows'", 9),
    ("expr: side", "expr: side +* 2", "", 9),
    ("expr: side", "expr: __import__('os')", "", 9),
    ("{path: arch.Array2D.shape.1, expr: side}", "{path: arch.Array2D.shape.0, expr: side}", "derived cols and side both set arch.Array2D.shape.0", 9),
    ("  workload: attention_1pass\n", "  workload: attention_1pass\n  model: bert_base\n", "give either workload: or model:", 3),
    ("derived:", "strategy: {kind: annealing}\nderived:", "strategy", 8),
    ("derived:", "strategy: {kind: nsga2, objectives: [latency_s, speed]}\nderived:", "strategy.objectives.1", 8),
    ("derived:", "report: {pareto: [latency_s]}\nderived:", "report.pareto: List should have at least 2 items", 8),
    ("path: arch.Array2D.shape.0", "path: stuff.Array2D", "unknown path 'stuff.Array2D'", 7),
    ("axes:\n  side: {path: arch.Array2D.shape.0, values: [16, 32]}\n", "axes: [side]\n", "axes: Input should be a valid dictionary", 6),
    ("name: t\n", "name: t\n  bad: [\n", "YAML syntax error", 2),
    ("values: [16, 32]}", "values: [16, 32], labels: [small]}", "as many labels as values", 7),
    ("derived:", "report: {lines: [{x: sides, y: latency_s}]}\nderived:", "unknown axis 'sides'", 8),
    ("derived:", "report: {lines: [{x: side, y: speed}]}\nderived:", "report.lines.0.y", 8),
]


@pytest.mark.parametrize("old,new,fragment,line", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_malformed_spec_is_located(tmp_path, old, new, fragment, line) -> None:
    assert old in GOOD
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(EinsimError) as info:
        load_sweep(path)
    message = str(info.value)
    assert fragment in message
    m = re.match(rf"{re.escape(str(path))}:(\d+)(:\d+)?: ", message)
    assert m, f"not located: {message}"
    assert int(m.group(1)) == line, message


def test_good_spec_loads(tmp_path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    spec = load_sweep(path)
    assert list(spec.axes) == ["side"] and spec.strategy.kind == "grid"


def test_bundled_sweeps_load() -> None:
    for name in ("fusemax_pe_buffer", "mamba2_chunk_array"):
        assert load_sweep(name).name == name
    with pytest.raises(EinsimError, match="no sweep spec 'fusemax_pe'.*did you mean fusemax_pe_buffer"):
        load_sweep("fusemax_pe")


def test_labels_and_lines_are_display_only_so_the_digest_stays(tmp_path) -> None:
    plain, shown = tmp_path / "plain.yaml", tmp_path / "shown.yaml"
    plain.write_text(GOOD)
    shown.write_text(GOOD.replace("values: [16, 32]}", "values: [16, 32], labels: [small, big]}")
                     + "report: {lines: [{x: side, y: latency_s, reciprocal: true, label: per s}]}\n")
    spec = load_sweep(shown)
    assert spec.axes["side"].labels == ["small", "big"] and spec.report.lines[0].reciprocal
    assert spec.digest == load_sweep(plain).digest  # a run directory resumes after a label is added
