"""Model presets (``designs/models/*.yaml``) and their expansion into per-layer workload cascades.

A preset names an architecture and gives every number with its source::

    name: LLaMA-2-13B
    architecture: decoder            # encoder | decoder | moe_decoder | mamba1 | mamba2 | based
    d_model: {value: 5120, source: "src: scan_workloads.md §6 (HF config.json)"}

A source starts with a tag, as in the reference notes: ``src:`` (read in a paper, config or code),
``derived:`` (say how), ``2nd-hand:`` or ``unverified:``. A number without one does not load.

``expand(model, phase, ...)`` turns a preset into a :class:`Plan`: the layer count and, per layer
type, the ops of one layer, each a bundled workload with its rank bindings. Conventions:

- Prefill processes ``batch × seq_len`` tokens; decode one new token per sequence (``batch``
  tokens) against a KV cache of ``context_len`` keys. Projections are GEMMs over those tokens.
- Attention instances are folded into the rank ``H = batch × query heads``. With GQA/MQA the K/V
  projections are ``kv_heads × head_dim`` wide, and each query head's attention instance reads its
  group's K and V; the cascade holds a copy of K/V per query head, so its op counts are exact and
  its K/V footprint is ``heads / kv_heads`` times the shared cache.
- Scans whose B/C inputs are shared across channels or heads (Mamba-1 S6, Mamba-2 SSD with one
  group) run once per sequence: their op ``count`` is ``batch``. BASED linear attention has
  independent heads, so batch is folded into its ``H``.
- Causal decoders use ``attention_1pass_causal`` in prefill (``based_swa`` when a sliding window
  is shorter than the sequence); encoders use the non-causal ``attention_1pass``.
- The tile ``M0`` is the largest divisor of the key count that is at most 256 (FuseMax's 256);
  Mamba-2's chunk ``Q`` is the largest divisor of the sequence at most the model's chunk size.
- Depthwise short convolutions (Mamba, BaseConv) are not GEMMs and have no workload: omitted.
- ``moe_ffn`` is written densely (every expert on every token); its expert op counts are
  ``experts / top_k`` times a routed implementation's.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from einsim.designs import names, resolve
from einsim.errors import EinsimError, Location, did_you_mean
from einsim.yamlsrc import YamlSource, load_yaml_file

if typing.TYPE_CHECKING:
    from einsim.einsum.cascade import Cascade

TAGS = ("src", "derived", "2nd-hand", "unverified")
PHASES = ("prefill", "decode")
ATTENTION_TILE = 256  # FuseMax's M0: the rows of its 2D array


# ----------------------------------------------------------------------------- schema


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Sourced(_Spec):
    source: str

    @field_validator("source")
    @classmethod
    def _tagged(cls, text: str) -> str:
        tag, colon, rest = text.partition(":")
        if not colon or tag.strip() not in TAGS or not rest.strip():
            raise ValueError(
                "a source starts with one of " + ", ".join(f"'{t}:'" for t in TAGS)
                + ' and says where the number comes from, e.g. "src: scan_workloads.md §6"'
            )
        return text

    @property
    def tag(self) -> str:
        return self.source.partition(":")[0].strip()


class Count(_Sourced):
    """A positive whole number with its source."""

    value: int = Field(gt=0, strict=True)


class Fraction(_Sourced):
    """A number in [0, 1] with its source."""

    value: float = Field(ge=0, le=1)


class Quantity(_Sourced):
    """A positive number with its source."""

    value: float = Field(gt=0)


class _Common(_Spec):
    name: str
    description: str = ""
    d_model: Count
    layers: Count
    vocab: Count | None = None  # an LM head is added to decoder plans when given

    _id: str = PrivateAttr("")
    _file: str = PrivateAttr("")

    @property
    def id(self) -> str:
        """The preset's id: its file name without ``.yaml``."""
        return self._id

    @property
    def file(self) -> str:
        return self._file


class Encoder(_Common):
    architecture: Literal["encoder"]
    heads: Count
    head_dim: Count
    ffn_dim: Count
    ffn: Literal["gelu", "relu"]


