"""The tiling search of the Unfused QK/AV and the linear layers: tiles, loop orders and L3 keep/bypass."""

from __future__ import annotations

import pytest

from einsim.mappers.spatial.attention import design, evaluate_attention, workload
from einsim.mappers.spatial.strategies import STRATEGIES
from einsim.mappers.spatial.tiles import search_tiling

H, N, E = 12, 1024, 64  # one batch of BERT heads at 1K


def _unfused() -> dict:
    r = evaluate_attention(STRATEGIES["unfused"], H=H, M=N, P=N, E=E, F=E)
    return {c.name: c for c in r.costs}


def test_unfused_qk_output_bypasses_the_l3():
    # QK is written once per element (E is reduced in the PE registers): keeping it in the L3 would
    # add one L3 update per element and save no DRAM traffic, so the search bypasses it, as the
    # artifact's Timeloop mapper may (its unfused-constraints leave the L3 dataspace open)
    qk = _unfused()["QK"].energy
    assert qk[("DRAM", "update")][0] == pytest.approx(H * N * N)
    assert qk.get(("GlobalBuffer", "update"), [0.0])[0] == 0.0


def test_unfused_av_reads_a_from_dram_once_without_the_l3():
    # A is read once (its reuse over f is in the PE registers): fill + read through the L3 would be
    # two L3 accesses per element for nothing; V, reused over the query tile, stays in the L3
    av = _unfused()["AV"].energy
    a_reads = H * N * N
    assert av[("DRAM", "read")][0] >= a_reads
    assert av[("GlobalBuffer", "write")][0] <= 0.0625 * a_reads  # V's fills only: E / (4 x 256) per element
    assert av[("GlobalBuffer", "read")][0] > 0


def test_a_reused_operand_stays_in_the_l3():
    # on unfused.yaml an L3 word (23.85 nJ / 256) costs more than a DRAM word (249.6 pJ / 4), so by
    # energy alone every operand would stream from DRAM; Q and K are re-read for every tile, and a
    # bypass that adds DRAM traffic is not taken (the artifact's EDP mapper would pay it in DRAM time)
    arch = design("unfused.yaml")
    e = workload("attention_3pass", {"H": H, "M": N, "P": N, "E": E, "F": E}).einsum("QK")
    kept, _, _ = search_tiling(arch, e, "Array2D", {"m": 256, "p": 256}, ("p", "m"), {"h": H}, {"e": "RF2D"}, {},
                            ("Q", "K", "QK"), lambda c: c.energy_J)
    none, _, _ = search_tiling(arch, e, "Array2D", {"m": 256, "p": 256}, ("p", "m"), {"h": H}, {"e": "RF2D"}, {},
                            (), lambda c: c.energy_J)
    assert none.energy_J < kept.energy_J and kept.dram_bytes < none.dram_bytes
    assert kept.energy[("GlobalBuffer", "read")][0] > 0


