"""Progress on stderr: a one-line bar (redrawn in place on a terminal, a final line otherwise) and a
status line for runs whose total is not known ahead."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str = "points", stream: TextIO | None = None, enabled: bool = True):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and self.stream.isatty()
        self.done = self.errors = 0
        self.t0 = time.perf_counter()
        self._last = 0.0

    def grow(self, more: int) -> None:
        self.total += more

    def update(self, n: int, errors: int = 0) -> None:
        self.done += n
        self.errors += errors
        now = time.perf_counter()
        if self.live and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            self.stream.write("\r" + self._line())
            self.stream.flush()

    def _line(self) -> str:
        elapsed = time.perf_counter() - self.t0
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        errors = f", {self.errors} failed" if self.errors else ""
        return f"[{bar}] {self.done}/{self.total} {self.label}{errors}  {rate * 60:,.0f} {self.label}/min  ETA {eta:4.0f} s "

    def close(self) -> None:
        if self.enabled:
            self.stream.write(("\r" if self.live else "") + self._line().rstrip() + "\n")
            self.stream.flush()


def status_line(msg: str) -> None:
    """Redraw one status line in place on stderr (for a terminal; callers check ``isatty``)."""
    sys.stderr.write("\r" + msg.ljust(60))
    sys.stderr.flush()