class Decoder(_Common):
    architecture: Literal["decoder"]
    heads: Count
    kv_heads: Count | None = None  # GQA/MQA; omitted means kv_heads = heads
    head_dim: Count
    ffn_dim: Count
    ffn: Literal["gelu", "relu", "swiglu", "drelu"]
    sliding_window: Count | None = None
    ffn_sparsity: Fraction | None = None  # fraction of FFN neurons inactive for a token
    active_params: Quantity | None = None  # parameters touched per token (sparse models)


class MoEDecoder(Decoder):
    architecture: Literal["moe_decoder"]  # type: ignore[assignment]
    experts: Count
    top_k: Count


class Mamba1(_Common):
    architecture: Literal["mamba1"]
    d_inner: Count
    d_state: Count
    dt_rank: Count
    d_conv: Count


class Mamba2(_Common):
    architecture: Literal["mamba2"]
    d_inner: Count
    heads: Count
    head_dim: Count
    d_state: Count
    groups: Count
    chunk_size: Count
    d_conv: Count


class Based(_Common):
    architecture: Literal["based"]
    heads: Count
    feature_dim: Count  # d' of the Taylor feature map (q and k are projected to heads × d')
    head_dim: Count  # d_v, also the sliding-window heads' width
    ffn_dim: Count
    window: Count
    la_layers: Count
    swa_layers: Count
    baseconv_layers: Count
    baseconv_expand: Count


Model = Union[Encoder, Decoder, MoEDecoder, Mamba1, Mamba2, Based]
ARCHITECTURES: dict[str, type[_Common]] = {
    "encoder": Encoder, "decoder": Decoder, "moe_decoder": MoEDecoder,
    "mamba1": Mamba1, "mamba2": Mamba2, "based": Based,
}


# ----------------------------------------------------------------------------- loading


def list_models() -> list[str]:
    """Ids of the bundled presets, sorted."""
    return names("models")


def load_model(name_or_path: str | Path) -> Model:
    """Load a preset file; a bare id (``llama2_7b``) finds the bundled preset."""
    return model_from_source(load_yaml_file(resolve(name_or_path, "models")))


def model_from_source(src: YamlSource) -> Model:
    """Validate loaded preset YAML; every error names the file, line and field path."""
    data = src.data
    top = Location(src.file, 1, 1)
    if not isinstance(data, dict):
        raise EinsimError("a model preset is a YAML mapping with name:, architecture: and sourced numbers", top)
    arch = data.get("architecture")
    if arch is None:
        raise EinsimError("missing required key 'architecture'" + did_you_mean("", ARCHITECTURES), top)
    if arch not in ARCHITECTURES:
        raise EinsimError(f"unknown architecture {arch!r}" + did_you_mean(str(arch), ARCHITECTURES), src.where("architecture"))
    cls = ARCHITECTURES[arch]
    try:
        model = cls.model_validate(data)
    except ValidationError as exc:
        raise _located(exc, cls, src) from None
    _check_consistency(model, src)
    model._id = Path(src.file).stem
    model._file = src.file
    return model  # type: ignore[return-value]


def _spec_class(annotation: object) -> type[_Spec] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, _Spec):
            return candidate
    return None


def _fields_at(cls: type[_Spec], path: tuple) -> list[str]:
    """The keys valid at a nested path of a preset (``()`` for the top level)."""
    for key in path:
        field = cls.model_fields.get(key)
        inner = _spec_class(field.annotation) if field else None
        if inner is None:
            return []
        cls = inner
    return list(cls.model_fields)


def _located(exc: ValidationError, cls: type[_Spec], src: YamlSource) -> EinsimError:
    errors = exc.errors()
    # a misspelt key also leaves a required one missing: report the unknown key, it says more
    err = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    loc = tuple(err["loc"])
    dotted = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}" + did_you_mean(str(loc[-1]), _fields_at(cls, loc[:-1]))
        where = src.where(*loc)
    elif kind == "missing":
        parent = ".".join(str(p) for p in loc[:-1])
        if loc[-1] == "source" and len(loc) > 1:
            message = f"{parent}: missing source; every number needs one, e.g. {{value: ..., source: \"src: ...\"}}"
        elif len(loc) > 1:
            message = f"{parent}: missing {loc[-1]!r}"
        else:
            absent = [e["loc"][0] for e in errors if e["type"] == "missing" and len(e["loc"]) == 1]
            errors = [e for e in errors if not (e["type"] == "missing" and len(e["loc"]) == 1)] + [err]
            keys = ", ".join(repr(k) for k in absent)
            message = f"missing required key{'s' if len(absent) > 1 else ''} {keys} for architecture {src.data['architecture']!r}"
        where = src.where(*loc[:-1])
    elif kind in ("model_type", "model_attributes_type") and isinstance(err["input"], (int, float)):
        message = f"{dotted}: give the number with its source, e.g. {loc[-1]}: {{value: {err['input']}, source: \"src: ...\"}}"
        where = src.where(*loc)
    else:
        message = f"{dotted}: {err['msg'].removeprefix('Value error, ')} (got {err['input']!r})"
        where = src.where(*loc)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return EinsimError(message, where)


