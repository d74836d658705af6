"""References for the dense workloads (see the workload files that name them)."""

from __future__ import annotations

import numpy as np

from einsim.einsum.references import Arrays, reference


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU in the tanh approximation BERT uses."""
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def swiglu(x: np.ndarray, wg: np.ndarray, wu: np.ndarray, wd: np.ndarray) -> np.ndarray:
    """(silu(x·wg) * (x·wu))·wd for x [..., D]."""
    return (silu(x @ wg) * (x @ wu)) @ wd


@reference("gemm")
def gemm(inputs: Arrays, cascade) -> Arrays:
    return {"Z": inputs["A"] @ inputs["B"]}


@reference("gemv")
def gemv(inputs: Arrays, cascade) -> Arrays:
    return {"Y": inputs["X"] @ inputs["W"]}


@reference("ffn")
def ffn(inputs: Arrays, cascade) -> Arrays:
    return {"Y": gelu_tanh(inputs["X"] @ inputs["W1"]) @ inputs["W2"]}


@reference("ffn_gated")
def ffn_gated(inputs: Arrays, cascade) -> Arrays:
    return {"Y": swiglu(inputs["X"], inputs["WG"], inputs["WU"], inputs["WD"])}


@reference("moe_ffn")
def moe_ffn(inputs: Arrays, cascade) -> Arrays:
    """Routes token by token and runs only the selected experts (unlike the dense cascade)."""
    x, wg, wu, wd = inputs["X"], inputs["WG"], inputs["WU"], inputs["WD"]
    k = int(cascade.params["TOPK"])
    logits = x @ inputs["WR"]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    y = np.zeros_like(x)
    for m in range(x.shape[0]):
        chosen = np.argsort(-probs[m], kind="stable")[:k]
        weights = probs[m, chosen] / probs[m, chosen].sum()
        for r, w in zip(chosen, weights):
            y[m] += w * swiglu(x[m], wg[r], wu[r], wd[r])
    return {"Y": y}
