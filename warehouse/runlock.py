"""One run at a time per warehouse: an advisory lock file beside the DuckDB file.

DuckDB locks its file only while a connection is open, and a run opens it briefly at the
start and again to load. Without a lock of its own, two runs could interleave. The lock file
``<db>.lock`` is held (``flock``) for the whole run and names it, so a second run waits a
bounded time and then says which run holds the warehouse; the kernel releases the lock if
the holder dies, even by SIGKILL, so a crashed run never blocks the next one.

With a PostgreSQL catalog, runs may start on several machines, and a lock file on shared
storage is only as good as that storage's locking (NFS maps ``flock`` to its own locks; FUSE
mounts of object stores keep them on one machine). There the catalog's own database decides:
:func:`warehouse_lock` first takes a transaction-level advisory lock in it
(``pg_try_advisory_xact_lock``) on a connection of its own, held open for the whole run. The
server releases it when that transaction ends: the run closing it, or its connection dropping
because the run's machine or process died. The lock's session is named after the run
(``application_name``), so a run kept waiting says which run, from which host, holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from warehouse.connection import Location, WarehouseLocked, WarehouseUnavailable, scrub


def lock_path(db_path: str | Path) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".lock")


def holder(db_path: str | Path) -> dict | None:
    """Who holds (or last held) the warehouse: run id, pid and start time, when known."""
    try:
        return json.loads(lock_path(db_path).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None


def describe_holder(db_path: str | Path) -> str:
    h = holder(db_path)
    if not h:
        return "another newsetl run"
    return f"run {h.get('run_id')} (pid {h.get('pid')}, started {h.get('started_at')})"


def active_run(db_path: str | Path) -> str | None:
    """The run holding the warehouse right now, described; None when no run holds it."""
    try:
        fd = os.open(lock_path(db_path), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None  # nobody holds it exclusively
    except BlockingIOError:
        return describe_holder(db_path)
    finally:
        os.close(fd)


@contextmanager
def run_lock(db_path: str | Path, run_id: str, started_at: str, wait_seconds: float = 30.0) -> Iterator[None]:
    """Hold the warehouse for one run; wait up to ``wait_seconds`` for another run to finish."""
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WarehouseUnavailable(f"cannot write the warehouse at {db_path} (its folder or lock file): {exc}") from exc
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"the warehouse {db_path} is being loaded by {describe_holder(db_path)}; waited "
                        f"{wait_seconds:.0f} s. Try again when it has finished.") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"run_id": run_id, "pid": os.getpid(), "started_at": started_at}).encode())
        os.fsync(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


#: The advisory lock's key in the catalog's database: one warehouse per catalog database.
ADVISORY_KEY = 0x6E657773  # "news"
#: How the lock's session names itself to PostgreSQL (and how a waiting run finds the holder).
APPLICATION = "newsetl run"


def _with_application_name(url: str, name: str) -> str:
    """The URL with ``application_name`` set (libpq's URI parameter), kept out of the query."""
    from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "application_name"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("application_name", name)], quote_via=quote)))


def _pg_holder(con) -> str:
    """The session holding the advisory lock, as PostgreSQL knows it."""
    import duckdb

    from warehouse.extensions import sql_string

    sql = ("SELECT a.application_name, coalesce(host(a.client_addr), 'a local socket'), "
           "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM pg_locks l "
           f"JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.objid = {ADVISORY_KEY} "
           "AND l.granted")
    try:
        rows = con.execute(f"SELECT * FROM postgres_query('newsetl_lock', '{sql_string(sql)}')").fetchall()
    except duckdb.Error:  # it only names the holder in a message
        rows = []
    if not rows:
        return "another newsetl run"
    name, host, since = rows[0]
    run = name.removeprefix(APPLICATION + " ") if name.startswith(APPLICATION) else name
    return f"{run}, from {host} since {since}"


@contextmanager
def catalog_lock(loc: Location, run_id: str, started_at: str, wait_seconds: float) -> Iterator[float]:
    """Hold a PostgreSQL catalog for one run (see the module's docstring); yields the seconds
    left of ``wait_seconds`` for the lock file after it."""
    import duckdb

    from warehouse import extensions

    deadline = time.monotonic() + wait_seconds
    con = duckdb.connect()
    try:
        extensions.load(con, "postgres_scanner")
        me = f"{APPLICATION} {run_id} pid {os.getpid()}"  # PostgreSQL keeps 63 bytes of it
        try:
            con.execute(f"ATTACH '{extensions.sql_string(_with_application_name(loc.db, me))}' AS newsetl_lock "
                        "(TYPE postgres)")
        except duckdb.Error as exc:
            raise WarehouseUnavailable(f"cannot open the warehouse {loc.describe()} (to take its run lock): "
                                       f"{scrub(str(exc).splitlines()[0], loc)}") from None
        con.execute("BEGIN TRANSACTION")  # the lock lives as long as this transaction
        try_lock = f"SELECT * FROM postgres_query('newsetl_lock', 'SELECT pg_try_advisory_xact_lock({ADVISORY_KEY})')"
        while not con.execute(try_lock).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise WarehouseLocked(f"the warehouse {loc.describe()} is being loaded by run {_pg_holder(con)}; "
                                      f"waited {wait_seconds:.0f} s. Try again when it has finished.")
            time.sleep(0.2)
        yield max(0.0, deadline - time.monotonic())
    finally:
        # Ending the transaction releases the lock. Explicitly, and before closing: if the
        # server went away, DuckDB's implicit rollback on close would fail outside Python
        # and abort the process.
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        con.close()


@contextmanager
def warehouse_lock(loc: Location, run_id: str, started_at: str, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse for one run, waiting at most ``wait_seconds`` in all: a PostgreSQL
    catalog's advisory lock first (runs on other machines), then the lock file beside the
    warehouse's local companions (staging, the GX folder)."""
    if not loc.is_postgres:
        with run_lock(loc.local, run_id, started_at, wait_seconds):
            yield
        return
    with catalog_lock(loc, run_id, started_at, wait_seconds) as left, run_lock(loc.local, run_id, started_at, left):
        yield
