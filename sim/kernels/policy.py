"""The one numba policy of einsim: every kernel is decorated with `njit` from here.

cache=True: compiled code is kept on disk (see below where), so a later process loads it instead of
recompiling.
nogil=True: kernels release the GIL, so worker threads evaluate batches in parallel.
fastmath=False: IEEE semantics, so results do not depend on reassociation and stay deterministic.

At exit the garbage collector is frozen (`gc.freeze`): numba's import leaves some 10^5-10^6 tracked
objects, and the collections the interpreter runs while it shuts down traverse them all; freezing
skips that traversal (measured 0.42 s CPU of a 1.48 s GEMM-1024 mapper process, quiet 2-core
machine). Objects still in reference cycles at that moment are then not finalised: close files and
connections explicitly (einsim does), do not leave that to the collector.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import time
from pathlib import Path
from typing import Any, Callable

import numba

# Compiled kernels are cached under the user's cache folder, not beside the sources: a cache
# written into site-packages is not in pip's record of the install, so it survives an uninstall
# and leaves a stray `einsim` folder that shadows the next (e.g. editable) install.
if not numba.config.CACHE_DIR:
    numba.config.CACHE_DIR = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "einsim" / "numba")

# Registered before anything the kernels' callers register, so it runs after their exit handlers.
atexit.register(gc.freeze)

njit = functools.partial(numba.njit, cache=True, nogil=True, fastmath=False)


def warm_up(kernel: Callable[..., Any], *example_args: Any) -> float:
    """Compile `kernel` for the types of `example_args` (or load it from the cache) by calling it once.

    Returns the seconds this took, so benchmarks can report it apart from the timed runs.
    """
    start = time.perf_counter()
    kernel(*example_args)
    return time.perf_counter() - start
