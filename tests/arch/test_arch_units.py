"""The one quantity parser and its display helper."""

import math

import pytest

from einsim.arch.units import UnitError, dimension_of_key, format_quantity, parse_quantity


@pytest.mark.parametrize(
    "text, dim, expected",
    [
        ("16 MiB", "B", 16 * 2**20),
        ("16MiB", "B", 16 * 2**20),
        ("512 KiB", "B", 512 * 1024),
        ("8 GB", "B", 8e9),
        ("3 kB", "B", 3000),
        ("400 GiB/s", "B/s", 400 * 2**30),
        ("400 GB/s", "B/s", 400e9),
        ("14.375 GBps", "B/s", 14.375e9),
        ("940 MHz", "Hz", 9.4e8),
        ("3.3 GHz", "Hz", 3.3e9),
        ("1.0638 ns", "s", 1.0638e-9),
        ("186 us", "s", 186e-6),
        ("17.16 pJ", "J", 17.16e-12),
        ("0.028 pJ", "J", 2.8e-14),
        ("249.6 pJ", "J", 249.6e-12),
        ("0.5 mm^2", "m^2", 0.5e-6),
        ("0.5 mm2", "m^2", 0.5e-6),
        ("1545 um^2", "m^2", 1545e-12),
        ("12.21 cm^2", "m^2", 12.21e-4),
        ("45 W", "W", 45.0),
        ("312 TFLOP/s", "op/s", 312e12),
        ("624 TOPS", "op/s", 624e12),
        ("70%", "1", 0.7),
        ("1e3", "B", 1000.0),
        (4096, "B", 4096.0),
        (0.7, "1", 0.7),
    ],
)
def test_parse(text, dim, expected):
    assert parse_quantity(text, dim) == pytest.approx(expected, rel=1e-12)


def test_binary_prefixes_are_exact():
    assert parse_quantity("16 MiB", "B") == 16777216.0
    assert parse_quantity("1 TiB", "B") == 2.0**40
    assert parse_quantity("1 GB", "B") == 1e9


def test_plain_number_takes_the_key_scale():
    assert parse_quantity(17.1645, "J", 1e-12) == pytest.approx(17.1645e-12)
    assert parse_quantity("17.1645 pJ", "J", 1e-12) == pytest.approx(17.1645e-12)  # unit wins


@pytest.mark.parametrize(
    "text, dim, fragment",
    [
        ("5 GHz", "B", "'5 GHz' is a frequency but bytes"),
        ("16 MiB", "Hz", "is bytes but a frequency"),
        ("400 GB/s", "B", "a bandwidth but bytes"),
        ("4 KB", "B", "ambiguous: write kB (1000 B) or KiB (1024 B)"),
        ("3 furlongs", "B", "unknown unit 'furlongs'"),
        ("fast", "Hz", "cannot read 'fast' as a frequency"),
        (True, "B", "got a boolean"),
        ([1], "B", "got list"),
        (math.inf, "B", "finite"),
    ],
)
def test_errors(text, dim, fragment):
    with pytest.raises(UnitError) as exc:
        parse_quantity(text, dim)
    assert fragment in str(exc.value)


@pytest.mark.parametrize(
    "value, dim, text",
    [
        (16777216.0, "B", "16 MiB"),
        (4096.0, "B", "4 KiB"),
        (400 * 2**30, "B/s", "400 GiB/s"),
        (400e9, "B/s", "400 GB/s"),
        (9.4e8, "Hz", "940 MHz"),
        (17.1645e-12, "J", "17.1645 pJ"),
        (0.5e-6, "m^2", "0.5 mm^2"),
        (1545e-12, "m^2", "0.001545 mm^2"),
        (400.898e-6, "m^2", "400.898 mm^2"),
        (312e12, "op/s", "312 TOP/s"),
    ],
)
def test_format(value, dim, text):
    assert format_quantity(value, dim) == text


@pytest.mark.parametrize("value, dim", [(16777216.0, "B"), (9.4e8, "Hz"), (17.1645e-12, "J"), (460e9, "B/s"),
                                        (49.3e-12, "m^2")])
def test_format_parses_back(value, dim):
    assert parse_quantity(format_quantity(value, dim), dim) == pytest.approx(value)


def test_dimension_of_key():
    assert dimension_of_key("capacity_B") == "B"
    assert dimension_of_key("bandwidth_Bps") == "B/s"
    assert dimension_of_key("clock_Hz") == "Hz"
    assert dimension_of_key("read_energy_J") == "J"
    assert dimension_of_key("area_m2") == "m^2"
    assert dimension_of_key("width_bits") is None
