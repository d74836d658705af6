"""Where batches of points run: in this process, a local process pool, or a Dask cluster.

A backend's ``run(batches)`` yields each batch's rows as soon as it finishes (any order).
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import signal
import sys
from typing import Any, Iterator, Sequence

from einsim.errors import EinsimError
from einsim.explore.worker import Item, evaluate_batch

Rows = list[dict[str, Any]]


class InProcess:
    workers = 1

    def __init__(self, root: str):
        self.root = root

    def run(self, batches: Sequence[list[Item]]) -> Iterator[Rows]:
        for batch in batches:
            yield evaluate_batch(self.root, batch)

    def close(self) -> None:
        pass


def _die_with_parent() -> None:
    """Pool workers end when the sweep process dies, even by SIGKILL (Linux prctl)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class ProcessPool:
    """Forked worker processes. The first point of the first run is scored in this process before
    the workers fork (at the first submit), so they inherit what it loaded (the numba kernels from
    their cache, the design and workload files, the mappers' caches) instead of each loading it."""

    def __init__(self, root: str, workers: int):
        self.root = root
        self.workers = workers
        self.pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                           initializer=_die_with_parent)
        self._forked = False

    def run(self, batches: Sequence[list[Item]]) -> Iterator[Rows]:
        batches = [b for b in batches if b]
        if not self._forked and batches:
            self._forked = True
            yield evaluate_batch(self.root, batches[0][:1])
            batches = [batches[0][1:], *batches[1:]] if len(batches[0]) > 1 else batches[1:]
        futures = [self.pool.submit(evaluate_batch, self.root, b) for b in batches]
        try:
            for f in cf.as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class Dask:
    """``address == "local"`` starts a LocalCluster of ``workers`` single-threaded processes."""

    def __init__(self, root: str, address: str, workers: int):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise EinsimError("--dask needs dask[distributed]: pip install 'einsim[explore]'") from None
        self.root = root
        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise EinsimError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(self, batches: Sequence[list[Item]]) -> Iterator[Rows]:
        from dask.distributed import as_completed

        futures = [self.client.submit(evaluate_batch, self.root, b, pure=False) for b in batches]
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def machine_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cap_workers(jobs: int, points: int) -> tuple[int, str | None]:
    """Worker processes for ``jobs`` asked and ``points`` to run: at most the cores and the points.

    Returns the count and, when it is less than asked, the sentence that says why.
    """
    cores = machine_cores()
    n = max(1, min(jobs, cores, points))
    if n == jobs:
        return n, None
    why = f"the {cores} cores of this machine" if n == cores and cores < points else f"the {points} points of the sweep"
    return n, f"-j {jobs}: running {n} worker{'s' if n > 1 else ''} ({why})"


def make_backend(root: str, jobs: int, dask: str | None) -> InProcess | ProcessPool | Dask:
    if dask:
        return Dask(root, dask, jobs)
    return ProcessPool(root, jobs) if jobs > 1 else InProcess(root)
