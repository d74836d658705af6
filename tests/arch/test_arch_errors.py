"""Malformed specs: each error names the file, the line, the field path and the valid names."""

import pytest

from einsim.arch import load_arch
from einsim.errors import EinsimError

BASE = """\
name: tiny
source: "test fixture"
clock_Hz: 1 GHz
components:
  DRAM:
    kind: dram
    bandwidth_Bps: 10 GB/s
    source: fixture
  Buf:
    kind: sram
    inside: DRAM
    capacity_B: 1 MiB
    width_bits: 64
    source: fixture
  PE:
    kind: pe_array
    inside: Buf
    shape: [4, 4]
    ops:
      mac: {energy_pJ: 1}
      add: {energy_pJ: 0.5, shared_with: mac}
    source: fixture
  UFS:
    kind: flash
    read_throughput:
      - {pattern: sequential, block_B: 4 KiB, throughput_Bps: 1 GB/s}
    source: fixture
"""


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def error_of(text: str, tmp_path, **kw) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(EinsimError) as exc:
        load_arch(str(path), **kw)
    return str(exc.value)


# (case id, edited spec, line, fragments that must appear in the message)
CASES = [
    (
        "unknown key",
        edit("    width_bits: 64\n", "    width_bits: 64\n    colour: red\n"),
        14,
        ["components.Buf.colour", "unknown key 'colour'", "capacity_B", "width_bits"],
    ),
    (
        "unknown top-level key with suggestion",
        edit("clock_Hz: 1 GHz", "clok_Hz: 1 GHz"),
        3,
        ["clok_Hz", "unknown key", "did you mean clock_Hz"],
    ),
    (
        "wrong unit for capacity",
        edit("capacity_B: 1 MiB", "capacity_B: 5 GHz"),
        12,
        ["components.Buf.capacity_B", "'5 GHz' is a frequency but bytes"],
    ),
    (
        "wrong unit for bandwidth",
        edit("bandwidth_Bps: 10 GB/s", "bandwidth_Bps: 10 GB"),
        7,
        ["components.DRAM.bandwidth_Bps", "is bytes but a bandwidth"],
    ),
    (
        "wrong unit for clock",
        edit("clock_Hz: 1 GHz", "clock_Hz: 1 ns"),
        3,
        ["clock_Hz", "is a time but a frequency"],
    ),
    (
        "wrong unit for op energy",
        edit("mac: {energy_pJ: 1}", "mac: {energy_pJ: 1 mm^2}"),
        20,
        ["components.PE.ops.mac.energy_pJ", "is an area but an energy"],
    ),
    (
        "ambiguous KB",
        edit("capacity_B: 1 MiB", "capacity_B: 4 KB"),
        12,
        ["capacity_B", "ambiguous", "KiB"],
    ),
    (
        "unknown unit",
        edit("capacity_B: 1 MiB", "capacity_B: 3 parsecs"),
        12,
        ["capacity_B", "unknown unit 'parsecs'"],
    ),
    (
        "negative capacity",
        edit("capacity_B: 1 MiB", "capacity_B: -1 MiB"),
        12,
        ["components.Buf.capacity_B", "greater than 0", "-1 MiB"],
    ),
    (
        "zero bandwidth",
        edit("bandwidth_Bps: 10 GB/s", "bandwidth_Bps: 0"),
        7,
        ["components.DRAM.bandwidth_Bps", "greater than 0"],
    ),
    (
        "unknown component kind",
        edit("kind: sram", "kind: scratchpad"),
        10,
        ["components.Buf", "unknown component kind 'scratchpad'", "pe_array", "regfile", "sram"],
    ),
    (
        "missing kind",
        edit("    kind: sram\n", ""),
        10,
        ["components.Buf", "needs a 'kind'", "dram", "sram"],
    ),
    (
        "unknown component referenced by inside",
        edit("inside: Buf", "inside: GlobalBuffer"),
        17,
        ["components.PE.inside", "unknown component 'GlobalBuffer'", "Buf, DRAM, PE, UFS"],
    ),
    (
        "inside cycle",
        edit("    inside: DRAM\n", "    inside: PE\n"),
        11,
        ["'inside' links form a cycle", "Buf -> PE -> Buf"],
    ),
    (
        "missing required field",
        edit("    width_bits: 64\n", ""),
        10,
        ["components.Buf.width_bits", "missing required field 'width_bits'"],
    ),
    (
        "composite op refers to unknown op",
        edit("      mac: {energy_pJ: 1}\n", "      mac: {energy_pJ: 1}\n      exp: {compose: {mac: 6, sub: 1}}\n"),
        21,
        ["components.PE.ops.exp.compose.sub", "unknown op 'sub'", "add, exp, mac"],
    ),
    (
        "shared_with unknown op",
        edit("shared_with: mac", "shared_with: fma"),
        21,
        ["components.PE.ops.add.shared_with", "unknown op 'fma'"],
    ),
    (
        "composite op with its own cycles",
        edit("      mac: {energy_pJ: 1}\n", "      mac: {energy_pJ: 1}\n      exp: {compose: {mac: 6}, cycles: 2}\n"),
        21,
        ["components.PE.ops.exp", "composite op", "drop ['cycles']"],
    ),
    (
        "recursive composite op",
        edit("      mac: {energy_pJ: 1}\n", "      mac: {energy_pJ: 1}\n      a: {compose: {b: 1}}\n      b: {compose: {a: 1}}\n"),
        16,
        ["components.PE", "defined in terms of itself", "a -> b -> a"],
    ),
    (
        "zero array dimension",
        edit("shape: [4, 4]", "shape: [4, 0]"),
        18,
        ["components.PE.shape", "every dimension of shape must be >= 1"],
    ),
    (
        "energy given twice",
        edit("mac: {energy_pJ: 1}", "mac: {energy_pJ: 1, energy_J: 1.0e-12}"),
        20,
        ["components.PE.ops.mac", "both 'energy_pJ' and 'energy_J'"],
    ),
    (
        "sources names an unknown field",
        edit("    width_bits: 64\n", "    width_bits: 64\n    sources: {capacty_B: datasheet}\n"),
        14,
        ["components.Buf.sources.capacty_B", "unknown field 'capacty_B'", "did you mean capacity_B"],
    ),
    (
        "capacity and entries disagree",
        edit("    capacity_B: 1 MiB\n", "    capacity_B: 1 MiB\n    entries: 3\n"),
        10,
        ["components.Buf", "capacity_B (1.04858e+06) != entries x width_bits / 8 (24)"],
    ),
    (
        "partitions exceed capacity",
        edit("    width_bits: 64\n", "    width_bits: 64\n    partitions: {Q: 1 MiB, K: 1 MiB}\n"),
        10,
        ["components.Buf", "partitions add up to 2.09715e+06 B", "more than the capacity"],
    ),
    (
        "per_pe buffer outside a PE array",
        edit("    width_bits: 64\n", "    width_bits: 64\n    per_pe: true\n"),
        14,
        ["components.Buf.per_pe", "'inside' must name a pe_array", "PE"],
    ),
    (
        "bad N:M sparsity pattern",
        BASE + "  Eng:\n    kind: dsp_engine\n    sparsity_patterns: ['3:12']\n    source: fixture\n",
        30,
        ["components.Eng.sparsity_patterns", "M=12 must be a power of two"],
    ),
    (
        "engine mix names unknown engine",
        edit(
            "    bandwidth_Bps: 10 GB/s\n",
            "    bandwidth_Bps: 10 GB/s\n    bandwidth_by_engines:\n      - {engines: [PE, NPU], bandwidth_Bps: 5 GB/s}\n",
        ),
        9,
        ["components.DRAM.bandwidth_by_engines.0.engines.1", "unknown compute component 'NPU'", "PE"],
    ),
    (
        "flash row with unknown pattern",
        edit("pattern: sequential", "pattern: strided"),
        26,
        ["components.UFS.read_throughput.0.pattern", "'sequential' or 'random'"],
    ),
    (
        "efficiency above one",
        edit("    bandwidth_Bps: 10 GB/s\n", "    bandwidth_Bps: 10 GB/s\n    efficiency: {same_channel: 1.4, cross_channel: 0.35}\n"),
        8,
        ["components.DRAM.efficiency.same_channel", "less than or equal to 1"],
    ),
    (
        "pe array without any clock",
        edit("clock_Hz: 1 GHz\n", ""),
        15,
        ["components.PE", "no clock_Hz"],
    ),
]