def _check_consistency(model: _Common, src: YamlSource) -> None:
    def need(ok: bool, key: str, message: str) -> None:
        if not ok:
            raise EinsimError(f"{key}: {message}", src.where(key, "value"))

    if isinstance(model, Decoder) and model.kv_heads is not None:
        need(model.heads.value % model.kv_heads.value == 0, "kv_heads",
             f"{model.kv_heads.value} KV heads must divide the {model.heads.value} query heads")
    if isinstance(model, MoEDecoder):
        need(model.top_k.value <= model.experts.value, "top_k", f"top_k {model.top_k.value} exceeds {model.experts.value} experts")
        need(model.ffn in ("swiglu", "drelu"), "ffn", "moe_ffn experts are gated FFNs: use swiglu or drelu")
    if isinstance(model, Mamba2):
        need(model.heads.value * model.head_dim.value == model.d_inner.value, "heads",
             f"heads × head_dim = {model.heads.value * model.head_dim.value} must equal d_inner {model.d_inner.value}")
    if isinstance(model, Based):
        total = model.la_layers.value + model.swa_layers.value + model.baseconv_layers.value
        need(total == model.layers.value, "layers",
             f"{model.layers.value} layers but la + swa + baseconv layers = {total}")


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Op:
    """One op of a layer: a bundled workload at bound rank sizes, ``count`` times per layer."""

    name: str
    workload: str
    bindings: Mapping[str, int]
    count: int = 1
    note: str = ""

    def cascade(self) -> Cascade:
        from einsim.einsum.load import load_workload  # the parser: loaded when a cascade is needed

        return load_workload(self.workload, dict(self.bindings))


@dataclass(frozen=True)
class LayerType:
    """Layers that share one op list (a hybrid model has several)."""

    name: str
    layers: int
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Plan:
    """A model at one phase: its layer types and the ops outside the layers (the LM head)."""

    model: str
    phase: str
    batch: int
    seq_len: int | None
    context_len: int | None
    tokens: int  # new tokens processed: batch × seq_len in prefill, batch in decode
    layer_types: tuple[LayerType, ...]
    head: tuple[Op, ...] = ()

    @property
    def layers(self) -> int:
        return sum(lt.layers for lt in self.layer_types)

    def occurrences(self) -> Iterator[tuple[int, Op]]:
        """Every op with how often it runs in the whole model (layers × count per layer)."""
        for lt in self.layer_types:
            for op in lt.ops:
                yield lt.layers * op.count, op
        for op in self.head:
            yield op.count, op


def cascade_ops(cascade: Cascade) -> dict[str, int]:
    """Operations of a whole cascade by type (the sum of its Einsums' ``op_counts``)."""
    from einsim.einsum.analysis import op_counts
    total: dict[str, int] = {}
    for e in cascade.einsums:
        for kind, n in op_counts(e).items():
            total[kind] = total.get(kind, 0) + n
    return total


def total_ops(plan: Plan, names: set[str] | None = None) -> dict[str, int]:
    """Operations by type over the whole model (layers × ops), optionally only the ops named."""
    total: dict[str, int] = {}
    for times, op in plan.occurrences():
        if names is not None and op.name not in names:
            continue
        for kind, n in cascade_ops(op.cascade()).items():
            total[kind] = total.get(kind, 0) + times * n
    return dict(sorted(total.items()))


