"""Per-model facts the phone policies need beyond the shape preset: activation statistics,
predictor size and embedding tying, in ``designs/models/phone/<model id>.yaml``.

The shape preset's schema (``einsim.einsum.models``) forbids extra keys, so these live in a
sidecar with the same ``{value, source}`` convention (tags ``src:``, ``derived:``, ``2nd-hand:``,
``unverified:``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from einsim.einsum.models import Fraction, Quantity
from einsim.errors import EinsimError
from einsim.yamlsrc import load_yaml_file


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActivationStats(_Spec):
    """Parameters of the seeded FFN activation generator (see ``activations.py``)."""

    zipf_exponent: Quantity  # per-neuron activation frequency ~ rank^-zipf_exponent
    persistence: Fraction  # token-to-token correlation of a neuron's activation (0 = independent)
    predictor_fn: Fraction  # P(not predicted | active)
    predictor_fp: Fraction  # P(predicted | inactive)
    coactivation: Fraction | None = None  # P(up/down needed | gate row loaded), gated FFNs
    # mean share of a token's neurons redrawn from the flat pattern, common to its layers (activations._shift);
    # None: no token shift
    token_shift: Fraction | None = None


class PhoneFacts(_Spec):
    model: str
    tied_embeddings: bool
    activation: ActivationStats
    predictor_B: Quantity  # DRAM bytes of all the layer predictors
    ffn_sparsity: Fraction | None = None  # of the sparse (ReLU-fied) variant the policies run, if the preset has none


def facts_path(model_id: str) -> Path:
    from einsim.designs import path as designs_path

    return designs_path("models", "phone", f"{model_id}.yaml")


def load_facts(model_id: str) -> PhoneFacts | None:
    """The sidecar of a bundled model preset, by preset id (``bamboo_7b``); None if it has none."""
    p = facts_path(model_id)
    if not p.exists():
        return None
    src = load_yaml_file(p)
    try:
        facts = PhoneFacts.model_validate(src.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        raise EinsimError(f"{'.'.join(map(str, loc))}: {err['msg']}", src.where(*loc)) from None
    if facts.model != model_id:
        raise EinsimError(f"model: {facts.model!r} does not match the file name {model_id!r}", src.where("model"))
    return facts
