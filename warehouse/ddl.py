"""The warehouse's SQL schema, derived from the table declarations in ``transforms.schema``.

No table is written down in SQL: its ``CREATE TABLE`` is rendered from its declaration for the
storage backend at hand, and an older warehouse is brought up to date by adding the columns
it lacks. A backend says what it enforces: a DuckDB file enforces ``PRIMARY KEY``, so a
duplicate key fails the insert itself; a lakehouse table format has no keys, and there the
data-quality suites check uniqueness instead (``expectations.suites.warehouse_invariants``).
The views, which are queries rather than declarations, stay ``.sql`` files under ``sql/views``.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from dataclasses import dataclass
from importlib import resources

import duckdb

from transforms.schema import ALL_TABLES, Table


@dataclass(frozen=True)
class Backend:
    """What a storage backend's DDL may say, and so what its constraints guarantee."""

    name: str
    #: ``PRIMARY KEY`` is declared and enforced: a duplicate key cannot be inserted.
    enforces_keys: bool
    #: ``NOT NULL`` is declared and enforced.
    enforces_not_null: bool = True


DUCKDB = Backend("duckdb", enforces_keys=True)
#: DuckLake enforces NOT NULL but has no PRIMARY KEY, UNIQUE or index (measured on 1.5.5).
DUCKLAKE = Backend("ducklake", enforces_keys=False)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_table(table: Table, backend: Backend) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one table on one backend."""
    lines = [f"    {quote_ident(c.name):<24} {c.sql}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
    if backend.enforces_keys:
        lines.append(f"    PRIMARY KEY ({', '.join(quote_ident(k) for k in table.key)})")
    return f"-- {table.doc}\nCREATE TABLE IF NOT EXISTS {table.name} (\n" + ",\n".join(lines) + "\n);"


def create_tables(backend: Backend) -> list[str]:
    return [create_table(t, backend) for t in ALL_TABLES]


def view_statements() -> list[tuple[str, str]]:
    """(file name, SQL) of every view, in file order."""
    folder = resources.files("warehouse").joinpath("sql", "views")
    return sorted((p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".sql"))


def missing_columns(con: duckdb.DuckDBPyConnection, table: Table) -> list[str]:
    """``ALTER TABLE`` statements adding the declared columns an older warehouse lacks.

    Columns are only ever added. Rows loaded before a column existed have no value for it: it
    stays NULL there, unless the column declares how to compute it (``Column.backfill``); then
    its rows are filled in the same migration and the column may be NOT NULL. A NOT NULL column
    without a backfill missing from an existing table is a declaration error, not something to
    migrate silently.
    """
    described = {r[0]: r[2] for r in con.execute(f"DESCRIBE {table.name}").fetchall()}  # name -> null YES/NO
    out = []
    rows: bool | None = None  # whether the table holds rows, asked once if needed
    for col in table.columns:
        name = quote_ident(col.name)
        added = col.name not in described
        if added:
            if not col.nullable and col.backfill is None:
                raise RuntimeError(f"{table.name}.{col.name} is declared NOT NULL but an older warehouse lacks "
                                   "it: declare new columns nullable, or give them a backfill")
            out.append(f"ALTER TABLE {table.name} ADD COLUMN {name} {col.sql}")
        elif col.nullable or described[col.name] == "NO":
            continue  # as declared; a column still nullable here was added while its table was empty
        # Fill it and constrain it once the table has rows: an empty table has nothing to fill,
        # and DuckLake cannot SET NOT NULL on a table without statistics, so there the column
        # stays nullable until then (the frame checks still refuse a NULL in every row a load
        # brings).
        if col.backfill is None:
            continue
        rows = rows if rows is not None else _has_rows(con, table)
        if rows:
            only_nulls = "" if added else f" WHERE {name} IS NULL"
            out.append(f"UPDATE {table.name} SET {name} = {col.backfill}{only_nulls}")
            if not col.nullable:
                out.append(f"ALTER TABLE {table.name} ALTER COLUMN {name} SET NOT NULL")
    return out


def _has_rows(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name})").fetchone()[0])


def copy_rows(con: duckdb.DuckDBPyConnection, table: Table, source_db: str, target: str) -> None:
    """Insert the rows of ``table`` as the attached database ``source_db`` holds it (an older
    schema, maybe) into ``target``: the columns both know, and those the source lacks computed
    by their ``backfill`` (the others NULL). The source is read under the table's own name, as
    a backfill refers to it; the other tables it refers to are the connection's (copy them
    first: ``ALL_TABLES`` order)."""
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main' "
        "AND table_name = ?", [source_db, table.name]).fetchall()}
    cols = [c for c in table.columns if c.name in have or c.backfill is not None]
    names = ", ".join(quote_ident(c.name) for c in cols)
    values = ", ".join(quote_ident(c.name) if c.name in have else str(c.backfill) for c in cols)
    con.execute(f"INSERT INTO {target} ({names}) SELECT {values} FROM {source_db}.main.{table.name} AS {table.name}")


def _view_version(sql: str) -> str:
    """What a view's comment records: the hash of the file it was made from."""
    return "newsetl " + hashlib.sha256(sql.encode()).hexdigest()[:16]


