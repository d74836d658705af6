"""Execute a workload at small sizes and compare it with its declared numpy reference."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from einsim.errors import EinsimError
from einsim.einsum.cascade import Cascade
from einsim.einsum.execute import execute, random_inputs
from einsim.einsum.load import resize
from einsim.einsum.references import REFERENCES

EXECUTION_LIMIT = 20_000_000  # dense points per Einsum above which the executor is not run


@dataclass
class Verification:
    verified: bool | None  # None: no reference declared, or too large to execute
    reason: str
    sizes: dict[str, int] = field(default_factory=dict)
    max_error: dict[str, float] = field(default_factory=dict)  # output -> max |got - want| / (atol + rtol*|want|)


def verify(cascade: Cascade, seed: int = 0, rtol: float = 1e-9, atol: float = 1e-12) -> Verification:
    """Run the cascade at its ``check:`` sizes on seeded random inputs against its reference."""
    if not cascade.reference:
        return Verification(None, "no reference declared")
    if cascade.reference not in REFERENCES:
        raise EinsimError(
            f"{cascade.file}: unknown reference {cascade.reference!r} (known: {', '.join(sorted(REFERENCES))})"
        )
    small = resize(cascade, cascade.check_sizes) if cascade.check_sizes else cascade
    largest = max(e.dense_points for e in small.einsums)
    if largest > EXECUTION_LIMIT:
        return Verification(None, f"too large to execute ({largest} points); add small sizes under check:", dict(small.ranks))
    ref = REFERENCES[cascade.reference]
    rng = np.random.default_rng(seed)
    inputs = ref.inputs(small, rng) if ref.inputs else random_inputs(small, seed)
    got = execute(small, inputs)
    want = ref.expected(inputs, small)
    errors: dict[str, float] = {}
    for name, expected in want.items():
        if name not in got:
            raise EinsimError(f"reference {ref.name} returns {name}, which {cascade.name} does not compute")
        actual = got[name]
        if actual.shape != expected.shape:
            raise EinsimError(f"reference {ref.name} gives {name} shape {expected.shape}, the cascade {actual.shape}")
        scale = atol + rtol * np.abs(expected)
        errors[name] = float(np.max(np.abs(actual - expected) / scale)) if actual.size else 0.0
    ok = all(np.isfinite(v) and v <= 1.0 for v in errors.values())
    reason = "matches the reference" if ok else "differs from the reference: " + ", ".join(
        f"{k} off by {v:.3g}x tolerance" for k, v in errors.items() if not (np.isfinite(v) and v <= 1.0))
    return Verification(ok, reason, dict(small.ranks), errors)