@pytest.mark.parametrize("case, text, line, fragments", CASES, ids=[c[0] for c in CASES])
def test_malformed_spec_message(case, text, line, fragments, tmp_path):
    message = error_of(text, tmp_path)
    assert f"bad.yaml:{line}:" in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_yaml_syntax_error_is_located(tmp_path):
    message = error_of(BASE.replace("shape: [4, 4]", "shape: [4, 4"), tmp_path)
    assert "bad.yaml:" in message and "YAML syntax error" in message


def test_not_a_mapping(tmp_path):
    assert "must be a mapping" in error_of("- 1\n- 2\n", tmp_path)


def test_missing_source_is_an_error_when_required(tmp_path):
    text = BASE.replace("    source: fixture\n  Buf:", "  Buf:")
    message = error_of(text, tmp_path, require_sources=True)
    assert "component 'DRAM' has no 'source:'" in message and "bad.yaml:6:" in message
    path = tmp_path / "bad.yaml"
    assert load_arch(str(path), require_sources=False).component("DRAM").source is None


def test_missing_top_level_source(tmp_path):
    message = error_of(BASE.replace('source: "test fixture"\n', ""), tmp_path, require_sources=True)
    assert "the architecture has no 'source:'" in message


def test_missing_file():
    with pytest.raises(EinsimError, match="no such file: nowhere.yaml"):
        load_arch("nowhere.yaml")


def test_valid_base_loads():
    arch = load_arch(BASE)
    assert arch.component("PE").pe_count == 16
