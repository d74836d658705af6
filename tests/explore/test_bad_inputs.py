"""Bad sweep specs and CLI flags, table-driven: each exits 2 with ONE line on stderr that names the
flag or the file, and prints no number on stdout (a bad input never yields a result)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from einsim.explore.cli import main

GOOD = """\
name: probe
base: {arch: fusemax, workload: attention_1pass, set: {rank.H: 12, rank.P: 1024}}
axes:
  tokens: {path: rank.M, values: [1024, 4096]}
"""


def spec(**replace: str) -> str:
    """GOOD with whole lines replaced: ``base=...``, ``axes=...`` (the axes block) or ``extra=...``."""
    text = GOOD
    if "base" in replace:
        text = re.sub(r"^base: .*$", "base: " + replace["base"], text, flags=re.M)
    if "axes" in replace:
        text = text.split("axes:")[0] + "axes:\n" + replace["axes"] + "\n"
    return text + replace.get("extra", "")


# (case id, sweep spec text or None, argv with {spec} {tmp}, fragments stderr must contain)
CASES = [
    # --- where the spec's files are
    ("arch-not-an-architecture", spec(base="{arch: notarch.yaml, workload: attention_1pass}"), ["sweep", "{spec}"], ["notarch.yaml"]),
    ("arch-dotdot-outside", spec(base="{arch: ../outside/arch.yaml, workload: attention_1pass}"), ["sweep", "{spec}"], ["sweep.yaml", "outside the spec's folder"]),
    ("arch-absolute-outside", spec(base="{arch: /etc/hostname, workload: attention_1pass}"), ["sweep", "{spec}"], ["sweep.yaml", "outside the spec's folder"]),
    ("arch-missing-file", spec(base="{arch: nope.yaml, workload: attention_1pass}"), ["sweep", "{spec}"], ["sweep.yaml", "nope.yaml"]),
    ("arch-not-a-string", spec(base="{arch: 42, workload: attention_1pass}"), ["sweep", "{spec}"], ["sweep.yaml", "base.arch"]),
    ("arch-axis-outside", spec(axes="  a: {path: arch, values: [fusemax, ../outside/arch.yaml]}"), ["sweep", "{spec}"], ["sweep.yaml", "axes.a.values.1", "outside the spec's folder"]),
    ("arch-axis-not-a-name", spec(axes="  a: {path: arch, values: [fusemax, 3]}"), ["sweep", "{spec}"], ["sweep.yaml", "axes.a.values.1"]),
    ("workload-missing", spec(base="{arch: fusemax, workload: nope_wl}"), ["sweep", "{spec}"], ["sweep.yaml", "nope_wl"]),
    ("workload-dotdot-outside", spec(base="{arch: fusemax, workload: ../outside/w.yaml}"), ["sweep", "{spec}"], ["sweep.yaml", "outside the spec's folder"]),
    ("model-missing", spec(base="{arch: fusemax, model: nope_model, seq: 128}", axes="  b: {path: batch, values: [1, 2]}"), ["sweep", "{spec}"], ["sweep.yaml", "nope_model"]),
    ("workload-and-model", spec(base="{arch: fusemax, workload: gemm, model: bert_base, seq: 8}"), ["sweep", "{spec}"], ["sweep.yaml", "either workload"]),
    # --- mappers and their options
    ("mapper-unknown", spec(base="{arch: fusemax, workload: attention_1pass, mapper: nope}"), ["sweep", "{spec}"], ["sweep.yaml", "unknown mapper 'nope'", "ideal"]),
    ("mapper-axis-unknown", spec(axes="  m: {path: mapper, values: [ideal, nope]}"), ["sweep", "{spec}"], ["unknown mapper 'nope'", "ideal"]),
    ("mapper-option-unknown", spec(base="{arch: fusemax, workload: gemm, mapper: search, set: {mapper.bogus: 1}}", axes="  n: {path: rank.N, values: [64, 128]}"), ["sweep", "{spec}"], ["sweep.yaml", "bogus", "budget"]),
    ("mapper-option-axis-unknown", spec(base="{arch: fusemax, workload: gemm, mapper: search}", axes="  o: {path: mapper.budgett, values: [4, 8]}"), ["sweep", "{spec}"], ["sweep.yaml", "budgett", "budget"]),
    ("mapper-option-refused-at-run", spec(base="{arch: fusemax, workload: attention_1pass, set: {rank.H: 12, rank.P: 1024, mapper.bogus: 1}}"), ["sweep", "{spec}", "--out", "{tmp}/run"], ["all 2 points failed", "bogus"]),
    # --- every point failing
    ("ranks-negative", spec(axes="  tokens: {path: rank.M, values: [-4, -8]}"), ["sweep", "{spec}", "--out", "{tmp}/run"], ["all 2 points failed", "-4"]),
    ("ranks-strings", spec(axes="  tokens: {path: rank.M, values: [abc, xyz]}"), ["sweep", "{spec}", "--out", "{tmp}/run"], ["all 2 points failed", "abc"]),
    ("ranks-zero", spec(axes="  tokens: {path: rank.M, values: [0]}"), ["sweep", "{spec}", "--out", "{tmp}/run"], ["all 1 points failed"]),
    # --- spec structure
    ("unknown-top-key", spec(extra="strategyy: {kind: grid}\n"), ["sweep", "{spec}"], ["sweep.yaml", "strategyy"]),
    ("axis-without-domain", spec(axes="  tokens: {path: rank.M}"), ["sweep", "{spec}"], ["sweep.yaml", "values"]),
    ("axis-low-above-high", spec(axes="  tokens: {path: rank.M, low: 9, high: 1, num: 2}"), ["sweep", "{spec}"], ["sweep.yaml", "low <= high"]),
    ("axis-log-nonpositive", spec(axes="  tokens: {path: rank.M, low: 0, high: 8, num: 2, log: true}"), ["sweep", "{spec}"], ["sweep.yaml", "low > 0"]),
    ("axis-grid-without-num", spec(axes="  tokens: {path: rank.M, low: 1, high: 8}"), ["sweep", "{spec}"], ["sweep.yaml", "num"]),
    ("axis-unknown-path", spec(axes="  tokens: {path: foo, values: [1]}"), ["sweep", "{spec}"], ["sweep.yaml", "unknown path 'foo'"]),
    ("axis-unknown-rank", spec(axes="  tokens: {path: rank.Q, values: [1]}"), ["sweep", "{spec}"], ["sweep.yaml", "unknown rank 'Q'"]),
    ("axis-unknown-arch-field", spec(axes="  a: {path: arch.GlobalBuffer.capacity_Q, values: [1]}"), ["sweep", "{spec}"], ["sweep.yaml", "capacity_Q"]),
    ("axes-same-path", spec(axes="  a: {path: rank.M, values: [1024]}\n  b: {path: rank.M, values: [2048]}"), ["sweep", "{spec}"], ["sweep.yaml", "both set rank.M"]),
    ("derived-unknown-name", spec(extra="derived:\n  q: {path: rank.E, expr: tokenz * 2}\n"), ["sweep", "{spec}"], ["sweep.yaml", "tokenz"]),
    ("derived-axis-name", spec(extra="derived:\n  tokens: {expr: \"tokens * 2\"}\n"), ["sweep", "{spec}"], ["sweep.yaml", "name of an axis"]),
    ("rank-with-model", spec(base="{arch: fusemax, model: bert_base, seq: 128}"), ["sweep", "{spec}"], ["sweep.yaml", "rank sizes apply to a workload"]),
    ("random-zero-samples", spec(extra="strategy: {kind: random, samples: 0}\n"), ["sweep", "{spec}"], ["sweep.yaml", "samples"]),
    ("nsga2-unknown-objective", spec(extra="strategy: {kind: nsga2, objectives: [latency_s, speed]}\n"), ["sweep", "{spec}"], ["sweep.yaml", "objectives"]),
    ("spec-a-list", "- 1\n- 2\n", ["sweep", "{spec}"], ["sweep.yaml", "mapping"]),
    ("spec-bad-yaml", "name: [unclosed\n", ["sweep", "{spec}"], ["sweep.yaml"]),
    ("spec-missing-file", None, ["sweep", "{tmp}/absent.yaml"], ["absent"]),
    ("bundled-sweep-misspelled", None, ["sweep", "fusemax_pe_bufer"], ["fusemax_pe_bufer", "fusemax_pe_buffer"]),
    # --- resource limits
    ("grid-above-cap", spec(axes="  a: {values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\n  b: {low: 1, high: 2, num: 1000}\n"
                            "  c: {low: 1, high: 2, num: 1000}\n  d: {low: 1, high: 2, num: 100}"), ["sweep", "{spec}"], ["1,000,000,000 points", "--max-points"]),
    ("random-above-cap", spec(extra="strategy: {kind: random, samples: 1000000000}\n", axes="  tokens: {path: rank.M, low: 1024, high: 4096, integer: true}"), ["sweep", "{spec}"], ["1,000,000,000 points", "random.samples"]),
    ("nsga2-above-cap", spec(extra="strategy: {kind: nsga2, objectives: [latency_s, energy_J], population: 100000, generations: 1000}\n",
                             axes="  tokens: {path: rank.M, low: 1024, high: 4096, integer: true}"), ["sweep", "{spec}"], ["100,000,000 points", "nsga2"]),
    ("max-points-below-grid", GOOD, ["sweep", "{spec}", "--max-points", "1"], ["2 points", "--max-points"]),
    ("max-points-zero", GOOD, ["sweep", "{spec}", "--max-points", "0"], ["--max-points"]),
    ("jobs-zero", GOOD, ["sweep", "{spec}", "-j", "0"], ["-j"]),
    ("jobs-negative", GOOD, ["sweep", "{spec}", "-j", "-3"], ["-j"]),
    ("jobs-not-a-number", GOOD, ["sweep", "{spec}", "-j", "many"], ["-j"]),
    # --- outputs
    ("out-is-a-file", GOOD, ["sweep", "{spec}", "--out", "{tmp}/afile"], ["--out", "afile"]),
    ("out-under-a-file", GOOD, ["sweep", "{spec}", "--out", "{tmp}/afile/run"], ["--out", "afile"]),
    ("html-is-a-folder", GOOD, ["sweep", "{spec}", "--out", "{tmp}/run", "--html", "{tmp}"], ["--html"]),
    ("csv-is-a-folder", GOOD, ["sweep", "{spec}", "--out", "{tmp}/run", "--csv", "{tmp}"], ["--csv"]),
    ("report-no-results", None, ["report", "{tmp}/nothing"], ["nothing", "no sweep results"]),
    ("report-not-a-database", None, ["report", "{tmp}/afile.sqlite"], ["afile.sqlite"]),
    # --- eval flags
    ("eval-mapper-option-unknown", None, ["eval", "--arch", "fusemax", "--workload", "gemm", "--mapper", "search",
                                          "--mapper-option", "bogus=1"], ["bogus", "budget"]),
    ("eval-mapper-option-fused", None, ["eval", "--arch", "fusemax", "--workload", "attention_1pass", "--mapper", "fused",
                                        "--mapper-option", "bogus=1"], ["bogus"]),
    ("eval-mapper-unknown", None, ["eval", "--arch", "fusemax", "--workload", "gemm", "--mapper", "nope"], ["nope", "ideal"]),
]


@pytest.mark.parametrize("text, argv, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_no_number(tmp_path, monkeypatch, capsys, text, argv, fragments) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "notarch.yaml").write_text("name: not an architecture\nitems: [1, 2]\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "arch.yaml").write_bytes(Path(__file__).parents[2].joinpath("designs/arch/fusemax.yaml").read_bytes())
    (outside / "w.yaml").write_bytes(Path(__file__).parents[2].joinpath("designs/workloads/gemm.yaml").read_bytes())
    (tmp_path / "afile").write_text("x\n")
    (tmp_path / "afile.sqlite").write_text("not a database\n")
    work = tmp_path / "cwd"  # the current folder holds neither the spec nor the outside files
    work.mkdir()
    monkeypatch.chdir(work)
    path = specs / "sweep.yaml"
    if text is not None:
        path.write_text(text)
    args = [a.replace("{spec}", str(path)).replace("{tmp}", str(tmp_path)) for a in argv]
    rc = _exit_code(args + (["--quiet", "-j", "1"] if args[0] == "sweep" and "-j" not in args else []))
    out, err = capsys.readouterr()
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("einsim: error:"), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in err
    assert not re.search(r"\d", out), out


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code or 0)


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)