def _qk_plans(arch, e, homes, staged):
    """Mappings of ``e`` (QK) over every power-of-two tile of p and m and both DRAM orders."""
    from einsim.mappers.spatial.loops import LevelPlan, mapping_for
    from einsim.mappers.spatial.tiles import tile_choices

    out = []
    for tp in tile_choices(e.space["p"], 256):
        for tm in tile_choices(e.space["m"], 256):
            for order in (("p", "m"), ("m", "p")):
                plan = [LevelPlan("DRAM", {"h": e.space["h"], "p": e.space["p"] // tp, "m": e.space["m"] // tm},
                                  ("h", *order)),
                        LevelPlan("GlobalBuffer", {"p": tp // 256, "m": tm // 256}, ("p", "m"), {"m": 256, "p": 256}),
                        LevelPlan("RF2D", {"e": e.space["e"]})]
                out.append(mapping_for(arch, e, "Array2D", plan, homes, staged))
    return out


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("homes", [{}, {"QK": "StageRF"}, {"Q": "GlobalBuffer", "QK": "StageRF"}])
def test_cost_arrays_are_the_einsum_costs_floats(causal, homes):
    # the search ranks candidates by einsum_cost_arrays and builds an EinsumCost for the winner
    # only: both must be the same floats (energy summed in the same order), masked or not, with
    # homes on and off the storage path, or the search could pick another tiling than the costs rank first
    import numpy as np

    from einsim.mappers.masking import mask_fraction
    from einsim.mappers.spatial.cost import Variant, einsum_cost_arrays, evaluate_einsum
    from einsim.mappers.hierarchy import hierarchy_for
    from einsim.sim.nest import NestProblem, encode

    arch = design("fusemax.yaml")
    name = "attention_3pass_causal" if causal else "attention_3pass"
    sizes = {"H": H, "M": N, "E": E, "F": E} if causal else {"H": H, "M": N, "P": N, "E": E, "F": E}
    e = workload(name, sizes).einsum("QK")
    mappings = _qk_plans(arch, e, homes, ("Q", "K"))
    costs = evaluate_einsum(arch, e, "Array2D", [Variant(m, homes) for m in mappings])
    enc = encode(NestProblem.from_einsum(e), hierarchy_for(arch, "Array2D"), mappings)
    arrays = einsum_cost_arrays(arch, e, "Array2D", enc, np.array([mask_fraction(e, m) for m in mappings]), homes)
    assert any(c.active_fraction < 1 for c in costs) == causal
    for field in ("compute_s", "busy_pe_s", "dram_bytes", "energy_J", "valid"):
        assert getattr(arrays, field).tolist() == [getattr(c, field) for c in costs], field


def test_bypass_rows_encode_the_bypassed_mappings():
    from einsim.mappers.hierarchy import hierarchy_for
    from einsim.mappers.spatial.tiles import _bypass_rows, _bypassing
    from einsim.sim.nest import NestProblem, encode

    import numpy as np

    arch = design("unfused.yaml")
    e = workload("attention_3pass", {"H": H, "M": N, "P": N, "E": E, "F": E}).einsum("QK")
    problem, hier = NestProblem.from_einsum(e), hierarchy_for(arch, "Array2D")
    mappings = _qk_plans(arch, e, {}, ("Q", "K", "QK"))
    ways = [(), ("Q",), ("QK",), ("K", "QK"), ("Q", "K", "QK")]
    rows = np.repeat(np.arange(len(mappings)), len(ways))
    got = _bypass_rows(problem, hier, "GlobalBuffer", encode(problem, hier, mappings), rows, ways * len(mappings))
    want = encode(problem, hier, [_bypassing(m, "GlobalBuffer", set(by)) for m in mappings for by in ways])
    for field in ("temporal", "spatial", "order", "keep"):
        assert (getattr(got, field) == getattr(want, field)).all(), field
    assert (got.axes() == want.axes()).all()
    assert not got.keep.all()  # some bypass took effect


def test_reordered_rows_encode_the_reordered_mappings():
    from einsim.mappers.hierarchy import hierarchy_for
    from einsim.mappers.spatial.tiles import _reordered, _with_dram_order
    from einsim.sim.nest import NestProblem, encode

    arch = design("unfused.yaml")
    e = workload("attention_3pass", {"H": H, "M": N, "P": N, "E": E, "F": E}).einsum("QK")
    problem, hier = NestProblem.from_einsum(e), hierarchy_for(arch, "Array2D")
    mappings = _qk_plans(arch, e, {}, ("Q", "K", "QK"))
    candidates = [(k, order) for k in range(len(mappings)) for order in (None, ("h", "m", "p"), ("m", "h"))]
    got = _reordered(problem, hier, encode(problem, hier, mappings), mappings, candidates)
    want = encode(problem, hier, [mappings[k] if order is None else _with_dram_order(mappings[k], order)
                                  for k, order in candidates])
    for field in ("temporal", "spatial", "order", "keep"):
        assert (getattr(got, field) == getattr(want, field)).all(), field
    assert (got.order[0::3] != got.order[1::3]).any()  # some order took effect


def _gemm():
    return workload("gemm", {"M": 65536, "K": 768, "N": 768}).einsum("Z")


@pytest.mark.parametrize("arch_name, case", [("fusemax.yaml", "gemm"), ("flat.yaml", "gemm"), ("unfused.yaml", "gemm"),
                                             ("unfused.yaml", "qk"), ("unfused.yaml", "av")])
def test_retimed_plans_are_mapping_for_plans(arch_name, case):
    # search_tiling runs mapping_for once per kind of plan (which loops run, in which order) and
    # retimes that Mapping for the other plans of its kind: each must be what mapping_for gives,
    # and its encoding encode()'s
    import itertools

    from einsim.mappers.hierarchy import hierarchy_for
    from einsim.mappers.spatial.loops import LevelPlan, mapping_for
    from einsim.mappers.spatial.tiles import _retimed, _retimed_rows, tile_choices
    from einsim.sim.nest import NestProblem, encode

    arch = design(arch_name)
    if case == "gemm":
        e, spatial, tiled, outer, inner, staged = _gemm(), {"m": 256, "n": 256}, ("m", "n"), {}, {"k": "RF2D"}, ("A", "B", "Z")
    else:
        e = workload("attention_3pass", {"H": H, "M": 4 * N, "P": 4 * N, "E": E, "F": E}).einsum(case.upper())
        spatial, tiled, outer = {"m": 256, "p": 256}, ("p", "m"), {"h": H}
        inner = {"e": "RF2D"} if case == "qk" else {"f": "GlobalBuffer"}
        staged = ("Q", "K", "QK") if case == "qk" else ("A", "V", "AV")
    space = e.space
    plans, kinds, kind_of = [], {}, []
    for combo in itertools.product(*(tile_choices(space[v], spatial[v]) for v in tiled)):
        for order in itertools.permutations(tiled):
            factors = {"DRAM": {**outer, **{v: space[v] // t for v, t in zip(tiled, combo)}},
                       "GlobalBuffer": {**{v: t // spatial[v] for v, t in zip(tiled, combo)},
                                        **{v: space[v] for v, lvl in inner.items() if lvl == "GlobalBuffer"}}}
            plan = [LevelPlan("DRAM", factors["DRAM"], (*outer, *order)),
                    LevelPlan("GlobalBuffer", factors["GlobalBuffer"], tuple(factors["GlobalBuffer"]), dict(spatial)),
                    *(LevelPlan(lvl, {v: space[v] for v, at in inner.items() if at == lvl}) for lvl in ("RF2D",))]
            plans.append(mapping_for(arch, e, "Array2D", plan, {}, staged))
            kind = (*(tuple(v for v, f in t.items() if f > 1) for t in factors.values()), order)
            first = kinds.setdefault(kind, len(plans) - 1)
            kind_of.append(first)
            assert _retimed(plans[first], factors) == plans[-1]
    assert len(kinds) < len(plans)  # some plans were retimed
    problem, hier = NestProblem.from_einsum(e), hierarchy_for(arch, "Array2D")
    got = _retimed_rows(problem, hier, plans, kind_of, ("DRAM", "GlobalBuffer"))
    want = encode(problem, hier, plans)
    for field in ("temporal", "spatial", "order", "keep"):
        assert (getattr(got, field) == getattr(want, field)).all(), field
    assert (got.axes() == want.axes()).all()
