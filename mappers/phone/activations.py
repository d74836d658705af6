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
from einsim.sim.kernels.traces import add_routed, markov_draws

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


def _markov(p: np.ndarray, rho: float, tokens: int, rng: np.random.Generator) -> np.ndarray:
    """(tokens, *p.shape) booleans: stationary P(1) = p, lag-1 correlation rho; tokens x p.size uniforms
    of ``rng``, drawn by the kernel in row-major order."""
    return markov_draws(rng, tokens, p.ravel(), (p + rho * (1.0 - p)).ravel(),
                        (p * (1.0 - rho)).ravel()).reshape(-1, *p.shape)


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
    p, q = _chain_frequencies(fp, layers, model_seed)  # refuses a model without activation statistics
    active = np.zeros((tokens, layers, fp.experts * fp.ffn_dim), dtype=bool)
    predicted = np.zeros_like(active)
    shifts = []
    for _ in range(batch):
        shifts.append(_sequence(fp, p, q, tokens, rng, active, predicted))
    active.flags.writeable = False
    predicted.flags.writeable = False
    shift = None if shifts[0] is None else np.mean(shifts, axis=0)
    return Trace(active, predicted, shift)


def _sequence(fp: Footprint, p: np.ndarray, q: np.ndarray, tokens: int, rng: np.random.Generator,
              active: np.ndarray, predicted: np.ndarray | None) -> np.ndarray | None:
    """OR one sequence into ``active`` and ``predicted`` (None: activations only); its token shifts (None
    without). The draws, in order: the activation chains, the false-positive chains, the predictor's drops
    (a uniform per neuron), the routing, the token shifts and their uniforms (one per neuron). Only the
    routed experts' drops and shift uniforms are drawn, the others skipped with the bit generator's
    ``advance`` (one 64-bit step per uniform), so the stream, and every later draw, is the full draw's."""
    rho = fp.facts.activation.persistence.value
    n = p.size
    a = _markov(p, rho, tokens, rng)
    bits = rng.bit_generator
    if predicted is not None:
        s = _markov(q, rho, tokens, rng)
        drops_at = bits.state
    else:
        s = a
        bits.advance(tokens * n)  # the false-positive chains
    bits.advance(tokens * n)  # the drops, drawn below once the routing is known
    layers = p.shape[0]
    routed = _routing(tokens, layers, fp.experts, fp.top_k, rng) if fp.experts > 1 else np.ones((tokens, layers, 1), bool)
    shift = fp.facts.activation.token_shift
    empty = np.zeros(0)
    s_t, flat = None, np.zeros((0, 0))
    if shift is not None:
        s_t = token_shifts(shift.value, tokens, rng)
        flat = np.repeat(p.reshape(layers, fp.experts, fp.ffn_dim).mean(axis=2), fp.ffn_dim, axis=1)
    drops = None
    if predicted is not None:  # a second generator at the drops' place in the stream
        drops = np.random.Generator(type(bits)(0))
        drops.bit_generator.state = drops_at
    fn_rate = fp.facts.activation.predictor_fn.value
    # token by token (the shift uniforms from ``rng``, the drops from ``drops``): small buffers, reused
    for t in range(tokens):
        u_shift = empty if s_t is None else _routed_uniforms(rng, routed[t], fp.ffn_dim)
        u_fn = empty if drops is None else _routed_uniforms(drops, routed[t], fp.ffn_dim)
        add_routed(active[t:t + 1], (predicted if predicted is not None else active)[t:t + 1], a[t:t + 1],
                   s[t:t + 1], u_fn, fn_rate, u_shift, empty if s_t is None else s_t[t:t + 1], flat,
                   routed[t:t + 1], fp.ffn_dim)
    return s_t


def _routed_uniforms(rng: np.random.Generator, routed: np.ndarray, per_expert: int) -> np.ndarray:
    """The uniforms of the ``routed`` (layers, experts) blocks of ``per_expert`` neurons, of a draw of one
    per neuron (row-major), the other blocks' skipped: a run of routed blocks is one draw, a run of others one
    ``advance``."""
    flags = routed.ravel()
    edges = np.flatnonzero(np.diff(flags.view(np.int8))) + 1
    bounds = np.concatenate(([0], edges, [flags.size])).tolist()
    out = np.empty(int(flags.sum()) * per_expert)
    at = 0
    for lo, hi, on in zip(bounds[:-1], bounds[1:], flags[bounds[:-1]].tolist()):
        size = (hi - lo) * per_expert
        if on:
            rng.random(out=out[at:at + size])
            at += size
        else:
            rng.bit_generator.advance(size)
    return out


@lru_cache(maxsize=32)
def active_only(fp: Footprint, layers: int, tokens: int, seed: int = 0, model_seed: int = 0) -> np.ndarray:
    """``generate(...).active`` of one sequence without building its predictions: the predictor's
    draws are skipped by advancing the generator (one 64-bit step per uniform), so the routing
    draws after them are the same. For an offline profile, which counts activations only."""
    rng = np.random.default_rng(seed)
    p, q = _chain_frequencies(fp, layers, model_seed)
    a = np.zeros((tokens, layers, p.shape[1]), dtype=bool)
    _sequence(fp, p, q, tokens, rng, a, None)
    a.flags.writeable = False
    return a


def token_shifts(mean: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` per-token shifts: min(1, gamma of shape TOKEN_SHIFT_SHAPE and mean ``mean``)."""
    return np.minimum(1.0, rng.gamma(TOKEN_SHIFT_SHAPE, mean / TOKEN_SHIFT_SHAPE, n))


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

