"""Every default of a run, declared once: the CLI's flags and the flow's parameters read them here."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from transforms.decode import DEFAULT_MAX_BYTES
from warehouse.connection import DEFAULT_DB, Location

#: Where a run reads articles from when no folder is given.
DEFAULT_SEEDS = "seeds"
#: Files handed to an extraction worker at a time: big enough that a chunk's overhead (one
#: task for the pool, one frame per table) is small against ~1 ms of work per article.
DEFAULT_CHUNK = 500
#: Files per batch: a batch is extracted, checked and staged to Parquet before the next, so a
#: run's memory is bounded by two batches whatever the size of the input.
DEFAULT_BATCH = 5000
#: Seconds a run waits for another run holding the same warehouse before it fails.
DEFAULT_LOCK_WAIT = 30.0
#: Seconds ``newsetl sql`` / ``search`` wait for a run holding the warehouse file.
DEFAULT_READ_WAIT = 5.0
#: When ``newsetl serve`` runs the lake's upkeep (``newsetl compact``): nightly, at an hour
#: when the hourly run is done (flows/maintenance.py says why it must run at all).
DEFAULT_COMPACT_CRON = "30 3 * * *"


@dataclass(frozen=True)
class RunSettings:
    """What one run was asked to do."""

    seeds_dir: str = DEFAULT_SEEDS
    db_path: str = str(DEFAULT_DB)
    chunk_size: int = DEFAULT_CHUNK
    batch_size: int = DEFAULT_BATCH
    max_bytes: int = DEFAULT_MAX_BYTES
    full_refresh: bool = False
    lock_wait: float = DEFAULT_LOCK_WAIT
    #: Extraction processes; None: one per core. A run of one chunk extracts in the flow's
    #: own process, where a pool would only cost start-up.
    workers: int | None = None
    #: Where the lake's Parquet files go (default: a folder beside a SQLite catalog).
    data_path: str | None = None
    #: Read links that lead out of the seeds folder (by default they are rejected, ``outside_seeds``).
    follow_symlinks: bool = False
    #: Run the batches on a Dask cluster: ``tcp://HOST:PORT`` or ``local:N`` (flows/cluster.py).
    cluster: str | None = None

    @property
    def location(self) -> Location:
        """The warehouse; a catalog path resolved, so runs and the lock name it the same way."""
        db = self.db_path if "://" in self.db_path else str(Path(self.db_path).resolve())
        return Location(db, self.data_path)

    def chunks(self, paths: list[str]) -> list[list[str]]:
        """The files in chunks of ``chunk_size``."""
        size = max(1, self.chunk_size)
        return [paths[i:i + size] for i in range(0, len(paths), size)]

    def batches(self, paths: list[str]) -> list[list[list[str]]]:
        """The chunks in batches of about ``batch_size`` files; at least one (maybe empty) batch."""
        chunks = self.chunks(paths)
        per = max(1, self.batch_size // max(1, self.chunk_size))
        return [chunks[i:i + per] for i in range(0, len(chunks), per)] or [[]]


def default_cluster() -> str | None:
    """The Dask cluster runs use unless told otherwise: ``NEWSETL_CLUSTER`` (``tcp://HOST:PORT``
    or ``local:N``), so a served deployment finds its cluster in its environment; None: none."""
    return os.environ.get("NEWSETL_CLUSTER") or None


_CLUSTER = re.compile(r"^(?:(?P<local>local:(?P<n>[0-9]+))|(?P<address>(?:tcp|tls)://[^\s/]+:[0-9]+))$")


@dataclass(frozen=True)
class ClusterSpec:
    """``tcp://HOST:PORT`` of a running scheduler, or ``local:N``: N worker processes here."""

    address: str | None = None
    local_workers: int = 0

    @classmethod
    def parse(cls, text: str) -> ClusterSpec:
        m = _CLUSTER.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is neither tcp://HOST:PORT (a running Dask scheduler) nor local:N "
                             "(N worker processes on this machine)")
        if m["local"]:
            n = int(m["n"])
            if n < 1:
                raise ValueError(f"{text!r}: a local cluster needs at least one worker")
            return cls(local_workers=n)
        return cls(address=m["address"])

    def __str__(self) -> str:
        return self.address or f"local:{self.local_workers}"


def seeds_problem(seeds: str | Path) -> str | None:
    """Why ``seeds`` names no folder to read, or None: said by the flow's discovery
    (``flows.io.discover``) and, before anything starts, by the command line."""
    path = Path(seeds)
    if not path.exists():
        return f"seeds folder {seeds} does not exist"
    if not path.is_dir():
        return f"seeds path {seeds} is not a folder"
    return None
