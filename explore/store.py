"""The results store of a sweep: one SQLite file per run directory, one row per design point.

Rows are written only by the process that runs the sweep, one transaction per finished batch,
in WAL mode: a kill at any moment leaves every committed row intact and no partial one. The key
is the hash of the point's resolved parameters (PRIMARY KEY: a point is never stored twice). A
run directory is locked (``flock`` on ``DIR/lock``; the OS drops it when the process dies) so two
sweeps never write into one directory, and it holds the results of one spec only.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable

from einsim import jsonout
from einsim.errors import EinsimError
from einsim.explore.design import METRICS

DB_NAME = "results.sqlite"
_COLUMNS = ("key", "idx", "generation", "axes", "params", "status", "error", *METRICS, "result",
            "started_at", "elapsed_s", "worker")
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY, idx INTEGER NOT NULL, generation INTEGER NOT NULL,
    axes TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error TEXT, {", ".join(f"{m} REAL" for m in METRICS)}, result TEXT,
    started_at REAL, elapsed_s REAL, worker TEXT
);
"""
TIMING_COLUMNS = ("started_at", "elapsed_s", "worker")


def db_path(run_dir: str | Path) -> Path:
    """The database of a run directory (or the path itself if it names a .sqlite file)."""
    p = Path(run_dir)
    return p if p.suffix == ".sqlite" else p / DB_NAME


class Store:
    """Read/write access to one run directory's database, holding its lock while open for writing."""

    def __init__(self, run_dir: str | Path, spec_digest: str | None = None, spec_text: str = ""):
        self.dir = Path(run_dir)
        self.writable = spec_digest is not None
        self._lock_fd: int | None = None
        if self.writable:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock()
        elif not db_path(self.dir).is_file():
            raise EinsimError(f"{run_dir}: no sweep results here (expected {db_path(self.dir)})")
        self.conn = sqlite3.connect(db_path(self.dir), timeout=30, isolation_level=None)
        if self.writable:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(_SCHEMA)
            self._claim(spec_digest or "", spec_text)

    def _lock(self) -> None:
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise EinsimError(f"{self.dir} is in use by another sweep (pid {holder}); wait for it or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _claim(self, digest: str, text: str) -> None:
        row = self.conn.execute("SELECT value FROM meta WHERE name = 'spec_digest'").fetchone()
        if row is None:
            with self.transaction():
                self.conn.executemany("INSERT INTO meta VALUES (?, ?)", [("spec_digest", digest), ("spec", text)])
        elif row[0] != digest:
            self.close()
            raise EinsimError(f"{self.dir} holds the results of a different sweep spec; choose another --out "
                              "(or delete the directory to start over)")

    def transaction(self) -> "_Txn":
        return _Txn(self.conn)

    def done_keys(self) -> set[str]:
        return {k for (k,) in self.conn.execute("SELECT key FROM points")}

    def add(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert finished points in one transaction; a key already present is left as it is."""
        values = [tuple(_cell(r.get(c)) for c in _COLUMNS) for r in rows]
        with self.transaction():
            cur = self.conn.executemany(
                f"INSERT INTO points ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                "ON CONFLICT(key) DO NOTHING", values)
        return cur.rowcount

    def rows(self) -> list[dict[str, Any]]:
        """Every stored point ordered by (generation, idx), JSON columns decoded."""
        cur = self.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM points ORDER BY generation, idx, key")
        out = []
        for values in cur:
            row = dict(zip(_COLUMNS, values))
            for c in ("axes", "params", "result"):
                row[c] = json.loads(row[c]) if row[c] is not None else None
            out.append(row)
        return out

    def meta(self, name: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Txn:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return jsonout.dumps(value)  # insertion order is deterministic (spec order)
    return value
