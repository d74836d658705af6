"""Reference executor: runs any cascade on numpy float64 arrays, iterative ranks included.

Each Einsum is evaluated over its whole iteration space with numpy broadcasting (one axis per
index variable). Einsums that use an iterative index run once per iteration, in dependency
order, with that index fixed; everything else runs once. This is for checking meaning on small
sizes, not for speed.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from einsim.errors import EinsimError
from einsim.einsum import syntax as sx
from einsim.einsum.cascade import Cascade, Einsum

_UNARY = {
    "exp": np.exp,
    "log": np.log,
    "silu": lambda x: x / (1.0 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3))),  # tanh form, as BERT
    "softplus": lambda x: np.logaddexp(0.0, x),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "logsigmoid": lambda x: -np.logaddexp(0.0, -x),
    "relu": lambda x: np.maximum(x, 0.0),
    "sqrt": np.sqrt,
    "recip": lambda x: 1.0 / x,
    "abs": np.abs,
}
_BINARY = {"max": np.maximum, "min": np.minimum}
_IDENTITY = {"sum": 0.0, "max": -np.inf, "min": np.inf}
_REDUCE = {"sum": np.add, "max": np.maximum, "min": np.minimum}


def random_inputs(cascade: Cascade, seed: int = 0) -> dict[str, np.ndarray]:
    """Standard-normal float64 inputs, one array per input tensor, deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(cascade.tensors[name].extents) for name in cascade.inputs}


class _Run:
    def __init__(self, cascade: Cascade, inputs: Mapping[str, np.ndarray]):
        self.c = cascade
        self.store: dict[str, np.ndarray] = {}
        for name in cascade.inputs:
            if name not in inputs:
                raise EinsimError(f"missing input tensor {name} (inputs: {', '.join(cascade.inputs)})")
            arr = np.asarray(inputs[name], dtype=np.float64)
            want = cascade.tensors[name].extents
            if arr.shape != want:
                raise EinsimError(f"input {name} has shape {arr.shape}, expected {want}")
            self.store[name] = arr
        for name, t in cascade.tensors.items():
            if name not in self.store:
                self.store[name] = np.zeros(t.extents)
        self.symbols = {**cascade.params, **{k: float(v) for k, v in cascade.ranks.items()}}

    def value(self, e: sx.Expr, env: dict) -> np.ndarray | float:
        if isinstance(e, sx.Num):
            return e.value
        if isinstance(e, sx.Name):
            return self.symbols[e.name]
        if isinstance(e, sx.Neg):
            return -self.value(e.operand, env)
        if isinstance(e, sx.BinOp):
            a, b = self.value(e.left, env), self.value(e.right, env)
            with np.errstate(divide="ignore", invalid="ignore"):
                if e.op == "+":
                    return a + b
                if e.op == "-":
                    return a - b
                if e.op == "*":
                    return a * b
                return a / b
        if isinstance(e, sx.Call):
            args = [self.value(a, env) for a in e.args]
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                if e.func in _UNARY:
                    return _UNARY[e.func](np.asarray(args[0], dtype=np.float64))
                return _BINARY[e.func](*args)
        if isinstance(e, sx.Access):
            return env["__access__"][id(e)]
        raise AssertionError(f"unknown node {e!r}")

    def run(self, e: Einsum, fixed: dict[str, int]) -> None:
        free = [v for v in e.space if v not in fixed]
        shape = tuple(e.space[v] for v in free)
        env: dict = dict(fixed)
        for axis, var in enumerate(free):
            view = [1] * len(free)
            view[axis] = e.space[var]
            env[var] = np.arange(e.space[var]).reshape(view)

        mask = np.ones(shape, dtype=bool)
        for cond in e.filters:
            mask &= np.broadcast_to(cond.holds(env), shape)

        gathered: dict[int, np.ndarray] = {}
        for acc, op in zip(sx.accesses_in(e.expr), e.operands):
            arr = self.store[op.tensor]
            idx = []
            for aff, extent in zip(op.index, arr.shape):
                raw = np.broadcast_to(np.asarray(aff.evaluate(env)), shape)
                if e.filters:
                    bad = mask & ((raw < 0) | (raw >= extent))
                    if bad.any():
                        raise EinsimError(f"{e.name}: {op.tensor}[...{aff}...] leaves 0..{extent - 1} inside the filter", e.location)
                    raw = np.clip(raw, 0, extent - 1)
                idx.append(raw)
            gathered[id(acc)] = arr[tuple(idx)] if idx else np.broadcast_to(arr[()], shape)
        env["__access__"] = gathered
        values = np.broadcast_to(np.asarray(self.value(e.expr, env), dtype=np.float64), shape)

        out = self.store[e.output]
        kept_axes = [i for i, v in enumerate(free) if v not in e.reduced]
        red_axes = tuple(i for i, v in enumerate(free) if v in e.reduced)
        if e.reduce == "top":
            values = _top_k(values, mask, free.index(e.top_over), e.top_k)
            mask = np.ones(shape, dtype=bool)
        if red_axes or e.reduce in _IDENTITY and any(v in fixed for v in e.reduced):
            ident = _IDENTITY[e.reduce]
            masked = np.where(mask, values, ident)
            reduced = _REDUCE[e.reduce].reduce(masked, axis=red_axes) if red_axes else masked
            write_mask = None
        else:
            reduced = values
            write_mask = mask if e.filters else None

        kept_env = dict(fixed)
        kshape = tuple(shape[i] for i in kept_axes)
        for pos, i in enumerate(kept_axes):
            view = [1] * len(kept_axes)
            view[pos] = shape[i]
            kept_env[free[i]] = np.arange(shape[i]).reshape(view)
        out_idx = tuple(np.broadcast_to(np.asarray(a.evaluate(kept_env)), kshape) for a in e.out_index)
        if any(v in fixed for v in e.reduced):
            reduced = _REDUCE[e.reduce](out[out_idx], reduced)
        if write_mask is not None:
            sel = tuple(ix[write_mask] for ix in out_idx)
            out[sel] = reduced[write_mask]
        else:
            out[out_idx] = reduced

    def prepare_accumulators(self, body: list[Einsum], var: str) -> None:
        for e in body:
            if var in e.reduced:
                self.store[e.output].fill(_IDENTITY[e.reduce])


