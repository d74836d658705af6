"""--set overrides: by component name then field; unknown paths list the nearest valid ones."""

import pytest

from einsim.arch import load_arch, parse_override, valid_paths
from einsim.arch.load import bundled_dir
from einsim.errors import EinsimError

FUSEMAX = str(bundled_dir() / "fusemax.yaml")


def test_shape_and_capacity_overrides():
    arch = load_arch(FUSEMAX, overrides=["Array2D.shape=[128,128]", "GlobalBuffer.capacity_B=8MiB"])
    assert arch.component("Array2D").pe_count == 128 * 128
    assert arch.component("GlobalBuffer").capacity == 8 * 2**20
    assert arch.instances("RF2D") == 128 * 128


def test_override_in_another_unit_spelling_replaces_the_field():
    arch = load_arch(FUSEMAX, overrides=["Array2D.ops.mac.energy_J=1e-12", "GlobalBuffer.read_energy_pJ=5"])
    assert arch.op_cost("Array2D", "mac").energy_J == pytest.approx(1e-12)
    assert arch.component("GlobalBuffer").read_energy_J == pytest.approx(5e-12)


def test_top_level_and_mapping_overrides():
    arch = load_arch(FUSEMAX, overrides={"clock_Hz": "1 GHz", "DRAM.bandwidth_Bps": "50 GiB/s"})
    assert arch.clock_Hz == 1e9
    assert arch.component("DRAM").bandwidth_Bps == 50 * 2**30


def test_override_can_set_an_unset_optional_field():
    arch = load_arch(FUSEMAX, overrides=["DRAM.channels=8", "DRAM.efficiency.same_channel=0.5",
                                         "DRAM.efficiency.cross_channel=0.25"])
    dram = arch.component("DRAM")
    assert dram.channel_bandwidth_Bps(2) == pytest.approx(400 * 2**30 / 8 * 2 * 0.5)


def test_overrides_do_not_change_the_file_data():
    load_arch(FUSEMAX, overrides=["Array2D.shape=[2,2]"])
    assert load_arch(FUSEMAX).component("Array2D").pe_count == 65536


@pytest.mark.parametrize(
    "override, fragments",
    [
        ("GlobalBufer.capacity_B=8MiB", ["unknown override path 'GlobalBufer.capacity_B'", "GlobalBuffer.capacity_B"]),
        ("GlobalBuffer.capacty_B=8MiB", ["unknown override path", "GlobalBuffer.capacity_B"]),
        ("Array2D.ops.macc.energy_pJ=1", ["unknown override path", "Array2D.ops.mac.energy_pJ"]),
        ("Array2D=3", ["name a field of the component", "Array2D."]),
        ("Array2D.shape.7=3", ["unknown override path 'Array2D.shape.7'"]),
    ],
)
def test_bad_override_path(override, fragments):
    with pytest.raises(EinsimError) as exc:
        load_arch(FUSEMAX, overrides=[override])
    message = str(exc.value)
    assert message.startswith("--set: ")
    for fragment in fragments:
        assert fragment in message, message


def test_bad_override_value_names_the_override():
    with pytest.raises(EinsimError) as exc:
        load_arch(FUSEMAX, overrides=["GlobalBuffer.capacity_B=5GHz"])
    message = str(exc.value)
    assert message.startswith("--set GlobalBuffer.capacity_B=5GHz: components.GlobalBuffer.capacity_B")
    assert "is a frequency but bytes" in message


def test_override_without_equals():
    with pytest.raises(EinsimError, match="is not PATH=VALUE"):
        parse_override("Array2D.shape")


def test_values_are_yaml_never_evaluated():
    assert parse_override("A.shape=[128, 128]") == ("A.shape", [128, 128])
    assert parse_override("A.capacity_B=8MiB") == ("A.capacity_B", "8MiB")
    assert parse_override("A.x=__import__('os')") == ("A.x", "__import__('os')")


def test_valid_paths_cover_fields_and_entries():
    paths = valid_paths(load_arch(FUSEMAX).model_dump(mode="json"))
    for p in ("clock_Hz", "GlobalBuffer.capacity_B", "Array2D.shape", "Array2D.ops.exp.compose", "RF2D.entries"):
        assert p in paths


def test_null_clears_an_optional_field_in_any_spelling():
    arch = load_arch(FUSEMAX, overrides=["RF2D.area_per_bit_um2=null", "RF2D.area_um2=16849"])
    assert arch.component("RF2D").area_per_bit_m2 is None
    assert arch.component("RF2D").instance_area_m2() == pytest.approx(16849e-12)
