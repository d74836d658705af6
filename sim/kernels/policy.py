"""The one numba policy of einsim: every kernel is decorated with `njit` from here.

cache=True: compiled code is kept on disk (see below where), so a later process loads it instead of
recompiling.
nogil=True: kernels release the GIL, so worker threads evaluate batches in parallel.
fastmath=False: IEEE semantics, so results do not depend on reassociation and stay deterministic.
"""

from __future__ import annotations

import functools
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

njit = functools.partial(numba.njit, cache=True, nogil=True, fastmath=False)


def warm_up(kernel: Callable[..., Any], *example_args: Any) -> float:
    """Compile `kernel` for the types of `example_args` (or load it from the cache) by calling it once.

    Returns the seconds this took, so benchmarks can report it apart from the timed runs.
    """
    start = time.perf_counter()
    kernel(*example_args)
    return time.perf_counter() - start
