"""Whether the lake's data files are whole: checked before a run writes anything.

A lake is a catalog plus Parquet files, and a file can be lost or cut short behind the
catalog's back (a disk that filled during a copy, a sync tool, a hand that deleted a folder).
A run on such a lake would fail halfway with DuckDB's "Invalid footer length" and leave its
failed run recorded in a damaged warehouse. The catalog records every live file's size, so
comparing them with the files on disk costs one ``stat`` per file and no read: a run checks
first and, if a file is damaged, writes nothing and says what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

from warehouse.connection import LAKE, WarehouseUnavailable


class WarehouseDamaged(WarehouseUnavailable):
    """Data files the catalog lists are missing or not the size it recorded."""


@dataclass(frozen=True)
class DamagedFile:
    table: str  # schema.table
    path: str
    expected: int  # bytes, as the catalog recorded them
    actual: int | None  # None: the file is gone

    def describe(self) -> str:
        state = ("missing" if self.actual is None
                 else f"{self.actual:,} bytes where the catalog recorded {self.expected:,}")
        return f"{self.path} (table {self.table}): {state}"


#: The lake's own catalog tables, as DuckLake attaches them beside the lake.
META = f"__ducklake_metadata_{LAKE}"


def _join(base: str, path: str, relative: object) -> str:
    return base + path if relative else path


def damaged_files(con: duckdb.DuckDBPyConnection, files: str | None = None) -> list[DamagedFile]:
    """The live data and delete files of every table of the lake that are missing or whose
    size differs from the catalog's record: one catalog query (~20 ms; DuckLake's
    ``ducklake_list_files`` per table costs seconds on a cold catalog), one ``stat`` per file.
    Paths are joined as the DuckLake spec says: file under table under schema under data path
    (``files``, when the lake was moved, else the one its catalog recorded)."""
    [(data_path,)] = con.execute(f"SELECT value FROM {META}.ducklake_metadata WHERE key = 'data_path'").fetchall()
    data_path = files or data_path  # a moved lake reads its files where they are now (``relocated``)
    rows = con.execute(f"""
        WITH live AS (
            SELECT table_id, path, path_is_relative, file_size_bytes FROM {META}.ducklake_data_file
            WHERE end_snapshot IS NULL
            UNION ALL
            SELECT table_id, path, path_is_relative, file_size_bytes FROM {META}.ducklake_delete_file
            WHERE end_snapshot IS NULL)
        SELECT s.schema_name || '.' || t.table_name, s.path, s.path_is_relative, t.path, t.path_is_relative,
               f.path, f.path_is_relative, f.file_size_bytes
        FROM live f
        JOIN {META}.ducklake_table t ON t.table_id = f.table_id AND t.end_snapshot IS NULL
        JOIN {META}.ducklake_schema s ON s.schema_id = t.schema_id AND s.end_snapshot IS NULL
        ORDER BY ALL""").fetchall()
    damaged = []
    for table, s_path, s_rel, t_path, t_rel, f_path, f_rel, size in rows:
        path = _join(_join(_join(data_path, s_path, s_rel), t_path, t_rel), f_path, f_rel)
        try:
            actual: int | None = os.stat(path).st_size
        except FileNotFoundError:
            actual = None
        if actual != size:
            damaged.append(DamagedFile(table, path, int(size), actual))
    return damaged


def check_whole(con: duckdb.DuckDBPyConnection, where: str, files: str | None = None) -> None:
    """Raise :class:`WarehouseDamaged` naming the damaged files and how to recover."""
    damaged = damaged_files(con, files)
    if not damaged:
        return
    shown = "; ".join(d.describe() for d in damaged[:3])
    if len(damaged) > 3:
        shown += f"; and {len(damaged) - 3} more"
    raise WarehouseDamaged(
        f"the warehouse {where} is damaged, nothing was written: {len(damaged)} data file(s) missing or cut short: "
        f"{shown}. Restore them from a backup, or load the seeds into a new warehouse "
        "(`newsetl run --db NEW.ducklake`); see docs/storage.md, \"Damaged files\".")
