"""Points under filters, op counts per type, and FuseMax pass analysis on its own cascades."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.einsum import execute, load_workload, op_counts, ops_per_point, parse_workload, pass_analysis, points, random_inputs

# FuseMax §III, Cascades 1-3 (the pedagogical ones): 2, 1 and 1 passes over K.
CASCADE_1 = """
ranks: {K: 6}
tensors: {A: [K], B: [K], Y: [], Z: []}
einsums: |
  Y[] = A[k] * B[k]
  Z[] = Y[] * A[k]
"""
CASCADE_2 = """
ranks: {K: 6}
tensors: {A: [K], B: [K], Y: [], X: [], Z: []}
einsums: |
  Y[] = A[k] * B[k]
  X[] = A[k]
  Z[] = Y[] * X[]
"""
CASCADE_3 = """
ranks: {K: 6}
tensors: {A: [K], B: [K], RY: [K], RZ: [K], Z: []}
init: |
  RY[0] = 0
  RZ[0] = 0
einsums: |
  RY[i+1] = RY[i] + A[i] * B[i]
  RZ[i+1] = RZ[i] * (RY[i+1] / RY[i]) + RY[i+1] * A[i]
  Z[] = RZ[K]
stop: i >= K
"""


def test_fusemax_pedagogical_cascades_pass_counts() -> None:
    assert pass_analysis(parse_workload(CASCADE_1), "K").passes == 2
    assert pass_analysis(parse_workload(CASCADE_2), "K").passes == 1
    assert pass_analysis(parse_workload(CASCADE_3), "K").passes == 1


def test_cascades_1_and_2_compute_the_same_value() -> None:
    c1, c2 = parse_workload(CASCADE_1), parse_workload(CASCADE_2)
    x = random_inputs(c1, seed=3)
    want = (x["A"] @ x["B"]) * x["A"].sum()
    assert np.isclose(execute(c1, x)["Z"], want, rtol=1e-12)
    assert np.isclose(execute(c2, x)["Z"], want, rtol=1e-12)
    # Cascade 2 trades K multiplications for one (the paper's point about reassociation)
    assert op_counts(c1.einsum("Z")) == {"mac": 6}
    assert op_counts(c2.einsum("Z")) == {"mul": 1}


def test_attention_pass_counts_and_live_footprint() -> None:
    three = pass_analysis(load_workload("attention_3pass"), "M")
    assert three.passes == 3
    assert three.pass_of == {"QK": 1, "GM": 1, "SN": 2, "SD": 2, "A": 3, "AV": 3}
    c = load_workload("attention_3pass")
    h, m, p = c.ranks["H"], c.ranks["M"], c.ranks["P"]
    assert three.live_elements == h * m * p  # a whole M fiber per query row must stay live
    assert pass_analysis(load_workload("attention_2pass"), "M").passes == 2
    one = pass_analysis(load_workload("attention_1pass"), "M")
    assert one.passes == 1 and one.live_elements == 0


def test_cascade5_op_counts_match_fusemax_table() -> None:
    """Per-point actions of Cascade 5 as the FuseMax artifact charges them (reference/fusemax.md a.5);
    SLN and PRM are sub-then-exp, one exp each (FuseMax prices it as 6 mac + 1 add)."""
    c = load_workload("attention_1pass")
    expect = {"BQK": {"mac": 1}, "LM": {"max": 1}, "SLN": {"exp": 1}, "SLD": {"add": 1},
              "SLNV": {"mac": 1}, "RM": {"max": 1}, "PRM": {"exp": 1}, "SPD": {"mul": 1},
              "SPNV": {"mul": 1}, "RD": {"add": 1}, "RNV": {"add": 1}, "AV": {"divide": 1}}
    for name, per_point in expect.items():
        assert ops_per_point(c.einsum(name)) == per_point, name
    h, e, f, m, p = (c.ranks[r] for r in "HEFMP")
    assert op_counts(c.einsum("BQK")) == {"mac": h * e * m * p}
    assert op_counts(c.einsum("SLNV")) == {"mac": h * f * m * p}
    assert op_counts(c.einsum("AV")) == {"divide": h * f * p}
    assert points(c.einsum("RM")) == h * (m // c.ranks["M0"]) * p


def test_causal_points_are_a_triangle() -> None:
    c = parse_workload("""
ranks: {M: 37, P: 37, E: 3}
tensors: {Q: [E, P], K: [E, M], S: [M, P]}
einsums: |
  S[m, p] = Q[e, p] * K[e, m: m <= p]
""")
    assert points(c.einsum("S")) == 3 * 37 * 38 // 2


@st.composite
def filtered_space(draw):
    sizes = {v: draw(st.integers(1, 7)) for v in "abc"}
    conds = []
    for _ in range(draw(st.integers(1, 3))):
        x, y = draw(st.sampled_from(list(itertools.permutations("abc", 2))))
        cx, cy = draw(st.integers(-3, 3)), draw(st.integers(-3, 3))
        const = draw(st.integers(-5, 5))
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        conds.append(f"{cx}*{x} + {cy}*{y} {op} {const}")
    return sizes, conds


@settings(max_examples=150, deadline=None)
@given(filtered_space())
def test_filtered_point_count_equals_brute_force(case) -> None:
    sizes, conds = case
    text = (
        f"ranks: {{A: {sizes['a']}, B: {sizes['b']}, C: {sizes['c']}}}\n"
        "tensors: {X: [A, B, C], Y: []}\n"
        f"einsums: |\n  Y[] = X[a, b, c: {' and '.join(conds)}]\n"
    )
    e = parse_workload(text).einsum("Y")
    grid = np.meshgrid(*(np.arange(sizes[v]) for v in "abc"), indexing="ij")
    env = dict(zip("abc", grid))
    mask = np.ones(grid[0].shape, dtype=bool)
    for cond in e.filters:
        mask &= cond.holds(env)
    assert points(e) == int(mask.sum())
    x = random_inputs(parse_workload(text), seed=1)["X"]
    assert np.isclose(execute(parse_workload(text), {"X": x})["Y"], x[mask].sum())
