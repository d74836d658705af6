"""LightMamba's mapping of Mamba-2 decode onto an FPGA (Wei et al., DATE 2025), as rules over the
general lowering (`einsim.mappers.fpga.cascade`).

Per layer the weights stream once through the matrix unit (in_proj, then out_proj), the layer's
state is loaded before its scan and written back after it, and activations stay on chip (FIFOs
between the units). LightMamba's rules, from reference/lightmamba.md §2:

- **Computation reordering**: in_proj's output rows are permuted so that the B and C tiles come
  first, then, per group of 8 heads, that group's dt, x and z; the scan of a head group starts
  while in_proj still produces the later groups. Without it the scan waits for all of in_proj.
- **Weight tiles sized to the FIFO**: a weight tile is the widest multiple of the unit's 8
  outputs whose two buffers fit the 1024-beat FIFO between the AXI port and the unit.
- **Host-side head**: the embedding and the final norm + LM head run on the host ARM, not the
  accelerator, so the step is the 64 Mamba layers.
- **A dedicated SSM unit**: every Einsum of the scan, C·h included, runs on the SSM unit's
  element-wise stages (the SFU queue), not the matrix unit.
- **One memory port in program order**: one HLS producer reads the conv weights and conv state, then
  the SSM state, streams the weights and writes the conv state and the SSM state back, in that
  order, on one AXI master: stores share the load queue (repo case/M_AXI_STATIC.cpp).
- **The layer's norms on the SSM unit**: RMSNorm 1 over d_model before in_proj and RMSNorm 2 over
  d_inner before out_proj (repo kernels RMSNORM_QUANT_1/2); each needs its whole input, so
  RMSNorm 2 lies between the last head group's scan and out_proj.
- **The online Hadamard rotation** of out_proj's input (the HTU: a 128-point FHT, then a 40-point
  ±1 transform across the 40 blocks, so it too needs the whole input) runs after RMSNorm 2, as the
  device's ``hadamard`` SFU passes over d_inner.

The layers are identical and the schedule is periodic, so a token is simulated as one and two
layers and extrapolated: T(L) = T(1) + (L - 1) · (T(2) - T(1)).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from einsim.arch import bundled_dir, load_arch
from einsim.einsum import load_workload
from einsim.einsum.models import Plan, expand
from einsim.mappers.fpga.cascade import Residency, finish, lower_cascade
from einsim.mappers.fpga.device import FPGADevice, device_from_arch
from einsim.mappers.fpga.lower import Lowered, _Lowering, model_named
from einsim.mappers.fpga.memory import WeightFormat
from einsim.sim.fpga_program import LD

SCALE_BITS_PER_WEIGHT = 2 * 3 / 128  # source: repo src/accumulator.h, GW=128, DW_WSCALE=3: two 3-bit exponents per 128 weights
W4A4 = WeightFormat("W4A4: INT4 weights + two 3-bit exponents per 128", 4 + SCALE_BITS_PER_WEIGHT,
                    source="LightMamba repo src/common.h, case/GEMM.cpp (lightmamba.md §1)")
W8A8 = WeightFormat("W8A8: INT8 weights + the same group scales", 8 + SCALE_BITS_PER_WEIGHT,
                    source="LightMamba W8A8 variant [secondary]; its scale layout was not recovered: "
                           "assumed as W4A4's (0.6% of the bytes)")
STATE_BYTES = (8 + 4 / 8) / 8  # source: repo case/HT_STATE.cpp: INT8 state + a 4-bit exponent per group of 8
CONV_BYTES = (8 + 4 / 8) / 8  # source: repo case/M_AXI_STATIC.cpp C_BITS: conv weights and conv state INT8 + a 4-bit exponent per 8
HEADS_PER_GROUP = 8  # source: repo case/B_BUFFER.cpp: B, C replayed R = 80/8 = 10 times, one per 8-head group
FIFO_BEATS = 1024  # source: repo ACCELERATOR.scala / M_AXI.scala: 512-1024-entry FIFOs after the AXI port
BEAT_BYTES = 32  # source: repo DW_MAXI = 256 bits
FORMATS = {"W4A4": W4A4, "W8A8": W8A8}


@functools.cache
def vck190() -> FPGADevice:
    return device_from_arch(load_arch(bundled_dir() / "vck190.yaml"), "board")


def weight_tile(device: FPGADevice, k: int, fmt: WeightFormat) -> int:
    """Columns per weight tile: the widest multiple of the unit's outputs whose two buffers of
    ``k`` rows fit the FIFO."""
    cols = FIFO_BEATS * BEAT_BYTES / (2 * k * fmt.bytes_per_weight(""))
    return max(1, int(cols // device.mv_pn_max)) * device.mv_pn_max


def lower_decode(device: FPGADevice, fmt: WeightFormat, model: str = "mamba2_2p7b", reorder: bool = True,
                 layers: int | None = None) -> Lowered:
    """One decode token of a Mamba-2 model's layers (the first ``layers`` of them) under LightMamba's rules."""
    plan: Plan = expand(model, "decode", context_len=1)
    (layer,) = plan.layer_types
    cfg = model_named(model)
    ops = {op.name: op for op in layer.ops}
    inp, scan, out = ops["in_proj"].bindings, ops["scan"].bindings, ops["out_proj"].bindings
    heads, groups = scan["H"], scan["H"] // HEADS_PER_GROUP
    bc = 2 * scan["N"]  # B and C (ngroups = 1)
    per_group = (inp["N"] - bc) // groups  # dt, x and z of 8 heads
    if bc + groups * per_group != inp["N"] or heads % HEADS_PER_GROUP:
        raise ValueError(f"{model}: in_proj width {inp['N']} does not split into B, C and {groups} head groups")
    low = _Lowering(device, fmt, True, device.mv_pn_max, weight_tile(device, inp["K"], fmt))
    low.store_queue = LD
    residency = Residency(standalone=False, weights=frozenset({"A", "DTB", "Dsk"}))
    whole = _ssd(tuple(sorted({**scan, "H": heads}.items())))
    part = _ssd(tuple(sorted({**scan, "H": HEADS_PER_GROUP}.items())))
    state_bytes = heads * scan["P"] * scan["N"] * STATE_BYTES
    # the causal conv1d over x, B and C: d_conv taps of weights and d_conv positions of state per channel
    conv_bytes = cfg.d_conv.value * (cfg.d_inner.value + 2 * cfg.groups.value * cfg.d_state.value) * CONV_BYTES
    prev: tuple = ()
    for _ in range(layer.layers if layers is None else layers):
        conv = low.load("conv", 2 * conv_bytes)  # the producer reads the conv weights and state first,
        state = low.load("state", state_bytes)  # then the layer's SSM state
        low.weight_bytes += conv_bytes
        low.kv_bytes += 2 * state_bytes + 2 * conv_bytes
        norm1 = (low.misc("norm1", inp["K"], "rmsnorm", prev),)  # the scan waits for the conv weights and state too
        if reorder:
            b_c = low.linear("in_proj", 1, inp["K"], bc, norm1)
            ready = []
            for g in range(groups):
                x = low.linear("in_proj", 1, inp["K"], per_group, norm1)
                ready += lower_cascade(part, device, fmt, residency, low, (b_c, x, state, conv), f"scan{g}.",
                                       on_sfu=True)[1]
        else:
            x = low.linear("in_proj", 1, inp["K"], inp["N"], norm1)
            ready = list(lower_cascade(whole, device, fmt, residency, low, (x, state, conv), "scan.", on_sfu=True)[1])
        norm2 = low.misc("norm2", out["K"], "rmsnorm", tuple(ready))
        htu = low.misc("htu", out["K"], "hadamard", (norm2,))
        prev = (low.linear("out_proj", 1, out["K"], out["N"], (htu,)),)
        low.store("conv", conv_bytes, (x,))  # after the weight stream: the conv state,
        low.store("state", state_bytes, tuple(ready))  # then the SSM state
    return finish(low)


@functools.lru_cache(maxsize=None)
def _ssd(bindings: tuple[tuple[str, int], ...]):
    return load_workload("mamba2_ssd", dict(bindings))


@dataclass(frozen=True)
class Token:
    latency_s: float
    bytes_per_layer: float  # weights, scales and state moved per layer
    busy_per_layer_s: dict[str, float]  # per queue, in the steady state

    @property
    def tokens_per_s(self) -> float:
        return 1.0 / self.latency_s


def decode_token(device: FPGADevice, fmt: WeightFormat, model: str = "mamba2_2p7b", reorder: bool = True) -> Token:
    """A decode token's latency from one- and two-layer simulations (the schedule is periodic)."""
    one, two = (lower_decode(device, fmt, model, reorder, n) for n in (1, 2))
    r1, r2 = one.run(device), two.run(device)
    layers = expand(model, "decode", context_len=1).layers
    return Token(r1.latency_s + (layers - 1) * (r2.latency_s - r1.latency_s), two.device_hbm_bytes - one.device_hbm_bytes,
                 {q: r2.busy_s[q] - r1.busy_s[q] for q in r1.busy_s})


