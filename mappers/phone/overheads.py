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
# The NPU graph is run with QNN's QnnGraph_execute, which "synchronously execute[s] a finalized graph"
# (Qualcomm AI Engine Direct SDK reference, QnnGraph.h): the calling CPU thread is blocked for the whole
# execution, so one compute thread is out of the CPU's work while the NPU runs. source: the QNN API
# reference; PowerInfer-2 does not name its API. The other end of the range is QnnGraph_executeAsync
# (queued, the caller not blocked), i.e. False; docs/phone.md gives the effect of both.
NPU_CALL_HOLDS_THREAD = True
# The neuron cache's bookkeeping, per access of the segmented cache (fpga_phone.md 2(a): hot region a
# cluster-granularity LRU, cold region a neuron-granularity LRU). An LRU over a slot array: a lookup
# probes the neuron's index entry; a hit moves the entry to the front of the recency list (unlink: the
# two neighbours; link at the head); a miss takes the tail's slot (unlink the tail, clear its index
# entry) and links the new entry. source: [D] from that data structure: 3 cache-line touches per hit,
# 4 per miss (probe, tail unlink, index clear, link); 1 per lookup of a fixed resident set (a bitmap).
CACHE_HIT_TOUCHES = 3
CACHE_MISS_TOUCHES = 4
CACHE_FIXED_TOUCHES = 1
# Seconds per touched cache line of the cache's index and recency list. source: estimate, range 5-115 ns:
# 5 ns when a layer's index (14336 entries) stays in the A720's 512 KB L2; 115 ns when every touch misses
# to DRAM (the Snapdragon 888's full-random memory latency, 114 ns, AnandTech "Snapdragon 888 vs Exynos
# 2100", 2021) because a token's GBs of weights evict it between visits; chosen 25 ns, the geometric
# midpoint (sorted neuron ids give the prefetchers some locality).
CACHE_TOUCH_S = 25e-9
