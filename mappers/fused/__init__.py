"""The whole-cascade mapper: the cost of a CascadeMapping and the optimal fused search over a cascade."""

from einsim.mappers.fused.evaluate import CascadeCost, evaluate_mapping, simulate_mapping
from einsim.mappers.fused.search import CascadeSearchResult, map_cascade

__all__ = ["CascadeCost", "CascadeSearchResult", "evaluate_mapping", "map_cascade", "simulate_mapping"]
