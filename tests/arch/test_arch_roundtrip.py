"""Property: a random valid spec dumped to YAML and loaded again is unchanged."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from einsim.arch import dump_arch, load_arch
from einsim.arch.load import bundled_dir

positive = st.floats(min_value=1e-3, max_value=1e12, allow_nan=False, allow_infinity=False)
fraction = st.floats(min_value=0.01, max_value=1.0)
count = st.integers(min_value=1, max_value=64)
source = st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20))


def quantity(unit: str, scale: float = 1.0):
    """Either a plain SI number or the same value written with a unit."""
    return st.one_of(
        positive.map(lambda x: x * scale),
        st.integers(min_value=1, max_value=4096).map(lambda n: f"{n} {unit}"),
    )


def ops():
    primitive = st.fixed_dictionaries(
        {"energy_pJ": positive},
        optional={"cycles": st.integers(1, 8), "pipelined": st.booleans(), "area_um2": positive, "source": source},
    )
    return st.dictionaries(st.sampled_from(["mac", "add", "max", "divide"]), primitive, min_size=1).flatmap(
        lambda table: st.booleans().map(
            lambda comp: {**table, "exp": {"compose": {next(iter(table)): 6}}} if comp else table
        )
    )


def dram():
    return st.fixed_dictionaries(
        {"kind": st.just("dram"), "bandwidth_Bps": quantity("GB/s")},
        optional={
            "capacity_B": quantity("GiB"),
            "channels": count,
            "efficiency": st.fixed_dictionaries({"same_channel": fraction, "cross_channel": fraction}),
            "source": source,
        },
    ).flatmap(
        lambda d: st.one_of(
            st.just(d),
            st.fixed_dictionaries({"access_energy_pJ": positive, "access_bits": st.sampled_from([32, 64])}).map(
                lambda e: {**d, **e}
            ),
        )
    )


def buffer(parent: str):
    return st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["sram", "regfile"]),
            "inside": st.just(parent),
            "capacity_B": quantity("KiB"),
            "width_bits": st.sampled_from([16, 64, 512, 4096]),
        },
        optional={
            "banks": count,
            "read_energy_pJ": positive,
            "write_energy_pJ": positive,
            "area_per_bit_um2": positive,
            "sources": st.dictionaries(st.sampled_from(["capacity_B", "banks"]), st.text(max_size=10), max_size=2),
        },
    )


def pe_array(parent: str):
    return st.fixed_dictionaries(
        {
            "kind": st.just("pe_array"),
            "inside": st.just(parent),
            "shape": st.lists(st.integers(1, 512), min_size=1, max_size=3),
            "ops": ops(),
        },
        optional={"clock_Hz": quantity("MHz"), "word_bits": st.sampled_from([8, 16, 32])},
    )


def flash():
    row = st.fixed_dictionaries(
        {"pattern": st.sampled_from(["sequential", "random"]), "throughput_Bps": quantity("MB/s")},
        optional={"range_B": quantity("MiB"), "core": st.sampled_from(["big", "little"]), "threads": count},
    )
    rows = st.lists(row, min_size=1, max_size=5).map(
        lambda rs: [{**r, "block_B": 4096 * 2**i} for i, r in enumerate(rs)]
    )
    return st.fixed_dictionaries(
        {"kind": st.just("flash"), "read_throughput": rows}, optional={"command_queues": count}
    )


def others():
    return st.one_of(
        st.fixed_dictionaries(
            {"kind": st.just("cpu"), "clusters": st.dictionaries(
                st.sampled_from(["big", "mid", "little"]),
                st.fixed_dictionaries({"cores": count, "clock_Hz": quantity("GHz"),
                                       "macs_per_cycle": st.dictionaries(st.sampled_from(["fp32", "int8"]), positive)}),
                min_size=1)}
        ),
        st.fixed_dictionaries(
            {"kind": st.just("gpu"), "peak_ops_per_s": st.dictionaries(st.sampled_from(["fp16", "fp32"]), positive, min_size=1)},
            optional={"power_W": positive},
        ),
        st.fixed_dictionaries(
            {"kind": st.just("dsp_engine"), "dsp_count": count, "macs_per_dsp_per_cycle": st.just({"int8": 2.0})},
            optional={"mm_parallelism": st.lists(count, min_size=3, max_size=3),
                      "sparsity_patterns": st.sampled_from([["2:4"], ["2:16", "16:16"]]),
                      "core_scaling_efficiency": fraction, "cores": count},
        ),
    )


@st.composite
def specs(draw):
    comps = {"DRAM": draw(dram()), "Buf": draw(buffer("DRAM")), "PE": draw(pe_array("Buf"))}
    if draw(st.booleans()):
        comps["RF"] = {**draw(buffer("PE")), "per_pe": True}
    if draw(st.booleans()):
        comps["Flash"] = draw(flash())
    if draw(st.booleans()):
        comps["Other"] = draw(others())
    top = {"name": draw(st.text(min_size=1, max_size=12)), "clock_Hz": draw(quantity("MHz")), "components": comps}
    if draw(st.booleans()):
        top["source"] = draw(source)
    return top


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_random_valid_spec_round_trips(data):
    arch = load_arch(yaml.safe_dump(data))
    text = dump_arch(arch)
    again = load_arch(text)
    assert again.model_dump() == arch.model_dump()
    assert dump_arch(again) == text


def test_bundled_designs_round_trip():
    for path in sorted(bundled_dir().glob("*.yaml")):
        arch = load_arch(str(path))
        again = load_arch(dump_arch(arch))
        assert again.model_dump() == arch.model_dump(), path.name
