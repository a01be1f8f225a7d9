"""Keeping a lake small: small files merged, old snapshots expired, their files removed.

Every commit writes new Parquet files (inserts of 10 rows or fewer are kept in the catalog
instead), and a file replaced by a merge or a delete stays on disk as long as a snapshot still
needs it (time travel). The policy is applied by ``newsetl compact`` (schedule it, nightly say),
and steps 2-4 after every run that completes. Merging is not done after every run: in DuckLake
1.5.5 a reader inside a transaction that began before a merge then finds the merged tables
empty for the rest of that transaction (measured here: 2,095 articles read, then 0 in the same
transaction after a run's merge; a new transaction or a time-travel query sees them all), and
readers that hold a transaction open while runs load are what the lake is for.

1. rewrite files with many deleted rows without them, and merge adjacent small files of each
   table into bigger ones;
2. expire snapshots older than the retention (``NEWSETL_SNAPSHOT_RETENTION``, default 7
   days: time travel and rollback reach back that far; the last snapshot is never expired);
3. delete the files no kept snapshot needs any more, once older than a grace period
   (10 minutes, ``NEWSETL_FILE_GRACE_SECONDS``), so a reader still scanning an expired
   snapshot does not lose its file; DuckLake 1.5.5 keeps the grace only by the day
   (:func:`cleanup_cutoff`), so in practice such files go the day after;
4. delete leftover files of runs that died before their commit (orphans). Only the writer may
   do this, under the run lock, and only for files older than the lock: a file that a live
   transaction has written but not yet committed must never be taken for a leftover (a test
   of that removed a committing run's file and broke the lake).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import duckdb

from warehouse.connection import LAKE
from warehouse.integrity import META

#: How long snapshots are kept for time travel and rollback, unless the setting says otherwise.
DEFAULT_RETENTION = "7 days"
#: How long a file no snapshot needs stays on disk for readers that may still scan it, unless
#: ``NEWSETL_FILE_GRACE_SECONDS`` says otherwise.
DEFAULT_GRACE = dt.timedelta(minutes=10)


def retention() -> str:
    """The snapshot retention as a DuckDB interval (``NEWSETL_SNAPSHOT_RETENTION``)."""
    return os.environ.get("NEWSETL_SNAPSHOT_RETENTION", DEFAULT_RETENTION)


def grace() -> dt.timedelta:
    seconds = os.environ.get("NEWSETL_FILE_GRACE_SECONDS")
    return dt.timedelta(seconds=float(seconds)) if seconds else DEFAULT_GRACE


@dataclass(frozen=True)
class Upkeep:
    merged: int  # files merged away
    expired: int  # snapshots expired
    deleted: int  # files deleted (replaced ones and leftovers)
    files: int  # data files on disk after
    bytes: int


def data_files(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(count, bytes) of the lake's Parquet files (data and delete files) that a kept snapshot
    still needs: what is on disk once replaced files have gone."""
    row = con.execute(f"SELECT count(*), coalesce(sum(file_size_bytes), 0) FROM (SELECT file_size_bytes FROM "
                      f"{META}.ducklake_data_file UNION ALL SELECT file_size_bytes FROM {META}.ducklake_delete_file)"
                      ).fetchone()
    return int(row[0]), int(row[1])


#: A data file with at least this share of its rows deleted is rewritten without them (then
#: merged with its neighbours): measured on 12 small runs, the term dictionaries otherwise kept
#: one file and one delete file per run (30 files -> 9 rewritten at any share).
REWRITE_DELETED_SHARE = 0.1
#: On a shared (PostgreSQL) catalog, leftovers must be older than this to be deleted: the run
#: lock is a file lock, which does not reliably exclude a run on another machine, whose files
#: written but not yet committed must never be taken for leftovers.
SHARED_ORPHAN_AGE = dt.timedelta(days=1)


