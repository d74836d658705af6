"""LLM in a flash as a policy on the event simulation: mechanisms that the published targets do not isolate."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.mappers.phone.activations import generate
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B
from einsim.mappers.phone.hardware import Stream, load_device
from einsim.mappers.phone.llmflash import READ_THREADS, Run, _operand_B, llm_in_a_flash, token_graphs
from einsim.mappers.phone.window import window_series
from einsim.sim.phone_events import DRAM, UFS, simulate
from einsim.sim.reference.phone_events import simulate as twin

PYTORCH_CPU = Run(framework="pytorch", compute_B=4.0, ffn_rows="window")
PYTORCH_GPU = Run(engine="gpu", framework="pytorch", ffn_rows="window")


def _volume(g, label: str, pool: int = DRAM) -> float:
    return sum(v for v, p, name in zip(g.volume, g.pool, g.label) if p == pool and name == label)


@pytest.mark.parametrize("model", ["turbosparse_mixtral_47b", "opt_6p7b"])
def test_only_the_routed_experts_predictors_run(model):
    fp, dev = footprint(model), load_device("oneplus12")
    run = Run(weight_B=INT4_B)
    w = token_graphs(dev, fp, "predictor", run, tokens=8)
    per_layer = fp.facts.predictor_B.value / fp.layers * fp.top_k / fp.experts
    for g in w.layer_graphs():
        assert _volume(g, "pred") == pytest.approx(per_layer)


def test_reads_and_evictions_come_from_the_window_statistics():
    fp, dev = footprint("opt_6p7b"), load_device("m1max")
    trace = generate(fp, 2, 16)
    w = token_graphs(dev, fp, "bundling", PYTORCH_CPU, trace=trace)
    s = window_series(trace, 5)
    bundle_B = 2 * fp.d_model * 2.0
    t_read = dev.stream_time(Stream(1, bundle_B, "random", range_B=fp.ffn_dim * bundle_B, threads=READ_THREADS))
    assert len(w.layer_graphs()) == s.loaded.size
    for g, loaded, evicted in zip(w.layer_graphs(), s.loaded.ravel(), s.evicted.ravel()):
        assert _volume(g, "io", UFS) == pytest.approx(loaded * t_read)
        assert _volume(g, "delete") == pytest.approx(4 * evicted * bundle_B)  # gather to a temporary, scatter
        assert _volume(g, "insert") == pytest.approx(2 * loaded * bundle_B)  # staging tensor -> matrix
    assert w.flash_B == pytest.approx(s.loaded.mean() * fp.layers * bundle_B)


def test_native_runtime_reads_into_the_matrix_and_swaps_rows():
    fp, dev = footprint("opt_6p7b"), load_device("m1max")
    trace = generate(fp, 2, 12)
    w = token_graphs(dev, fp, "bundling", Run(), trace=trace)
    s = window_series(trace, 5)
    for g, evicted in zip(w.layer_graphs(), s.evicted.ravel()):
        assert _volume(g, "insert") == 0.0
        assert _volume(g, "delete") == pytest.approx(2 * evicted * 2 * fp.d_model * 2.0)


def test_the_paper_reports_the_steps_additively():
    # each layer's steps run one after another: the makespan is the sum of the stages' times
    fp, dev = footprint("opt_6p7b"), load_device("m1max")
    w = token_graphs(dev, fp, "bundling", PYTORCH_CPU, tokens=8)
    for sched in simulate(w.layer_graphs()[:4], w.platform):
        stages = {}
        for label, a, b in zip(sched.graph.label, sched.start, sched.end):
            lo, hi = stages.get(label, (np.inf, 0.0))
            stages[label] = (min(lo, a), max(hi, b))
        assert sum(b - a for a, b in stages.values()) == pytest.approx(sched.makespan, rel=1e-9)


def test_cpu_and_gpu_differ_by_their_mechanisms():
    fp, dev = footprint("opt_6p7b"), load_device("m1max")
    cpu, gpu = (llm_in_a_flash(dev, fp, "bundling", run, tokens=16) for run in (PYTORCH_CPU, PYTORCH_GPU))
    assert cpu.io_s == pytest.approx(gpu.io_s)  # the same reads
    # the CPU's fp32 GEMVs cast each fp16 operand first: 2 + 4 + 4 B per weight against the GPU's 2 B
    assert _operand_B(PYTORCH_CPU) / _operand_B(PYTORCH_GPU) == pytest.approx(5.0)
    assert cpu.dram_B > 4 * gpu.dram_B
    # and streams them at the CPU cores' bandwidth, the GPU at its own
    bw_cpu, bw_gpu = dev.bandwidth(["CPU"]), dev.bandwidth(["GPU"])
    assert bw_cpu < bw_gpu
    assert cpu.compute_s > gpu.compute_s * 0.8 * (bw_gpu / bw_cpu) * 5 / 2  # dispatch costs shrink the ratio a little


def test_many_readers_into_one_command_queue_lose_the_device_share():
    fp, op12 = footprint("opt_6p7b"), load_device("oneplus12")
    run = Run(weight_B=INT4_B)
    w = token_graphs(op12, fp, "bundling", run, tokens=8)
    (sched,) = simulate(w.layer_graphs()[:1], w.platform)
    io = [i for i, name in enumerate(sched.graph.label) if name == "io"]
    elapsed = max(sched.end[i] for i in io) - min(sched.start[i] for i in io)
    assert elapsed == pytest.approx(_volume(sched.graph, "io", UFS) / (1 - op12.flash.multi_issuer_degradation))


@pytest.mark.parametrize("device, run, config", [("m1max", PYTORCH_CPU, "bundling"),
                                                 ("m1max", PYTORCH_GPU, "windowing"),
                                                 ("oneplus12", Run(weight_B=INT4_B), "bundling"),
                                                 ("m1max", PYTORCH_CPU, "hybrid")])
def test_kernel_equals_simpy_twin_on_llm_in_a_flash_graphs(device, run, config):
    w = token_graphs(load_device(device), footprint("opt_6p7b"), config, run, tokens=7)
    servers, kind, dram = w.platform.arrays()
    graphs = w.layer_graphs()[:3] + [w.head]
    for sched, g in zip(simulate(graphs, w.platform), graphs):
        tasks = [{"engine": e, "fixed_s": f, "pool": p, "volume": v, "cap": c, "deps": d}
                 for e, f, p, v, c, d in zip(g.engine, g.fixed_s, g.pool, g.volume, g.cap, g.deps)]
        start, end = twin(tasks, servers.tolist(), kind.tolist(), np.nan_to_num(dram, nan=1.0).tolist(),
                          w.platform.ufs_queues, w.platform.ufs_degradation)
        np.testing.assert_allclose(sched.start, start, rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(sched.end, end, rtol=1e-7, atol=1e-12)


def test_loads_from_the_first_token_start_with_an_empty_window():
    from einsim.mappers.phone.window import loaded_from_start

    trace = generate(footprint("opt_6p7b"), 2, 20)
    k = 3
    loaded = loaded_from_start(trace, k)
    assert loaded.shape == (20, 2)
    assert (loaded[0] == trace.predicted[0].sum(axis=1)).all()  # nothing resident before the first token
    union = trace.predicted[0] | trace.predicted[1]
    assert (loaded[1] == union.sum(axis=1) - trace.predicted[0].sum(axis=1)).all()
    assert (loaded[k:] == window_series(trace, k).loaded).all()  # full windows: the steady-state counts


def test_flash_io_per_token_is_the_loaded_bundles_at_the_random_read_time():
    from einsim.mappers.phone.llmflash import flash_io_per_token
    from einsim.mappers.phone.window import loaded_from_start

    device, fp = load_device("m1max"), footprint("opt_6p7b")
    trace = generate(fp, 2, 12)
    io = flash_io_per_token(device, fp, trace)
    bundle_B = 2 * fp.d_model * 2.0
    t_req = device.stream_time(Stream(1, bundle_B, "random", range_B=fp.ffn_dim * bundle_B, threads=READ_THREADS))
    scale = fp.neurons_per_layer / trace.neurons * fp.layers
    assert io == pytest.approx(loaded_from_start(trace, 5).mean(axis=1) * scale * t_req)
    assert io[0] > 2 * io[-1]  # the first token fills the window
