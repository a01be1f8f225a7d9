"""The newsetl Prefect flow: seeds folder in, checked DuckDB warehouse out.

discover -> read (chunk) -> transform (chunk: decode, parse, mentions, quotes) -> validate
(GX on the frames) -> load (one DuckDB transaction, warehouse-wide GX checks before commit)
-> Data Docs -> run summary. Tasks work on chunks of many files; a Prefect task costs ~10 ms,
so one task per article would cost more than the article.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from flows.runtime import configure

configure()

import polars as pl  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402

from expectations.paths import report_path  # noqa: E402
from flows import io  # noqa: E402
from flows.publish import publish  # noqa: E402
from transforms.decode import DEFAULT_MAX_BYTES  # noqa: E402
from transforms.frames import ChunkFrames, RawFile, drop_duplicate_articles, process_files  # noqa: E402
from warehouse.connection import (  # noqa: E402
    DEFAULT_DB,
    LOAD_MEMORY_LIMIT,
    WarehouseLocked,
    WarehouseUnavailable,
    connect,
)

DEFAULT_SEEDS = Path("seeds")
DEFAULT_CHUNK = 500


@dataclass
class RunSummary:
    run_id: str
    status: str
    seeds_dir: str
    db_path: str
    files_seen: int = 0
    files_loaded: int = 0
    files_rejected: int = 0
    files_skipped: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_deleted: int = 0
    files_quarantined: int = 0
    rows_quarantined: int = 0
    full_refresh: bool = False
    table_rows: dict[str, int] = field(default_factory=dict)
    loaded_rows: dict[str, int] = field(default_factory=dict)
    dq_success: bool | None = None
    dq_checks: int = 0
    dq_critical_failures: int = 0
    dq_warnings: list[str] = field(default_factory=list)
    dq_quarantine: list[str] = field(default_factory=list)
    report_path: str | None = None
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def _worth_retrying(task, task_run, state) -> bool:
    """Retry I/O hiccups, not a seeds folder that does not exist."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, io.SeedsNotFound)


@task(name="discover", retries=2, retry_delay_seconds=1, retry_condition_fn=_worth_retrying,
      cache_policy=NO_CACHE)
def discover_task(seeds_dir: str) -> list[str]:
    return io.discover(seeds_dir)


