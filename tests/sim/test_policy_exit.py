"""The numba policy freezes the collector at exit; output written before exit must still arrive whole."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import einsim.sim.kernels.policy
sys.stdout.write("x" * 100000)  # left in the buffer, no newline, no flush: the interpreter's exit flushes it
print("done", end="")
"""


def test_exit_hook_freezes_and_output_is_flushed() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "x" * 100000 + "done"


def test_exit_hook_is_gc_freeze() -> None:
    code = ("import atexit, gc, einsim.sim.kernels.policy\n"
            "atexit._run_exitfuncs()\n"
            "print(gc.get_freeze_count() > 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
