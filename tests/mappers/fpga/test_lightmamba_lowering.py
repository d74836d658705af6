"""LightMamba's lowering of a Mamba-2 layer (`einsim.mappers.fpga.lightmamba`): what its one port
moves in which order, and which phases lie between the scan and out_proj."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.mappers.fpga.lightmamba import W4A4, decode_token, lower_decode, vck190
from einsim.sim.fpga_program import LD
from einsim.sim.kernels.fpga_queues import run_queues


def _schedule(layers: int = 1):
    low = lower_decode(vck190(), W4A4, layers=layers)
    queue, seconds, wait, release = low.program.arrays()
    start, end, ok = run_queues(queue, seconds, wait, release)
    assert ok
    return np.asarray(low.program.tag), queue, start, end


def test_the_port_runs_the_producers_order() -> None:
    """repo case/M_AXI_STATIC.cpp weight_producer: conv weights and state, SSM state, the weight
    stream (in_proj, then out_proj), conv state back, SSM state back, on one AXI master."""
    tags, queue, _, _ = _schedule()
    on_port = [str(t) for t in tags[queue == LD] if not t.startswith("scan")]  # the scan's small per-head vectors
    runs = [t for i, t in enumerate(on_port) if i == 0 or t != on_port[i - 1]]
    assert runs == ["conv", "state", "in_proj.w", "out_proj.w", "conv", "state"]


def test_out_proj_waits_for_rmsnorm2_and_the_rotation_after_the_last_scan() -> None:
    """RMSNorm 2 needs every head's output (repo RMSNORM_QUANT_2) and the Hadamard rotation all of
    RMSNorm 2's: they start after the last head group's scan, in turn, and out_proj's first tile
    after them; the rotation takes the device's hadamard passes over d_inner."""
    d = vck190()
    tags, queue, start, end = _schedule()
    (norm2,) = np.flatnonzero(tags == "norm2")
    (htu,) = np.flatnonzero(tags == "htu")
    scan = np.char.startswith(tags.astype(str), "scan") & (queue != LD)
    out_proj = np.flatnonzero((tags == "out_proj") & (queue != LD))
    assert start[norm2] >= end[scan].max()
    assert start[htu] >= end[norm2] > start[norm2]
    assert start[out_proj[0]] >= end[htu]
    assert (end[htu] - start[htu]) * d.clock_Hz == pytest.approx(5120 / d.sfu_lanes * d.sfu_passes["hadamard"])


def test_the_token_is_bound_by_the_memory_not_the_pl_clock() -> None:
    """The board did not speed up at 425 MHz (repo pynq/mamba.ipynb: 141.6 ms/token, against the
    paper's 138.7 ms at 400 MHz): neither does the model, whose token is the port's traffic at the
    measured bandwidth plus a short serial tail."""
    d = vck190()
    at_400 = decode_token(d, W4A4).latency_s
    at_425 = decode_token(d.with_(clock_Hz=425e6), W4A4).latency_s
    assert at_425 == pytest.approx(at_400, rel=0.02)
    assert at_425 < at_400
