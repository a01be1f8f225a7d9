"""Running an analyst's query and writing its result: a table on screen, CSV, JSON or Parquet.

Kept free of Prefect, GX and Polars so that ``newsetl sql`` starts in a fraction of a second.

``newsetl sql`` is read-only: the connection is locked down
(:func:`warehouse.connection.lock_down`) and :func:`refuse_writes` turns away, before anything
runs, what that lock cannot stop: DuckDB lets a query write to any file it may read (the
catalog, the lake's data folder), and the SQLite and PostgreSQL extensions open files and
servers of their own, whatever ``enable_external_access`` says.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from pathlib import Path
from typing import TextIO

import duckdb

from warehouse.connection import registered
from warehouse.extensions import offline_settings

FORMATS = ("table", "csv", "json", "parquet")

#: Statements a read-only query tool refuses outright: they write files, open other databases
#: or load code. (Writes to the lake itself are refused by DuckDB: it is attached read-only.)
REFUSED_STATEMENTS = {
    duckdb.StatementType.COPY: "COPY", duckdb.StatementType.COPY_DATABASE: "COPY FROM DATABASE",
    duckdb.StatementType.EXPORT: "EXPORT DATABASE", duckdb.StatementType.ATTACH: "ATTACH",
    duckdb.StatementType.DETACH: "DETACH", duckdb.StatementType.LOAD: "INSTALL/LOAD",
    duckdb.StatementType.EXTENSION: "extension statements",
}
#: The same, as the keywords that start them inside an EXPLAIN ANALYZE (which runs them).
REFUSED_KEYWORDS = {"copy", "export", "attach", "detach", "install", "load", "force"}
#: Functions refused wherever they are called: the SQLite and PostgreSQL extensions' own (they
#: open any file or server, file access off or not), DuckLake's upkeep (it writes and deletes
#: files; some of it goes ahead on a read-only lake), file logging, and running SQL held in a
#: string, which no check here would see.
REFUSED_FUNCTIONS = frozenset({
    "sqlite_attach", "sqlite_query", "sqlite_scan",
    "postgres_attach", "postgres_configure_pool", "postgres_execute", "postgres_query", "postgres_scan",
    "postgres_scan_pushdown", "read_postgres_binary", "pg_clear_cache",
    *(f"{prefix}{name}" for prefix in ("", "ducklake_") for name in (
        "add_data_files", "cleanup_old_files", "commit", "delete_orphaned_files", "expire_snapshots",
        "flush_inlined_data", "merge_adjacent_files", "rewrite_data_files", "set_commit_message", "set_option")),
    "enable_logging", "query", "query_table", "json_execute_serialized_sql",
})


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


def _words(sql: str) -> list[tuple[str, str]]:
    """The tokens of ``sql`` (comments left out) as (kind, text): identifiers unquoted and
    folded to lower case, as DuckDB resolves them."""
    tokens = duckdb.tokenize(sql)
    out = []
    for i, (pos, kind) in enumerate(tokens):
        end = tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)
        text = sql[pos:end].strip()
        quoted = re.match(r'"((?:[^"]|"")*)"', text) if kind == duckdb.token_type.identifier else None
        if quoted:
            text = quoted.group(1).replace('""', '"')
        out.append((kind.name, text.lower()))
    return out


def refuse_writes(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Raise :class:`QueryError` for a statement of ``query`` that could write a file, open
    anything but the lake, or change the lake (:data:`REFUSED_STATEMENTS`,
    :data:`REFUSED_FUNCTIONS`); a query with a syntax error is left to DuckDB to explain."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error:
        return  # nothing of it can run
    for st in statements:
        if st.type in REFUSED_STATEMENTS:
            raise QueryError(f"{REFUSED_STATEMENTS[st.type]} is refused: the warehouse is read-only "
                             "(--output writes a result to a file)")
    words = _words(query)
    for i, (kind, text) in enumerate(words):
        called = i + 1 < len(words) and words[i + 1][1].startswith("(")
        if kind in ("identifier", "keyword") and called and text in REFUSED_FUNCTIONS:
            raise QueryError(f"{text}() is refused: the warehouse is read-only, and only its own files are read")
    for st in statements:
        if st.type == duckdb.StatementType.EXPLAIN:
            hit = {text for kind, text in _words(st.query) if kind == "keyword"} & REFUSED_KEYWORDS
            if hit:
                raise QueryError(f"EXPLAIN of {min(hit).upper()} is refused: the warehouse is read-only")


def _copy_options(fmt: str) -> str:
    return {"csv": "FORMAT csv, HEADER", "json": "FORMAT json, ARRAY true", "parquet": "FORMAT parquet"}[fmt]


def write_file(table: object, output: str, fmt: str) -> None:
    """Write an Arrow table to ``output`` with DuckDB's COPY, in a DuckDB of its own: the
    warehouse's connection may write no file at all, and this one never sees the user's SQL."""
    writer = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                "autoload_known_extensions": False})
    try:
        for sql in offline_settings():
            writer.execute(sql)
        path = str(Path(output)).replace("'", "''")
        with registered(writer, "newsetl_result", table) as name:
            writer.execute(f"COPY (SELECT * FROM {name}) TO '{path}' ({_copy_options(fmt)})")
    finally:
        writer.close()


def run_query(con: duckdb.DuckDBPyConnection, query: str, fmt: str = "table", output: str | None = None,
              max_rows: int = 40, out: TextIO | None = None) -> int:
    """Run ``query`` and write its result; returns the number of rows written (table: shown)."""
    out = out or sys.stdout
    refuse_writes(con, query)
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
        table = rel.fetch_arrow_table()
        write_file(table, output, fmt)
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
