"""`einsim COMMAND` loads that command's modules only: `einsim reproduce` of a phone paper does not
import the cascade parser (networkx), the sweep engine, the spatial mapper or plotly."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

HEAVY = ("networkx", "einsim.explore.engine", "einsim.mappers.spatial", "plotly")


def test_reproduce_loads_only_what_it_uses() -> None:
    code = ("import sys; from einsim.explore.cli import build_parser; "
            "build_parser('reproduce').parse_args(['reproduce', 'llmcad']); "
            "import einsim.reproduce.powerinfer2, einsim.reproduce.llm_in_a_flash, einsim.reproduce.llmcad; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_lists_every_command(capsys) -> None:
    from einsim.explore.cli import COMMANDS, build_parser

    text = build_parser().format_help()
    assert all(name in text for name in COMMANDS)


# the libraries only some commands (or none of the CLI's own start) need: the numba runtime and the
# scipy.linalg that numba's BLAS probe imports, networkx (the cascade graph), pydantic (specs), numpy,
# plotly (reports), simpy (reference twins), dask and pandas (sweeps)
START_HEAVY = ("numba", "scipy.linalg", "networkx", "pydantic", "numpy", "yaml", "plotly", "simpy", "dask", "pandas")


def _loaded_after(code: str) -> list[str]:
    code = f"import sys\n{code}\nprint([m for m in {START_HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [name for line in out.strip().splitlines() for name in ast.literal_eval(line)]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import einsim.explore.cli") == []


def test_top_level_help_loads_no_command_module() -> None:
    """`einsim --help` lists the commands from their one-line summaries, without importing any of them."""
    code = ("import contextlib, io\nfrom einsim.explore.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "assert 'reproduce' in out.getvalue()\n"
            "print([m for m in sys.modules if m.startswith('einsim.explore.commands.')])")
    assert _loaded_after(code) == []


def test_top_level_help_is_the_full_parsers_help(capsys) -> None:
    from einsim.explore.cli import build_parser, main

    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == build_parser().format_help()


def test_an_unknown_command_is_one_line_and_exit_2(capsys) -> None:
    from einsim.explore.cli import COMMANDS, main

    with pytest.raises(SystemExit) as stop:
        main(["bogus"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "invalid choice: 'bogus'" in err and all(f"'{c}'" in err for c in COMMANDS)
