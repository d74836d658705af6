"""Lowering LLaMA2-7B to FlightLLM's instruction queues."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.sim.kernels.fpga_queues import run_queues
from einsim.sim.fpga_program import LD, MISC, MV, QUEUES, ST, Program
from einsim.mappers.fpga.lower import DECODE_BUCKET, PREFILL_BUCKET, bucket, linear_ops, lower
from einsim.einsum.models import expand
from einsim.mappers.fpga.flightllm import INT8_SPARSE, MIXED_U280, U280, VHK158, contexts


def test_linear_ops_are_the_6_607_g_macs_per_token() -> None:
    ops = linear_ops(expand("llama2_7b", "decode", context_len=512))
    assert sum(t * m * k * n for _, m, k, n, t in ops) == pytest.approx(6.607e9, rel=1e-3)


def test_decode_stream_uses_the_queues_with_consistent_tokens() -> None:
    low = lower("llama2_7b", VHK158.device, INT8_SPARSE, "decode", context_len=512)
    queue, seconds, wait, release = low.program.arrays()
    used = {QUEUES[q] for q in np.unique(queue)}
    assert {"LD", "ST", "MV", "MISC"} <= used and "MM" not in used
    assert wait.sum() == release.sum()  # every token released is consumed
    # double buffering: a weight load waits for the compute two tiles back (an MV -> LD token)
    assert wait[queue == LD, MV].sum() > 0


def test_mv_queue_time_is_the_artifacts() -> None:
    """9.07 ms of MV at context 512 in the artifact's profiler output (fpga_phone.md 1(c))."""
    r = lower("llama2_7b", VHK158.device, INT8_SPARSE, "decode", context_len=512).run(VHK158.device)
    assert r.busy_s["MV"] == pytest.approx(9.07e-3, rel=0.01)
    assert r.latency_s < r.busy_s["MV"] + r.busy_s["MISC"] + 1e-3  # LD hidden behind MV: compute-bound


def test_always_on_chip_decode_switch_shows_in_hbm_traffic() -> None:
    on = lower("llama2_7b", U280.device, MIXED_U280, "decode", context_len=512, on_chip=True)
    off = lower("llama2_7b", U280.device, MIXED_U280, "decode", context_len=512, on_chip=False)
    assert on.act_bytes == 0 and off.act_bytes > 0
    assert off.device_hbm_bytes > on.device_hbm_bytes
    assert sum(q == ST for q in off.program.queue) > sum(q == ST for q in on.program.queue)
    assert off.run(U280.device).latency_s > on.run(U280.device).latency_s


def test_mixed_precision_halves_weight_traffic() -> None:
    int8 = lower("llama2_7b", U280.device, INT8_SPARSE, "decode", context_len=128)
    mixed = lower("llama2_7b", U280.device, MIXED_U280, "decode", context_len=128)
    assert mixed.weight_bytes == pytest.approx(6.607e9 * 4.1 / 8, rel=0.01)  # the 3.43 GB of the case files, less the embedding
    assert int8.weight_bytes / mixed.weight_bytes > 1.8


def test_length_buckets() -> None:
    assert (bucket(129, DECODE_BUCKET), bucket(129, PREFILL_BUCKET)) == (144, 256)
    assert contexts(128, 32) == {144: 16, 160: 16}
    assert sum(contexts(512, 1536).values()) == 1536


def test_prefill_uses_mm_mode() -> None:
    low = lower("llama2_7b", VHK158.device, INT8_SPARSE, "prefill", seq_len=128)
    assert "MM" in {QUEUES[q] for q in low.program.queue} and MV not in low.program.queue


def test_an_implied_edge_is_dropped_and_a_misrouted_one_refused() -> None:
    p = Program()
    a = p.add(MV, 1.0, "a")
    b = p.add(MV, 1.0, "b")
    p.add(MISC, 1.0, "c", (b,))
    p.add(MISC, 1.0, "d", (a,))  # implied: c, before d on MISC, waited for b, after a on MV
    assert p.edges == [(b, 2)]
    start, end, ok = run_queues(*p.arrays())
    assert ok and start[3] >= end[a] and start[2] == end[b] == 2.0
    p.edges.append((a, 3))  # the same edge forced in would take b's token
    with pytest.raises(ValueError, match="out of order"):
        p.tokens()


