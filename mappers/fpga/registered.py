"""FlightLLM as registry mapper ``flightllm``: one decode step or one prefill of a decoder model preset,
lowered to FlightLLM instruction queues and simulated on an FPGA design (batch 1).

    einsim eval --arch u280 --model llama2_7b --phase decode --seq 512 --mapper flightllm

It takes the whole model (``takes_model``): ``seq`` is the KV-cache length in decode (rounded up
to the 16-token bucket) or the prompt length in prefill (rounded up to 128), as in the
reproduction (``einsim.mappers.fpga.flightllm``). Options:

- ``sparsity``: an N:M pattern from the design's ``MPE.sparsity_patterns`` (``--mapper-option
  sparsity=8:16``; quoted in YAML, ``'8:16'``, which YAML 1.1 would read as 496) applied to every decoder-layer weight, stored as INT8 values plus a 4-bit index per
  nonzero; the LM head stays dense INT8. Default: the reproduction's weight format for the
  bundled devices (U280: 4.1 bit/param mixed precision, VHK158: INT8; q/k N:M at 0.7 in both),
  dense INT8 for any other design.
- ``on_chip``: always-on-chip decode (default true); false writes every activation back to HBM.
- ``semantics``: ``board`` (cores simulated, each with its share of the HBM channels) or
  ``artifact`` (one stream, every instruction time divided by cores × scaling efficiency);
  ``ld_channels``: HBM channels one LD spreads over (artifact only). Defaults: the
  reproduction's for the bundled devices (VHK158: artifact, 16), else board.

The Result: latency of the step, energy = board power × latency (0 when the design has no
``power_W``), HBM bytes of the whole device, and busy fractions of the busiest core's MM, MV and
SFU (MISC) queues plus ``HBM`` (device bytes / peak bandwidth, the whole-run HBM utilization).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from einsim.arch import Architecture
from einsim.einsum import Cascade
from einsim.einsum.models import Decoder, Plan, expand
from einsim.errors import EinsimError
from einsim.mappers.fpga.cascade import ModelPolicy, Residency, finish, lower_cascade, lower_model
from einsim.mappers.fpga.csd import BlockMix
from einsim.mappers.fpga.device import FPGADevice, device_from_arch
from einsim.mappers.fpga.lower import DECODE_BUCKET, PREFILL_BUCKET, Lowered, bucket, check_capacity, lower, model_named
from einsim.mappers.fpga.memory import WeightFormat
from einsim.mappers.registry import register
from einsim.sim.result import Result

if TYPE_CHECKING:
    from einsim.sim.fpga import QueueRun
    from einsim.mappers.fpga.flightllm import Target

OPTIONS = ("sparsity", "on_chip", "semantics", "ld_channels")
LAYER_WEIGHTS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
COMPUTE_QUEUES = ("MM", "MV", "MISC")


def _target(arch: Architecture) -> Target | None:
    """The reproduction's configuration of this device (matched by the design's name), if any."""
    from einsim.mappers.fpga.flightllm import TARGETS

    return next((t for t in TARGETS.values() if t.device.name == arch.name), None)


def check_sparsity(value: Any) -> None:
    """The design-independent check of the ``sparsity`` option (a sweep checks it where the value
    is written; the design's own patterns are checked when the point runs)."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]+:[0-9]+", value):
        return
    hint = ""
    if isinstance(value, int) and not isinstance(value, bool):
        n, m = divmod(value, 60)
        hint = f" (YAML 1.1 reads an unquoted {n}:{m} as the base-60 number {value}: quote it, '{n}:{m}')"
    raise EinsimError(f"mapper flightllm: sparsity needs an N:M pattern string such as '8:16' (one of the design's "
                      f"MPE.sparsity_patterns), got {value!r}{hint}")


def nm_format(pattern: Any, allowed: list[str], weights: tuple[str, ...] = LAYER_WEIGHTS) -> WeightFormat:
    """The weight format of the ``sparsity`` option: ``pattern`` (an N:M string from the design's
    ``MPE.sparsity_patterns``) on every weight in ``weights``; a bad value says what is accepted."""
    accepted = (f"accepted: the design's MPE.sparsity_patterns, {', '.join(repr(p) for p in allowed)}" if allowed
                else "the design's MPE declares no sparsity_patterns, so none is accepted")
    if not isinstance(pattern, str) or not pattern.strip():
        hint = ""
        if isinstance(pattern, int) and not isinstance(pattern, bool):
            as_nm = [p for p in allowed if (lambda n, m: int(n) * 60 + int(m))(*p.split(":")) == pattern]
            if as_nm:
                hint = f" (YAML 1.1 reads an unquoted {as_nm[0]} as the base-60 number {pattern}: quote it, '{as_nm[0]}')"
        raise EinsimError(f"mapper flightllm: sparsity needs an N:M pattern such as '8:16', got {pattern!r}; {accepted}{hint}")
    if pattern not in allowed:
        raise EinsimError(f"mapper flightllm: sparsity {pattern!r} is not an N:M pattern of this design; {accepted}")
    n, m = (int(x) for x in pattern.split(":"))
    if n == 0:
        raise EinsimError(f"mapper flightllm: sparsity {pattern!r} (N = 0) removes every weight; {accepted} with N > 0")
    return WeightFormat(f"INT8, {pattern} N:M on every layer weight", 8, {op: BlockMix.uniform(n, m) for op in weights},
                        source="mapper option sparsity")


def _device(arch: Architecture, target: Target | None, semantics: str | None, ld_channels: int | None,
            mapper: str = "flightllm") -> FPGADevice:
    semantics = semantics or (target.semantics if target else "board")
    if semantics not in ("board", "artifact"):
        raise EinsimError(f"mapper {mapper}: semantics must be 'board' or 'artifact', got {semantics!r}")
    if ld_channels is None and target is not None and semantics == target.semantics:
        ld_channels = target.ld_channels
    try:
        return device_from_arch(arch, semantics, ld_channels)  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError) as exc:
        raise EinsimError(f"mapper {mapper}: {exc}") from None


