"""Model presets: every number sourced, located errors, layer expansion and its op counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim import designs
from einsim.errors import EinsimError
from einsim.yamlsrc import load_yaml_file
from einsim.einsum.models import TAGS, Plan, cascade_ops, expand, list_models, load_model, total_ops

PRESETS = [
    "bert_base", "trxl_wt103", "t5_small", "xlm", "llama2_7b", "llama2_13b", "mistral_7b", "mixtral_8x7b",
    "turbosparse_mixtral_47b", "opt_6p7b", "falcon_7b", "bamboo_7b", "mamba1_2p8b", "mamba2_370m", "mamba2_2p7b",
    "based_1p3b",
]
PROJECTIONS = {"q_proj", "k_proj", "v_proj", "o_proj", "in_proj", "x_proj", "dt_proj", "out_proj"}


# ----------------------------------------------------------------------------- presets


def test_the_library_has_every_preset() -> None:
    assert set(PRESETS) <= set(list_models())


@pytest.mark.parametrize("model_id", PRESETS)
def test_every_number_in_a_preset_has_a_tagged_source(model_id: str) -> None:
    src = load_yaml_file(designs.path("models", f"{model_id}.yaml"))

    def walk(node: object, path: tuple) -> None:
        if isinstance(node, dict):
            if "value" in node:
                assert isinstance(node.get("source"), str), f"{model_id}: {path} has no source"
                assert node["source"].partition(":")[0] in TAGS, f"{model_id}: {path} source is untagged"
            for key, value in node.items():
                walk(value, path + (key,))
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            assert path[-1] == "value", f"{model_id}: bare number at {'.'.join(map(str, path))}"

    walk(src.data, ())
    model = load_model(model_id)
    assert model.id == model_id and model.layers.value > 0


# ----------------------------------------------------------------------------- errors

_GOOD = """\
name: test
architecture: decoder
d_model: {value: 64, source: "src: a test"}
layers: {value: 2, source: "src: a test"}
heads: {value: 4, source: "src: a test"}
kv_heads: {value: 2, source: "src: a test"}
head_dim: {value: 16, source: "src: a test"}
ffn_dim: {value: 128, source: "src: a test"}
ffn: swiglu
"""


def _error(tmp_path: Path, text: str) -> tuple[str, str]:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(EinsimError) as info:
        load_model(f)
    return str(info.value), str(f)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "old, new, needle, expected",
    [
        ("d_model:", "d_modle:", "d_modle", ["unknown key 'd_modle'", "did you mean d_model"]),
        ('{value: 4, source: "src: a test"}', '{value: 4, sorce: "src: a test"}', "heads: {value: 4",
         ["unknown key 'sorce'", "valid: source, value"]),
        ('layers: {value: 2, source: "src: a test"}', "layers: {value: 2}", "layers:",
         ["layers: missing source"]),
        ('layers: {value: 2, source: "src: a test"}', "layers: 2", "layers:",
         ["layers: give the number with its source"]),
        ('heads: {value: 4,', 'heads: {value: -4,', "heads:", ["heads.value", "greater than 0"]),
        ('layers: {value: 2,', 'layers: {value: 2.5,', "layers:", ["layers.value", "integer"]),
        ('head_dim: {value: 16, source: "src: a test"}', 'head_dim: {value: 16, source: "from a paper"}', "head_dim:",
         ["head_dim.source", "'src:'", "'unverified:'"]),
        ('head_dim: {value: 16, source: "src: a test"}', 'head_dim: {value: 16, source: "derived:"}', "head_dim:",
         ["head_dim.source"]),
        ("architecture: decoder", "architecture: decodr", "architecture:",
         ["unknown architecture 'decodr'", "valid: based, decoder, encoder", "did you mean decoder"]),
        ("ffn: swiglu", "ffn: swish", "ffn:", ["ffn:", "'swiglu'", "'swish'"]),
        ('kv_heads: {value: 2,', 'kv_heads: {value: 3,', "kv_heads:", ["kv_heads: 3 KV heads must divide the 4"]),
    ],
)
def test_malformed_presets_give_located_messages(tmp_path: Path, old: str, new: str, needle: str, expected: list[str]) -> None:
    assert old in _GOOD
    text = _GOOD.replace(old, new, 1)
    message, file = _error(tmp_path, text)
    assert message.startswith(f"{file}:{_line_of(text, needle)}:"), message
    for part in expected:
        assert part in message, message


def test_a_missing_field_names_it_and_the_architecture(tmp_path: Path) -> None:
    text = "\n".join(line for line in _GOOD.splitlines() if not line.startswith("heads:"))
    message, file = _error(tmp_path, text)
    assert message.startswith(f"{file}:1:") and "missing required key 'heads' for architecture 'decoder'" in message


def test_hybrid_layer_counts_must_add_up(tmp_path: Path) -> None:
    text = designs.path("models", "based_1p3b.yaml").read_text().replace("la_layers: {value: 7,", "la_layers: {value: 8,")
    message, file = _error(tmp_path, text)
    assert message.startswith(f"{file}:{_line_of(text, 'layers: {value: 36')}:")
    assert "36 layers but la + swa + baseconv layers = 37" in message


def test_an_unknown_preset_lists_the_bundled_ones() -> None:
    with pytest.raises(EinsimError, match=r"no model preset 'llama2_7' \(valid: .*did you mean llama2_7b"):
        load_model("llama2_7")


# ----------------------------------------------------------------------------- expansion


@pytest.mark.parametrize("phase", ["prefill", "decode"])
@pytest.mark.parametrize("model_id", PRESETS)
def test_expansion_builds_every_op_cascade(model_id: str, phase: str) -> None:
    model = load_model(model_id)
    if phase == "decode" and model.architecture == "encoder":
        with pytest.raises(EinsimError, match="encoder: it has a prefill phase only"):
            expand(model, phase, context_len=64)
        return
    plan = expand(model, phase, seq_len=32, context_len=64, batch=2)
    assert plan.layers == model.layers.value
    assert plan.tokens == (64 if phase == "prefill" else 2)
    for lt in plan.layer_types:
        for op in lt.ops:
            cascade = op.cascade()  # an unknown rank name in the bindings raises here: a contract mismatch
            assert {k: cascade.ranks.get(k, cascade.params.get(k)) for k in op.bindings} == dict(op.bindings)
            assert cascade_ops(cascade), f"{op.name}: no operations"


def _layer_ops(plan: Plan, names: set[str]) -> dict[str, int]:
    """Ops of one layer of a single-layer-type plan, for the named ops."""
    (lt,) = plan.layer_types
    single = Plan(plan.model, plan.phase, plan.batch, plan.seq_len, plan.context_len, plan.tokens,
                  (type(lt)(lt.name, 1, lt.ops),))
    return total_ops(single, names)


def test_llama2_7b_decode_projection_flops_are_twice_the_weights() -> None:
    # FLOPs per token = 2 × (weights of Wq, Wk, Wv, Wo, W_gate, W_up, W_down) over all layers. MACs
    # are counted exactly, so the match is exact; the SwiGLU's silu and gate product are not MACs.
    d, i, layers = 4096, 11008, 32
    plan = expand("llama2_7b", "decode", context_len=64, batch=1)
    macs = total_ops(plan, {"q_proj", "k_proj", "v_proj", "o_proj", "ffn_gated"})["mac"]
    assert 2 * macs == 2 * layers * (4 * d * d + 3 * d * i)


def test_llama2_7b_linear_macs_match_flightllm() -> None:
    # fpga_phone.md 1(b): "LLaMA2-7B has 6.607 G linear MACs per token" (LM head included). The
    # reference gives 4 significant figures, so the tolerance is half a unit in the last: 0.0005/6.607.
    plan = expand("llama2_7b", "decode", context_len=64, batch=1)
    macs = total_ops(plan, {"q_proj", "k_proj", "v_proj", "o_proj", "ffn_gated", "lm_head"})["mac"]
    assert macs == pytest.approx(6.607e9, rel=0.0005 / 6.607)


def test_bert_base_prefill_gemm_macs() -> None:
    tokens = 64 * 1024
    plan = expand("bert_base", "prefill", seq_len=1024, batch=64)
    assert plan.tokens == tokens
    macs = _layer_ops(plan, {"q_proj", "k_proj", "v_proj", "o_proj", "ffn"})["mac"]
    assert macs == tokens * (4 * 768**2 + 2 * 768 * 3072)
    assert total_ops(plan, {"q_proj", "ffn"})["mac"] == 12 * tokens * (768**2 + 2 * 768 * 3072)


def test_mamba2_2p7b_projection_flops_per_token() -> None:
    # scan_workloads.md §4 quotes 80.4 M = 2D(2E + 2GN + H) + 2ED to three significant figures,
    # so a relative tolerance of 1e-3 covers its rounding (0.05/80.4 = 6e-4) and nothing more.
    plan = expand("mamba2_2p7b", "prefill", seq_len=256, batch=1)
    flops_per_token = 2 * _layer_ops(plan, PROJECTIONS)["mac"] / plan.tokens
    assert flops_per_token == 2 * 2560 * (2 * 5120 + 2 * 128 + 80) + 2 * 5120 * 2560
    assert flops_per_token == pytest.approx(80.4e6, rel=1e-3)


def test_mamba1_2p8b_projection_flops_per_token() -> None:
    # scan_workloads.md §4: 82.3 M = 2D·2E + 2E(R+2N) + 2RE + 2ED + 2WE; the depthwise conv (2WE,
    # 0.05%) is no GEMM and is not expanded, and 82.3 M is rounded to 3 figures: tolerance 1e-3.
    d, e, n, r = 2560, 5120, 16, 160
    plan = expand("mamba1_2p8b", "decode", context_len=1, batch=1)
    flops = 2 * _layer_ops(plan, PROJECTIONS)["mac"]
    assert flops == 2 * d * 2 * e + 2 * e * (r + 2 * n) + 2 * r * e + 2 * e * d
    assert flops == pytest.approx(82.3e6, rel=1e-3)


def test_total_ops_multiply_each_layer_type_by_its_layers() -> None:
    plan = expand("based_1p3b", "prefill", seq_len=16, batch=1)
    per_type = {lt.name: lt.layers for lt in plan.layer_types}
    assert per_type == {"linear_attention": 7, "sliding_window": 7, "baseconv": 22} and plan.layers == 36
    # every layer type has the SwiGLU MLP: 36 of them
    mlp = cascade_ops(plan.layer_types[0].ops[-1].cascade())["mac"]
    assert total_ops(plan, {"ffn_gated"})["mac"] == 36 * mlp == 36 * 16 * 3 * 1792 * 3584
    la = plan.layer_types[0].ops
    assert la[0].bindings == {"M": 16, "K": 1792, "N": 16 * 16}  # q: D -> heads × d'


def test_gqa_and_mqa_narrow_the_kv_projections() -> None:
    ops = {op.name: op for op in expand("mistral_7b", "prefill", seq_len=64, batch=3).layer_types[0].ops}
    assert ops["q_proj"].bindings["N"] == 32 * 128 and ops["k_proj"].bindings["N"] == ops["v_proj"].bindings["N"] == 8 * 128
    assert ops["attention"].workload == "attention_1pass_causal"
    assert ops["attention"].bindings == {"H": 3 * 32, "E": 128, "F": 128, "M": 64, "M0": 64}
    falcon = {op.name: op for op in expand("falcon_7b", "decode", context_len=100).layer_types[0].ops}
    assert falcon["k_proj"].bindings == {"M": 1, "K": 4544, "N": 64}
    assert falcon["attention"].bindings == {"H": 71, "E": 64, "F": 64, "M": 100, "M0": 100}


def test_sliding_window_limits_attention() -> None:
    decode = {op.name: op for op in expand("mistral_7b", "decode", context_len=10_000).layer_types[0].ops}
    assert decode["attention"].workload == "attention_decode" and decode["attention"].bindings["M"] == 4096
    prefill = {op.name: op for op in expand("mistral_7b", "prefill", seq_len=8192).layer_types[0].ops}
    assert prefill["attention"].workload == "based_swa"
    assert prefill["attention"].bindings == {"H": 32, "E": 128, "F": 128, "M": 8192, "P": 8192, "W": 4096}


def test_tiles_and_chunks_divide_the_sequence() -> None:
    attention = {op.name: op for op in expand("llama2_7b", "prefill", seq_len=1000).layer_types[0].ops}["attention"]
    assert attention.bindings["M0"] == 250
    scan = {op.name: op for op in expand("mamba2_370m", "prefill", seq_len=1000, batch=4).layer_types[0].ops}["scan"]
    assert scan.bindings == {"T": 1000, "Q": 250, "H": 32, "P": 64, "N": 128} and scan.count == 4
    decode = {op.name: op for op in expand("mamba2_370m", "decode", context_len=500, batch=4).layer_types[0].ops}
    assert decode["scan"].bindings["T"] == decode["scan"].bindings["Q"] == 1
    assert decode["in_proj"].bindings == {"M": 4, "K": 1024, "N": 2 * 2048 + 2 * 128 + 32}


def test_moe_binds_experts_and_top_k() -> None:
    (moe,) = [op for op in expand("mixtral_8x7b", "decode", context_len=64, batch=2).layer_types[0].ops if op.name == "moe"]
    assert moe.workload == "moe_ffn" and moe.bindings == {"M": 2, "D": 4096, "I": 14336, "R": 8, "TOPK": 2}


def test_bad_phase_and_sizes_are_errors() -> None:
    with pytest.raises(EinsimError, match=r"unknown phase 'decoding' \(valid: decode, prefill; did you mean decode"):
        expand("llama2_7b", "decoding", context_len=4)
    with pytest.raises(EinsimError, match="seq_len must be a positive whole number"):
        expand("llama2_7b", "prefill")
    with pytest.raises(EinsimError, match="batch must be a positive whole number, got 0"):
        expand("llama2_7b", "decode", context_len=4, batch=0)


def test_sliding_window_prefill_builds_based_swa(tmp_path: Path) -> None:
    text = designs.path("models", "mistral_7b.yaml").read_text()
    small = tmp_path / "tiny_swa.yaml"
    small.write_text(text.replace("sliding_window: {value: 4096,", "sliding_window: {value: 8,"))
    (attention,) = [op for op in expand(load_model(small), "prefill", seq_len=24).layer_types[0].ops if op.name == "attention"]
    assert attention.workload == "based_swa" and attention.bindings["W"] == 8
    # QK and AV MACs: each query p sees min(p + 1, W) keys, with 32 heads of width 128
    visible = sum(min(p + 1, 8) for p in range(24))
    assert cascade_ops(attention.cascade())["mac"] == 2 * 32 * 128 * visible