def _fresh(device, fmt, phase, length, on_chip=True):
    """The per-point path: a lowering built for this device and format (each instruction priced as it is added)."""
    from einsim.mappers.fpga.lower import Lowered, _stream, model_named

    context, seq = (length, None) if phase == "decode" else (None, length)
    s = _stream(model_named("llama2_7b"), device, fmt, phase, context, seq, on_chip)
    low = s.low
    total = low.weight_bytes + low.kv_bytes + low.act_bytes + s.kv_write
    return Lowered(low.p, total, low.weight_bytes, low.kv_bytes, low.act_bytes, low.pn, low)


SWEEP_POINTS = [  # (DSPs as MV chains / MM rows, HBM bytes/s, N:M) of designs/sweeps/fpga_dsp_hbm_sparsity.yaml
    (8, 16, 230e9, "16:16"), (32, 64, 920e9, "2:16"), (64, 128, 1840e9, "8:16"), (16, 32, 460e9, "4:16"),
]


@pytest.mark.parametrize("phase, length, on_chip", [("decode", 512, True), ("decode", 64, False), ("prefill", 128, True)])
def test_cached_stream_repriced_is_bit_identical_to_a_fresh_lowering(phase: str, length: int, on_chip: bool) -> None:
    """The fast path (one lowering per process, re-priced per design point and decode context)
    against the per-point path on several design points: every instruction time, byte count and
    the simulated run equal exactly, not approximately."""
    from einsim.mappers.fpga.lower import _STREAMS
    from einsim.mappers.fpga.registered import nm_format

    _STREAMS.clear()
    base = U280.device
    for i, (chains, rows, bw, nm) in enumerate(SWEEP_POINTS):
        dev = base.with_(mv_pn_max=chains, mm_pm=rows, mm_macs=rows * 32, channel_Bps=bw / base.channels)
        fmt = nm_format(nm, ["16:16", "8:16", "4:16", "2:16"])
        at = length + DECODE_BUCKET * i if phase == "decode" else length  # decode: another context per point too
        lengths = {"context_len": at} if phase == "decode" else {"seq_len": at}
        fast = lower("llama2_7b", dev, fmt, phase, on_chip=on_chip, **lengths)
        slow = _fresh(dev, fmt, phase, at, on_chip)
        np.testing.assert_array_equal(fast.program.seconds, slow.program.seconds)  # exact, element by element
        np.testing.assert_array_equal(fast.program.hbm_bytes, slow.program.hbm_bytes)
        assert (fast.device_hbm_bytes, fast.weight_bytes, fast.kv_bytes, fast.mv_chains) == (
            slow.device_hbm_bytes, slow.weight_bytes, slow.kv_bytes, slow.mv_chains)
        assert fast.run(dev) == slow.run(dev)
    assert len(_STREAMS) == 1  # one lowering served every point


def test_stream_cache_keys_on_the_core_count() -> None:
    """The core count shapes the stream (each operator split over the cores): another count is another lowering."""
    from einsim.mappers.fpga.lower import _STREAMS

    _STREAMS.clear()
    three = lower("llama2_7b", U280.device, MIXED_U280, "decode", context_len=64)
    two = lower("llama2_7b", U280.device.with_(cores=2), MIXED_U280, "decode", context_len=64)
    assert len(_STREAMS) == 2 and len(two.program) != len(three.program)
    assert two.run(U280.device) == _fresh(U280.device.with_(cores=2), MIXED_U280, "decode", 64).run(U280.device)


def test_a_mixed_nm_weight_is_priced_by_the_csd_chain_not_by_its_mean() -> None:
    """q/k at the artifact's mean 0.7 as 8:16 and 16:16 blocks: their MV instructions take longer than
    0.7 x the dense ones (the chains' imbalance), uniform 8:16 exactly half."""
    import dataclasses

    from einsim.mappers.fpga.csd import BlockMix

    dev = VHK158.device
    dense = lower("llama2_7b", dev, dataclasses.replace(INT8_SPARSE, sparsity={}), "decode", context_len=512)
    mixed = lower("llama2_7b", dev, INT8_SPARSE, "decode", context_len=512)
    half = lower("llama2_7b", dev, dataclasses.replace(INT8_SPARSE, sparsity={"q_proj": BlockMix.uniform(8, 16)}),
                 "decode", context_len=512)
    tags = np.asarray(dense.program.tag)
    q = tags == "q_proj"
    d, m, h = (np.asarray(x.program.seconds)[q & (np.asarray(x.program.queue) == 3)] for x in (dense, mixed, half))
    assert len(d) and np.all(m > 0.7 * d) and np.all(m < 0.8 * d)
    np.testing.assert_allclose(h, 0.5 * d)
