"""CascadeMapping: plain-data round trip and validation messages that name the broken constraint."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.errors import EinsimError
from einsim.mappers.cascade_mapping import CascadeMapping, validate

HERE = Path(__file__).parent / "fused"
ARCH = load_arch(HERE / "tiny_arch.yaml")
CHAIN = load_workload(str(HERE / "chain2.yaml"))
GOOD = """
cascade: chain2
einsums:
  - einsum: H
    unit: Array
    levels:
      - {target: DRAM, temporal: {m: 2}}
      - {target: GlobalBuffer, temporal: {m: 2}, spatial: [{d: 2}, {i: 2}]}
      - {target: RF}
  - einsum: Y
    unit: Array
    levels:
      - {target: DRAM, temporal: {m: 2}}
      - {target: GlobalBuffer, temporal: {m: 2}, spatial: [{i: 2}, {d: 2}]}
      - {target: RF}
fusion:
  - einsums: [H, Y]
    loops: [{index: m, factor: 2, level: DRAM}]
    homes: {H: GlobalBuffer}
"""


def test_round_trip_and_valid() -> None:
    cm = CascadeMapping.from_yaml(GOOD)
    assert CascadeMapping.from_yaml(cm.to_yaml()) == cm
    assert CascadeMapping.from_dict(__import__("json").loads(cm.to_json())) == cm
    validate(cm, CHAIN, ARCH)
    assert cm.fused_tensors() == {"H": "GlobalBuffer"}


@pytest.mark.parametrize("edit,message", [
    (lambda t: t.replace("      - {target: RF}\n  - einsum: Y", "      - {target: GlobalBuffer, keep: [X]}\n"
                         "      - {target: RF}\n  - einsum: Y", 1), "lists level GlobalBuffer twice"),
    (lambda t: t.replace("einsum: Y", "einsum: H"), "maps Einsum H twice"),
    (lambda t: t.replace("spatial: [{d: 2}, {i: 2}]", "spatial: [{d: 2, i: 2}]"), "along axis 0 multiply to 4, more than its fan-out 2"),
    (lambda t: t.replace("{index: m, factor: 2, level: DRAM}", "{index: m, factor: 4, level: DRAM}"),
     "not the group's shared loops"),
    (lambda t: t.replace("      - {target: DRAM, temporal: {m: 2}}\n      - {target: GlobalBuffer, temporal: {m: 2}, spatial: [{i",
                         "      - {target: DRAM, temporal: {m: 2, d: 2}, order: [m, d]}\n      - {target: GlobalBuffer, temporal: {m: 2}, spatial: [{i")
                         .replace("[{i: 2}, {d: 2}]", "[{i: 2}]"), "every loop above a fused intermediate's home is shared"),
    (lambda t: t.replace("homes: {H: GlobalBuffer}", "homes: {Y: GlobalBuffer}"), "Y is not an intermediate of the group"),
    (lambda t: t.replace("homes: {H: GlobalBuffer}", "homes: {H: L2}"), "home L2 of H is not on the path"),
    (lambda t: t.split("fusion:")[0].replace("- einsum: Y", "- einsum: Q"), "does not have"),
])
def test_refusals_name_the_constraint(edit, message) -> None:
    with pytest.raises(EinsimError, match=message):
        validate(CascadeMapping.from_yaml(edit(GOOD)), CHAIN, ARCH)