def schema_changes(con: duckdb.DuckDBPyConnection, backend: Backend = DUCKLAKE) -> list[str]:
    """The statements that bring a warehouse to the declared schema: the tables it lacks, the
    columns newer versions declare, and the views whose definition changed (each view carries
    the hash of its file as its comment). Empty for a warehouse that is up to date, so opening
    one costs no write (on a lake, every write is a snapshot)."""
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = current_schema()").fetchall()}
    views = dict(con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = current_schema()").fetchall())
    out = []
    for table in ALL_TABLES:
        if table.name not in tables:
            out.append(create_table(table, backend))
        else:
            out += missing_columns(con, table)
    for name, sql in view_statements():
        view = name.removesuffix(".sql")
        version = _view_version(sql)
        if views.get(view) != version:
            out += [sql, f"COMMENT ON VIEW {view} IS '{version}'"]
    return out


def row_group_options(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The lake options that give the tables that declare one their Parquet row-group size
    (``Table.row_group_rows``), where the lake does not have it yet: new files follow it."""
    lake, kind = con.execute("SELECT database_name, type FROM duckdb_databases() "
                             "WHERE database_name = current_database()").fetchone()
    if kind != "ducklake":  # a plain DuckDB (an older warehouse, a test): no such option
        return []
    have = {(r[0], r[1]) for r in con.execute(
        f"SELECT scope_entry, value FROM {lake}.options() WHERE option_name = 'parquet_row_group_size'").fetchall()}
    return [f"CALL {lake}.set_option('parquet_row_group_size', {t.row_group_rows}, table_name => '{t.name}')"
            for t in ALL_TABLES if t.row_group_rows and (f"main.{t.name}", str(t.row_group_rows)) not in have]


def ensure_schema(con: duckdb.DuckDBPyConnection, backend: Backend = DUCKLAKE) -> None:
    """Create missing tables, add columns newer versions declare, (re)create changed views, in
    one transaction (one snapshot on a lake), and nothing at all when the schema is current.

    A warehouse built by an older newsetl gains the new nullable columns in place, so upgrading
    never means rebuilding. On a lake, the tables' row-group sizes follow in a second commit
    (DuckLake sets no option on a table its own transaction created).
    """
    for changes in (schema_changes(con, backend), row_group_options(con) if backend is DUCKLAKE else []):
        if changes:
            _commit(con, changes)


def _commit(con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        for sql in statements:
            con.execute(sql)
        con.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.TransactionException):  # a failed COMMIT ended the transaction already
            con.execute("ROLLBACK")
        raise
