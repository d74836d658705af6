"""The results store of a sweep: one SQLite file per run directory, one row per design point.

Rows are written only by the process that runs the sweep, one transaction per finished batch,
in WAL mode: a kill at any moment leaves every committed row intact and no partial one. The key
is the hash of the point's resolved parameters (PRIMARY KEY: a point is never stored twice). A
run directory is locked (``flock`` on ``DIR/lock``; the OS drops it when the process dies, a clean
finish removes the file) so two sweeps never write into one directory, and it holds the results of
one spec computed from one version of its input files only.
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
    """Read/write access to one run directory's database, holding its lock while open for writing.

    Opened for writing (``spec_digest`` given), the directory must hold nothing or the results of
    the same spec computed from the same ``inputs`` (``{file: sha256}``); ``force`` empties it first.
    """

    def __init__(self, run_dir: str | Path, spec_digest: str | None = None, spec_text: str = "",
                 inputs: dict[str, str] | None = None, force: bool = False):
        self.dir = Path(run_dir)
        self.writable = spec_digest is not None
        self._lock_fd: int | None = None
        if not self.writable:
            if not db_path(self.dir).is_file():
                raise EinsimError(f"{run_dir}: no sweep results here (expected {db_path(self.dir)})")
            self.conn = _connect_read_only(db_path(self.dir))
            return
        if self.dir.exists() and not self.dir.is_dir():
            raise EinsimError(f"--out {self.dir}: is a file, not a run directory (name a new or existing folder)")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock()
            if force:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db_path(self.dir)}{suffix}").unlink(missing_ok=True)
            self.conn = sqlite3.connect(db_path(self.dir), timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            self._unlock()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise EinsimError(f"--out {self.dir}: cannot write the run directory ({reason}); name a folder you can write") from None
        self._claim(spec_digest or "", spec_text, inputs)

    def _lock(self) -> None:
        path = self.dir / "lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise EinsimError(f"{self.dir} is in use by another sweep (pid {holder}); wait for it or choose another --out") from None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # a finishing sweep removed the file between our open and flock: take the new one
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _claim(self, digest: str, text: str, inputs: dict[str, str] | None) -> None:
        row = self.conn.execute("SELECT value FROM meta WHERE name = 'spec_digest'").fetchone()
        if row is not None and row[0] != digest:
            self.close()
            raise EinsimError(f"{self.dir} holds the results of a different sweep spec; choose another --out "
                              "(or pass --force to start it over)")
        if row is None:
            with self.transaction():
                self.conn.executemany("INSERT INTO meta VALUES (?, ?)", [("spec_digest", digest), ("spec", text)])
        stored = self.meta("inputs")
        if inputs is None:
            return
        if stored is None:  # a new directory, or one written without knowing its input files
            with self.transaction():
                self.conn.execute("INSERT INTO meta VALUES ('inputs', ?)", (json.dumps(inputs),))
            return
        before = json.loads(stored)
        changed = [f for f in sorted(set(before) | set(inputs)) if before.get(f) != inputs.get(f)]
        if changed:
            self.close()
            what = ("changed" if changed[0] in before and changed[0] in inputs
                    else "is new" if changed[0] in inputs else "is no longer read")
            more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
            raise EinsimError(f"{self.dir}: input file {changed[0]} {what} since these results were computed{more}; "
                              "pass --force to start the run over, or choose another --out")

    def stored(self, keys: list[str]) -> set[str]:
        """The ones of ``keys`` that are stored already."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):  # under SQLite's limit of bound parameters
            part = keys[i:i + 500]
            found.update(k for (k,) in self.conn.execute(
                f"SELECT key FROM points WHERE key IN ({', '.join('?' * len(part))})", part))
        return found

    def finish(self) -> None:
        """A clean end: fold the write-ahead log into the database (readable from a read-only
        folder afterwards) and remove the lock file (a crash leaves both, which a resume handles).
        While another process reads the database the log stays: the results are the same."""
        try:
            self.conn.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:
            pass
        (self.dir / "lock").unlink(missing_ok=True)

    def transaction(self) -> "_Txn":
        return _Txn(self.conn)

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
        self._unlock()

    def _unlock(self) -> None:
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


def _connect_read_only(db: Path) -> sqlite3.Connection:
    """Open results without writing anything, even in a read-only folder or of a killed run."""
    uri = db.resolve().as_uri()
    for mode in ("mode=ro", "immutable=1"):  # immutable: a WAL left by a killed run, in a read-only folder
        try:
            conn = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=30)
            conn.execute("SELECT 1 FROM points LIMIT 1")
            conn.execute("SELECT 1 FROM meta LIMIT 1")
            return conn
        except sqlite3.OperationalError as exc:
            error: sqlite3.Error = exc
        except sqlite3.DatabaseError as exc:  # not an SQLite file at all
            error = exc
            break
    raise EinsimError(f"{db}: not readable as sweep results ({error})")


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return jsonout.dumps(value)  # insertion order is deterministic (spec order)
    return value
