"""`einsim COMMAND` loads that command's modules only: `einsim reproduce` of a phone paper does not
import the cascade parser (networkx), the sweep engine, the spatial mapper or plotly."""

from __future__ import annotations

import subprocess
import sys

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
