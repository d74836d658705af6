"""References for the attention cascades: softmax(Kᵀ·Q)·V per instance, optionally causal."""

from __future__ import annotations

import numpy as np

from einsim.einsum.references import Arrays, reference


def softmax_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = False) -> np.ndarray:
    """q [H,E,P], k [H,E,M], v [H,F,M] -> [H,F,P]; query p sees keys m <= p when causal."""
    scores = np.einsum("hep,hem->hmp", q, k)
    if causal:
        m = np.arange(k.shape[2])[:, None]
        p = np.arange(q.shape[2])[None, :]
        scores = np.where(m <= p, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("hmp,hfm->hfp", weights, v)


@reference("attention")
def attention(inputs: Arrays, cascade) -> Arrays:
    return {"AV": softmax_attention(inputs["Q"], inputs["K"], inputs["V"])}


@reference("attention_causal")
def attention_causal(inputs: Arrays, cascade) -> Arrays:
    return {"AV": softmax_attention(inputs["Q"], inputs["K"], inputs["V"], causal=True)}


@reference("attention_decode")
def attention_decode(inputs: Arrays, cascade) -> Arrays:
    """One query per instance: Q [H,E] against the cache K [H,E,M], V [H,F,M] -> AV [H,F]."""
    return {"AV": softmax_attention(inputs["Q"][:, :, None], inputs["K"], inputs["V"])[:, :, 0]}
