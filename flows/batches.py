"""One batch of a run: its files extracted, then checked and staged for the load.

A batch goes through two steps, each a function of data in, data out, so each can run as a
Prefect task and be retried on its own:

1. :func:`extract_batch`: the batch's files read, decoded, parsed, their mentions and quotes
   found (on the extraction pool), and the frames staged to Parquet as they came out;
2. :func:`check_batch`: those frames read back, later copies of articles seen before dropped,
   the frame suites run (GX), quarantined articles set aside, and what may load staged.

What crosses from one step to the next, and back to the flow, is small: paths to staged
files, the batch's ``dq_results``, quarantined and rejected rows, counts and timings. That
matters: Prefect keeps every task's parameters and return value referenced until the flow
ends (measured: 100 MB passed to or returned from a task stays resident per call), so tasks
that handed frames around would hold the whole corpus in memory by the last batch.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from expectations.gate import check_batch as run_frame_suites
from expectations.runner import Validator, critical_failures
from flows.extract import Extractor
from flows.settings import RunSettings
from transforms.frames import ChunkFrames, drop_duplicate_articles
from transforms.schema import DATA_TABLES, DQ_RESULTS, QUARANTINE, REJECTED_FILES
from transforms.vocab import STEP_DISCOVER, RejectReason
from warehouse.staging import StagedTable, stage

#: The tables a batch stages.
STAGED = tuple(t.name for t in DATA_TABLES)


@dataclass(frozen=True)
class Batch:
    """Which files a batch holds, and how the run names it."""

    index: int
    count: int  # batches in the run
    chunks: list[list[str]]

    @property
    def label(self) -> str:
        return f"batch {self.index + 1} of {self.count}" if self.count > 1 else "run"

    @property
    def part(self) -> str | None:
        """The batch's name in Data Docs when the run has several."""
        return self.label if self.count > 1 else None

    @property
    def last(self) -> bool:
        return self.index + 1 == self.count


@dataclass(frozen=True)
class RunPlan:
    """What a run will do with the files it found, before it reads any."""

    batches: list[Batch]
    present: list[str]  # every file found, sorted
    missing: list[str]  # loaded files from this seeds folder gone from it since the last run (not yet flagged)
    loaded: dict[str, str]  # source_path -> sha256 of the loaded files (none on a full refresh)
    held: dict[str, str]  # source_path -> sha256 of files set aside before by this very extractor
    seen: dict[str, str]  # article_id -> path of articles loaded from a path still present
    workers: int  # extraction processes worth starting
    returning: list[str] = field(default_factory=list)  # files flagged gone that are back
    full_refresh: bool = False
    unread: list[str] = field(default_factory=list)  # loaded files that stat as when loaded: not read

    @property
    def quiet(self) -> bool:
        """Nothing to change in the warehouse unless a file turns out new or changed: no file
        gone, none back, no rebuild."""
        return not (self.missing or self.returning or self.full_refresh)

    @property
    def chunks(self) -> int:
        return sum(len(b.chunks) for b in self.batches)

    @property
    def known(self) -> dict[str, str]:
        """source_path -> sha256 of the files not worth extracting again while their bytes are
        the same: loaded ones, and quarantined ones (they would be set aside again)."""
        return {**self.held, **self.loaded}


