"""References for linear attention (plain, BASED, GLA, MoM) and BASED's sliding-window attention.

Each is written directly from the math, independently of the cascades: causal forms with an
explicit T x T mask where that is the natural statement, sequential loops for gated or routed
recurrences.
"""

from __future__ import annotations

import numpy as np

from einsim.einsum.references import Arrays, reference


def _positive_features(cascade, rng: np.random.Generator) -> Arrays:
    """Inputs with phi(q), phi(k) in (0.1, 1.1) so linear-attention denominators stay well away from 0."""
    arrays = {name: rng.standard_normal(cascade.tensors[name].extents) for name in cascade.inputs}
    for name in ("PQ", "PK"):
        arrays[name] = 0.1 + rng.random(cascade.tensors[name].extents)
    return arrays


def causal_linear_attention(phi_q: np.ndarray, phi_k: np.ndarray, v: np.ndarray, eps: float) -> np.ndarray:
    """phi_q/phi_k [T,H,F], v [T,H,DV] -> [T,H,DV]: masked (phi_q phi_k^T) v, row-normalised."""
    t_len = phi_q.shape[0]
    mask = np.tril(np.ones((t_len, t_len)))  # [t, s]: s <= t
    scores = np.einsum("thf,shf->hts", phi_q, phi_k) * mask
    return np.einsum("hts,shv->thv", scores, v) / (scores.sum(axis=2).T[:, :, None] + eps)


@reference("linear_attention", inputs=_positive_features)
def linear_attention(inputs: Arrays, cascade) -> Arrays:
    return {"O": causal_linear_attention(inputs["PQ"], inputs["PK"], inputs["VV"], cascade.params["eps"])}


def taylor_features(x: np.ndarray) -> np.ndarray:
    """BASED's TaylorExp: [..., d'] -> [..., 1 + d' + d'^2] = [1, x / d'^(1/4), vec(x x^T) / (sqrt(2) sqrt(d'))]."""
    d = x.shape[-1]
    outer = (x[..., :, None] * x[..., None, :]).reshape(*x.shape[:-1], d * d)
    return np.concatenate([np.ones(x.shape[:-1] + (1,)), x / d**0.25, outer / np.sqrt(2.0 * d)], axis=-1)


@reference("based")
def based(inputs: Arrays, cascade) -> Arrays:
    phi_q, phi_k = taylor_features(inputs["Q"]), taylor_features(inputs["K"])
    return {"O": causal_linear_attention(phi_q, phi_k, inputs["VV"], cascade.params["eps"])}


@reference("sliding_window_attention")
def sliding_window_attention(inputs: Arrays, cascade) -> Arrays:
    """softmax over keys m with p - W < m <= p of k_m . q_p, applied to v; q [H,E,P], k [H,E,M], v [H,F,M]."""
    window = cascade.ranks["W"]
    scores = np.einsum("hep,hem->hpm", inputs["Q"], inputs["K"])
    offset = np.arange(scores.shape[1])[:, None] - np.arange(scores.shape[2])[None, :]  # p - m
    scores = np.where((offset >= 0) & (offset < window), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    return {"AV": np.einsum("hpm,hfm->hfp", weights, inputs["V"])}


def _log_gates(cascade, rng: np.random.Generator) -> Arrays:
    """Standard-normal inputs with GL = logsigmoid(normal), a log gate in (-inf, 0) as GLA's (with tau = 1)."""
    arrays = {name: rng.standard_normal(cascade.tensors[name].extents) for name in cascade.inputs}
    arrays["GL"] = -np.logaddexp(0.0, -rng.standard_normal(cascade.tensors["GL"].extents))
    return arrays


def gated_linear_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, log_gate: np.ndarray) -> np.ndarray:
    """q/k/log_gate [T,H,DK], v [T,H,DV] -> [T,H,DV], one token at a time."""
    state = np.zeros(q.shape[1:] + v.shape[2:])
    out = np.empty(v.shape)
    for t in range(q.shape[0]):
        state = np.exp(log_gate[t])[:, :, None] * state + k[t][:, :, None] * v[t][:, None, :]
        out[t] = np.einsum("hk,hkv->hv", q[t], state) / np.sqrt(q.shape[2])
    return out


@reference("gla", inputs=_log_gates)
def gla(inputs: Arrays, cascade) -> Arrays:
    return {"O": gated_linear_attention(inputs["Q"], inputs["K"], inputs["VV"], inputs["GL"])}


def mixture_of_memories(inputs: Arrays, top_k: int) -> np.ndarray:
    """MoM with the basic linear update, token by token: only the top-k memories of a token are updated."""
    x = inputs["X"]
    q = np.einsum("td,dhk->thk", x, inputs["WQ"])
    keys = np.einsum("td,rdhk->trhk", x, inputs["WK"])
    values = np.einsum("td,rdhv->trhv", x, inputs["WV"])
    shared_k = np.einsum("td,dhk->thk", x, inputs["WKS"])
    shared_v = np.einsum("td,dhv->thv", x, inputs["WVS"])
    logits = x @ inputs["WG"]
    memories = np.zeros(keys.shape[1:] + values.shape[3:])  # [R, H, DK, DV]
    shared = np.zeros(memories.shape[1:])
    out = np.empty(shared_v.shape)
    for t in range(x.shape[0]):
        probs = np.exp(logits[t] - logits[t].max())
        probs /= probs.sum()
        chosen = np.argsort(-probs, kind="stable")[:top_k]
        for r in chosen:
            memories[r] += keys[t, r][:, :, None] * values[t, r][:, None, :]
        shared += shared_k[t][:, :, None] * shared_v[t][:, None, :]
        weights = probs[chosen] / probs[chosen].sum()
        mixed = np.einsum("r,rhkv->hkv", weights, memories[chosen]) + shared
        out[t] = np.einsum("hk,hkv->hv", q[t], mixed)
    return out


@reference("mom")
def mom(inputs: Arrays, cascade) -> Arrays:
    return {"O": mixture_of_memories(inputs, cascade.ranks["TOPK"])}
