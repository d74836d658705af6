"""Mapping: plain-data round trip with per-axis spatial factors, and the refusals."""

from __future__ import annotations

import pytest

from einsim.errors import EinsimError
from einsim.mappers.mapping import Mapping
from einsim.sim.nest import Hierarchy, Level, NestProblem, encode

TEXT = """
einsum: Z
unit: Array
levels:
  - {target: DRAM, temporal: {k: 2}}
  - {target: Buf, spatial: [{m: 4}, {n: 2}], keep: [A, Z]}
"""
GEMM = NestProblem("Z", ("m", "n", "k"), (4, 2, 2), ("A", "B", "Z"),
                   (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)


def test_per_axis_spatial_round_trips_and_encodes() -> None:
    m = Mapping.from_yaml(TEXT)
    buf = m.level("Buf")
    assert buf.spatial == {"m": 4, "n": 2} and buf.spatial_axis == {"m": 0, "n": 1}
    assert Mapping.from_yaml(m.to_yaml()) == m
    h = Hierarchy((Level("DRAM"), Level("Buf", fanout=8, axes=(4, 2)), Level("Reg")), "Array", 0.0)
    enc = encode(GEMM, h, [m])
    assert enc.axes()[0, 1].tolist() == [0, 1, 0]


def test_unstated_axes_are_placed_where_they_fit() -> None:
    m = Mapping.from_yaml(TEXT.replace("[{m: 4}, {n: 2}]", "{n: 2, m: 4}"))
    h = Hierarchy((Level("DRAM"), Level("Buf", fanout=8, axes=(2, 4)), Level("Reg")), "Array", 0.0)
    assert encode(GEMM, h, [m]).axes()[0, 1].tolist() == [1, 0, 0]  # the larger factor m takes the wider axis


def test_a_level_listed_twice_is_refused() -> None:
    text = TEXT + "  - {target: Buf, keep: [B]}\n"
    with pytest.raises(EinsimError, match="lists level Buf twice"):
        Mapping.from_yaml(text)


def test_an_index_on_two_axes_is_refused() -> None:
    with pytest.raises(EinsimError, match="index m is spread along axes 0 and 1"):
        Mapping.from_yaml(TEXT.replace("[{m: 4}, {n: 2}]", "[{m: 2}, {m: 2}]"))


def test_multicast_and_reduction_are_counted_per_axis() -> None:
    """m along axis 0 and n along axis 1: B (no m) is multicast 4-way along axis 0, A (no n)
    2-way along axis 1; Z uses both, so it is neither multicast nor reduced; with k along axis 1
    instead, Z's partial sums are reduced 2-way along it."""
    from einsim.sim.nest import multicast

    h = Hierarchy((Level("DRAM"), Level("Buf", fanout=8, axes=(4, 2)), Level("Reg")), "Array", 0.0)
    got = multicast(GEMM, h, Mapping.from_yaml(TEXT))
    assert got == {"Buf": [{"A": 1, "B": 4, "Z": 1}, {"A": 2, "B": 1, "Z": 1}]}
    text = TEXT.replace("{target: DRAM, temporal: {k: 2}}", "{target: DRAM, temporal: {n: 2}}").replace("{n: 2}]", "{k: 2}]")
    got = multicast(GEMM, h, Mapping.from_yaml(text))
    assert got["Buf"][1] == {"A": 1, "B": 1, "Z": 2}
