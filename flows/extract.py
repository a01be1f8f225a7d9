"""Extraction of chunks of files, in the flow's process or on a pool of worker processes.

Reading and transforming a chunk (decode, parse, mentions, quotes) is pure CPU on bytes that
come from disk, so with more than one chunk and more than one core the chunks go to a plain
``ProcessPoolExecutor`` (spawned workers that start in ``lexicon_cache.start_worker``: the
compiled transforms enabled, the extraction context made once per worker). Prefect's own
``ProcessPoolTaskRunner`` makes every chunk a task run that talks to the API from the worker,
which measured no faster on two cores than one process; this pool scales the batch phase
1.9x from one worker to two (README, Speed).

The flow asks for one batch of chunks at a time and submits the next batch before it checks
and stages the current one, so the workers extract while the flow's process validates, and
never more than two batches of frames are in memory.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Collection
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from flows import io, lexicon_cache
from flows.runtime import PROJECT_ROOT
from transforms.frames import ChunkFrames, process_files


def extract_chunk(paths: list[str], run_id: str, now: dt.datetime, max_bytes: int,
                  known: dict[str, str]) -> ChunkFrames:
    """Read and transform one chunk of files (in whichever process runs it)."""
    return process_files(io.read_files(paths, max_bytes), run_id, now, max_bytes, known, lexicon_cache.context)


@functools.cache  # the sources a process runs do not change under it
def extractor_version() -> str:
    """A digest of what decides an article's rows and whether they pass: the transforms' code
    and data files, the word lists they are built from, and the checks' declarations. Stored
    with each run: a file set aside is retried once this changes (or its bytes)."""
    digest = hashlib.sha256(lexicon_cache.cache_key().encode())
    sources = [p for p in sorted((PROJECT_ROOT / "transforms").iterdir()) if p.suffix in (".py", ".json")]
    for path in [*sources, PROJECT_ROOT / "expectations" / "suites.py"]:
        digest.update(f"\0{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Extractor:
    """Hands out the frames of batches of chunks, extracted inline or on ``workers`` processes."""

    def __init__(self, workers: int, run_id: str, now: dt.datetime, max_bytes: int, known: dict[str, str],
                 held: Collection[str] = ()):
        self.run_id, self.now, self.max_bytes, self.known = run_id, now, max_bytes, known
        self.held = frozenset(held)  # the known files that were set aside, not loaded
        self.workers = max(1, workers)
        self.pool: ProcessPoolExecutor | None = self._new_pool() if self.workers > 1 else None

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the flow's process runs Prefect's threads, which fork would copy mid-flight
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=lexicon_cache.start_worker, initargs=(os.getpid(),))

    def _args(self, chunk: list[str]) -> tuple:
        return chunk, self.run_id, self.now, self.max_bytes, {p: self.known[p] for p in chunk if p in self.known}

    def submit(self, batch: list[list[str]]) -> list[Future | list[str]]:
        """Start extracting a batch's chunks on the pool; inline, nothing starts until collected."""
        if self.pool is None:
            return list(batch)
        return [self.pool.submit(extract_chunk, *self._args(chunk)) for chunk in batch]

    def collect(self, pending: list[Future | list[str]], progress: Callable[[int], None]) -> list[ChunkFrames]:
        """The batch's frames, chunk by chunk in order; ``progress`` gets each chunk's file count."""
        parts = []
        try:
            for job in pending:
                part = job.result() if isinstance(job, Future) else extract_chunk(*self._args(job))
                parts.append(part)
                progress(part.articles.height + part.rejected.height + len(part.unchanged))
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the pool is unusable. A new one serves the
            # retry of the batch; this attempt fails.
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = self._new_pool()
            raise
        return parts

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