@task(name="read-chunk", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def read_chunk(paths: list[str], max_bytes: int) -> list[RawFile]:
    return io.read_files(paths, max_bytes)


@task(name="transform-chunk", cache_policy=NO_CACHE)
def transform_chunk(files: list[RawFile], run_id: str, now: dt.datetime, max_bytes: int,
                    known: dict[str, str]) -> ChunkFrames:
    return process_files(files, run_id, now, max_bytes, known)


@task(name="validate-frames", cache_policy=NO_CACHE)
def validate_frames(frames: ChunkFrames, db_path: str, run_id: str, now: dt.datetime,
                    unattributed_baseline: float | None):
    """GX on the frames; articles failing row-level checks are split off for quarantine."""
    from expectations.gate import check_frames
    from expectations.runner import Validator

    validator = Validator(Path(db_path), run_id)
    return validator, check_frames(validator, frames, now, unattributed_baseline)


@task(name="load", cache_policy=NO_CACHE)
def load_task(frames: ChunkFrames, dq_rows: pl.DataFrame, quarantine: pl.DataFrame, validator, db_path: str,
              full_refresh: bool, present: list[str], missing: list[str]):
    from expectations.runner import raise_on_critical
    from warehouse.loader import load_run

    def check(con):
        post = validator.validate_warehouse(con)
        raise_on_critical(post)  # vetoes the commit
        return post

    con = connect(db_path, memory_limit=LOAD_MEMORY_LIMIT)
    try:
        return load_run(con, frames.articles, frames.mentions, frames.quotes, frames.rejected, dq_rows, check,
                        full_refresh=full_refresh, present_paths=present, missing_paths=missing,
                        quarantine=quarantine)
    finally:
        con.close()


def _record_start(db_path: str, run_id: str, seeds_dir: str, started: dt.datetime
                  ) -> tuple[dict[str, str], float | None]:
    """Record the run as started; return the loaded files (path -> sha256) it may skip and
    the recent share of quotes without speaker (the baseline of a run-level check)."""
    from expectations.suites import MIN_QUOTES_FOR_TREND
    from warehouse.history import unattributed_baseline
    from warehouse.loader import known_files, record_run_start

    con = connect(db_path)
    try:
        record_run_start(con, run_id, str(flow_run.get_id() or ""), started, seeds_dir)
        return known_files(con), unattributed_baseline(con, MIN_QUOTES_FOR_TREND)
    finally:
        con.close()


def _record_end(db_path: str, summary: RunSummary, rejected: pl.DataFrame | None = None,
                dq_rows: pl.DataFrame | None = None, quarantine: pl.DataFrame | None = None) -> None:
    from warehouse.loader import record_diagnostics, record_run_end

    con = connect(db_path)
    try:
        if rejected is not None or dq_rows is not None:
            from transforms.schema import DQ_RESULTS, REJECTED_FILES

            record_diagnostics(con, rejected if rejected is not None else REJECTED_FILES.empty(),
                               dq_rows if dq_rows is not None else DQ_RESULTS.empty(), quarantine)
        rows = summary.table_rows
        record_run_end(
            con, summary.run_id, summary.status,
            files_seen=summary.files_seen, files_loaded=summary.files_loaded,
            files_skipped=summary.files_skipped, files_rejected=summary.files_rejected,
            files_new=summary.files_new, files_changed=summary.files_changed,
            files_deleted=summary.files_deleted, full_refresh=summary.full_refresh,
            files_quarantined=summary.files_quarantined,
            articles_rows=rows.get("articles"), mentions_rows=rows.get("mentions"),
            quotes_rows=rows.get("quotes"), entities_rows=rows.get("entities"),
            dq_success=summary.dq_success, dq_critical_failures=summary.dq_critical_failures,
            dq_warnings=len(summary.dq_warnings), report_path=summary.report_path, error=summary.error,
        )
    finally:
        con.close()


def _loaded_elsewhere(known: dict[str, str], present: set[str]) -> dict[str, str]:
    """article_id -> path for loaded files still present: new copies of them are duplicates."""
    return {sha[:16]: path for path, sha in known.items() if path in present}


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@flow(name="newsetl", log_prints=False)
def newsetl_flow(seeds_dir: str = str(DEFAULT_SEEDS), db_path: str = str(DEFAULT_DB),
                 chunk_size: int = DEFAULT_CHUNK, max_bytes: int = DEFAULT_MAX_BYTES,
                 full_refresh: bool = False, lock_wait: float = 30.0, workers: int | None = None) -> RunSummary:
    """Extract the seed files, check them with GX and load them into the DuckDB warehouse.

    Incremental by default: files loaded before with the same bytes are skipped (not decoded,
    parsed or extracted), new files are added, changed files replace their rows, and loaded
    files gone from the seeds folder keep their rows with ``missing_since`` set.
    ``full_refresh`` rebuilds the warehouse's data from this folder alone. One run at a time
    holds a warehouse: another waits up to ``lock_wait`` seconds, then fails naming it.
    ``workers`` processes extract chunks in parallel (default: one per core); runs of a
    single chunk extract in the flow's own process, where a pool would only cost start-up.
    """
    from warehouse.runlock import run_lock

    started = dt.datetime.now(dt.UTC)
    run_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    resolved = str(Path(db_path).resolve())
    with ExitStack() as stack:
        try:
            stack.enter_context(run_lock(resolved, run_id, started.isoformat(timespec="seconds"), lock_wait))
        except (WarehouseLocked, WarehouseUnavailable) as exc:
            get_run_logger().error("%s", exc)
            summary = RunSummary(run_id=run_id, status="failed", seeds_dir=str(seeds_dir), db_path=resolved,
                                 full_refresh=full_refresh, error=str(exc))
            raise RunFailed(summary) from exc
        return _run(seeds_dir, resolved, chunk_size, max_bytes, full_refresh, run_id, started,
                    workers or os.cpu_count() or 1)


def _warm_worker() -> None:
    """Load the lexicons once per worker process, before its first chunk."""
    from transforms.lexicons import load

    load()


def _extract_in_worker(paths: list[str], run_id: str, now: dt.datetime, max_bytes: int,
                       known: dict[str, str]) -> ChunkFrames:
    """One chunk, read and transformed in a worker process."""
    return process_files(io.read_files(paths, max_bytes), run_id, now, max_bytes, known)


@task(name="extract-parallel", cache_policy=NO_CACHE)
def extract_parallel(chunks: list[list[str]], workers: int, run_id: str, now: dt.datetime, max_bytes: int,
                     known: dict[str, str], total: int, t_start: float) -> list[ChunkFrames]:
    """Read and transform the chunks on a pool of worker processes, in one Prefect task.

    A plain process pool: Prefect's ProcessPoolTaskRunner makes every chunk a task run in a
    worker that talks to the API, which measured no faster than one process on two cores;
    this pool scales 2.0x from one worker to two.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    log = get_run_logger()
    log.info("extract: %d chunks on %d worker processes", len(chunks), workers)
    parts, done = [], 0
    ctx = multiprocessing.get_context("spawn")  # no fork of a process running Prefect's threads
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_warm_worker) as pool:
        jobs = [pool.submit(_extract_in_worker, c, run_id, now, max_bytes, {p: known[p] for p in c if p in known})
                for c in chunks]
        for chunk, job in zip(chunks, jobs, strict=True):
            parts.append(job.result())
            done += len(chunk)
            log.info("extract: %d/%d files done, %.0f articles/s", done, total,
                     done / max(time.perf_counter() - t_start, 1e-9))
    return parts


def _extract(paths: list[str], chunk_size: int, workers: int, run_id: str, started: dt.datetime, max_bytes: int,
             known: dict[str, str], log, t_start: float) -> list[ChunkFrames]:
    """Read and transform the files chunk by chunk: in the flow's process (one read-chunk and
    one transform-chunk task per chunk), or on a pool of processes when there are several
    chunks and several workers."""
    chunks = _chunks(paths, max(1, chunk_size))
    n = max(1, min(workers, len(chunks)))
    if n > 1:
        return extract_parallel(chunks, n, run_id, started, max_bytes, known, len(paths), t_start)
    parts: list[ChunkFrames] = []
    done = 0
    for chunk in chunks:
        files = read_chunk(chunk, max_bytes)
        parts.append(transform_chunk(files, run_id, started, max_bytes, {p: known[p] for p in chunk if p in known}))
        done += len(chunk)
        log.info("extract: %d/%d files done, %.0f articles/s", done, len(paths),
                 done / max(time.perf_counter() - t_start, 1e-9))
    return parts


def _run(seeds_dir: str, db_path: str, chunk_size: int, max_bytes: int, full_refresh: bool, run_id: str,
         started: dt.datetime, workers: int = 1) -> RunSummary:
    """The run itself, under the warehouse's run lock."""
    from expectations.runner import DataQualityError, critical_failures, raise_on_critical

    log = get_run_logger()
    t_start = time.perf_counter()
    summary = RunSummary(run_id=run_id, status="running", seeds_dir=str(seeds_dir), db_path=db_path,
                         full_refresh=full_refresh)
    try:
        known, unattributed_baseline = _record_start(db_path, run_id, str(seeds_dir), started)
    except (WarehouseLocked, WarehouseUnavailable) as exc:
        # Nothing was read or written: the warehouse cannot even record the run.
        summary.status, summary.error = "failed", str(exc)
        log.error("cannot open the warehouse: %s", exc)
        raise RunFailed(summary) from exc
    log.info("run %s: seeds %s -> warehouse %s", run_id, seeds_dir, db_path)

    dq_rows = None
    frames = None
    validator = None
    quarantine = None
    try:
        paths = discover_task(str(seeds_dir))
        summary.files_seen = len(paths)
        log.info("discovered %d *.txt file(s) under %s", len(paths), seeds_dir)
        if not paths:
            summary.notes.append(f"no *.txt files under {seeds_dir}: nothing to load")
            log.warning("no *.txt files under %s: nothing to load", seeds_dir)
        root = str(Path(seeds_dir).resolve()) + "/"
        present = set(paths)
        missing = sorted(p for p in known if p.startswith(root) and p not in present)
        skip_known = {} if full_refresh else known
        t_stage = time.perf_counter()
        parts = _extract(paths, chunk_size, workers, run_id, started, max_bytes, skip_known, log, t_start)
        frames = drop_duplicate_articles(ChunkFrames.concat(parts), run_id, started,
                                         {} if full_refresh else _loaded_elsewhere(known, present))
        stages = {f"cpu_{k}": round(v, 3) for k, v in frames.seconds.items()}  # summed over workers
        stages["extract"] = round(time.perf_counter() - t_stage, 3)
        summary.stage_seconds = stages
        summary.files_skipped = len(frames.unchanged)

        log.info("validate: running the GX suites on %d articles, %d mentions, %d quotes",
                 frames.articles.height, frames.mentions.height, frames.quotes.height)
        t_stage = time.perf_counter()
        validator, verdict = validate_frames(frames, db_path, run_id, started, unattributed_baseline)
        stages["validate"] = round(time.perf_counter() - t_stage, 3)
        dq_rows, quarantine = verdict.rows, verdict.quarantine
        summary.files_quarantined = frames.articles.height - verdict.kept.articles.height
        summary.rows_quarantined = quarantine.height
        frames = verdict.kept
        if summary.files_quarantined:
            log.warning("quarantined %d article(s) (%d rows) that failed row-level checks: see table quarantine",
                        summary.files_quarantined, quarantine.height)
        summary.files_loaded = frames.articles.height
        loaded = frames.articles.get_column("source_path").to_list()
        summary.files_new = sum(p not in known for p in loaded) if not full_refresh else len(loaded)
        summary.files_changed = 0 if full_refresh else len(loaded) - summary.files_new
        summary.files_deleted = len(missing)
        if missing:
            log.warning("%d loaded file(s) are gone from %s: their rows are kept, flagged missing_since",
                        len(missing), seeds_dir)
        summary.files_rejected = frames.rejected.height
        summary.rejected = [(r["source_path"], r["reason"], r["detail"]) for r in
                            frames.rejected.select("source_path", "reason", "detail").iter_rows(named=True)]
        for r in frames.rejected.iter_rows(named=True):
            log.warning("rejected %s at step %s: %s (%s)", r["source_path"], r["step"], r["reason"], r["detail"])
        raise_on_critical(dq_rows)

        log.info("load: one transaction into %s", db_path)
        t_stage = time.perf_counter()
        result, post_rows = load_task(frames, dq_rows, quarantine, validator, db_path, full_refresh,
                                      sorted(present), [] if full_refresh else missing)
        stages["load"] = round(time.perf_counter() - t_stage, 3)
        dq_rows = pl.concat([dq_rows, post_rows])
        summary.table_rows = result.table_rows
        summary.loaded_rows = {"articles": result.articles_loaded, "mentions": result.mentions_loaded,
                               "quotes": result.quotes_loaded}
        summary.status = "completed"
    except DataQualityError as exc:
        dq_rows = exc.rows if dq_rows is None else pl.concat([dq_rows, exc.rows]).unique(
            subset=["table_name", "check_name"], keep="last", maintain_order=True)
        summary.status, summary.error = "failed", str(exc)
        log.error("%s", exc)
    except Exception as exc:
        summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
        log.error("run failed: %s", summary.error)
    finally:
        if dq_rows is not None:
            summary.dq_checks = dq_rows.height
            summary.dq_critical_failures = critical_failures(dq_rows).height
            summary.dq_success = summary.dq_critical_failures == 0
            failing = dq_rows.filter(~pl.col("success"))
            summary.dq_warnings, summary.dq_quarantine = (
                [f"{r['table_name']}: {r['check_name']} ({r['unexpected_count']} unexpected)"
                 for r in failing.filter(pl.col("severity") == severity).iter_rows(named=True)]
                for severity in ("warning", "quarantine"))
        if validator is not None:
            t_stage = time.perf_counter()
            try:
                validator.build_docs()
                summary.stage_seconds["docs"] = round(time.perf_counter() - t_stage, 3)
            except Exception as exc:  # the report must not hide the run's own outcome
                log.warning("could not build Data Docs: %s", exc)
        summary.report_path = str(report_path(db_path))
        summary.seconds = round(time.perf_counter() - t_start, 3)
        failed_diag = summary.status != "completed"
        try:
            if failed_diag:
                from warehouse.loader import table_counts

                con = connect(db_path)
                try:
                    summary.table_rows = table_counts(con)
                finally:
                    con.close()
            _record_end(db_path, summary,
                        frames.rejected if failed_diag and frames is not None else None,
                        dq_rows if failed_diag else None, quarantine if failed_diag else None)
        except Exception as exc:
            log.error("could not record the end of run %s: %s", run_id, exc)
        publish(summary, dq_rows, log)
    if summary.status != "completed":
        raise RunFailed(summary)
    log.info("run %s completed in %.1f s", run_id, summary.seconds)
    return summary


class RunFailed(RuntimeError):
    """The run did not load; carries the summary so the CLI can explain what happened."""

    def __init__(self, summary: RunSummary):
        super().__init__(summary.error or "run failed")
        self.summary = summary
