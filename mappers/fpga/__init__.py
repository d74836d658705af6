"""FlightLLM on FPGAs: CSD-chain compute model, HBM/weight-format model, lowering to instruction queues.

Public API of the FPGA family (what a reproduction, a notebook or a user script imports; the
modules under it are internal)::

    from einsim.mappers.fpga import TARGETS, decode_step, prefill, end_to_end, GPURoofline

- ``TARGETS``: FlightLLM's configurations (``"U280"``, ``"VHK158"``: device, weight format, how
  several cores run); ``decode_step(target, model, context_len[, on_chip])`` and
  ``prefill(target, model, seq_len)`` simulate one step at its length bucket (a ``QueueRun``:
  ``latency_s``, ``busy_s`` per queue, HBM bytes and utilisation); ``end_to_end(target, model,
  prefill_len, decode_len)`` is the artifact's rule, one prefill plus every decode bucket;
  ``contexts(prefill_len, decode_len)`` the decode buckets such a run visits.
- ``run_decode(device, fmt, model, context_len)``: one decode step on any device and weight format.
- ``GPURoofline`` (``from_arch``, ``step_s``) and ``GPU_DECODE_BW_UTILIZATION``: the GPU baselines.
- ``BlockMix``, ``CSDChain``, ``WeightFormat``, ``FPGADevice``, ``device_from_arch``: the pieces a
  design study varies.

Any cascade or model also runs through ``einsim.explore.evaluate`` with the registered mappers
``flightllm`` and ``fpga``.
"""

import importlib
from typing import Any

# public name -> module; imported on first use (the simulator loads numba, the registry must not)
_WHERE = {
    "TARGETS": "flightllm", "Target": "flightllm", "contexts": "flightllm", "decode_step": "flightllm",
    "decode_latency_table": "flightllm", "end_to_end": "flightllm", "prefill": "flightllm",
    "run_decode": "flightllm", "GPURoofline": "baselines", "GPU_DECODE_BW_UTILIZATION": "baselines",
    "BlockMix": "csd", "CSDChain": "csd", "WeightFormat": "memory", "FPGADevice": "device",
    "device_from_arch": "device",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'einsim.mappers.fpga' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"einsim.mappers.fpga.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_WHERE)
