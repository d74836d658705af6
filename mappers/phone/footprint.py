"""Parameter counts of a decoder preset split the way the phone policies place them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from einsim.einsum.models import Decoder, MoEDecoder, load_model
from einsim.errors import EinsimError
from einsim.mappers.phone.facts import PhoneFacts, load_facts


@dataclass(frozen=True)
class Footprint:
    """One model's shapes and parameter counts (norms, biases and positions are not counted)."""

    model_id: str
    layers: int
    d_model: int
    ffn_dim: int  # neurons of one expert's FFN in one layer
    experts: int
    top_k: int
    matrices: int  # rows per neuron: 3 for gated FFNs (gate, up, down), 2 otherwise
    q_dim: int  # heads x head_dim
    kv_dim: int  # kv_heads x head_dim
    attn_params: float  # all layers
    embed_params: float  # token embedding and LM head (once if tied)
    head_params: float  # the LM head's GEMV per token
    active_fraction: float  # fraction of a routed expert's neurons active per token
    facts: PhoneFacts | None  # None: a dense model without activation statistics

    @property
    def ffn_params(self) -> float:
        return float(self.layers * self.experts * self.ffn_dim * self.matrices * self.d_model)

    @property
    def params(self) -> float:
        return self.attn_params + self.ffn_params + self.embed_params

    @property
    def neurons_per_layer(self) -> int:
        """Neurons of all experts of one layer (the unit the caches and traces index)."""
        return self.experts * self.ffn_dim

    @property
    def routed_neurons_per_layer(self) -> int:
        return self.top_k * self.ffn_dim

    def kv_B(self, context_len: int, bytes_per_value: float = 2.0) -> float:
        """KV-cache bytes of one sequence over all layers."""
        return 2.0 * self.layers * self.kv_dim * context_len * bytes_per_value

    def attention_macs(self, context_len: int) -> float:
        """Score and value MACs of one decode token over all layers."""
        return 2.0 * self.layers * self.q_dim * context_len


@lru_cache(maxsize=64)
def footprint(model_id: str) -> Footprint:
    """Footprint of a bundled decoder preset (activation facts from its sidecar, if any); the
    bundled files are parsed once per process."""
    m = load_model(model_id)
    if not isinstance(m, Decoder):
        raise EinsimError(f"{model_id}: the phone policies need a decoder preset, not {m.architecture!r}")
    facts = load_facts(model_id)
    d, L = m.d_model.value, m.layers.value
    kv = (m.kv_heads or m.heads).value
    attn = L * d * m.head_dim.value * (2 * m.heads.value + 2 * kv)
    experts, top_k = (m.experts.value, m.top_k.value) if isinstance(m, MoEDecoder) else (1, 1)
    matrices = 3 if m.ffn in ("swiglu", "drelu") else 2
    vocab = m.vocab.value if m.vocab else 0
    embed = vocab * d * (1 if facts is not None and facts.tied_embeddings else 2)
    ffn_dim = m.ffn_dim.value
    active = _active_fraction(m, facts, attn, vocab * d, L * top_k * ffn_dim * matrices * d)
    return Footprint(model_id, L, d, ffn_dim, experts, top_k, matrices, m.heads.value * m.head_dim.value,
                     kv * m.head_dim.value, float(attn), float(embed), float(vocab * d),
                     active, facts)


def _active_fraction(m: Decoder, facts: PhoneFacts | None, attn: float, head: float, routed_ffn: float) -> float:
    if m.ffn_sparsity is not None:
        return 1.0 - m.ffn_sparsity.value
    if facts is not None and facts.ffn_sparsity is not None:
        return 1.0 - facts.ffn_sparsity.value
    if m.active_params is not None:
        # active = dense attention + LM head + the active share of the routed experts
        share = (m.active_params.value - attn - head) / routed_ffn
        if not 0 < share <= 1:
            raise EinsimError(f"{m.id}: active_params {m.active_params.value:.3g} leaves no sparse FFN share")
        return share
    return 1.0
