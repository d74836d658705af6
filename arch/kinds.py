"""The component kinds a spec may name, as one discriminated union."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from einsim.arch.compute import CPU, GPU, NPU, DSPEngine, PEArray, SystolicArray
from einsim.arch.spec import Component
from einsim.arch.storage import DRAM, Buffer, Flash

AnyComponent = Annotated[
    Union[DRAM, Buffer, PEArray, SystolicArray, DSPEngine, CPU, NPU, GPU, Flash], Field(discriminator="kind")
]
COMPONENT_KINDS: dict[str, type[Component]] = {
    "dram": DRAM,
    "sram": Buffer,
    "regfile": Buffer,
    "pe_array": PEArray,
    "systolic": SystolicArray,
    "dsp_engine": DSPEngine,
    "cpu": CPU,
    "npu": NPU,
    "gpu": GPU,
    "flash": Flash,
}
COMPUTE_KINDS = ("pe_array", "systolic", "dsp_engine", "cpu", "npu", "gpu")
