"""Spatial back-end: whole cascades on two-array designs (FuseMax, FLAT, Unfused).

``evaluate_attention(STRATEGIES["fusemax"], H, M, P, E, F)`` scores attention under one of the five
configurations of the FuseMax paper (the constraint files of designs/mappings, timed by the tile
pipeline of einsim.mappers.spatial.timing); ``evaluate_layer`` adds the encoder layer's linear layers;
``evaluate_cascade`` runs any other cascade (Mamba-2 SSD, linear attention) fused on the same
hardware; ``parse_schedule``/``evaluate_schedule`` are the schedule grammar (the artifact's formulas,
used as checks). See docs/fusemax.md.
"""

from einsim.mappers.spatial.attention import AttentionResult, evaluate_attention
from einsim.mappers.spatial.generic import CascadeResult, evaluate_cascade
from einsim.mappers.spatial.layer import LayerResult, evaluate_layer
from einsim.mappers.spatial import registered  # noqa: F401  (registers the five configurations as mappers)
from einsim.mappers.spatial.schedule import evaluate_schedule, parse_schedule
from einsim.mappers.spatial.strategies import STRATEGIES, Strategy, strategy

__all__ = ["AttentionResult", "CascadeResult", "LayerResult", "STRATEGIES", "Strategy", "evaluate_attention",
           "evaluate_cascade", "evaluate_layer", "evaluate_schedule", "parse_schedule", "strategy"]
