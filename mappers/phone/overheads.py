"""Costs of the phone timing path that are neither bytes nor flash reads: CPU GEMV rates, NPU
invocations, CPU<->NPU synchronisation and buffer copies (PowerInfer-2's hybrid decode).

Each is an estimate with its range; docs/phone.md ("Compute and synchronisation constants") lists
the effect of both ends on the published targets. None is fitted to a published tokens/s.
"""

from __future__ import annotations

# INT4 GEMV on a CPU core runs at this share of the core's int8 SDOT peak (the arch's
# macs_per_cycle["int8"]): nibble unpack (and, shift), int8 widening and the fp16 scale multiply add
# 2-4 vector ops per 16 MACs. source: estimate, range 0.25-0.5.
INT4_GEMV_EFFICIENCY = 0.35
# Sparse GEMV (the predicted cold rows, gathered by index) at this share of the dense rate: one index
# load and a non-sequential row start per row of 4096. source: estimate, range 0.6-1.0.
SPARSE_GEMV_EFFICIENCY = 0.8
# One NPU graph execution as seen by the CPU (FastRPC call, cache maintenance, completion interrupt).
# source: estimate from the Hexagon SDK "System optimizations" page: a minimum of a few hundred µs per
# invocation on DSPs without IO-coherence, up to several ms with CPU sleep modes; an IO-coherent SoC with
# the CPU held awake is taken at 50-300 µs, geometric midpoint 120 µs.
NPU_INVOCATION_S = 120e-6
# The CPU's compute threads meet at the end of each layer's cold pipeline before the NPU's partial
# result is merged. source: estimate, a futex/spin barrier of 5 threads, range 5-30 µs.
CPU_BARRIER_S = 10e-6
# Activations copied per NPU call: the input vector in and the partial output back, fp16.
# source: [D] d_model x 2 B each way between the CPU's buffer and the NPU's shared (rpcmem) buffer.
ACTIVATION_B = 2.0
