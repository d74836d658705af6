"""The `einsim` command line: a thin layer over the public API, one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from typing import Sequence

from einsim import __version__
from einsim.errors import EinsimError
from einsim.explore.commands import SUMMARIES

# each module under einsim.explore.commands registers one subcommand
COMMANDS = tuple(SUMMARIES)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"einsim: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def build_parser(only: str | None = None, summaries: bool = False) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of ``only`` (one command's imports instead of all).

    ``summaries``: the subcommands with their one-line help only, no command module imported (enough
    for `einsim --help`, `einsim --version` and a missing or unknown command).
    """
    parser = _Parser(
        prog="einsim",
        description="Extended-Einsum accelerator simulator and design-space explorer.",
        epilog="example: einsim check designs/workloads/attention_1pass.yaml --json",
    )
    parser.add_argument("--version", action="version", version=f"einsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    if summaries:
        for name, summary in SUMMARIES.items():
            sub.add_parser(name, help=summary)
        return parser
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"einsim.explore.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((w for w in words if not w.startswith("-")), None)  # the global options take no value
    parser = build_parser(command) if command in COMMANDS else build_parser(summaries=True)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except EinsimError as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"einsim: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("einsim: interrupted\n")
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