def _top_k(values: np.ndarray, mask: np.ndarray, axis: int, k: int) -> np.ndarray:
    """Keep the k largest values along ``axis`` (ties go to the lower coordinate); zero the rest."""
    scored = np.where(mask, values, -np.inf)
    order = np.argsort(-scored, axis=axis, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(values.shape[axis]).reshape(
        [-1 if i == axis else 1 for i in range(values.ndim)]) * np.ones_like(order), axis=axis)
    return np.where((ranks < k) & mask, values, 0.0)


def execute(cascade: Cascade, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the cascade; returns every tensor (inputs, intermediates and outputs) by name."""
    run = _Run(cascade, inputs)
    order = cascade.topological_order()
    done: set[str] = set()
    by_name = {e.name: e for e in order}
    for e in order:
        if e.name in done:
            continue
        var = e.iteration_var if not e.init else None
        if var is None:
            run.run(e, {})
            done.add(e.name)
            continue
        body = [x for x in order if x.iteration_var == var and not x.init and x.name not in done]
        body_names = {x.name for x in body}
        needed = set()
        for x in body:
            needed |= {a for a in _ancestors(cascade, x.name) if a not in body_names and a not in done}
        for name in [x.name for x in order if x.name in needed]:
            if _ancestors(cascade, name) & body_names:
                raise EinsimError(
                    f"{name} needs a value that is complete only after the {var} loop, but the loop needs {name}",
                    by_name[name].location,
                )
            run.run(by_name[name], {})
            done.add(name)
        run.prepare_accumulators(body, var)
        for step in range(cascade.iterations[var]):
            for x in body:
                run.run(x, {var: step})
        done |= body_names
    return run.store


def _ancestors(cascade: Cascade, name: str) -> set[str]:
    import networkx as nx

    return nx.ancestors(cascade.graph, name)
