"""The lake's own commands: history, rollback, upkeep, import of an old DuckDB file, export.

Each one that writes takes the warehouse's run lock first, like a run: the lake has one
committer at a time (several writers on a SQLite catalog fail each other's commits), and the
upkeep may only take leftover files for orphans while nobody else can be writing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from transforms.schema import ALL_TABLES, RunRecord
from transforms.vocab import COMPLETED, FAILED, RUNNING
from warehouse import upkeep
from warehouse.connection import LAKE, Location, WarehouseUnavailable, attach, connect
from warehouse.ddl import copy_rows, ensure_schema
from warehouse.loader import record_run_end, record_run_start, table_counts, transaction
from warehouse.runlock import warehouse_lock
from warehouse.search import ensure_indexes, sync_indexes
from warehouse.snapshots import restore, runs_with_snapshots, snapshot_after
from warehouse.upkeep import Upkeep


def _new_run_id(kind: str) -> tuple[str, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{kind}-{uuid.uuid4().hex[:6]}", now


@contextmanager
def writing(loc: Location, wait: float, what: str, create: bool = False) -> Iterator[tuple[duckdb.DuckDBPyConnection,
                                                                                        dt.datetime]]:
    """The lake open for writing under the run lock; yields the connection and when the lock
    was taken.

    Unless it may ``create`` the lake, a missing one is refused before the lock is taken:
    taking it makes the warehouse's folder and lock file, which ``compact`` or ``rollback`` of
    a mistyped ``--db`` would leave behind with their "no warehouse" (``connect`` says the same)."""
    if not create and not loc.exists():
        raise WarehouseUnavailable(f"no warehouse at {loc.db}: run `newsetl run --db {loc.db}` first")
    run_id, started = _new_run_id(what)
    with warehouse_lock(loc, run_id, started.isoformat(timespec="seconds"), wait):
        locked_at = dt.datetime.now(dt.UTC)
        con = connect(loc, create=create)
        try:
            yield con, locked_at
        finally:
            con.close()


def history(loc: Location, limit: int = 20) -> list[dict]:
    con = connect(loc, read_only=True)
    try:
        return runs_with_snapshots(con, limit)
    finally:
        con.close()


def rollback(loc: Location, run_id: str, wait: float) -> tuple[RunRecord, dict[str, int]]:
    """Make the data as it stood after ``run_id`` current again, as a new snapshot.

    The runs and data-quality history stays (the rollback is recorded as a run of its own,
    ``seeds_dir`` saying what it restored); the articles, mentions, entities, quotes and the
    search index become the old snapshot's, in one commit."""
    with writing(loc, wait, "rollback") as (con, _):
        snapshot = snapshot_after(con, run_id)
        attach(con, loc, alias="lake_then", read_only=True, snapshot=snapshot)
        rid, started = _new_run_id("rollback")
        record = RunRecord(run_id=rid, started_at=started, status=RUNNING,
                           seeds_dir=f"rollback to run {run_id} (snapshot {snapshot})")
        record_run_start(con, record)
        try:
            with transaction(con, rid, f"rollback to run {run_id} (snapshot {snapshot})"):
                counts = restore(con, "lake_then")
        except Exception as exc:
            record.status, record.error = FAILED, f"{type(exc).__name__}: {exc}"
            record_run_end(con, record)
            raise WarehouseUnavailable(f"rollback to run {run_id} failed, nothing changed: {exc}") from exc
        con.execute("DETACH lake_then")
        rows = table_counts(con)
        record.status = COMPLETED
        record.articles_rows, record.mentions_rows = rows["articles"], rows["mentions"]
        record.quotes_rows, record.entities_rows = rows["quotes"], rows["entities"]
        record_run_end(con, record)
        return record, counts


def compact(loc: Location, wait: float) -> Upkeep:
    """The upkeep policy of :mod:`warehouse.upkeep`, now."""
    with writing(loc, wait, "compact") as (con, locked_at):
        return upkeep.compact(con, orphans_before=locked_at, shared=loc.is_postgres)


