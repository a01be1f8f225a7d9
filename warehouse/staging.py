"""A run's checked rows spilled to Parquet, batch by batch, until the one load transaction.

A large run is extracted and checked in batches; holding every batch's frames until the load
would make memory grow with the input (about 20 MB per 1,000 articles). Each batch's frames
that passed the gate are written here instead, conformed to their table's schema, and the
loader inserts them with DuckDB's ``read_parquet`` inside the run's single transaction, so a
failed run still leaves the warehouse as it was.

A staged file is named by the step that wrote it, its table and the batch it holds
(``checked-mentions-00003.parquet``) and
written under a temporary name first, then renamed: a batch staged twice (a retried task)
replaces its own file, never adds rows, and a reader never sees half a file. The folder sits
beside the warehouse (the disk that has room for the data; ``/tmp`` may be memory) and is
removed when the run ends, or by the next run if this one was killed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms.schema import TABLES

#: On shared storage, how old another run's staging folder must be to be taken for a leftover.
SHARED_STALE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class StagedTable:
    """The Parquet files holding one table's staged rows."""

    table: str
    paths: tuple[Path, ...] = ()
    height: int = 0

    def sql(self) -> str:
        """A DuckDB table expression over the files (an empty relation when there are none)."""
        if not self.paths:
            cols = ", ".join(f'NULL::{c.sql} AS "{c.name}"' for c in TABLES[self.table].columns)
            return f"(SELECT {cols} WHERE false)"
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in self.paths)
        return f"read_parquet([{files}])"

    def frame(self) -> pl.DataFrame:
        """The rows back as one frame (a batch's, or small tables and tests)."""
        if not self.paths:
            return TABLES[self.table].empty()
        return pl.read_parquet(list(self.paths))

    @classmethod
    def concat(cls, table: str, parts: Iterable[StagedTable]) -> StagedTable:
        """One table's files of several batches, in batch order."""
        parts = list(parts)
        return cls(table, tuple(p for part in parts for p in part.paths), sum(part.height for part in parts))


def stage(root: str | Path, table: str, part: int, frame: pl.DataFrame, step: str = "checked") -> StagedTable:
    """Write one batch's rows of one table (conformed to its schema) as ``<step>-<table>-<part>.parquet``:
    each step of a batch writes its own files, so a retried step never reads what it wrote itself."""
    if frame.height == 0:
        return StagedTable(table)
    path = Path(root) / f"{step}-{table}-{part:05d}.parquet"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    TABLES[table].conform(frame).write_parquet(tmp, compression="lz4", statistics=False)
    tmp.replace(path)
    return StagedTable(table, (path,), frame.height)


def remove_stale(beside: str | Path, shared: bool = False) -> None:
    """Remove the staging folders runs that were killed left beside the warehouse. Called under
    the warehouse's run lock, so any staging folder of this warehouse was left by a run that is
    gone: its rows never loaded, nothing needs them. On storage shared between machines the
    lock may not exclude a run elsewhere: only folders a day old are taken for leftovers there."""
    where = Path(beside).resolve().parent
    cutoff = time.time() - SHARED_STALE_SECONDS if shared else float("inf")
    for stale in where.glob(f".{Path(beside).name}.staging-*"):
        if stale.stat().st_mtime < cutoff:
            shutil.rmtree(stale, ignore_errors=True)


class StagingArea:
    """The staging folder of one run, beside the warehouse; removed when the run ends."""

    def __init__(self, beside: str | Path, run_id: str, shared: bool = False):
        where = Path(beside).resolve().parent
        where.mkdir(parents=True, exist_ok=True)
        remove_stale(beside, shared)
        self.root = Path(tempfile.mkdtemp(prefix=f".{Path(beside).name}.staging-{run_id}-", dir=where))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> StagingArea:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
