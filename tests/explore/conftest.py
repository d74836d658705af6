"""Sweep specs written into a test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

# 8 x 8 x 8 x 4 = 2048 points of the default (ideal) mapper; M = 1000 is not a multiple of the
# tile M0 = 256, so its 256 points fail and must be recorded as failures
BIG = """\
name: big
base: {arch: fusemax, workload: attention_1pass}
axes:
  side: {path: arch.Array2D.shape.0, values: [16, 32, 64, 128, 256, 384, 512, 1024]}
  buffer_MiB: {values: [1, 2, 4, 8, 16, 32, 64, 128]}
  tokens: {path: rank.M, values: [1000, 2048, 4096, 8192, 16384, 32768, 65536, 262144]}
  heads: {path: rank.H, values: [12, 96, 384, 768]}
derived:
  cols: {path: arch.Array2D.shape.1, expr: side}
  queries: {path: rank.P, expr: tokens}
  buffer_B: {path: arch.GlobalBuffer.capacity_B, expr: buffer_MiB * 1048576}
"""

SMALL = """\
name: small
base: {arch: fusemax, workload: attention_1pass, set: {rank.H: 12}}
axes:
  side: {path: arch.Array2D.shape.0, values: [16, 64, 256]}
  buffer_MiB: {values: [2, 16]}
  tokens: {path: rank.M, values: [1000, 4096]}
derived:
  cols: {path: arch.Array2D.shape.1, expr: side}
  queries: {path: rank.P, expr: tokens}
  buffer_B: {path: arch.GlobalBuffer.capacity_B, expr: buffer_MiB * 1048576}
report: {pareto: [latency_s, area_m2]}
"""


@pytest.fixture
def big_spec(spec_file) -> Path:
    return spec_file(BIG, "big.yaml")


@pytest.fixture
def small_spec(spec_file) -> Path:
    return spec_file(SMALL, "small.yaml")


@pytest.fixture
def spec_file(tmp_path: Path):
    def write(text: str, name: str = "sweep.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
