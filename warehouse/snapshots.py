"""The lake's snapshots: every commit a run makes is tagged with its run id, so a run maps to
the snapshot it left, for time travel (``newsetl sql --as-of RUN``), history and rollback.

DuckLake makes one snapshot per committed transaction and lets a commit carry an author, a
message and free-form extra info (``set_commit_message``, inside the transaction: outside it,
the call silently does nothing). newsetl writes ``{"run_id": ...}`` there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from transforms.schema import DATA_TABLES, ENTITIES, TABLES
from warehouse.connection import LAKE
from warehouse.ddl import copy_rows
from warehouse.extensions import sql_string

#: The author of every commit newsetl makes.
AUTHOR = "newsetl"


def on_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's default catalog is the lake (tests also load plain DuckDB)."""
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row is not None and row[0] == "ducklake"


def tag_commit(con: duckdb.DuckDBPyConnection, run_id: str, message: str) -> None:
    """Name the open transaction's snapshot after the run (call between BEGIN and COMMIT)."""
    if on_lake(con):
        info = sql_string(json.dumps({"run_id": run_id}))
        con.execute(f"CALL {LAKE}.set_commit_message('{AUTHOR}', '{sql_string(message)}', extra_info => '{info}')")


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    at: object  # TIMESTAMPTZ
    run_id: str | None
    message: str | None


def snapshots(con: duckdb.DuckDBPyConnection) -> list[Snapshot]:
    """Every snapshot the lake still keeps, oldest first."""
    rows = con.execute(f"SELECT snapshot_id, snapshot_time, commit_extra_info, commit_message "
                       f"FROM {LAKE}.snapshots() ORDER BY snapshot_id").fetchall()
    out = []
    for sid, at, extra, message in rows:
        try:
            run_id = json.loads(extra).get("run_id") if extra else None
        except (ValueError, AttributeError):
            run_id = None
        out.append(Snapshot(int(sid), at, run_id, message))
    return out


def load_committed(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether the run's load transaction committed (its snapshot exists): a signal that
    interrupts the COMMIT itself can land after the catalog took it."""
    return any(s.run_id == run_id and s.message == f"run {run_id}: load" for s in snapshots(con))


class UnknownRun(LookupError):
    """No snapshot the lake keeps was made by that run."""


def snapshot_after(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """The snapshot the run left: its last commit. Its data as it stood after the run."""
    mine = [s.snapshot_id for s in snapshots(con) if s.run_id == run_id]
    if not mine:
        known = con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
        why = ("its snapshots were expired by the lake's upkeep" if known else
               "no such run: `newsetl history` lists them")
        raise UnknownRun(f"no snapshot of run {run_id}: {why}")
    return max(mine)


#: The tables a rollback restores: the data analysts query. The run and data-quality history
#: (runs, dq_results, quarantine, rejected_files) is kept as it is: a rollback is itself a
#: run in that history.
RESTORED = tuple(t.name for t in (*DATA_TABLES, ENTITIES))


def runs_with_snapshots(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict]:
    """The last runs, newest first, each with the snapshot it left (None once expired)."""
    last = {}
    for s in snapshots(con):
        if s.run_id:
            last[s.run_id] = s
    rows = con.execute("SELECT run_id, started_at, finished_at, status, seeds_dir, files_loaded, articles_rows, "
                       "quotes_rows, dq_success, error FROM runs ORDER BY started_at DESC LIMIT ?", [limit]).fetchall()
    cols = ["run_id", "started_at", "finished_at", "status", "seeds_dir", "files_loaded", "articles_rows",
            "quotes_rows", "dq_success", "error"]
    out = []
    for r in rows:
        row = dict(zip(cols, r, strict=True))
        snap = last.get(row["run_id"])
        row["snapshot"] = snap.snapshot_id if snap else None
        out.append(row)
    return out


def restored_tables(con: duckdb.DuckDBPyConnection, alias: str) -> list[str]:
    """Qualified names of the tables a rollback copies from the lake attached as ``alias``: the
    data tables and the search index's tables (so search matches the data restored)."""
    rows = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
                       "AND (schema_name LIKE 'fts_main_%' OR (schema_name = 'main' AND table_name IN "
                       f"({', '.join('?' for _ in RESTORED)})))", [alias, *RESTORED]).fetchall()
    return [f"{s}.{t}" for s, t in rows]


def restore(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, int]:
    """Inside the caller's transaction: make every restored table of the lake hold the rows of
    the same table in the lake attached as ``alias`` (pinned at an older snapshot); a table the
    lake has now but did not have then is emptied. Columns are matched by name: a column added
    since then is computed for the restored rows where it declares how (``Column.backfill``:
    it may be NOT NULL), else NULL.

    Read from a second attachment, not with ``AT (VERSION => n)`` in the same transaction:
    there DuckLake 1.5.5 applies the transaction's own DELETE to the old version too and the
    copy comes back empty (measured here)."""
    then = set(restored_tables(con, alias))
    counts = {}
    for name in sorted(set(restored_tables(con, LAKE)) | then):
        con.execute(f"DELETE FROM {LAKE}.{name}")
        schema, _, table = name.partition(".")
        if name in then and schema == "main" and table in TABLES:
            copy_rows(con, TABLES[table], alias, f"{LAKE}.{name}")
        elif name in then:
            con.execute(f"INSERT INTO {LAKE}.{name} BY NAME SELECT * FROM {alias}.{name}")
        counts[name] = con.execute(f"SELECT count(*) FROM {LAKE}.{name}").fetchone()[0]
    return counts
