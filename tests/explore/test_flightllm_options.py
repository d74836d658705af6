"""The FlightLLM ``sparsity`` option from the command line and from a sweep: N:M typed as N:M works,
a bad or missing value is one located line that says what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim.arch import parse_override
from einsim.errors import EinsimError
from einsim.explore import load_sweep
from einsim.explore.cli import main

EVAL = ["eval", "--arch", "u280", "--model", "llama2_7b", "--phase", "decode", "--seq", "128", "--mapper", "flightllm"]
ACCEPTED = "accepted: the design's MPE.sparsity_patterns, '2:4', '2:16', '4:16', '8:16', '16:16'"


def test_an_n_m_value_on_the_command_line_stays_text() -> None:
    assert parse_override("sparsity=8:16", "--mapper-option") == ("sparsity", "8:16")  # YAML 1.1 would say 496
    assert parse_override("A.x=1:30:00") == ("A.x", "1:30:00")
    assert parse_override("A.capacity_B=8MiB") == ("A.capacity_B", "8MiB")
    with pytest.raises(EinsimError, match=r"--mapper-option 'sparsity' is not NAME=VALUE \(e.g. sparsity=8:16\)"):
        parse_override("sparsity", "--mapper-option", "sparsity=8:16")


def test_cli_sparsity_runs_and_bad_values_say_what_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(EVAL + ["--mapper-option", "sparsity=8:16"]) == 0
    capsys.readouterr()
    for value, said in (("3:16", "sparsity '3:16' is not an N:M pattern of this design"),
                        ("", "sparsity needs an N:M pattern such as '8:16', got ''")):
        assert main(EVAL + ["--mapper-option", f"sparsity={value}"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--mapper-option sparsity={value}: mapper flightllm: {said}" in err
        assert ACCEPTED in err
    assert main(EVAL + ["--mapper-option", "sparsity"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not NAME=VALUE (e.g. sparsity=8:16)" in err


def test_a_sweep_with_an_unquoted_pattern_is_refused_where_it_is_written(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("name: sp\nbase: {arch: u280, model: llama2_7b, phase: decode, seq: 128, mapper: flightllm}\n"
                    "axes:\n  sp: {path: mapper.sparsity, values: ['4:16', 8:16]}\n")
    with pytest.raises(EinsimError) as exc:
        load_sweep(spec)
    assert str(exc.value).startswith(f"{spec}:4:")
    assert "got 496" in str(exc.value) and "quote it, '8:16'" in str(exc.value)
