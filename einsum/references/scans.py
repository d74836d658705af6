"""References for the state-space scans: Mamba-1 (S6) and Mamba-2 (SSD) as sequential per-token loops."""

from __future__ import annotations

import numpy as np

from einsim.einsum.references import Arrays, reference


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _ssm_inputs(cascade, rng: np.random.Generator) -> Arrays:
    """Standard-normal inputs, except A = -exp(normal), negative as in Mamba (A = -exp(A_log))."""
    arrays = {name: rng.standard_normal(cascade.tensors[name].extents) for name in cascade.inputs}
    arrays["A"] = -np.exp(0.5 * rng.standard_normal(cascade.tensors["A"].extents))
    return arrays


def mamba2_recurrence(
    x: np.ndarray, dt_raw: np.ndarray, dt_bias: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
    d_skip: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """x [T,H,P], dt_raw [T,H], dt_bias [H], a [H], b/c [T,N], d_skip [H] -> (y [T,H,P], final state [H,P,N])."""
    t_len, heads, head_dim = x.shape
    state = np.zeros((heads, head_dim, b.shape[1]))
    y = np.empty_like(x)
    for t in range(t_len):
        delta = _softplus(dt_raw[t] + dt_bias)
        decay = np.exp(delta * a)
        state = decay[:, None, None] * state + (delta[:, None] * x[t])[:, :, None] * b[t][None, None, :]
        y[t] = state @ c[t] + d_skip[:, None] * x[t]
    return y, state


@reference("mamba2_ssd", inputs=_ssm_inputs)
def mamba2_ssd(inputs: Arrays, cascade) -> Arrays:
    i = inputs
    return {"Y": mamba2_recurrence(i["X"], i["DTR"], i["DTB"], i["A"], i["Bm"], i["Cm"], i["Dsk"])[0]}


def mamba1_recurrence(
    x: np.ndarray, dt_raw: np.ndarray, dt_bias: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
    d_skip: np.ndarray,
) -> np.ndarray:
    """x/dt_raw [T,E], dt_bias [E], a [E,N], b/c [T,N], d_skip [E] -> y [T,E], one token at a time."""
    state = np.zeros(a.shape)
    y = np.empty_like(x)
    for t in range(x.shape[0]):
        delta = _softplus(dt_raw[t] + dt_bias)
        state = np.exp(delta[:, None] * a) * state + np.outer(delta * x[t], b[t])
        y[t] = state @ c[t] + d_skip * x[t]
    return y


@reference("mamba1_s6", inputs=_ssm_inputs)
def mamba1_s6(inputs: Arrays, cascade) -> Arrays:
    i = inputs
    return {"Y": mamba1_recurrence(i["X"], i["DTR"], i["DTB"], i["A"], i["Bm"], i["Cm"], i["Dsk"])}
