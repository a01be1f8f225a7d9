"""The warehouse's SQL schema, derived from the table declarations in ``transforms.schema``.

No table is written down in SQL: its ``CREATE TABLE`` is rendered from its declaration for the
storage backend at hand, and an older warehouse is brought up to date by adding the columns
it lacks. A backend says what it enforces: a DuckDB file enforces ``PRIMARY KEY``, so a
duplicate key fails the insert itself; a lakehouse table format has no keys, and there the
data-quality suites check uniqueness instead (``expectations.suites.warehouse_invariants``).
The views, which are queries rather than declarations, stay ``.sql`` files under ``sql/views``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import duckdb

from transforms.schema import ALL_TABLES, Table


@dataclass(frozen=True)
class Backend:
    """What a storage backend's DDL may say."""

    name: str
    #: ``PRIMARY KEY`` is declared and enforced: a duplicate key cannot be inserted.
    enforces_keys: bool


DUCKDB = Backend("duckdb", enforces_keys=True)
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

    Columns are only ever added, and an added column must be nullable: rows loaded before it
    existed have no value for it. A NOT NULL column missing from an existing table is a
    declaration error, not something to migrate silently.
    """
    have = {r[0] for r in con.execute(f"DESCRIBE {table.name}").fetchall()}
    out = []
    for col in table.columns:
        if col.name in have:
            continue
        if not col.nullable:
            raise RuntimeError(f"{table.name}.{col.name} is declared NOT NULL but an older warehouse lacks it: "
                               "declare new columns nullable")
        out.append(f"ALTER TABLE {table.name} ADD COLUMN {quote_ident(col.name)} {col.sql}")
    return out


def ensure_schema(con: duckdb.DuckDBPyConnection, backend: Backend = DUCKDB) -> None:
    """Create missing tables, add columns newer versions declare, (re)create the views.

    Idempotent. A warehouse built by an older newsetl gains the new nullable columns in place,
    so upgrading never means rebuilding.
    """
    for sql in create_tables(backend):
        con.execute(sql)
    for table in ALL_TABLES:
        for sql in missing_columns(con, table):
            con.execute(sql)
    for _, sql in view_statements():
        con.execute(sql)
