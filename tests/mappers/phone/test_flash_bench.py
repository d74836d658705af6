"""The flash read benchmark on the phone's event simulation, the prefill's random-load switch, the prompt
activation statistic and the QNN rule, against hand calculations from the OnePlus 12's tables."""

from __future__ import annotations

import pytest

from einsim.errors import EinsimError
from einsim.explore import evaluate
from einsim.mappers.phone.flash_bench import iops, read_benchmark
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.powerinfer2 import ffn_offload_budget, prefill, prompt_activation

KIB, MIB = 1024, 1024 * 1024


@pytest.fixture(scope="module")
def phone():
    return load_device("oneplus12")


def test_one_issuer_reads_at_the_table_rows_and_several_lose_the_single_queues_share(phone) -> None:
    assert read_benchmark(phone, "sequential", 512 * KIB) == pytest.approx(4e9)
    assert read_benchmark(phone, "random", 4 * KIB, range_B=128 * MIB, core="little") == pytest.approx(761.87e6)
    one = read_benchmark(phone, "random", 4 * KIB, 1000, range_B=128 * MIB, core="mid")
    # 2 and 5 threads into 1 command queue: the device runs at 1 - 0.4 while they overlap (all of the time here)
    assert read_benchmark(phone, "random", 4 * KIB, 1000, range_B=128 * MIB, core="mid", issuers=2) == \
        pytest.approx(0.6 * one)
    assert read_benchmark(phone, "random", 4 * KIB, 1000, range_B=128 * MIB, core="mid", issuers=5) == \
        pytest.approx(0.6 * one)
    assert iops(phone, 4 * KIB, range_B=128 * MIB, core="big") == pytest.approx(1076.10e6 / 4096)


def test_uneven_issuers_overlap_only_while_both_read(phone) -> None:
    # 3 requests on 2 issuers: streams of 2t and t device-seconds (t = 4 KiB at 1.0761 GB/s); while both read
    # the device serves 0.6 device-s/s, 0.3 to each, so the short one ends at t / 0.3; the long one's last t alone
    t = 4096 / 1076.10e6
    makespan = t / 0.3 + t
    assert read_benchmark(phone, "random", 4 * KIB, 3, range_B=128 * MIB, core="big", issuers=2) == \
        pytest.approx(3 * 4096 / makespan)


def test_a_bad_benchmark_is_refused(phone) -> None:
    with pytest.raises(EinsimError, match="at least|>= 1"):
        read_benchmark(phone, "random", 4096, requests=0)


def test_prefill_random_loads_cost_the_tables_throughput_ratio(phone) -> None:
    fp = footprint("bamboo_7b")
    b = ffn_offload_budget(fp, 0.5)
    seq, rnd = prefill(phone, fp, b), prefill(phone, fp, b, load="random")
    # the same bytes at 4 GB/s (512 KiB sequential) or 1.0761 GB/s (4 KiB random from the big core, range < 128 MiB)
    assert rnd.busy_s["io"] / seq.busy_s["io"] == pytest.approx(4e9 / 1076.10e6)
    with pytest.raises(EinsimError, match="sequential"):
        prefill(phone, fp, b, load="strided")


def test_prompt_activation_grows_with_the_prompt() -> None:
    fp = footprint("bamboo_7b")
    one, many = prompt_activation(fp, 1), prompt_activation(fp, 128)
    assert 0.0 < one < many <= 1.0


def test_qnn_runs_every_weight_from_dram_on_the_npu_and_refuses_a_budget_it_does_not_fit(phone) -> None:
    fp = footprint("bamboo_7b")
    r = evaluate("oneplus12", model="bamboo_7b", phase="decode", seq_len=128, mapper="qnn")
    assert r.latency_s >= fp.params * INT4_B / 56e9  # every weight at the NPU's DRAM bandwidth, at least
    assert r.bytes_per_level["flash"] == 0.0 and "every MAC on the NPU" in r.notes[0]
    with pytest.raises(EinsimError, match="keeps every weight in DRAM"):
        evaluate("oneplus12", model="bamboo_7b", phase="decode", seq_len=128, mapper="qnn",
                 mapper_options={"memory_GB": 2.0})
