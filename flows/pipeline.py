"""The newsetl Prefect flow: seeds folder in, checked DuckDB warehouse out.

discover -> per batch of files: extract (chunks of files read, decoded, parsed, mentions and
quotes found, on a pool of worker processes) -> validate (GX frame suites, quarantine) ->
stage (Parquet beside the warehouse) -> run-level checks -> load (one DuckDB transaction over
the staged batches, warehouse-wide GX checks before the commit) -> Data Docs -> run summary.

Tasks work on batches of thousands of files; a Prefect task costs ~10 ms, so one task per
article would cost more than the article. Batches keep memory flat: only two batches of
frames are ever held (the one being checked, the next being extracted).
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
from flows.batches import BatchOutcome, BatchRunner  # noqa: E402
from flows.extract import Extractor  # noqa: E402
from flows.publish import publish  # noqa: E402
from transforms.decode import DEFAULT_MAX_BYTES  # noqa: E402
from warehouse.connection import (  # noqa: E402
    DEFAULT_DB,
    LOAD_MEMORY_LIMIT,
    WarehouseLocked,
    WarehouseUnavailable,
    connect,
)
from warehouse.staging import Staging  # noqa: E402

DEFAULT_SEEDS = Path("seeds")
DEFAULT_CHUNK = 500
#: Files per batch: a batch is extracted, checked and staged to Parquet before the next, so a
#: run's memory is bounded by two batches whatever the size of the input.
DEFAULT_BATCH = 5000


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


@task(name="batch", task_run_name="{label}", cache_policy=NO_CACHE)
def batch_task(runner: BatchRunner, k: int, label: str) -> BatchOutcome:
    """Extract, check and stage one batch; only small results leave the task (see flows.batches)."""
    return runner.run(k)


@task(name="load", cache_policy=NO_CACHE)
def load_task(staging: Staging, rejected: pl.DataFrame, dq_rows: pl.DataFrame, quarantine: pl.DataFrame,
              validator, db_path: str, full_refresh: bool, present: list[str], missing: list[str]):
    """The staged batches into the warehouse in one transaction, checked before the commit."""
    from expectations.runner import raise_on_critical
    from warehouse.loader import load_run

    def check(con):
        post = validator.validate_warehouse(con)
        raise_on_critical(post)  # vetoes the commit
        return post

    con = connect(db_path, memory_limit=LOAD_MEMORY_LIMIT)
    con.execute("SET preserve_insertion_order = false")  # rows have keys; order costs memory in big inserts
    try:
        return load_run(con, staging.table("articles"), staging.table("mentions"), staging.table("quotes"),
                        rejected, dq_rows, check,
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
                 full_refresh: bool = False, lock_wait: float = 30.0, workers: int | None = None,
                 batch_size: int = DEFAULT_BATCH) -> RunSummary:
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
                    workers or os.cpu_count() or 1, batch_size)


def _run(seeds_dir: str, db_path: str, chunk_size: int, max_bytes: int, full_refresh: bool, run_id: str,
         started: dt.datetime, workers: int = 1, batch_size: int = DEFAULT_BATCH) -> RunSummary:
    """The run itself, under the warehouse's run lock."""
    from expectations.quarantine import ARTICLE_SET_ASIDE
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
    rejected = None
    validator = None
    quarantine = None
    try:
        from expectations.gate import check_run, merge_batches
        from expectations.runner import Validator

        paths = discover_task(str(seeds_dir))
        summary.files_seen = len(paths)
        log.info("discovered %d *.txt file(s) under %s", len(paths), seeds_dir)
        if not paths:
            summary.notes.append(f"no *.txt files under {seeds_dir}: nothing to load")
            log.warning("no *.txt files under %s: nothing to load", seeds_dir)
        root = str(Path(seeds_dir).resolve()) + "/"
        present = set(paths)
        missing = sorted(p for p in known if p.startswith(root) and p not in present)
        chunks = _chunks(paths, max(1, chunk_size))
        batches = _chunks(chunks, max(1, batch_size // max(1, chunk_size))) or [[]]
        n_workers = max(1, min(workers, len(chunks)))
        validator = Validator(Path(db_path), run_id)
        # Articles seen in this run or loaded from a path still present: later copies are duplicates.
        seen = {} if full_refresh else _loaded_elsewhere(known, present)
        stages: dict[str, float] = {}
        summary.stage_seconds = stages
        batch_rows, quarantined, rejected_parts = [], [], []
        articles_seen = 0
        loaded: list[str] = []
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            log.info("extract: %d/%d files done, %.0f articles/s", done, len(paths),
                     done / max(time.perf_counter() - t_start, 1e-9))

        def clock(stage: str, seconds: float) -> None:
            stages[stage] = round(stages.get(stage, 0.0) + seconds, 3)

        if len(batches) > 1 or n_workers > 1:
            log.info("extract: %d files in %d batch(es) of up to %d, %d worker process(es)",
                     len(paths), len(batches), batch_size, n_workers)
        with Extractor(n_workers, run_id, started, max_bytes, {} if full_refresh else known) as extractor, \
                Staging(db_path, run_id) as staging:
            runner = BatchRunner(batches, extractor, staging, validator, seen, run_id, started, progress)
            for k in range(len(batches)):
                out = batch_task(runner, k, runner.label(k))
                for name, secs in out.seconds.items():
                    clock(name, secs)
                summary.files_skipped += out.skipped
                articles_seen += out.articles
                batch_rows.append(out.rows)
                quarantined.append(out.quarantine)
                rejected_parts.append(out.rejected)
                loaded += out.loaded
                if out.blocked:
                    log.error("a critical expectation failed on %s: not extracting further", runner.label(k))
                    break
            extractor.close()  # the workers' memory is given back before the load

            t_stage = time.perf_counter()
            frame_rows = merge_batches(batch_rows)
            quarantine = pl.concat(quarantined)
            rejected = pl.concat(rejected_parts)
            summary.files_quarantined = quarantine.filter(pl.col("check_name") == ARTICLE_SET_ASIDE).height
            summary.rows_quarantined = quarantine.height
            dq_rows = pl.concat([frame_rows, check_run(validator, articles_seen, summary.files_quarantined,
                                                       frame_rows, unattributed_baseline)])
            clock("validate", time.perf_counter() - t_stage)
            if summary.files_quarantined:
                log.warning("quarantined %d article(s) (%d rows) that failed row-level checks: see table quarantine",
                            summary.files_quarantined, quarantine.height)
            summary.files_loaded = len(loaded)
            summary.files_new = sum(p not in known for p in loaded) if not full_refresh else len(loaded)
            summary.files_changed = 0 if full_refresh else len(loaded) - summary.files_new
            summary.files_deleted = len(missing)
            if missing:
                log.warning("%d loaded file(s) are gone from %s: their rows are kept, flagged missing_since",
                            len(missing), seeds_dir)
            summary.files_rejected = rejected.height
            summary.rejected = [(r["source_path"], r["reason"], r["detail"]) for r in
                                rejected.select("source_path", "reason", "detail").iter_rows(named=True)]
            for r in rejected.iter_rows(named=True):
                log.warning("rejected %s at step %s: %s (%s)", r["source_path"], r["step"], r["reason"], r["detail"])
            raise_on_critical(dq_rows)

            log.info("load: one transaction into %s", db_path)
            t_stage = time.perf_counter()
            result, post_rows = load_task(staging, rejected, dq_rows, quarantine, validator, db_path, full_refresh,
                                          sorted(present), [] if full_refresh else missing)
            clock("load", time.perf_counter() - t_stage)
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
                        rejected if failed_diag else None,
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