def cleanup_cutoff(now: dt.datetime, grace: dt.timedelta) -> dt.datetime:
    """The ``older_than`` that deletes only files scheduled for deletion at least ``grace`` ago.

    DuckLake 1.5.5 on a SQLite catalog compares it with the schedule time as text, and its
    ``T`` sorts after the stored times' space: every file scheduled on the cutoff's date, or
    earlier, is taken, whatever the cutoff's time of day (measured here: cutoffs of now - 1 h,
    now and now + 1 min all took a file scheduled a second before). So a grace is only kept by
    the day: the cutoff is the last second of the day before ``now - grace``, which takes what
    was scheduled before that day (and, where the comparison is right, what is older than the
    cutoff: no less safe). No grace at all: now.
    """
    if grace <= dt.timedelta(0):
        return now
    day = (now - grace).date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


def expire_snapshots(con: duckdb.DuckDBPyConnection) -> list:
    """Expire the snapshots older than the retention, named one by one: ``older_than`` is
    compared as text on a SQLite catalog (see :func:`cleanup_cutoff`), which would expire every
    snapshot of the cutoff's day. The newest snapshot is never expired.

    Read from the catalog's own table, not ``snapshots()``, which also lists every snapshot's
    changes: 0.027 s against 0.003 s with 618 snapshots kept, after every run. A SQLite
    catalog holds the times as text ('2026-12-08 03:46:34.575493+00'), hence the cast."""
    table = f"{META}.ducklake_snapshot"
    old = [r[0] for r in con.execute(
        f"SELECT snapshot_id FROM {table} WHERE CAST(snapshot_time AS TIMESTAMPTZ) < now() - CAST(? AS INTERVAL) "
        f"AND snapshot_id < (SELECT max(snapshot_id) FROM {table}) ORDER BY snapshot_id",
        [retention()]).fetchall()]
    if not old:
        return []
    return con.execute(f"CALL ducklake_expire_snapshots('{LAKE}', versions => ?)", [old]).fetchall()


def compact(con: duckdb.DuckDBPyConnection, orphans_before: dt.datetime | None = None,
            shared: bool = False, merge: bool = True) -> Upkeep:
    """Apply the policy above. ``orphans_before``: the time the caller took the run lock; only
    then are leftovers of dead runs deleted (older than it; on a ``shared`` catalog, older than
    a day too). ``merge``: rewrite and merge files too (``newsetl compact``; not after every run,
    see the module's docstring)."""
    now = dt.datetime.now(dt.UTC)
    n_merged = 0
    if merge:
        # Files carrying deletes (the search index's term dictionary is updated in place every
        # load) are never merged as they are: rewritten without their deleted rows first.
        con.execute(f"CALL ducklake_rewrite_data_files('{LAKE}', delete_threshold => ?)", [REWRITE_DELETED_SHARE])
        merged = con.execute(f"CALL ducklake_merge_adjacent_files('{LAKE}')").fetchall()
        n_merged = sum(int(r[2]) for r in merged) if merged and len(merged[0]) > 2 else len(merged)
    expired = expire_snapshots(con)
    deleted = con.execute(f"CALL ducklake_cleanup_old_files('{LAKE}', older_than => ?)",
                          [cleanup_cutoff(now, grace())]).fetchall()
    n_deleted = len(deleted)
    if orphans_before is not None:
        cutoff = min(orphans_before, now - SHARED_ORPHAN_AGE) if shared else orphans_before
        n_deleted += len(con.execute(f"CALL ducklake_delete_orphaned_files('{LAKE}', older_than => ?)",
                                     [cutoff]).fetchall())
    files, size = data_files(con)
    return Upkeep(n_merged, len(expired), n_deleted, files, size)


def remove_leftovers(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> int:
    """Delete the files a run that did not commit wrote (no snapshot refers to them): written
    since ``since``, the time the run took the lock, so by this run alone. Called by the run
    itself after its load failed: DuckLake 1.5.5 leaves a rolled-back transaction's Parquet
    files on disk, and when the load failed for a full disk they would keep it full, so that
    every later run failed too (measured: a 2 MB data path stayed at 100%). Older leftovers are
    the upkeep's (:func:`compact`); a file that cannot be removed is left to it."""
    listed = con.execute(f"CALL ducklake_delete_orphaned_files('{LAKE}', dry_run => true, older_than => ?)",
                         [dt.datetime.now(dt.UTC)]).fetchall()
    removed = 0
    for (path,) in listed:
        try:
            if os.stat(path).st_mtime >= since.timestamp() - 1:  # mtime granularity
                os.remove(path)
                removed += 1
        except OSError:
            continue
    return removed

