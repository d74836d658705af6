"""What the tensors of a cascade are to a lowering: a scan's state size, the input a re-indexed
tensor stands for, the shape of a multiply-accumulate step and, inside a model operator, which
inputs are weights or caches in off-chip memory. Shared by the FPGA and phone lowerings."""

from __future__ import annotations

import math

from einsim.einsum import Cascade, Einsum, ops_per_point, points


def state_elements(cascade: Cascade, tensor: str) -> int:
    """Elements of one iteration's slice of an iterative tensor (the state itself)."""
    spec = cascade.tensors[tensor]
    return spec.elements // math.prod(spec.extents[d] for d, _ in spec.iterative)


def source_tensor(cascade: Cascade, tensor: str) -> str:
    """The cascade input a tensor re-indexes (through init Einsums with one operand), else itself."""
    seen = set()
    while tensor not in seen:
        seen.add(tensor)
        writers = cascade.writers(tensor)
        if len(writers) != 1 or not writers[0].init or len(writers[0].operands) != 1:
            return tensor
        tensor = writers[0].operands[0].tensor
    return tensor


def mac_shape(cascade: Cascade, e: Einsum) -> tuple[int, int, int, str] | None:
    """(M, K, N, streamed operand) of one step of a multiply-accumulate Einsum, None when it is not one.

    K is the reduction length, the streamed operand the larger one (by elements), N the elements of
    it per reduction point and M how many times each is used (points / (K·N)). Over an iterative
    rank the numbers are per iteration: the streamed operand's N when it is indexed by the
    iteration (a block of the KV cache, the state entering a chunk), else its reuse M.
    """
    if ops_per_point(e).get("mac", 0) == 0 or not e.reduced or len(e.operands) < 2:
        return None
    total = points(e)
    out = math.prod(e.space[v] for v in e.kept)
    k = max(1, total // max(1, out))
    sizes = {o.tensor: cascade.tensors[o.tensor].elements for o in e.operands}
    streamed = max(sizes, key=lambda t: sizes[t])
    n = max(1, min(sizes[streamed], total) // k)
    m = max(1, total // (k * n))
    if e.iteration_var is not None:
        steps = cascade.iterations.get(e.iteration_var, 1)
        operand = next(o for o in e.operands if o.tensor == streamed)
        if any(e.iteration_var in a.vars for a in operand.index):
            n = max(1, n // steps)
        else:
            m = max(1, m // steps)
    return m, k, n, streamed


def model_roles(cascade: Cascade, workload: str) -> dict[str, frozenset[str]]:
    """The inputs of a model operator that live in HBM, the others being activations the previous
    operator left on chip. In attention they are the KV cache, the operands its MACs stream.
    Elsewhere they are the weights: every input that does not lead with the token rank, as the
    operator's output and activations do in every bundled model workload."""
    if workload.startswith("attention") or workload.endswith("swa"):
        streamed = {source_tensor(cascade, s[3]) for e in cascade.einsums if (s := mac_shape(cascade, e)) is not None}
        return {"weights": frozenset(), "caches": frozenset(streamed & set(cascade.inputs))}
    lead = {cascade.tensors[t].ranks[0] for t in cascade.outputs if cascade.tensors[t].ranks}
    hbm = frozenset(t for t in cascade.inputs if not cascade.tensors[t].ranks or cascade.tensors[t].ranks[0] not in lead)
    return {"weights": hbm, "caches": frozenset()}