def to_result(run: QueueRun, device: FPGADevice, name: str, phase: str) -> Result:
    busy = {q: run.busy_s[q] for q in COMPUTE_QUEUES if run.busy_s[q] > 0}
    busy["HBM"] = run.hbm_bytes / run.peak_hbm_Bps
    energy = (device.power_W or 0.0) * run.latency_s
    breakdown = [{"component": "board", "action": phase, "count": 1, "energy_J": energy}] if device.power_W else []
    return Result(name, run.latency_s, energy, run.latency_s * device.clock_Hz, {"HBM": run.hbm_bytes}, busy,
                  {u: run.latency_s for u in busy}, breakdown)


@register("flightllm")
def flightllm(arch: Architecture, plan: Plan, sparsity: str | None = None, on_chip: bool = True,
              semantics: str | None = None, ld_channels: int | None = None, **options: Any) -> Result:
    if options:
        raise EinsimError(f"mapper flightllm: unknown option(s) {', '.join(options)} (valid: {', '.join(OPTIONS)})")
    # the simulator loads numba: imported when the mapper runs, so loading the registry stays fast
    from einsim.mappers.fpga.flightllm import run_decode

    if not isinstance(plan, Plan):
        raise EinsimError("mapper flightllm maps a whole model: give a model, phase and seq_len")
    if plan.batch != 1:
        raise EinsimError(f"mapper flightllm models batch 1 (FlightLLM's setting), got batch {plan.batch}")
    target = _target(arch)
    device = _device(arch, target, semantics, ld_channels)
    if not isinstance(on_chip, bool):
        raise EinsimError(f"mapper flightllm: on_chip must be true or false, got {on_chip!r}")
    if sparsity is not None:
        fmt = nm_format(sparsity, list(arch.component("MPE").sparsity_patterns))  # device_from_arch checked MPE
    else:
        fmt = target.fmt if target else WeightFormat("INT8 dense", 8)
    model = model_named(plan.model)
    try:
        if not isinstance(model, Decoder):  # any other model: the general lowering under FlightLLM's rules
            if not on_chip:
                raise ValueError("on_chip: false (activations written back) is modelled for decoder LLMs only")
            if sparsity is not None:
                layer_ops = tuple(op.name for lt in plan.layer_types for op in lt.ops)
                fmt = nm_format(sparsity, list(arch.component("MPE").sparsity_patterns), layer_ops)
            run = flightllm_general(plan, device, fmt).run(device)
        elif plan.phase == "decode":
            assert plan.context_len is not None
            run = run_decode(device, fmt, plan.model, plan.context_len, on_chip)
        else:
            assert plan.seq_len is not None
            run = lower(plan.model, device, fmt, "prefill", seq_len=bucket(plan.seq_len, PREFILL_BUCKET),
                        on_chip=on_chip).run(device)
    except ValueError as exc:  # a model that does not fit the HBM
        raise EinsimError(f"mapper flightllm: {exc}") from None
    return to_result(run, device, f"{plan.model} {plan.phase}:flightllm@{arch.name}", plan.phase)


def flightllm_general(plan: Plan, device: FPGADevice, fmt: WeightFormat) -> Lowered:
    """FlightLLM's rules over the general lowering: lengths rounded up to its buckets, activations on
    chip, MV re-tiled so double buffering hides the weight loads (Eq. 3)."""
    if plan.phase == "decode":
        assert plan.context_len is not None
        plan = expand(plan.model, "decode", context_len=bucket(plan.context_len, DECODE_BUCKET), batch=plan.batch)
    else:
        assert plan.seq_len is not None
        plan = expand(plan.model, plan.phase, seq_len=bucket(plan.seq_len, PREFILL_BUCKET), batch=plan.batch)
    low = lower_model(plan, device, ModelPolicy(fmt, retile=True))
    check_capacity(plan.model, low, device)
    return low


flightllm.takes_model = True  # type: ignore[attr-defined]
flightllm.option_checks = {"sparsity": check_sparsity}  # type: ignore[attr-defined]


FPGA_OPTIONS = ("semantics", "ld_channels")


@register("fpga")
def fpga(arch: Architecture, cascade: Cascade, semantics: str | None = None, ld_channels: int | None = None,
         **options: Any) -> Result:
    """Any cascade on an FPGA DSP-chain design through the general lowering (`mappers/fpga/cascade.py`):
    every input loaded from HBM and every output stored, dense INT8, the MV mode at its full width."""
    if options:
        raise EinsimError(f"mapper fpga: unknown option(s) {', '.join(options)} (valid: {', '.join(FPGA_OPTIONS)})")
    if not isinstance(cascade, Cascade):
        raise EinsimError("mapper fpga maps a workload (a cascade); for a whole model use --mapper flightllm")
    device = _device(arch, _target(arch), semantics, ld_channels, "fpga")
    low, _ = lower_cascade(cascade, device, WeightFormat("INT8 dense", 8), Residency())
    run = finish(low).run(device)
    return to_result(run, device, f"{cascade.name}:fpga@{arch.name}", "cascade")
