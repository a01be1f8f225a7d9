"""The newsetl Prefect flow: seeds folder in, checked warehouse out.

    discover ─▶ for each batch of files:  extract ─▶ check ─▶ (staged Parquet)
                                            └ the next batch is extracted while this one is checked
             ─▶ gate (run-level checks) ─▶ load (one transaction, warehouse checks before the commit)

Each task takes data and returns data: file paths in, paths to staged Parquet and small
results out, so each can be retried on its own. The pool of extraction processes, the GX
validator and the staging folder are resources the flow opens for the run and hands to the
tasks; the run's record (:class:`flows.runbook.RunSummary`) is kept by the flow alone.

Tasks work on batches of thousands of files; a Prefect task costs ~10 ms, so one task per
article would cost more than the article. Batches keep memory flat: only two batches of
frames are ever held (the one being checked, the next being extracted).
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from expectations.gate import check_batch as run_frame_suites
from expectations.gate import check_run, merge_batches
from expectations.runner import Validator, critical_failures, raise_on_critical
from expectations.suites import SUITES
from flows import cluster as dask_cluster
from flows import io, settings
from flows.batches import (
    STAGED,
    Batch,
    BatchResult,
    ExtractedBatch,
    RunPlan,
    check_batch,
    extract_batch,
    gone_paths,
    plan_run,
    refused_rows,
)
from flows.extract import Extractor
from flows.runbook import BACKEND, RunBook, RunFailed, RunRefused, RunSummary
from flows.settings import RunSettings
from transforms.frames import ChunkFrames
from transforms.schema import QUARANTINE, REJECTED_FILES
from transforms.vocab import ARTICLE_SET_ASIDE
from warehouse.connection import Location, connect_for_load
from warehouse.loader import LoadResult, load_run
from warehouse.staging import StagedTable, StagingArea

__all__ = ["RunFailed", "RunSummary", "newsetl_flow"]


def _worth_retrying(task, task_run, state) -> bool:
    """Retry I/O hiccups, not a seeds folder that does not exist."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, io.SeedsNotFound)


@task(name="discover", retries=2, retry_delay_seconds=1, retry_condition_fn=_worth_retrying,
      cache_policy=NO_CACHE)
def discover_task(seeds_dir: str, follow_symlinks: bool) -> io.Found:
    return io.discover(seeds_dir, follow_symlinks)


@task(name="extract", task_run_name="extract {batch.label}", retries=1, cache_policy=NO_CACHE)
def extract_task(batch: Batch, extractor: Extractor, staging: str) -> ExtractedBatch:
    """Read and transform a batch's files on the extraction pool; stage the frames."""
    log = get_run_logger()
    files = sum(len(c) for c in batch.chunks)
    done = 0
    t0 = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal done
        done += n
        log.info("extract %s: %d/%d files done, %.0f files/s", batch.label, done, files,
                 done / max(time.perf_counter() - t0, 1e-9))

    return extract_batch(batch, extractor, staging, progress)


@task(name="check", task_run_name="check {extracted.batch.label}", retries=1, cache_policy=NO_CACHE)
def check_task(extracted: ExtractedBatch, validator: Validator, seen: dict[str, str], staging: str,
               now: dt.datetime, validate_empty: bool) -> BatchResult:
    """Drop duplicates, run the frame suites (GX), set aside quarantined articles, stage the rest."""
    return check_batch(extracted, validator, seen, staging, now, validate_empty)


@dataclass(frozen=True)
class Gate:
    """The run's frame checks merged over its batches, with the run-level checks."""

    dq_rows: pl.DataFrame
    quarantine: pl.DataFrame
    rejected: pl.DataFrame


@task(name="gate", cache_policy=NO_CACHE)
def gate_task(batch_rows: list[pl.DataFrame], quarantine: list[pl.DataFrame], rejected: list[pl.DataFrame],
              articles: int, validator: Validator, unattributed_baseline: float | None) -> Gate:
    """One verdict per expectation over the batches, plus the run-level checks."""
    frame_rows = merge_batches(batch_rows)
    quarantined = pl.concat([QUARANTINE.empty(), *quarantine])
    set_aside = quarantined.filter(pl.col("check_name") == ARTICLE_SET_ASIDE).height
    run_rows = check_run(validator, articles, set_aside, frame_rows, unattributed_baseline)
    return Gate(pl.concat([frame_rows, run_rows]), quarantined, pl.concat([REJECTED_FILES.empty(), *rejected]))


