"""Bad workloads and bad sizes through the CLI (`einsim check`, `einsim eval`): exit 2, one stderr
line that starts with the location (file:line or the flag), nothing on stdout."""

from __future__ import annotations

import pytest

from conftest import run_cli_error
from einsim import designs
from test_errors import GEMM as EINSUM, HEADER

GEMM = HEADER + EINSUM  # the same small GEMM as test_errors (its Einsum on line 11)
BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10))


def size(value: str) -> str:
    return GEMM.replace("  M: 4\n", f"  M: {value}\n")


# (id, workload text, extra CLI args, expected start of the message after "einsim: error: ")
FILE_CASES = [
    ("zero size", size("0"), "w.yaml:3:"),
    ("negative size", size("-4"), "w.yaml:3:"),
    ("fractional size", size("1.5"), "w.yaml:3:"),
    ("infinite size", size(".inf"), "w.yaml:3:"),
    ("nan size", size(".nan"), "w.yaml:3:"),
    ("log(0)", size('"log(0)"'), "w.yaml:3:"),
    ("sqrt(-4)", size('"sqrt(-4)"'), "w.yaml:3:"),
    ("exp(1000)", size('"exp(1000)"'), "w.yaml:3:"),
    ("1e400 literal", size('"1e400"'), "w.yaml:3:"),
    ("1e400 float", size("1e400"), "w.yaml:3:"),
    ("inf name", size('"inf"'), "w.yaml:3:"),
    ("division by zero", size('"K / 0"'), "w.yaml:3:"),
    ("self reference", size('"M"'), "w.yaml:3:"),
    ("unknown name", size('"Q"'), "w.yaml:3:"),
    ("deep parentheses", size('"' + "(" * 80 + "1" + ")" * 80 + '"'), "w.yaml:3:"),
    ("long sum", size('"' + "+".join(["1"] * 400) + '"'), "w.yaml:3:"),
    ("boolean size", size("true"), "w.yaml:3:"),
    ("list size", size("[1, 2]"), "w.yaml:3:"),
    ("power operator", size('"2**3"'), "w.yaml:3:"),
    ("huge exponent", size('"1e999999999"'), "w.yaml:3:"),
    ("5000-digit integer", size("9" * 5000), "w.yaml:3:"),
    ("not whole after sqrt", GEMM.replace("  K: 3\n", '  K: "sqrt(2)"\n'), "w.yaml:4:"),
    ("log of a tiny number", size('"log(1e-400)"'), "w.yaml:3:"),
    ("product beyond floats", size('"1e300 * 1e300"'), "w.yaml:3:"),
    ("iteration space beyond floats", size('"1e300"').replace("  N: 5\n", '  N: "1e300"\n'), "w.yaml:11:3: Z's iteration space"),
    ("infinite check size", GEMM + "check: {M: .inf}\n", "w.yaml:12:"),
    ("duplicated rank", GEMM.replace("  M: 4\n", "  M: 4\n  M: 8\n"), "w.yaml:4:3: duplicate key 'M'"),
    ("alias bomb", GEMM + 'l0: &l0 ["a", "a", "a", "a", "a", "a", "a", "a", "a"]\n' + BOMB, "w.yaml:13:"),
    ("recursive alias", GEMM + "x: &x [*x]\n", "w.yaml:12:"),
    ("deep flow nesting", GEMM + "x: " + "[" * 200 + "]" * 200 + "\n", "w.yaml:12:"),
    ("deep block nesting", GEMM + "".join("  " * i + f"k{i}:\n" for i in range(120)), "w.yaml:"),
    ("non-scalar key", GEMM + "{a: 1}: 2\n", "w.yaml:12:1"),
    ("unknown top-level key", GEMM + "rank: {M: 4}\n", "w.yaml:12:1"),
    ("einsum syntax", GEMM.replace("A[m, k] * B", "A[m, k] * * B"), "w.yaml:11:"),
    ("einsum nested too deep", GEMM.replace("A[m, k] * B[k, n]", "(" * 80 + "A[m, k]" + ")" * 80 + " * B[k, n]"), "w.yaml:11:"),
    ("einsum long product", GEMM.replace("A[m, k] * B[k, n]", " * ".join(["A[m, k]"] * 300)), "w.yaml:11:"),
    ("unknown rank in a tensor", GEMM.replace("A: [M, K]", "A: [M, Q]"), "w.yaml:7:"),
    ("zero datatype width", GEMM + "datatype_bytes: 0\n", "w.yaml:12:"),
    ("YAML syntax", GEMM.replace("  K: 3\n", "  K: [3\n"), "w.yaml:"),
    ("tab indentation", GEMM.replace("  K: 3\n", "\tK: 3\n"), "w.yaml:4:"),
]

SET_CASES = [
    ("M=inf", "--set M"),
    ("M=1e400", "--set M"),
    ("M=nan", "--set M"),
    ("M=0", "--set M"),
    ("M=-1", "--set M"),
    ("M=2.5", "--set M"),
    ("M=log(0)", "--set M"),
    ("M=sqrt(-4)", "--set M"),
    ("M=exp(1000)", "--set M"),
    ("M=1e300*1e300", "--set M"),
    ("M=" + "(" * 60 + "1" + ")" * 60, "--set M"),
    ("Q=4", "--set Q"),
]


@pytest.mark.parametrize("text, where", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_workload_file_is_one_located_line(text: str, where: str, tmp_path, capsys) -> None:
    f = tmp_path / "w.yaml"
    f.write_text(text, encoding="utf-8")
    message = run_cli_error(["check", str(f)], capsys)
    assert message.startswith(f"{tmp_path}/{where}"), message


def test_non_utf8_workload_is_one_located_line(tmp_path, capsys) -> None:
    f = tmp_path / "w.yaml"
    f.write_bytes(GEMM.replace("name: t", "name: caf\xe9").encode("latin-1"))
    message = run_cli_error(["check", str(f)], capsys)
    assert message == f"{f}:1:10: not UTF-8 text: byte 0xe9 at byte offset 9 (save the file as UTF-8)"


@pytest.mark.parametrize("item, where", SET_CASES, ids=[c[0][:20] for c in SET_CASES])
@pytest.mark.parametrize("command", ["check", "eval"])
def test_bad_size_given_with_set_names_the_flag(command: str, item: str, where: str, tmp_path, capsys) -> None:
    f = tmp_path / "w.yaml"
    f.write_text(GEMM, encoding="utf-8")
    argv = ["check", str(f)] if command == "check" else ["eval", "--arch", str(designs.path("arch", "fusemax.yaml")),
                                                          "--workload", str(f)]
    message = run_cli_error(argv + ["--set", item], capsys)
    assert message.startswith(where), message


def test_cases_are_distinct_and_many() -> None:
    texts = [c[1] for c in FILE_CASES]
    assert len(set(texts)) == len(texts) and len(FILE_CASES) + 1 + 2 * len(SET_CASES) >= 60


@pytest.mark.parametrize("bad", [".inf", ".nan", "1e400"])
def test_model_preset_with_a_non_finite_quantity_is_refused(bad: str, tmp_path) -> None:
    from einsim.einsum.models import load_model
    from einsim.errors import EinsimError

    text = designs.path("models", "bamboo_7b.yaml").read_text(encoding="utf-8")
    f = tmp_path / "m.yaml"
    f.write_text(text.replace("active_params: {value: 3.0e+9,", f"active_params: {{value: {bad},"), encoding="utf-8")
    with pytest.raises(EinsimError) as info:
        load_model(f)
    assert str(info.value).startswith(f"{f}:16:") and "finite" in str(info.value), str(info.value)
