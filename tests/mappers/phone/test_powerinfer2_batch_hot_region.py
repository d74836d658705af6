"""PowerInfer-2's decode at batch N (best-of-N) and its MoE hot region as an LRU of experts' hot clusters."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.errors import EinsimError
from einsim.mappers.phone.activations import generate
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.powerinfer2 import _hot_block_misses, ffn_offload_budget, powerinfer2


def test_hot_region_lru_misses_fall_with_its_capacity_and_vanish_when_every_expert_fits() -> None:
    fp = footprint("turbosparse_mixtral_47b")
    trace = generate(fp, 2, 24)
    routed = trace.predicted.reshape(24, 2, fp.experts, fp.ffn_dim).any(axis=3).sum(axis=2).T
    misses = [_hot_block_misses(trace, fp.ffn_dim, c) for c in range(fp.experts + 1)]
    assert np.array_equal(misses[0], routed)  # no room: every routed expert's hot clusters are read
    assert not misses[fp.experts].any()
    totals = [int(m.sum()) for m in misses]
    assert totals == sorted(totals, reverse=True) and 0 < totals[fp.experts // 2] < totals[0]


def test_regression_mixtral_curve_with_an_lru_hot_region() -> None:
    # regression (the mechanism): 8 GB holds ~2 of Mixtral's 8 experts' hot clusters at the chosen fraction, so a
    # routed expert is mostly missing; before, a region of >= 2 experts' rows counted every routed one resident
    phone, fp = load_device("oneplus12"), footprint("turbosparse_mixtral_47b")
    assert powerinfer2(phone, fp, 8e9).tokens_per_s == pytest.approx(2.364, rel=1e-3)
    assert powerinfer2(phone, fp, 19e9).tokens_per_s == pytest.approx(7.355, rel=1e-3)


def test_a_batch_step_reads_each_row_once_and_pays_per_sequence_macs() -> None:
    phone, fp = load_device("oneplus12"), footprint("bamboo_7b")
    one = powerinfer2(phone, fp, ffn_offload_budget(fp, 0.0))
    four = powerinfer2(phone, fp, ffn_offload_budget(fp, 0.0, 4 * 128), batch=4)
    assert four.extra["batch"] == 4
    assert one.latency_s < four.latency_s < 4 * one.latency_s  # batching pays, but the union and MACs grow
    with pytest.raises(EinsimError, match="at least 1 sequence"):
        powerinfer2(phone, fp, ffn_offload_budget(fp, 0.0), batch=0)