def _tile(n: int, limit: int) -> int:
    """The largest divisor of n that is at most limit."""
    return next(d for d in range(min(n, limit), 0, -1) if n % d == 0)


def _gemm(name: str, m: int, k: int, n: int) -> Op:
    return Op(name, "gemm", {"M": m, "K": k, "N": n})


@dataclass(frozen=True)
class _Shape:
    """What one expansion needs to know about the phase."""

    decode: bool
    batch: int
    seq: int  # new positions per sequence: seq_len in prefill, 1 in decode
    context: int  # keys each new query sees

    @property
    def tokens(self) -> int:
        return self.batch * self.seq


def _attention(s: _Shape, heads: int, head_dim: int, causal: bool, window: int | None) -> Op:
    """Softmax attention; ``window`` (a sliding window shorter than the keys) selects based_swa."""
    h, e = s.batch * heads, head_dim
    if s.decode:
        keys = min(s.context, window) if window else s.context
        return Op("attention", "attention_decode", {"H": h, "E": e, "F": e, "M": keys, "M0": _tile(keys, ATTENTION_TILE)})
    if window:
        return Op("attention", "based_swa", {"H": h, "E": e, "F": e, "M": s.seq, "P": s.seq, "W": window})
    m0 = _tile(s.seq, ATTENTION_TILE)
    if causal:
        return Op("attention", "attention_1pass_causal", {"H": h, "E": e, "F": e, "M": s.seq, "M0": m0})
    return Op("attention", "attention_1pass", {"H": h, "E": e, "F": e, "M": s.seq, "P": s.seq, "M0": m0})


def _ffn(s: _Shape, kind: str, d: int, i: int) -> Op:
    bind = {"M": s.tokens, "D": d, "I": i}
    if kind == "gelu":
        return Op("ffn", "ffn", bind)
    if kind == "relu":
        return Op("ffn", "ffn", bind, note="ffn.yaml applies gelu; this model uses relu (same MACs)")
    if kind == "drelu":
        return Op("ffn_gated", "ffn_gated", bind, note="ffn_gated.yaml applies silu; this model uses dReLU (same MACs)")
    return Op("ffn_gated", "ffn_gated", bind)


def _transformer_layer(model: Encoder | Decoder, s: _Shape) -> tuple[Op, ...]:
    d, hd, heads = model.d_model.value, model.head_dim.value, model.heads.value
    kv = getattr(model, "kv_heads", None)
    kv_heads = kv.value if kv is not None else heads
    causal = not isinstance(model, Encoder)
    window = getattr(model, "sliding_window", None)
    w = window.value if window is not None and (s.decode or window.value < s.seq) else None
    ops = [
        _gemm("q_proj", s.tokens, d, heads * hd),
        _gemm("k_proj", s.tokens, d, kv_heads * hd),
        _gemm("v_proj", s.tokens, d, kv_heads * hd),
        _attention(s, heads, hd, causal, w),
        _gemm("o_proj", s.tokens, heads * hd, d),
    ]
    if isinstance(model, MoEDecoder):
        note = "dense cascade: expert op counts are experts/top_k times a routed implementation's"
        if model.ffn == "drelu":
            note += "; moe_ffn.yaml applies silu, this model uses dReLU (same MACs)"
        ops.append(Op("moe", "moe_ffn", {"M": s.tokens, "D": d, "I": model.ffn_dim.value, "R": model.experts.value,
                                          "TOPK": model.top_k.value}, note=note))
    else:
        ops.append(_ffn(s, model.ffn, d, model.ffn_dim.value))
    return tuple(ops)


def _mamba1_layer(model: Mamba1, s: _Shape) -> tuple[Op, ...]:
    d, e, n, r = model.d_model.value, model.d_inner.value, model.d_state.value, model.dt_rank.value
    return (
        _gemm("in_proj", s.tokens, d, 2 * e),
        _gemm("x_proj", s.tokens, e, r + 2 * n),
        _gemm("dt_proj", s.tokens, r, e),
        Op("scan", "mamba1_s6", {"T": s.seq, "E": e, "N": n}, count=s.batch),
        _gemm("out_proj", s.tokens, e, d),
    )


