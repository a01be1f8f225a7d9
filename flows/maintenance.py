"""The lake's upkeep as a Prefect flow, so that a served schedule keeps the lake small.

Every run writes a few small Parquet files per table (and the search index's term
dictionaries, updated in place, a delete file per data file they touch). Runs do not merge
them (see :mod:`warehouse.upkeep`: a reader inside a transaction across a merge would lose its
tables), so without a merge a run's queries open more files every hour: measured over 160
runs of 5 articles, the load went from 1.3 s to 2.2 s, and one merge brought it back to 1.5 s.
``newsetl serve`` therefore serves this flow next to the hourly one, nightly by default
(``--compact-cron``), as the scheduled form of ``newsetl compact``.
"""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, get_run_logger

from flows.admin import compact
from warehouse.connection import locate

#: How long the upkeep waits for a run that holds the warehouse (seconds): a run in progress
#: is let finish, the upkeep comes after it.
LOCK_WAIT = 3600.0


@flow(name="newsetl-compact", log_prints=False)
def compact_flow(db_path: str, data_path: str | None = None, lock_wait: float = LOCK_WAIT) -> dict[str, int]:
    """Merge the lake's small files, expire snapshots older than the retention and delete the
    files no snapshot needs, under the run lock (``newsetl compact``); the counts of
    :class:`warehouse.upkeep.Upkeep`."""
    done = compact(locate(db_path, data_path), lock_wait)
    get_run_logger().info("compacted: %d small file(s) merged, %d snapshot(s) expired, %d file(s) removed; "
                          "%d data file(s), %.1f MB", done.merged, done.expired, done.deleted, done.files,
                          done.bytes / 1e6)
    return asdict(done)
