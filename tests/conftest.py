"""Test-suite settings: under CI, hypothesis runs derandomized so a run is reproducible."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def run_cli_error(argv: list[str], capsys) -> str:
    """Run ``einsim ARGV`` in-process and return its one stderr line, asserting the bad-input rule:
    exit 2, exactly one line on stderr, nothing (so no number) on stdout, no traceback."""
    from einsim.explore.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("einsim: error: "), err
    return lines[0].removeprefix("einsim: error: ")
