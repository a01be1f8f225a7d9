"""A run's checked rows spilled to Parquet, batch by batch, until the one load transaction.

A large run is extracted and checked in batches; holding every batch's frames until the load
would make memory grow with the input (about 20 MB per 1,000 articles). Each batch's frames
that passed the gate are written here instead, conformed to their table's schema, and the
loader inserts them with DuckDB's ``read_parquet`` inside the run's single transaction, so a
failed run still leaves the warehouse as it was. The folder sits beside the warehouse (the
disk that has room for the data; ``/tmp`` may be memory) and is removed when the run ends,
or by the next run if this one was killed.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from transforms.schema import TABLES


@dataclass
class StagedTable:
    """The Parquet files holding one table's staged rows."""

    table: str
    paths: list[Path] = field(default_factory=list)
    height: int = 0

    def sql(self) -> str:
        """A DuckDB table expression over the files (an empty relation when there are none)."""
        if not self.paths:
            cols = ", ".join(f'NULL::{c.sql.split()[0]} AS "{c.name}"' for c in TABLES[self.table].columns)
            return f"(SELECT {cols} WHERE false)"
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in self.paths)
        return f"read_parquet([{files}])"

    def frame(self) -> pl.DataFrame:
        """The rows back as one frame (small tables and tests only)."""
        if not self.paths:
            return TABLES[self.table].empty()
        return pl.read_parquet(self.paths)


class Staging:
    """A staging folder for one run: ``add`` a batch's frames, hand ``table(name)`` to the loader."""

    def __init__(self, beside: str | Path, run_id: str):
        where = Path(beside).resolve().parent
        where.mkdir(parents=True, exist_ok=True)
        # Created under the warehouse's run lock, so any other staging folder of this warehouse
        # was left by a run that was killed: its rows never loaded, nothing needs them.
        for stale in where.glob(f".{Path(beside).name}.staging-*"):
            shutil.rmtree(stale, ignore_errors=True)
        self.root = Path(tempfile.mkdtemp(prefix=f".{Path(beside).name}.staging-{run_id}-", dir=where))
        self.tables: dict[str, StagedTable] = {}

    def add(self, table: str, frame: pl.DataFrame) -> None:
        staged = self.tables.setdefault(table, StagedTable(table))
        if frame.height == 0:
            return
        path = self.root / f"{table}-{len(staged.paths):05d}.parquet"
        TABLES[table].conform(frame).write_parquet(path, compression="lz4", statistics=False)
        staged.paths.append(path)
        staged.height += frame.height

    def table(self, name: str) -> StagedTable:
        return self.tables.get(name) or StagedTable(name)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