def plan_run(cfg: RunSettings, paths: list[str], loaded: dict[str, str], held: dict[str, str] | None = None,
             flagged: set[str] | None = None, stats: dict[str, str] | None = None,
             loaded_stats: dict[str, str] | None = None) -> RunPlan:
    """Batches, and what the warehouse already holds of these files (``loaded``: source_path ->
    sha256 of every loaded article; ``held``: of the files quarantined by a run of the same
    extractor, not loaded since; ``flagged``: loaded files flagged gone). A full refresh skips
    nothing and replaces everything.

    ``stats`` (path -> ``io.file_stat`` now) and ``loaded_stats`` (the ``articles.file_stat``
    recorded when each was read): a loaded file that stats the same is the file loaded, and
    goes in no batch (``unread``), so a run over a large folder reads only what changed; any
    other file is read, and skipped there if its bytes hash as loaded."""
    root = str(Path(cfg.seeds_dir).resolve()) + "/"
    present = set(paths)
    flagged = flagged or set()
    # Gone since the last run: a file already flagged gone is no news (counting it again made
    # every later run a full one, with GX checks on nothing and a new snapshot)
    missing = [] if cfg.full_refresh else sorted(p for p in loaded if p.startswith(root) and p not in present
                                                  and p not in flagged)
    loaded = {} if cfg.full_refresh else loaded
    held = {} if cfg.full_refresh or held is None else {p: sha for p, sha in held.items() if p not in loaded}
    seen = {sha[:16]: path for path, sha in loaded.items() if path in present}
    now, then = stats or {}, loaded_stats or {}
    unread = [p for p in paths if p in loaded and p in then and now.get(p) == then[p]]
    if unread:
        skip = set(unread)
        paths = [p for p in paths if p not in skip]
    chunked = cfg.batches(paths)
    batches = [Batch(k, len(chunked), chunks) for k, chunks in enumerate(chunked)]
    workers = max(1, min(cfg.workers or os.cpu_count() or 1, sum(len(c) for c in chunked)))
    returning = sorted(present & flagged)
    return RunPlan(batches, sorted(present), missing, loaded, held, seen, workers, returning, cfg.full_refresh,
                   unread)


def refused_rows(refused: list[tuple[str, RejectReason, str]], run_id: str, now: dt.datetime) -> pl.DataFrame:
    """``rejected_files`` rows of the files discovery turned away (never read: no size, no hash)."""
    return REJECTED_FILES.conform(pl.DataFrame(
        [{"run_id": run_id, "source_path": path, "reason": reason, "detail": detail, "step": STEP_DISCOVER,
          "rejected_at": now} for path, reason, detail in refused],
        schema={"run_id": pl.String, "source_path": pl.String, "reason": pl.String, "detail": pl.String,
                "step": pl.String, "rejected_at": pl.Datetime("us", "UTC")}))


@dataclass(frozen=True)
class ExtractedBatch:
    """A batch's frames as extraction left them, staged."""

    batch: Batch
    staged: dict[str, StagedTable]
    rejected: pl.DataFrame
    unchanged: int  # files loaded (or set aside) before with these very bytes: not extracted again
    held: int  # of those, files set aside before: not retried
    seconds: dict[str, float] = field(default_factory=dict)
    restat: dict[str, str] = field(default_factory=dict)  # path -> file_stat of unchanged files (ChunkFrames)

    def frames(self) -> ChunkFrames:
        return ChunkFrames(*(self.staged[t].frame() for t in STAGED), self.rejected)


@dataclass(frozen=True)
class BatchResult:
    """What a checked batch leaves behind once its rows are staged."""

    batch: Batch
    staged: dict[str, StagedTable]  # what may load; empty when blocked
    rows: pl.DataFrame  # dq_results of the frame suites on this batch
    quarantine: pl.DataFrame
    rejected: pl.DataFrame
    articles: dict[str, str]  # article_id -> source_path of the batch's articles, duplicates dropped
    loaded: list[str]  # source paths staged to load (quarantined articles are not)
    extracted: int  # articles extracted (before duplicates and quarantine)
    unchanged: int
    held: int
    blocked: bool  # a critical expectation failed: nothing was staged, the run must stop
    seconds: dict[str, float] = field(default_factory=dict)
    worker: str = "local"  # where it ran: a Dask worker's address on a cluster
    cpu_seconds: float = 0.0  # CPU of its extraction, checks and staging
    wall_seconds: float = 0.0
    restat: dict[str, str] = field(default_factory=dict)  # path -> file_stat of unchanged files, for the load


