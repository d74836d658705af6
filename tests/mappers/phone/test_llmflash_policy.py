"""LLM in a flash as a policy: mechanisms that the published targets do not isolate."""

from __future__ import annotations

import pytest

from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.formats import INT4_B
from einsim.mappers.phone.hardware import load_device
from einsim.mappers.phone.llmflash import Run, _compute


@pytest.mark.parametrize("model", ["turbosparse_mixtral_47b", "opt_6p7b"])
def test_only_the_routed_experts_predictors_run(model):
    fp, dev = footprint(model), load_device("oneplus12")
    run = Run(weight_B=INT4_B)
    bw = dev.bandwidth(["CPU"])
    _, without = _compute(dev, fp, run, 0.0, bw, predictor=False)
    _, with_pred = _compute(dev, fp, run, 0.0, bw, predictor=True)
    assert with_pred - without == pytest.approx(fp.facts.predictor_B.value * fp.top_k / fp.experts)
