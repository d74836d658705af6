"""Random text and random mutations of valid workloads: the loader returns a Cascade or raises EinsimError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from einsim.errors import EinsimError
from einsim.einsum import Cascade, parse_workload
from einsim.designs import path as designs_path

SEEDS = sorted(designs_path("workloads").glob("attention_*pass.yaml"))
SEED_TEXTS = [p.read_text() for p in SEEDS]
ALPHABET = "abcmnpkMNK01[](),:=+-*/<>#| \n\t.'\"{}&@!maxoverexpinftop"


def load_or_error(text: str) -> None:
    try:
        result = parse_workload(text, file="fuzz.yaml")
    except EinsimError as exc:
        assert str(exc)  # a message, not an empty error
        return
    assert isinstance(result, Cascade)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=200))
def test_random_text(text: str) -> None:
    load_or_error(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60), st.integers(0, 3))
def test_random_einsum_lines(line: str, which: int) -> None:
    """A random Einsum line inside an otherwise valid file exercises the expression parser."""
    text = "ranks: {M: 4, K: 3, N: 5}\ntensors: {A: [M, K], B: [K, N], Z: [M, N]}\neinsums: |\n"
    prefix = ["", "Z[m, n] = ", "Z[m, n] = max over k: ", "Z: Z[m, n] = A[m, k] * "][which]
    load_or_error(text + "  " + (prefix + line).replace("\n", " ") + "\n")


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "swap_lines", "drop_line"]))
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        if kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 8)):]
        elif kind == "insert":
            text = text[:i] + draw(st.text(alphabet=ALPHABET, min_size=1, max_size=6)) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw(st.sampled_from(ALPHABET)) + text[i + 1:]
        else:
            lines = text.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            if kind == "drop_line":
                del lines[a]
            else:
                b = draw(st.integers(0, len(lines) - 1))
                lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_valid_workloads(text: str) -> None:
    load_or_error(text)


def test_seed_files_are_valid() -> None:
    assert len(SEEDS) == 3
    for path in SEEDS:
        assert isinstance(parse_workload(Path(path).read_text()), Cascade)
