"""The data-quality report page of a warehouse: read from it, rendered, written beside it.

``expectations.report`` renders the page from a :class:`~expectations.report.ReportData`;
this module gathers that data from the warehouse (read-only) and writes the file atomically,
so a browser reloading the page never sees half of it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from expectations.paths import data_docs_path, report_path
from expectations.report import ReportData, render
from warehouse import history
from warehouse.connection import Location, connect, locate


def _suite_pages(db_path: str | Path, run_id: str) -> dict[str, str]:
    """Links to each suite's Data Docs validation page of this run (if built)."""
    root = report_path(db_path).parent
    validations = data_docs_path(db_path).parent / "validations"
    pages = {}
    if validations.is_dir():
        for suite_dir in validations.iterdir():
            found = sorted((suite_dir / run_id).glob("*/*.html"))
            if found:
                pages[suite_dir.name] = os.path.relpath(found[-1], root).replace(os.sep, "/")
    return pages


def collect(con: duckdb.DuckDBPyConnection, location: Location) -> ReportData:
    """Read what the report shows from the warehouse."""
    runs = history.recent_runs(con)
    latest = runs["run_id"][0] if runs.height else ""
    root = report_path(location.local).parent
    return ReportData(
        db_path=location.describe(), generated_at=dt.datetime.now(dt.UTC), runs=runs,
        results=history.results_of(con, runs["run_id"].to_list()),
        quarantine=history.quarantine_of(con, latest), rejected=history.rejected_of(con, latest),
        data_docs_href=os.path.relpath(data_docs_path(location.local), root).replace(os.sep, "/"),
        suite_pages=_suite_pages(location.local, latest),
    )


def write_report(location: Location | str | Path) -> Path:
    """Rebuild the report page from the warehouse (read-only) and return its path."""
    location = locate(location)
    con = connect(location, read_only=True)
    try:
        html = render(collect(con, location))
    finally:
        con.close()
    path = report_path(location.local)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # a browser reloading the page never sees half of it
    return path