def _mamba2_layer(model: Mamba2, s: _Shape) -> tuple[Op, ...]:
    d, e, n, g = model.d_model.value, model.d_inner.value, model.d_state.value, model.groups.value
    heads, p = model.heads.value, model.head_dim.value
    scan = {"T": s.seq, "Q": _tile(s.seq, model.chunk_size.value), "H": heads, "P": p, "N": n}
    return (
        _gemm("in_proj", s.tokens, d, 2 * e + 2 * g * n + heads),  # [z, x, B, C, dt]
        Op("scan", "mamba2_ssd", scan, count=s.batch),
        _gemm("out_proj", s.tokens, e, d),
    )


def _based_layers(model: Based, s: _Shape) -> tuple[LayerType, ...]:
    d, heads, f, dv = model.d_model.value, model.heads.value, model.feature_dim.value, model.head_dim.value
    mlp = _ffn(s, "swiglu", d, model.ffn_dim.value)
    la = (
        _gemm("q_proj", s.tokens, d, heads * f),
        _gemm("k_proj", s.tokens, d, heads * f),
        _gemm("v_proj", s.tokens, d, heads * dv),
        Op("linear_attention", "based", {"T": s.seq, "H": s.batch * heads, "D2": f, "DV": dv}),
        _gemm("o_proj", s.tokens, heads * dv, d),
        mlp,
    )
    swa = (
        _gemm("q_proj", s.tokens, d, heads * dv),
        _gemm("k_proj", s.tokens, d, heads * dv),
        _gemm("v_proj", s.tokens, d, heads * dv),
        _attention(s, heads, dv, causal=True, window=model.window.value),
        _gemm("o_proj", s.tokens, heads * dv, d),
        mlp,
    )
    wide = model.baseconv_expand.value * d
    baseconv = (
        _gemm("in_proj", s.tokens, d, wide),  # split into u1, u2; y = silu(conv(u1)) * u2
        _gemm("out_proj", s.tokens, wide // 2, d),
        mlp,
    )
    return (
        LayerType("linear_attention", model.la_layers.value, la),
        LayerType("sliding_window", model.swa_layers.value, swa),
        LayerType("baseconv", model.baseconv_layers.value, baseconv),
    )


def _positive(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise EinsimError(f"{name} must be a positive whole number, got {value!r}")
    return value


def expand(
    model: Model | str | Path,
    phase: str = "prefill",
    *,
    seq_len: int | None = None,
    context_len: int | None = None,
    batch: int = 1,
) -> Plan:
    """The layers of a model at one phase, each op a bundled workload with its rank bindings.

    ``prefill`` needs ``seq_len`` (tokens per sequence); ``decode`` needs ``context_len`` (keys in
    the KV cache each new token attends to, the new one included). See the module docstring for
    how attention instances, scans and windows are counted.
    """
    if not isinstance(model, BaseModel):
        model = load_model(model)
    if phase not in PHASES:
        raise EinsimError(f"unknown phase {phase!r}" + did_you_mean(str(phase), PHASES))
    batch = _positive("batch", batch)
    decode = phase == "decode"
    if decode:
        if isinstance(model, Encoder):
            raise EinsimError(f"{model.name} is an encoder: it has a prefill phase only")
        shape = _Shape(True, batch, 1, _positive("context_len", context_len))
    else:
        seq = _positive("seq_len", seq_len)
        shape = _Shape(False, batch, seq, seq)

    if isinstance(model, Based):
        layer_types = _based_layers(model, shape)
    elif isinstance(model, Mamba1):
        layer_types = (LayerType("mamba", model.layers.value, _mamba1_layer(model, shape)),)
    elif isinstance(model, Mamba2):
        layer_types = (LayerType("mamba", model.layers.value, _mamba2_layer(model, shape)),)
    else:
        kind = "encoder" if isinstance(model, Encoder) else "decoder"
        layer_types = (LayerType(kind, model.layers.value, _transformer_layer(model, shape)),)
    head = ()
    if model.vocab is not None and not isinstance(model, Encoder):
        head = (_gemm("lm_head", shape.tokens, model.d_model.value, model.vocab.value),)
    return Plan(
        model=model.id, phase=phase, batch=batch, seq_len=None if decode else shape.seq,
        context_len=shape.context if decode else None, tokens=shape.tokens, layer_types=layer_types, head=head,
    )