def gone_paths(plan: RunPlan, results: list[BatchResult]) -> list[str]:
    """The files of ``plan.missing`` whose rows stay, flagged gone: not those whose article
    (same bytes, same ``article_id``) this run loads from another path, a file renamed or
    moved within the folder, whose rows the load moves to the new path."""
    if not plan.missing:
        return []
    moved: set[str] = set()
    for r in results:
        loaded = set(r.loaded)
        moved.update(aid for aid, path in r.articles.items() if path in loaded)
    return [p for p in plan.missing if plan.loaded.get(p, "")[:16] not in moved]


def extract_batch(batch: Batch, extractor: Extractor, root: str, progress: Callable[[int], None]) -> ExtractedBatch:
    """Extract the batch's files and stage the frames under ``root``."""
    t = time.perf_counter()
    frames = ChunkFrames.concat(extractor.collect(extractor.submit(batch.chunks), progress))
    seconds = {f"cpu_{name}": secs for name, secs in frames.seconds.items()}  # summed over workers
    staged = {t_: stage(root, t_, batch.index, getattr(frames, t_), step="extracted") for t_ in STAGED}
    seconds["extract"] = time.perf_counter() - t
    held = sum(p in extractor.held for p in frames.unchanged)
    return ExtractedBatch(batch, staged, frames.rejected, len(frames.unchanged), held, seconds, frames.restat)


def check_batch(extracted: ExtractedBatch, validator: Validator, seen: dict[str, str], root: str,
                now: dt.datetime, validate_empty: bool) -> BatchResult:
    """Drop duplicates, run the frame suites, set aside what failed them, stage what may load.

    ``seen``: article_id -> path of the articles this run staged in earlier batches or loaded
    from a path still present: a later copy of one is a duplicate (read, never changed).
    ``validate_empty``: check the batch even if it has no article (a run with no article at
    all still checks its last batch, so its results say so).
    """
    batch = extracted.batch
    seconds = dict(extracted.seconds)
    t, cpu = time.perf_counter(), time.thread_time()
    raw = extracted.frames()
    frames = drop_duplicate_articles(raw, validator.run_id, now, seen)
    if frames.articles.height or validate_empty:
        verdict = run_frame_suites(validator, frames, now, batch.part)
        rows, kept, quarantine = verdict.rows, verdict.kept, verdict.quarantine
    else:
        # No article in this batch (its files unchanged, rejected or duplicates): the suites
        # would pass on empty frames and add nothing to the run's merged results, at about
        # a second of GX each.
        rows, kept, quarantine = DQ_RESULTS.empty(), frames, QUARANTINE.empty()
    seconds["validate"] = time.perf_counter() - t
    blocked = critical_failures(rows).height > 0
    staged: dict[str, StagedTable] = {}
    if not blocked:
        t = time.perf_counter()
        for table in STAGED:
            frame = getattr(kept, table)
            same = frame.height == getattr(raw, table).height  # nothing dropped: the staged file holds it already
            staged[table] = extracted.staged[table] if same else stage(root, table, batch.index, frame)
        seconds["stage"] = time.perf_counter() - t
    articles = dict(zip(frames.articles["article_id"], frames.articles["source_path"], strict=True))
    loaded = [] if blocked else kept.articles["source_path"].to_list()
    extraction_cpu = sum(secs for name, secs in seconds.items() if name.startswith("cpu_"))
    check_cpu = time.thread_time() - cpu
    wall = seconds.get("extract", 0.0) + seconds.get("validate", 0.0) + seconds.get("stage", 0.0)
    return BatchResult(batch, staged, rows, quarantine, kept.rejected, articles, loaded, raw.articles.height,
                       extracted.unchanged, extracted.held, blocked, seconds,
                       cpu_seconds=round(extraction_cpu + check_cpu, 3), wall_seconds=round(wall, 3),
                       restat=extracted.restat)