@task(name="load", cache_policy=NO_CACHE)
def load_task(staged: dict[str, StagedTable], gate: Gate, validator: Validator, location: Location, run_id: str,
              full_refresh: bool, returning: list[str], missing: list[str],
              restat: dict[str, str]) -> tuple[LoadResult, pl.DataFrame]:
    """The staged batches into the warehouse in one transaction, checked before the commit."""

    def check(con):
        post = validator.validate_warehouse(con, BACKEND.enforces_keys, BACKEND.enforces_not_null)
        raise_on_critical(post)  # vetoes the commit
        return post

    con = connect_for_load(location)
    try:
        return load_run(con, staged["articles"], staged["mentions"], staged["quotes"], gate.rejected, gate.dq_rows,
                        check, full_refresh=full_refresh, returning_paths=returning, missing_paths=missing,
                        quarantine=gate.quarantine, run_id=run_id, restat=restat)
    finally:
        con.close()


def cluster_batches(plan: RunPlan, runner, cfg: RunSettings, staging: str, book: RunBook) -> list[BatchResult]:
    """Every batch on the Dask cluster at once, each extracted, checked and staged by a worker;
    taken back in batch order, copies across batches dropped, GX results stored beside the
    warehouse; stop at a batch that failed a critical check (the others are cancelled)."""
    assert book.validator is not None
    summary = book.summary
    known, held = plan.known, frozenset(plan.held)
    seen = runner.client.scatter(plan.seen, broadcast=True) if plan.seen else {}  # once per worker, not per batch
    futures = []
    for batch in plan.batches:
        files = [p for chunk in batch.chunks for p in chunk]
        job = dask_cluster.BatchJob(summary.run_id, summary.started_at, book.validator.run_time, cfg.max_bytes,
                               {p: known[p] for p in files if p in known}, held & set(files), staging)
        # not quoted (see check_batches): on a Dask worker Prefect names the task run from the
        # batch before it unquotes parameters, and hands the task a quoted job as it is
        params = {"batch": batch, "job": job, "seen": seen}
        futures.append(runner.submit(dask_cluster.batch_task, parameters=params))
    t = time.perf_counter()
    dedupe = dask_cluster.RunDedupe(summary.run_id, summary.started_at, staging)
    results: list[BatchResult] = []
    try:
        for future in futures:
            done: dask_cluster.ClusterBatch = future.result()
            book.validator.adopt(done.stored, SUITES)
            result = dedupe.apply(done.result, done.extracted)
            results.append(result)
            summary.add_batch(result)
            book.log.info("%s: done on %s in %.1f s", result.batch.label, result.worker, result.wall_seconds)
            if result.blocked:
                book.log.error("a critical expectation failed on %s: not checking further", result.batch.label)
                break
    finally:
        for future in futures:
            future.wrapped_future.cancel()  # a no-op for the batches already done
    if not any(r.rows.height for r in results) and results and not plan.quiet and not results[-1].blocked:
        # No article in the whole run: its last batch is checked empty, as on one machine.
        last = results[-1]
        verdict = run_frame_suites(book.validator, ChunkFrames.concat([]), summary.started_at, last.batch.part)
        results[-1] = replace(last, rows=verdict.rows, blocked=critical_failures(verdict.rows).height > 0)
    summary.clock("batches", time.perf_counter() - t)  # the distributed phase, wall seconds
    return results


def check_batches(plan: RunPlan, extractor: Extractor, staging: str, book: RunBook) -> list[BatchResult]:
    """Extract and check the batches in order, extracting the next while checking the current;
    stop at a batch that failed a critical check."""
    assert book.validator is not None
    seen = dict(plan.seen)  # grows with each batch's articles: a later copy of one is a duplicate
    results: list[BatchResult] = []
    # Batches (thousands of paths each) and the run's path lists go to tasks quoted: Prefect
    # walks every other parameter, element by element, to resolve and record futures in it
    # (0.9 s of a run that added 2,095 files to a folder of 23,045, measured).
    pending = extract_task.submit(quote(plan.batches[0]), extractor, staging)
    for batch in plan.batches:
        extracted = pending.result()
        if not batch.last:
            pending = extract_task.submit(quote(plan.batches[batch.index + 1]), extractor, staging)
        # A run with no article still checks its last batch, so its results say so; unless it
        # has nothing else to do either (see newsetl_flow: it then checks nothing).
        validate_empty = batch.last and not any(r.rows.height for r in results) and not plan.quiet
        result = check_task(quote(extracted), book.validator, quote(seen), staging, book.summary.started_at,
                            validate_empty)
        results.append(result)
        book.summary.add_batch(result)
        seen.update(result.articles)
        if result.blocked:
            book.log.error("a critical expectation failed on %s: not extracting further", batch.label)
            if not batch.last:
                pending.wait()  # its files are staged in the folder this run removes
            break
    return results