def u280(macs: int, hbm_ports: int, ssm_lanes: int) -> FPGADevice:
    """LightMamba's U280 build as the VCK190 design widened: an MMU of ``macs`` 4-bit MACs per cycle
    (8-input trees, ``macs // 8`` outputs), ``hbm_ports`` 256-bit AXI ports to HBM at the 200 MHz
    clock, an SSM unit of ``ssm_lanes`` lanes. Buffers are unchanged (same BRAM/URAM as the VCK190)."""
    clock = 200e6  # source: lightmamba.md §2.5, U280 build at 200 MHz (one secondary note, id 59766781376)
    port_Bps = BEAT_BYTES * clock  # one 256-bit beat per cycle per port
    hbm_peak = 460e9  # source: AMD UG1393, 32 pseudo-channels x 14.375 GB/s (lightmamba.md §2.5)
    base = vck190()
    return base.with_(name="LightMamba-U280 (assumed)", clock_Hz=clock, mm_macs=macs, mv_pn_max=max(1, macs // 8),
                      sfu_lanes=ssm_lanes, channel_Bps=min(port_Bps, hbm_peak / 32), channels=32, ld_channels=hbm_ports,
                      hbm_capacity_B=8e9, power_W=None)


def u280_lanes_per_mac(macs: int) -> int:
    """SSM lanes scaled with the MMU (VCK190: 8 lanes beside 64 MACs)."""
    return max(8, math.ceil(macs / 64 * 8))
