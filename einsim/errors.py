"""The error type every einsim layer raises for bad input, with a source location."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Location:
    """A place in an input file: 1-based line and column (0 means unknown)."""

    file: str = "<input>"
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.file}:column {self.column}" if self.column > 0 else self.file
        if self.column <= 0:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


class EinsimError(ValueError):
    """Bad input (spec, workload, mapping, CLI argument): the message says where and why."""

    def __init__(self, message: str, location: Location | None = None):
        self.location = location
        self.bare_message = message
        super().__init__(f"{location}: {message}" if location else message)


def did_you_mean(name: str, valid: Iterable[str], n: int = 3) -> str:
    """A ' (valid: ...; did you mean X?)' suffix listing the valid names, closest first."""
    valid = sorted({str(v) for v in valid})
    close = difflib.get_close_matches(str(name), valid, n=n, cutoff=0.5)
    listed = ", ".join(valid[:40]) + (", ..." if len(valid) > 40 else "")
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f" (valid: {listed}{hint})" if valid else " (nothing is declared)"
