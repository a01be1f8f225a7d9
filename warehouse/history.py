"""What earlier runs tell: baselines for the run-level checks, and the report's history."""

from __future__ import annotations

import duckdb
import polars as pl

from transforms.vocab import COMPLETED, SPEAKER_CHECK
from warehouse.connection import registered

#: How many earlier completed runs a baseline looks at.
BASELINE_RUNS = 5

UNATTRIBUTED_BASELINE = """
SELECT median(share) FROM (
    SELECT d.unexpected_count::DOUBLE / d.element_count AS share
    FROM dq_results d JOIN runs r USING (run_id)
    WHERE r.status = ? AND d.table_name = 'quotes' AND d.check_name = ?
      AND d.element_count >= ?
    ORDER BY r.started_at DESC
    LIMIT ?
)
"""


def unattributed_baseline(con: duckdb.DuckDBPyConnection, min_quotes: int) -> float | None:
    """Median share of quotes without speaker over the last completed runs that had enough
    quotes to say (runs that skipped unchanged files extract few or none)."""
    row = con.execute(UNATTRIBUTED_BASELINE, [COMPLETED, SPEAKER_CHECK, min_quotes, BASELINE_RUNS]).fetchone()
    return None if row is None or row[0] is None else float(row[0])

#: How many runs the report's trend charts show.
TREND_RUNS = 30

def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = TREND_RUNS) -> pl.DataFrame:
    """The last runs, newest first: every column of ``runs``."""
    return con.execute("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", [limit]).pl()


def results_of(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> pl.DataFrame:
    """Every dq_results row of these runs."""
    with registered(con, "wanted_runs", pl.DataFrame({"run_id": run_ids}, schema={"run_id": pl.Utf8})):
        return con.execute("SELECT * FROM dq_results WHERE run_id IN (SELECT run_id FROM wanted_runs) "
                           "ORDER BY table_name, check_name").pl()


def quarantine_of(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """A run's quarantined rows, without the (possibly long) row JSON."""
    return con.execute("SELECT table_name, check_name, reason, article_id, source_path, row_key "
                       "FROM quarantine WHERE run_id = ? ORDER BY source_path, table_name", [run_id]).pl()


def rejected_of(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    return con.execute("SELECT source_path, reason, detail, step FROM rejected_files WHERE run_id = ? "
                       "ORDER BY reason, source_path", [run_id]).pl()
