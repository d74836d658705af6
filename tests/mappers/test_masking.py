"""Masked array steps of a mapping, and the search mapper skipping them (einsim.mappers.masking)."""

from __future__ import annotations

import pytest

from einsim.einsum import load_workload, resize
from einsim.explore import evaluate
from einsim.mappers.mapping import LevelMapping, Mapping
from einsim.mappers.masking import array_step_tile, mask_fraction


def _qk(n: int):
    cascade = resize(load_workload("attention_3pass_causal"), {"H": 1, "E": 8, "F": 8, "M": n})
    return next(e for e in cascade.einsums if e.name == "QK")  # QK[h, m, p], masked m <= p


def _mapping(gb_temporal: dict[str, int], spatial: dict[str, int], rf: dict[str, int]) -> Mapping:
    return Mapping("QK", "Array2D", (LevelMapping("DRAM", {"p": 2}), LevelMapping("GlobalBuffer", gb_temporal, (), spatial),
                                     LevelMapping("RF2D", rf)))


def test_an_array_step_is_the_fan_out_and_everything_below_it() -> None:
    m = _mapping({"m": 4, "p": 2}, {"m": 16, "p": 8}, {"e": 8, "p": 2})
    assert array_step_tile(m) == {"m": 16, "p": 16, "e": 8}  # the buffer's temporal m and p loops step the array
    assert array_step_tile(Mapping("QK", "U", (LevelMapping("DRAM", {"m": 64}),))) == {}  # one PE: one point a step


def test_mask_fraction_of_a_mapping() -> None:
    qk = _qk(64)
    assert mask_fraction(qk, _mapping({"m": 4, "p": 2}, {"m": 16, "p": 8}, {"e": 8, "p": 2})) == pytest.approx(0.5 + 0.5 / 4)
    assert mask_fraction(qk, _mapping({}, {"m": 64, "p": 32}, {"e": 8})) == 1.0  # a step spans every key


def test_the_search_mapper_skips_masked_steps_and_says_so() -> None:
    sizes = {"H": 2, "E": 16, "F": 16, "M": 512}
    dense = evaluate("fusemax", "attention_3pass", "search", mapper_options={"budget": 60}, P=512, **sizes)
    causal = evaluate("fusemax", "attention_3pass_causal", "search", mapper_options={"budget": 60}, **sizes)
    masks = [n for n in causal.notes if n.startswith("mask: ")]
    assert not [n for n in dense.notes if n.startswith("mask: ")]
    assert {n.split()[1] for n in masks} == {"QK", "GM", "SN", "SD", "A", "AV"}
    assert causal.energy_J < 0.9 * dense.energy_J
    assert causal.latency_s < dense.latency_s
