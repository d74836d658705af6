"""FFN neuron activation traces: a seeded generator, or real traces from ``.npy`` files.

A trace holds, per token, layer and neuron, whether the neuron is **active** (its gate/ReLU output
is nonzero) and whether the layer's predictor **predicted** it. Generator mechanisms:

- hot/cold: neuron i's activation frequency follows a power law over a random ranking of the
  neurons, ``p ~ rank^-zipf`` capped at 1, scaled so the mean equals the model's active fraction;
- temporal correlation: each neuron is a two-state Markov chain with stationary probability ``p``
  and lag-1 correlation ``persistence`` (what windowing and LRU caching exploit);
- predictor: false negatives drop active neurons at rate ``predictor_fn``; false positives come
  from a second chain whose frequency is proportional to ``p`` (a predictor errs on neurons near
  their threshold, i.e. the often-active ones), scaled so that P(predicted | inactive) is
  ``predictor_fp``;
- MoE routing: each token routes ``top_k`` of the experts per layer, uniformly; neurons of other
  experts are inactive and not predicted;
- batch: a batch's activation is the union over its sequences (independent chains);
- token shift (only where the facts give ``token_shift``): each token of a sequence departs from the
  profiled pattern by a share ``s_t`` (gamma of shape ``TOKEN_SHIFT_SHAPE`` and mean ``token_shift``,
  capped at 1) common to all
  its layers and experts: that share of its neurons is redrawn at their expert's mean frequency (the
  flat pattern), so a shifted token activates cold neurons in every layer at once; the mean activation
  is unchanged. This is what gives a token-level tail of misses (PowerInfer-2's 18.9% P99 per-token
  miss rate against a 3.5% mean) that independent layers cannot.

Gate/up/down co-activation is not a per-neuron draw: for the ReLU-family FFNs modelled here the
up/down rows of a predicted neuron are needed exactly when it is active, so the co-activation
probability is the predictor's precision (the statistic ``coactivation`` of the facts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from einsim.errors import EinsimError
from einsim.mappers.phone.footprint import Footprint
from einsim.sim.kernels.traces import add_sequence, markov_chains, shift_tokens

# Shape of the per-token shift's gamma distribution (its mean is the facts' ``token_shift``). Only a mean
# and a P99 of the per-token miss rate are published (Mixtral: 3.5% and 18.9%, fpga_phone.md 2(c)), which
# the mean shift and the power law's exponent are solved for, not the shape. source: estimate, range
# 0.1-0.5 (the gamma's P99 at 16x / 6.6x its mean): the calibration (mappers/phone/calibration.py) meets
# the mean at every shape but the P99 only up to 11% (0.5), 14.5% (0.2), 14-15% (0.1); chosen 0.2, the
# shape whose best P99 is highest.
TOKEN_SHIFT_SHAPE = 0.2


@dataclass(frozen=True)
class Trace:
    """Boolean arrays of shape (tokens, layers, neurons per layer); ``shift`` the generator's per-token
    shift (the mean over a batch's sequences), None without one."""

    active: np.ndarray
    predicted: np.ndarray
    shift: np.ndarray | None = None

    @property
    def tokens(self) -> int:
        return self.active.shape[0]

    @property
    def layers(self) -> int:
        return self.active.shape[1]

    @property
    def neurons(self) -> int:
        return self.active.shape[2]


def frequencies(n: int, mean: float, zipf: float, rng: np.random.Generator) -> np.ndarray:
    """Per-neuron activation probabilities: a capped power law of mean ``mean``, randomly ordered."""
    return rng.permutation(_capped_power_law(n, mean, zipf))


@lru_cache(maxsize=64)
def _capped_power_law(n: int, mean: float, zipf: float) -> np.ndarray:
    """``min(1, c rank^-zipf)`` by rank, ``c`` such that the mean is ``mean`` (read-only: shared)."""
    w = np.arange(1, n + 1, dtype=float) ** -zipf
    lo, hi = 0.0, 1.0 / w[-1]
    for _ in range(100):  # bisection on the scale: mean(min(1, c w)) is monotone in c
        c = 0.5 * (lo + hi)
        if c in (lo, hi):  # converged to adjacent floats: further steps change nothing
            break
        lo, hi = (c, hi) if np.minimum(1.0, c * w).mean() < mean else (lo, c)
    out = np.minimum(1.0, 0.5 * (lo + hi) * w)
    out.flags.writeable = False
    return out


def _markov(p: np.ndarray, rho: float, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(tokens, *p.shape) booleans: stationary P(1) = p, lag-1 correlation rho. One draw of every
    token's uniforms into ``u`` (tokens, p.size), reused between draws: a Generator's consecutive
    draws equal one large draw."""
    rng.random(out=u)
    return markov_chains(u, p.ravel(), (p + rho * (1.0 - p)).ravel(), (p * (1.0 - rho)).ravel()).reshape(-1, *p.shape)


def layer_frequencies(fp: Footprint, layers: int, model_seed: int = 0) -> np.ndarray:
    """(layers, neurons) activation probabilities: a property of the model, so every trace of it
    (profiling or evaluation) uses the same ones for the same ``model_seed``."""
    if fp.facts is None:
        raise EinsimError(f"{fp.model_id} has no activation statistics (designs/models/phone/{fp.model_id}.yaml)")
    rng = np.random.default_rng(model_seed)
    z = fp.facts.activation.zipf_exponent.value
    return np.stack([frequencies(fp.ffn_dim, fp.active_fraction, z, rng)
                     for _ in range(layers * fp.experts)]).reshape(layers, fp.experts * fp.ffn_dim)


def generate(fp: Footprint, layers: int, tokens: int, batch: int = 1, seed: int = 0, model_seed: int = 0) -> Trace:
    """A seeded synthetic trace for ``layers`` sampled layers (layers are statistically alike).

    A trace is a pure function of its arguments, so it is generated once per process and shared
    (read-only arrays): the reproductions evaluate one model's trace at many budgets and phones."""
    if min(layers, tokens, batch) < 1:
        raise EinsimError("a trace needs at least one layer, token and sequence")
    return _generate(fp, int(layers), int(tokens), int(batch), int(seed), int(model_seed))


@lru_cache(maxsize=32)
def _generate(fp: Footprint, layers: int, tokens: int, batch: int, seed: int, model_seed: int) -> Trace:
    rng = np.random.default_rng(seed)
    n_exp, per = fp.experts, fp.ffn_dim
    p, q = _chain_frequencies(fp, layers, model_seed)  # refuses a model without activation statistics
    st = fp.facts.activation
    rho = st.persistence.value
    active = np.zeros((tokens, layers, n_exp * per), dtype=bool)
    predicted = np.zeros_like(active)
    u = np.empty((tokens, p.size))
    shifts = []
    for _ in range(batch):
        a = _markov(p, rho, u, rng)
        s = _markov(q, rho, u, rng)
        u_fn = rng.random(out=u).reshape(a.shape)
        routed = _routing(tokens, layers, n_exp, fp.top_k, rng) if n_exp > 1 else np.zeros((tokens, layers, 0), bool)
        a, s_t = _shift(a, fp, p, rng)
        shifts.append(s_t)
        add_sequence(active, predicted, a, s, u_fn, st.predictor_fn.value, routed, per)
    active.flags.writeable = False
    predicted.flags.writeable = False
    shift = None if shifts[0] is None else np.mean(shifts, axis=0)
    return Trace(active, predicted, shift)


@lru_cache(maxsize=32)
def active_only(fp: Footprint, layers: int, tokens: int, seed: int = 0, model_seed: int = 0) -> np.ndarray:
    """``generate(...).active`` of one sequence without building its predictions: the predictor's
    draws are skipped by advancing the generator (one 64-bit step per uniform), so the routing
    draws after them are the same. For an offline profile, which counts activations only."""
    rng = np.random.default_rng(seed)
    p, _ = _chain_frequencies(fp, layers, model_seed)
    a = _markov(p, fp.facts.activation.persistence.value, np.empty((tokens, p.size)), rng)
    rng.bit_generator.advance(2 * a.size)  # the false-positive chain and the predictor drops
    routed = _routing(tokens, layers, fp.experts, fp.top_k, rng) if fp.experts > 1 else None
    a, _ = _shift(a, fp, p, rng)
    if routed is not None:
        a &= np.repeat(routed, fp.ffn_dim, axis=2)
    a.flags.writeable = False
    return a


def token_shifts(mean: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` per-token shifts: min(1, gamma of shape TOKEN_SHIFT_SHAPE and mean ``mean``)."""
    return np.minimum(1.0, rng.gamma(TOKEN_SHIFT_SHAPE, mean / TOKEN_SHIFT_SHAPE, n))


def _shift(a: np.ndarray, fp: Footprint, p: np.ndarray,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """``a`` (tokens, layers, neurons; changed in place where contiguous) with each token's share s_t
    (`token_shifts`) of neurons redrawn at their expert's mean frequency, and s_t. One uniform per neuron
    decides both (u < s_t: redrawn; u < s_t x mean: on). Without ``token_shift`` ``a`` itself and None, and no draws."""
    shift = fp.facts.activation.token_shift
    if shift is None:
        return a, None
    tokens = a.shape[0]
    s_t = token_shifts(shift.value, tokens, rng)
    flat = np.repeat(p.reshape(p.shape[0], fp.experts, fp.ffn_dim).mean(axis=2), fp.ffn_dim, axis=1).ravel()
    states = a.reshape(tokens, -1)
    shift_tokens(states, rng.random((tokens, p.size)), s_t, flat)
    return states.reshape(a.shape), s_t


@lru_cache(maxsize=32)
def _chain_frequencies(fp: Footprint, layers: int, model_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The activation chains' frequencies p and the false-positive chains' q (model properties)."""
    p = layer_frequencies(fp, layers, model_seed)
    return p, _false_positive_frequencies(p, fp.facts.activation.predictor_fp.value)


def _false_positive_frequencies(p: np.ndarray, fp_rate: float) -> np.ndarray:
    """Per-neuron frequencies q = min(1, c p) of the false-positive chain, c per layer such that
    P(predicted | inactive) = sum q (1 - p) / sum (1 - p) = fp_rate."""
    not_p = 1.0 - p
    inactive = not_p.sum(axis=1, keepdims=True)
    lo, hi = np.zeros_like(inactive), np.full_like(inactive, 1.0 / max(p[p > 0].min(), 1e-12))
    q = np.empty_like(p)
    for _ in range(100):
        c = 0.5 * (lo + hi)
        if np.all((c == lo) | (c == hi)):  # every layer converged to adjacent floats
            break
        np.minimum(1.0, np.multiply(c, p, out=q), out=q)
        low = (np.multiply(q, not_p, out=q)).sum(axis=1, keepdims=True) < fp_rate * inactive
        lo, hi = np.where(low, c, lo), np.where(low, hi, c)
    return np.minimum(1.0, 0.5 * (lo + hi) * p)


def _routing(tokens: int, layers: int, experts: int, top_k: int, rng: np.random.Generator) -> np.ndarray:
    keys = rng.random((tokens, layers, experts))
    kth = np.sort(keys, axis=2)[:, :, top_k - 1:top_k]
    return keys <= kth


def load_trace(active_npy: str | Path, predicted_npy: str | Path | None = None) -> Trace:
    """A real trace: boolean (or 0/1) arrays of shape (tokens, layers, neurons).

    Without a predictor trace the predictor is taken as perfect (predicted = active).
    """
    active = np.load(active_npy).astype(bool)
    predicted = active.copy() if predicted_npy is None else np.load(predicted_npy).astype(bool)
    if active.ndim != 3 or predicted.shape != active.shape:
        raise EinsimError(f"a trace is (tokens, layers, neurons); got {active.shape} and {predicted.shape}")
    return Trace(active, predicted)

