"""Flash throughput tables: exact rows, log2 interpolation, clamping, core and thread axes."""

import math

import pytest

from einsim.arch import load_arch, read_throughput_Bps
from einsim.arch.load import bundled_dir
from einsim.errors import EinsimError


@pytest.fixture(scope="module")
def ufs4():
    return load_arch(str(bundled_dir() / "oneplus12.yaml")).component("UFS")


@pytest.fixture(scope="module")
def ssd():
    return load_arch(str(bundled_dir() / "m1max.yaml")).component("SSD")


KiB, MiB = 1024, 2**20


def test_exact_rows(ufs4):
    assert read_throughput_Bps(ufs4, "sequential", 512 * KiB) == 4e9
    assert read_throughput_Bps(ufs4, "sequential", 4 * KiB) == 450e6
    assert read_throughput_Bps(ufs4, "random", 4 * KiB, range_B=128 * MiB) == 1e9
    assert read_throughput_Bps(ufs4, "random", 4 * KiB, range_B=512 * MiB) == 850e6


def test_log2_interpolation_over_block_size(ufs4):
    # 64 KiB sits 4/7 of the way (in log2) from 4 KiB to 512 KiB
    expected = 450e6 + (4e9 - 450e6) * 4 / 7
    assert read_throughput_Bps(ufs4, "sequential", 64 * KiB) == pytest.approx(expected)


def test_interpolation_uses_rows_that_leave_the_range_open(ufs4):
    # range 128 MiB: 4 KiB -> 1 GB/s, 32 KiB -> 1.75 GB/s, 512 KiB (any range) -> 3.5 GB/s
    assert read_throughput_Bps(ufs4, "random", 32 * KiB, range_B=128 * MiB) == pytest.approx(1.75e9)
    t = (math.log2(128) - math.log2(32)) / (math.log2(512) - math.log2(32))
    expected = 1.75e9 + t * (3.5e9 - 1.75e9)
    assert read_throughput_Bps(ufs4, "random", 128 * KiB, range_B=128 * MiB) == pytest.approx(expected)


def test_interpolation_over_range(ufs4):
    # 256 MiB is halfway (log2) between 128 MiB and 512 MiB
    assert read_throughput_Bps(ufs4, "random", 4 * KiB, range_B=256 * MiB) == pytest.approx(925e6)


def test_clamped_outside_the_measured_span(ufs4):
    assert read_throughput_Bps(ufs4, "sequential", 1 * KiB) == 450e6
    assert read_throughput_Bps(ufs4, "sequential", 64 * MiB) == 4e9
    assert read_throughput_Bps(ufs4, "random", 4 * KiB, range_B=4 * 2**30) == 850e6


def test_issuing_core_class(ufs4):
    big = read_throughput_Bps(ufs4, "random", 4 * KiB, range_B=128 * MiB, core="big")
    little = read_throughput_Bps(ufs4, "random", 4 * KiB, range_B=128 * MiB, core="little")
    assert (big, little) == (1076.10e6, 761.87e6)
    with pytest.raises(EinsimError, match="no measurement for core 'prime'.*big, little, mid"):
        read_throughput_Bps(ufs4, "random", 4 * KiB, core="prime")


def test_monotone_in_block_size(ufs4):
    sizes = [2**k for k in range(12, 20)]
    values = [read_throughput_Bps(ufs4, "random", s, range_B=128 * MiB) for s in sizes]
    assert values == sorted(values)


def test_m1max_anchors_and_bundling(ssd):
    assert read_throughput_Bps(ssd, "sequential", 2**30) == 6.1e9
    # rows are fp16 OPT-6.7B neuron rows: 8 KiB unbundled, 16 KiB bundled (up column + down row)
    assert read_throughput_Bps(ssd, "random", 8 * KiB, threads=32) == 1.25e9
    assert read_throughput_Bps(ssd, "random", 16 * KiB, threads=32) == 2.25e9
    assert read_throughput_Bps(ssd, "random", 16 * KiB) == 2.25e9  # only 32-thread rows exist
    mid = read_throughput_Bps(ssd, "random", 8 * KiB * math.sqrt(2), threads=32)
    assert mid == pytest.approx(1.75e9)


def test_unknown_pattern_lists_what_was_measured():
    text = """
name: f
components:
  F:
    kind: flash
    read_throughput: [{pattern: sequential, block_B: 4 KiB, throughput_Bps: 1 GB/s}]
"""
    flash = load_arch(text).component("F")
    with pytest.raises(EinsimError, match=r"F has no random read throughput \(measured: sequential\)"):
        read_throughput_Bps(flash, "random", 4096)


def test_duplicate_rows_are_rejected():
    text = """
name: f
components:
  F:
    kind: flash
    read_throughput:
      - {pattern: sequential, block_B: 4 KiB, throughput_Bps: 1 GB/s}
      - {pattern: sequential, block_B: 4096, throughput_Bps: 2 GB/s}
"""
    with pytest.raises(EinsimError, match="components.F.read_throughput: .*two rows"):
        load_arch(text)
