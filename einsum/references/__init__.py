"""Direct numpy implementations of the math each bundled workload expresses.

A workload names its reference with ``reference: NAME``; ``einsim check`` runs the cascade and
the reference on the same random inputs and compares the outputs. A reference is a function
``(inputs, cascade) -> {output tensor: array}``; it may come with an input generator for
workloads whose inputs need a domain (e.g. positive feature maps). Modules register on import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Reference:
    name: str
    expected: Callable[..., Arrays]  # (inputs, cascade) -> outputs
    inputs: Callable[..., Arrays] | None = None  # (cascade, rng) -> inputs; default standard normal


REFERENCES: dict[str, Reference] = {}


def reference(name: str, inputs: Callable[..., Arrays] | None = None):
    """Decorator registering ``fn(inputs, cascade) -> outputs`` as reference ``name``."""

    def wrap(fn: Callable[..., Arrays]) -> Callable[..., Arrays]:
        if name in REFERENCES:
            raise ValueError(f"reference {name!r} registered twice")
        REFERENCES[name] = Reference(name, fn, inputs)
        return fn

    return wrap


from einsim.einsum.references import attention, dense, linear, scans  # noqa: E402,F401  (they register)
