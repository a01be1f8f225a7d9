"""Running an analyst's query and writing its result: a table on screen, CSV, JSON or Parquet.

Kept free of Prefect, GX and Polars so that ``newsetl sql`` starts in a fraction of a second.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path
from typing import TextIO

import duckdb

from warehouse.connection import registered

FORMATS = ("table", "csv", "json", "parquet")


class QueryError(ValueError):
    """A request that cannot be carried out as asked (not a DuckDB error)."""


def format_for(output: str | None, fmt: str | None) -> str:
    """The explicit format, else the output file's extension, else a table."""
    if fmt:
        return fmt
    if output:
        ext = Path(output).suffix.lower().lstrip(".")
        if ext in FORMATS:
            return ext
        raise QueryError(f"cannot tell the format of {output}: use --format csv|json|parquet")
    return "table"


def _copy_options(fmt: str) -> str:
    return {"csv": "FORMAT csv, HEADER", "json": "FORMAT json, ARRAY true", "parquet": "FORMAT parquet"}[fmt]


def run_query(con: duckdb.DuckDBPyConnection, query: str, fmt: str = "table", output: str | None = None,
              max_rows: int = 40, out: TextIO | None = None) -> int:
    """Run ``query`` and write its result; returns the number of rows written (table: shown)."""
    out = out or sys.stdout
    rel = con.sql(query.strip().rstrip(";"))
    if rel is None:  # a statement without a result (SET, PRAGMA ...)
        return 0
    if fmt == "table":
        if output:
            raise QueryError("--output needs --format csv, json or parquet")
        width = shutil.get_terminal_size((120, 40)).columns
        rel.show(max_width=width, max_rows=max_rows)
        return min(max_rows, len(rel))
    if output:
        # The warehouse is open read-only: the result is handed to COPY as an Arrow table
        # registered on the connection, which writes nothing to the database.
        table = rel.fetch_arrow_table()
        path = str(Path(output)).replace("'", "''")
        with registered(con, "newsetl_result", table) as name:
            con.execute(f"COPY (SELECT * FROM {name}) TO '{path}' ({_copy_options(fmt)})")
        return table.num_rows
    if fmt == "parquet":
        raise QueryError("Parquet is binary: give a file with --output")
    names = rel.columns
    rows = rel.fetchall()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
    else:
        json.dump([dict(zip(names, r, strict=True)) for r in rows], out, default=str, ensure_ascii=False, indent=1)
        out.write("\n")
    return len(rows)
