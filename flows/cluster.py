"""A run's batches on a Dask cluster (``newsetl run --cluster``).

    flow process:  discover ─▶ plan ─▶ submit every batch ───────────────▶ in order: dedupe across
                                           │                                batches, adopt GX results
    Dask workers:                          └▶ extract ─▶ frame suites (GX) ─▶ stage Parquet
    flow process:                                        ─▶ gate (run-level checks) ─▶ load (the one committer)

Each batch runs on a worker from start to end: its files read, transformed, checked by the frame
suites and staged, all in the worker's process. What comes back through the scheduler is small
(:class:`ClusterBatch`: paths of staged Parquet, the batch's ``dq_results``, quarantined and
rejected rows, counts, the worker's address and seconds), never frames. The flow's process
plans the batches, judges the run and is the only one that writes the warehouse.

Every worker reads the seeds and writes the staging folder at the same paths as the flow: on
several machines, both live on storage every machine mounts (the seeds folder, and the
warehouse's folder, or its ``--data-path`` for a PostgreSQL catalog). A batch's staged files
sit in a folder named by the batch's content (its files, their known hashes and the extractor),
each file written under a temporary name and renamed: a batch retried after its worker died, or
run twice by the scheduler, writes the same files again and never adds rows.

Workers must run newsetl itself (``make worker SCHEDULER=tcp://…`` starts one with the project's
``.venv`` and :mod:`flows.dask_worker` preloaded). Before any file is read the run checks that
the scheduler answers and that every worker imports newsetl with the very extractor of the flow
(:func:`check_workers`): rows made by different code would not be one run's rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from expectations.runner import StoredResult, Validator
from flows.batches import Batch, BatchResult, check_batch, extract_batch
from flows.extract import Extractor, extractor_version
from flows.settings import ClusterSpec
from transforms.frames import duplicate_rejections
from warehouse.staging import StagedTable, stage

#: How long the flow waits for a scheduler to answer, and for its first worker.
CONNECT_SECONDS = 10.0

class ClusterUnavailable(RuntimeError):
    """The cluster cannot take the run: unreachable, no worker, or a worker that cannot run newsetl."""


def task_runner(spec: ClusterSpec):
    """Prefect's Dask task runner for the spec: connected to the scheduler, or owning a local
    cluster of single-threaded worker processes (extraction holds the GIL) that load the compiled
    transforms first, as ``make worker`` does."""
    from prefect_dask import DaskTaskRunner

    if spec.address:
        return DaskTaskRunner(address=spec.address, client_kwargs={"timeout": CONNECT_SECONDS})
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": spec.local_workers, "threads_per_worker": 1, "processes": True,
        "host": "127.0.0.1", "dashboard_address": None, "preload": ["flows.dask_worker"]})


def check_workers(client: Any, spec: ClusterSpec, wait: float = CONNECT_SECONDS) -> dict[str, str]:
    """Every worker's address -> its extractor version, once at least one worker is up; raises
    :class:`ClusterUnavailable` naming the worker that cannot run newsetl or runs other code."""
    try:
        client.wait_for_workers(1, timeout=wait)
    except (TimeoutError, OSError) as exc:
        raise ClusterUnavailable(f"the Dask cluster {spec} has no worker (waited {wait:.0f} s): start one with "
                                 f"`make worker SCHEDULER={spec}`") from exc
    # eval is a builtin: it reaches a worker whatever that worker can import, and fails there
    # with the worker's own error when newsetl is not installed.
    answers = client.run(eval, "__import__('flows.extract').extract.extractor_version()", on_error="return")
    ours = extractor_version()
    for worker, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            raise ClusterUnavailable(f"Dask worker {worker} of {spec} cannot run newsetl ({type(answer).__name__}: "
                                     f"{answer}): install the project there (`make worker SCHEDULER=...` sets up "
                                     ".venv and starts the worker)")
        if answer != ours:
            raise ClusterUnavailable(f"Dask worker {worker} of {spec} runs another newsetl (extractor {answer}, this "
                                     f"run's {ours}): update its checkout and restart it")
    return answers


@contextmanager
def connected(spec: ClusterSpec) -> Iterator[Any]:
    """The started task runner, its workers checked; a scheduler that does not answer fails
    here, before the run reads anything, naming its address."""
    # Dask logs its own housekeeping at INFO (a local cluster's scheduler runs in this process
    # and logs each connection, and a closed one with a traceback when the run ends): a run's
    # log keeps newsetl's lines and Dask's warnings (a worker lost, a task retried).
    logging.getLogger("distributed").setLevel(logging.WARNING)
    runner = task_runner(spec)
    try:
        with runner:
            try:
                client = runner.client
            except (OSError, TimeoutError) as exc:
                raise ClusterUnavailable(f"the Dask scheduler at {spec} cannot be reached ({exc}); is it running, "
                                         "and is the address right?") from exc
            check_workers(client, spec)
            yield runner
    except ClusterUnavailable:
        raise
    except (OSError, TimeoutError) as exc:  # the runner's own connect, on entering
        raise ClusterUnavailable(f"the Dask scheduler at {spec} cannot be reached ({exc})") from exc


@dataclass(frozen=True)
class BatchJob:
    """What a worker needs to run one batch, besides the batch and ``seen``."""

    run_id: str
    started_at: dt.datetime
    run_time: dt.datetime  # the flow validator's: Data Docs show the batches under one run
    max_bytes: int
    known: dict[str, str]  # the batch's files loaded (or set aside) before: path -> sha256
    held: frozenset[str]
    staging: str  # the run's staging folder, on storage the worker sees at the same path


@dataclass(frozen=True)
class ClusterBatch:
    """A batch as a worker left it: the checked result, its GX results for the flow to store,
    and where and how long it ran."""

    result: BatchResult
    extracted: StagedTable  # the batch's articles as extracted: facts of copies dropped later
    stored: list[StoredResult] = field(default_factory=list)


def batch_folder(batch: Batch, job: BatchJob) -> Path:
    """The batch's staging folder, named by what decides its rows: a batch run again (retried,
    or twice at once) writes the same files in the same place."""
    digest = hashlib.sha256(extractor_version().encode())
    for chunk in batch.chunks:
        for path in chunk:
            digest.update(f"\0{path}\0{job.known.get(path, '')}".encode())
    return Path(job.staging) / f"batch-{batch.index:05d}-{digest.hexdigest()[:16]}"


_validators: dict[str, Validator] = {}  # run_id -> this worker's detached validator (GX set up once per run)


def _validator(job: BatchJob) -> Validator:
    v = _validators.get(job.run_id)
    if v is None:
        _validators.clear()  # one run at a time on a worker's thread: forget the last run's
        v = _validators[job.run_id] = Validator(None, job.run_id, job.run_time)
    return v


def run_batch(batch: Batch, job: BatchJob, seen: dict[str, str]) -> ClusterBatch:
    """Extract, check and stage one batch in this (worker's) process."""
    from distributed import get_worker

    wall, cpu = time.perf_counter(), time.process_time()
    folder = batch_folder(batch, job)
    folder.mkdir(exist_ok=True)  # not its parent: a run that ended (and removed it) takes no more files
    with Extractor(1, job.run_id, job.started_at, job.max_bytes, job.known, job.held) as extractor:
        extracted = extract_batch(batch, extractor, str(folder), lambda n: None)
    validator = _validator(job)
    validator.detached_results.clear()
    result = check_batch(extracted, validator, seen, str(folder), job.started_at, validate_empty=False)
    stored = list(validator.detached_results)
    validator.detached_results.clear()
    result = replace(result, worker=get_worker().address, cpu_seconds=round(time.process_time() - cpu, 3),
                      wall_seconds=round(time.perf_counter() - wall, 3))
    return ClusterBatch(result, extracted.staged["articles"], stored)


@task(name="batch", task_run_name="{batch.label}", retries=1, cache_policy=NO_CACHE)
def batch_task(batch: Batch, job: BatchJob, seen: dict[str, str]) -> ClusterBatch:
    """One batch on a Dask worker: extract, frame suites, stage (:func:`run_batch`)."""
    return run_batch(batch, job, seen)


class RunDedupe:
    """Copies of one article across batches, dropped in batch order as a run on one machine
    drops them.

    A worker drops the copies inside its batch and those of articles already loaded; copies of
    an article an earlier batch of the same run holds are only known here, once the batches are
    back. The later copy becomes a ``duplicate_content`` rejection naming the first path, its
    staged rows are staged again without it (in the flow's own files), and it leaves the
    quarantine if it was set aside there (its first copy carries the verdict).
    """

    def __init__(self, run_id: str, now: dt.datetime, staging: str):
        self.run_id, self.now, self.staging = run_id, now, staging
        self.first: dict[str, str] = {}  # article_id -> path of its first copy in this run

    def apply(self, result: BatchResult, extracted: StagedTable) -> BatchResult:
        again = {aid: path for aid, path in result.articles.items() if aid in self.first}
        kept = {aid: path for aid, path in result.articles.items() if aid not in self.first}
        if not again:
            self.first.update(kept)
            return result
        ids = pl.Series(list(again), dtype=pl.Utf8).implode()
        dropped = set(again.values())
        staged = {table: stage(self.staging, table, result.batch.index,
                               part.frame().filter(~pl.col("article_id").is_in(ids)), step="deduped")
                  for table, part in result.staged.items()}
        # the size and hash of each copy from its article as extracted (before any check: a
        # copy that was set aside has them too)
        copies = extracted.frame().filter(pl.col("source_path").is_in(list(dropped))).sort("source_path")
        extra = duplicate_rejections(copies.with_columns(
            pl.col("article_id").replace_strict(self.first, return_dtype=pl.Utf8).alias("kept_path")),
            self.run_id, self.now)
        # a copy inside this batch of an article dropped here names the first path of the run
        renamed = {f"same bytes as {path}": f"same bytes as {self.first[aid]}" for aid, path in again.items()}
        earlier = result.rejected.with_columns(pl.col("detail").replace(renamed))
        self.first.update(kept)
        return replace(result, staged=staged, rejected=pl.concat([earlier, extra]),
                       quarantine=result.quarantine.filter(~pl.col("article_id").is_in(ids)),
                       articles=kept, loaded=[p for p in result.loaded if p not in dropped])


__all__ = ["BatchJob", "ClusterBatch", "ClusterSpec", "ClusterUnavailable", "RunDedupe",
           "batch_task", "check_workers", "connected", "run_batch", "task_runner"]