#: What makes a DuckDB file a warehouse of an older newsetl: these tables with these columns.
OLD_WAREHOUSE = {"articles": {"article_id", "source_path", "body"}, "runs": {"run_id", "status"}}


def _check_old_warehouse(old: Path) -> None:
    """Raise unless ``old`` is a DuckDB file holding an older newsetl's warehouse."""
    import duckdb

    not_one = f"{old} is not a warehouse of an older newsetl"
    with old.open("rb") as fh:
        if fh.read(16) == b"SQLite format 3\x00":
            raise WarehouseUnavailable(f"{not_one} (a SQLite file: a lake's catalog is a lake already); nothing "
                                       "was created")
    try:
        con = duckdb.connect(str(old), read_only=True, config={"autoinstall_known_extensions": False,
                                                               "autoload_known_extensions": False})
    except duckdb.Error as exc:
        raise WarehouseUnavailable(f"{not_one} (not a DuckDB file: {str(exc).splitlines()[0]}); nothing was "
                                   "created") from None
    try:
        columns: dict[str, set[str]] = {}
        for table, column in con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                                         "WHERE schema_name = 'main'").fetchall():
            columns.setdefault(table, set()).add(column)
    finally:
        con.close()
    missing = [f"{t}({', '.join(sorted(c - columns.get(t, set())))})" for t, c in OLD_WAREHOUSE.items()
               if not c <= columns.get(t, set())]
    if missing:
        raise WarehouseUnavailable(f"{not_one}: it lacks {', '.join(missing)}; nothing was created")


def migrate(old: Path, loc: Location, wait: float) -> dict[str, int]:
    """Import a warehouse of an older newsetl (one DuckDB file) into a new, empty lake, row for
    row, in one commit; the search index is rebuilt from the imported rows."""
    if not old.is_file():
        raise WarehouseUnavailable(f"no DuckDB file at {old}")
    _check_old_warehouse(old)  # before the new lake is made: a wrong file creates nothing
    with writing(loc, wait, "migrate", create=True) as (con, _):
        ensure_schema(con)
        if con.execute("SELECT count(*) FROM runs").fetchone()[0]:
            raise WarehouseUnavailable(f"{loc.describe()} already holds runs: migrate into a new warehouse")
        con.execute(f"ATTACH '{str(old).replace(chr(39), chr(39) * 2)}' AS old (READ_ONLY)")
        have = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old'").fetchall()}
        rid, _ = _new_run_id("migrate")
        with transaction(con, rid, f"import of {old}"):
            for table in ALL_TABLES:
                if table.name not in have:
                    continue
                # columns the old file lacks that the declaration says how to compute are
                # computed from its rows (or those imported before, ALL_TABLES order)
                copy_rows(con, table, "old", f"{LAKE}.{table.name}")
            ensure_indexes(con)
            sync_indexes(con, "SELECT article_id FROM articles WHERE false", reset=True)
        con.execute("DETACH old")
        return table_counts(con)


def export(loc: Location, out: Path) -> dict[str, int]:
    """The current snapshot as one self-contained DuckDB file (tables, views, search macros)."""
    if out.exists():
        raise FileExistsError(f"{out} exists: export writes a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    con = connect(loc, read_only=True)
    try:
        con.execute(f"ATTACH '{str(out).replace(chr(39), chr(39) * 2)}' AS export_file")
        con.execute(f"COPY FROM DATABASE {LAKE} TO export_file")
        con.execute("DETACH export_file")
    except BaseException:
        con.close()
        out.unlink(missing_ok=True)
        out.with_name(out.name + ".wal").unlink(missing_ok=True)
        raise
    con.close()
    check = duckdb.connect(str(out), read_only=True)
    try:
        return table_counts(check)
    finally:
        check.close()
