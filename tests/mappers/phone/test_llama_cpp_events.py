"""llama.cpp's mmap decode on the event simulation: faulting threads share the flash's one command queue."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.mappers.phone.formats import READAHEAD_B
from einsim.mappers.phone.hardware import Stream, load_device
from einsim.mappers.phone.naive import _graph, _platform
from einsim.sim.phone_events import simulate
from einsim.sim.reference.phone_events import simulate as twin


@pytest.fixture(scope="module")
def op12_platform():
    dev = load_device("oneplus12")
    return dev, _platform(dev)


def test_faulting_threads_lose_the_single_queue_share_then_stream_dram(op12_platform):
    dev, plat = op12_platform
    t_page = dev.stream_time(Stream(1, READAHEAD_B, "sequential"))
    misses, layer_B = 40, 30e6
    batch = simulate([_graph(misses * t_page, layer_B)], plat, {"io": "io"})
    (s,) = batch
    # 8 issuers > 1 command queue: the device delivers 1 - 0.4 of its rate; faults block compute
    expected = misses * t_page / (1 - dev.flash.multi_issuer_degradation) + layer_B / dev.bandwidth(["CPU"])
    assert s.makespan == pytest.approx(expected)
    assert batch.critical_s("io")[0] == pytest.approx(misses * t_page / 0.6)


def test_kernel_equals_simpy_twin_on_llama_cpp_graphs(op12_platform):
    dev, plat = op12_platform
    t_page = dev.stream_time(Stream(1, READAHEAD_B, "sequential"))
    graphs = [_graph(m * t_page, b) for m, b in ((0, 20e6), (13, 25e6), (200, 1e6))]
    servers, kind, dram = plat.arrays()
    for sched, g in zip(simulate(graphs, plat), graphs):
        tasks = [{"engine": e, "fixed_s": f, "pool": p, "volume": v, "cap": c, "deps": d}
                 for e, f, p, v, c, d in zip(g.engine, g.fixed_s, g.pool, g.volume, g.cap, g.deps)]
        start, end = twin(tasks, servers.tolist(), kind.tolist(), np.nan_to_num(dram, nan=1.0).tolist(),
                          plat.ufs_queues, plat.ufs_degradation)
        np.testing.assert_allclose(sched.end, end, rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(sched.start, start, rtol=1e-7, atol=1e-12)