@flow(name="newsetl", log_prints=False)
def newsetl_flow(seeds_dir: str = settings.DEFAULT_SEEDS, db_path: str = str(settings.DEFAULT_DB),
                 chunk_size: int = settings.DEFAULT_CHUNK, max_bytes: int = settings.DEFAULT_MAX_BYTES,
                 full_refresh: bool = False, lock_wait: float = settings.DEFAULT_LOCK_WAIT,
                 workers: int | None = None, batch_size: int = settings.DEFAULT_BATCH,
                 data_path: str | None = None, follow_symlinks: bool = False,
                 cluster: str | None = None) -> RunSummary:
    """Extract the seed files, check them with GX and load them into the warehouse.

    Incremental by default: files loaded before with the same bytes are skipped (not decoded,
    parsed or extracted), new files are added, changed files replace their rows, and loaded
    files gone from the seeds folder keep their rows with ``missing_since`` set.
    ``full_refresh`` rebuilds the warehouse's data from this folder alone. One run at a time
    holds a warehouse: another waits up to ``lock_wait`` seconds, then fails naming it.
    ``workers`` processes extract chunks in parallel (default: one per core). Links leading
    out of the seeds folder are rejected unless ``follow_symlinks``. ``cluster``
    (``tcp://HOST:PORT`` or ``local:N``) runs the batches on a Dask cluster instead
    (flows/cluster.py); its default comes from ``NEWSETL_CLUSTER``.
    """
    cfg = RunSettings(seeds_dir, db_path, chunk_size, batch_size, max_bytes, full_refresh, lock_wait, workers,
                      data_path, follow_symlinks, cluster or settings.default_cluster())
    summary = RunSummary.begin(cfg, str(flow_run.get_id() or ""))
    summary.cluster = cfg.cluster
    log = get_run_logger()
    with RunBook(summary, cfg, log) as book, ExitStack() as stack:
        runner = None
        if cfg.cluster:  # reached and its workers checked before any file is read
            runner = stack.enter_context(dask_cluster.connected(settings.ClusterSpec.parse(cfg.cluster)))
            log.info("batches run on the Dask cluster %s", cfg.cluster)
        found = discover_task(cfg.seeds_dir, cfg.follow_symlinks)
        paths = found.paths
        summary.files_seen = len(paths) + len(found.refused)
        log.info("discovered %d *.txt file(s) under %s", summary.files_seen, cfg.seeds_dir)
        if cfg.full_refresh and not paths:
            raise RunRefused(f"a full refresh rebuilds the warehouse from {cfg.seeds_dir}, which holds no *.txt file "
                             "it could load (an unmounted share?): refusing to empty the warehouse; nothing was "
                             "changed")
        if not summary.files_seen:
            summary.notes.append(f"no *.txt files under {cfg.seeds_dir}: nothing to load")
            log.warning("no *.txt files under %s: nothing to load", cfg.seeds_dir)
        plan = plan_run(cfg, paths, book.known, book.held, book.flagged, found.stats, book.stats)
        summary.files_skipped += len(plan.unread)  # loaded, and stat as they did: not even read
        pool = 0 if runner is not None else plan.workers  # on a cluster, the workers extract
        with Extractor(pool, summary.run_id, summary.started_at, cfg.max_bytes, plan.known,
                       plan.held) as extractor, \
                StagingArea(summary.location.local, summary.run_id, shared=summary.location.is_postgres) as staging:
            if runner is not None:
                log.info("extract: %d files in %d batch(es) on the cluster %s", len(paths), len(plan.batches),
                         cfg.cluster)
                results = cluster_batches(plan, runner, cfg, str(staging.root), book)
            else:
                log.info("extract: %d files in %d batch(es), %d worker process(es)", len(paths),
                         len(plan.batches), plan.workers)
                results = check_batches(plan, extractor, str(staging.root), book)
            extractor.close()  # the workers' memory is given back before the load
            stack.close()  # and a cluster's connection (a local:N cluster's processes) too
            rejected = [refused_rows(found.refused, summary.run_id, summary.started_at), *(r.rejected for r in results)]
            if plan.quiet and not any(r.extracted for r in results):
                # Every file unchanged (or rejected): the warehouse stays as the run that loaded
                # it left it, checked then; nothing to check or load, and no GX to wait for.
                book.idle(pl.concat(rejected), plan)
                return summary
            t = time.perf_counter()
            gate = gate_task([r.rows for r in results], [r.quarantine for r in results], rejected,
                             sum(r.extracted for r in results), book.validator, book.unattributed_baseline)
            summary.clock("gate", time.perf_counter() - t)  # the run-level checks, in the flow's process
            book.gated(gate.dq_rows, gate.rejected, gate.quarantine, [p for r in results for p in r.loaded], plan,
                       gone_paths(plan, results))
            t = time.perf_counter()
            staged = {table: StagedTable.concat(table, (r.staged[table] for r in results)) for table in STAGED}
            restat = {path: stat for r in results for path, stat in r.restat.items()}
            loaded, post_rows = load_task(quote(staged), quote(gate), book.validator, summary.location, summary.run_id,
                                          cfg.full_refresh, quote(plan.returning), quote(plan.missing), quote(restat))
            book.loaded(loaded, post_rows)
            summary.clock("load", time.perf_counter() - t)
    return summary
