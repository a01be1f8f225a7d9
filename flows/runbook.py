"""A run's record, from the moment it holds the warehouse to its row in ``runs``.

:class:`RunSummary` is the one object that holds what a run did: its row of ``runs`` (the
fields of :class:`transforms.schema.RunRecord`, which it extends) and what the run reports
besides (timings, the failing checks by name, the rejected files). Every count is changed by
one of its methods, from a batch's or the load's result.

:class:`RunBook` is the run's bookkeeping around the flow's tasks: it records the start,
hands the flow what earlier runs left (the files it may skip, the baseline of a run-level
check), and whatever happens inside, records the end: the data-quality verdict, Data Docs, the
``runs`` row (with the diagnostics of a run that did not load) and the report and artifacts.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

import polars as pl

from expectations import docs_retention
from expectations.paths import gx_root, report_path
from expectations.runner import DataQualityError, Validator, critical_failures, raise_on_critical
from expectations.suites import MIN_QUOTES_FOR_TREND
from flows.extract import extractor_version
from flows.settings import RunSettings
from transforms.schema import DQ_RESULTS, QUARANTINE, REJECTED_FILES, RunRecord
from transforms.vocab import ARTICLE_SET_ASIDE, COMPLETED, FAILED, RUNNING, WARNING
from transforms.vocab import QUARANTINE as QUARANTINE_SEVERITY
from warehouse import history, upkeep
from warehouse.connection import Location, WarehouseLocked, WarehouseUnavailable, connect, relocated
from warehouse.ddl import DUCKLAKE
from warehouse.integrity import check_whole
from warehouse.loader import (
    LoadResult,
    held_files,
    known_state,
    record_diagnostics,
    record_run_end,
    record_run_start,
    table_counts,
)
from warehouse.runlock import warehouse_lock
from warehouse.snapshots import load_committed

if TYPE_CHECKING:
    import logging
    from contextlib import AbstractContextManager

    from flows.batches import BatchResult, RunPlan

#: The storage the flow writes (a DuckLake): what its constraints guarantee decides which
#: checks can fail there.
BACKEND = DUCKLAKE


@dataclass(kw_only=True)
class RunSummary(RunRecord):
    """A run's record (its ``runs`` row: the inherited fields) and what it reports besides."""

    db_path: str  # the catalog: a resolved path, or a postgresql:// URL
    data_path: str | None = None  # --data-path, when given
    rows_quarantined: int = 0
    files_held: int = 0  # files set aside before with the same bytes and extractor: not retried
    files_extracted: int = 0  # articles extracted from the files read (before duplicates and quarantine)
    interrupted: bool = False  # stopped by Ctrl-C (SIGINT)
    table_rows: dict[str, int] = field(default_factory=dict)  # every table's rows after the run
    loaded_rows: dict[str, int] = field(default_factory=dict)  # rows this run inserted, per data table
    dq_checks: int = 0
    warning_checks: list[str] = field(default_factory=list)  # "table: check (n unexpected)"
    quarantine_checks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (path, reason, detail)
    notes: list[str] = field(default_factory=list)
    cluster: str | None = None  # the Dask cluster the batches ran on (--cluster); None: this process's pool
    #: One line per batch: where it ran ("local", or a Dask worker's address), its files and
    #: articles, CPU and wall seconds; what the scaling model of docs/scaling.md is checked with.
    batches: list[dict] = field(default_factory=list)

    @classmethod
    def begin(cls, settings: RunSettings, flow_run_id: str | None = None) -> RunSummary:
        started = dt.datetime.now(dt.UTC)
        return cls(run_id=f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}", flow_run_id=flow_run_id,
                   started_at=started, status=RUNNING, seeds_dir=str(settings.seeds_dir),
                   db_path=settings.location.db, data_path=settings.data_path,
                   full_refresh=settings.full_refresh, extractor_version=extractor_version())

    @property
    def location(self) -> Location:
        return Location(self.db_path, self.data_path)

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED

    def fail(self, error: str) -> None:
        self.status, self.error = FAILED, error

    def clock(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = round(self.stage_seconds.get(stage, 0.0) + seconds, 3)

    def add_batch(self, result: BatchResult) -> None:
        """Count a checked batch."""
        for stage, secs in result.seconds.items():
            self.clock(stage, secs)
        self.files_skipped += result.unchanged
        self.files_held += result.held
        self.files_extracted += result.extracted
        self.batches.append({"batch": result.batch.index + 1, "worker": result.worker,
                             "files": sum(len(c) for c in result.batch.chunks), "articles": result.extracted,
                             "cpu_seconds": result.cpu_seconds, "wall_seconds": result.wall_seconds})

    def count_files(self, loaded: list[str], known: dict[str, str], missing: list[str],
                    rejected: pl.DataFrame, quarantine: pl.DataFrame) -> None:
        """The run's file counts, once every batch is checked."""
        self.files_loaded = len(loaded)
        self.files_new = len(loaded) if self.full_refresh else sum(p not in known for p in loaded)
        self.files_changed = len(loaded) - self.files_new
        self.files_deleted = len(missing)
        self.files_rejected = rejected.height
        self.rejected = [(r["source_path"], r["reason"], r["detail"])
                         for r in rejected.select("source_path", "reason", "detail").iter_rows(named=True)]
        self.files_quarantined = quarantine.filter(pl.col("check_name") == ARTICLE_SET_ASIDE).height
        self.rows_quarantined = quarantine.height
        if self.files_held:
            self.notes.append(f"{self.files_held} file(s) set aside by an earlier run, unchanged since: not retried "
                              "(they are retried once their bytes or newsetl's extraction change; see table "
                              "quarantine)")

    def nothing_loaded(self) -> None:
        """A run that did not commit loaded no file and flagged none missing, whatever it had
        counted as ready to load."""
        self.files_loaded = self.files_new = self.files_changed = self.files_deleted = 0

    def judge(self, dq_rows: pl.DataFrame) -> None:
        """The data-quality verdict of the checks that ran."""
        self.dq_checks = dq_rows.height
        self.dq_critical_failures = critical_failures(dq_rows).height
        self.dq_success = self.dq_critical_failures == 0
        failing = dq_rows.filter(~pl.col("success"))
        self.warning_checks, self.quarantine_checks = (
            [f"{r['table_name']}: {r['check_name']} ({r['unexpected_count']} unexpected)"
             for r in failing.filter(pl.col("severity") == severity).iter_rows(named=True)]
            for severity in (WARNING, QUARANTINE_SEVERITY))
        self.dq_warnings = len(self.warning_checks)

    def count_rows(self, table_rows: dict[str, int]) -> None:
        self.table_rows = table_rows
        self.articles_rows, self.mentions_rows, self.quotes_rows, self.entities_rows = (
            table_rows.get(t) for t in ("articles", "mentions", "quotes", "entities"))

    def count_load(self, result: LoadResult) -> None:
        self.count_rows(result.table_rows)
        self.loaded_rows = {"articles": result.articles_loaded, "mentions": result.mentions_loaded,
                            "quotes": result.quotes_loaded}


class RunRefused(RuntimeError):
    """The run will not do what it was asked, for a reason its message gives whole."""


class RunFailed(RuntimeError):
    """The run did not load; carries the summary so the CLI can explain what happened."""

    def __init__(self, summary: RunSummary):
        super().__init__(summary.error or "run failed")
        self.summary = summary


class RunBook:
    """The bookkeeping of one run around its tasks (see the module's docstring).

    Used as ``with RunBook(summary, settings, log) as book:``; on leaving, the run is recorded
    whatever happened, and a run that did not complete raises :class:`RunFailed`.
    """

    def __init__(self, summary: RunSummary, settings: RunSettings, log: logging.Logger | logging.LoggerAdapter,
                 checks: bool = True):
        self.summary, self.settings, self.log = summary, settings, log
        self.checks = checks  # False: a run known to have nothing to check (no GX context opened)
        self.t0 = time.perf_counter()
        self.known: dict[str, str] = {}  # source_path -> sha256 of every loaded file
        self.stats: dict[str, str] = {}  # source_path -> file_stat of the loaded files that have one
        self.held: dict[str, str] = {}  # source_path -> sha256 of files quarantined by this extractor
        self.flagged: set[str] = set()  # loaded files flagged gone from their seeds folder
        self.nothing_to_do = False  # every file unchanged: nothing checked, nothing loaded
        self.unattributed_baseline: float | None = None
        self.validator: Validator | None = None
        # What a run that does not load still records: its checks, rejections and quarantine.
        self.dq_rows: pl.DataFrame | None = None
        self.rejected: pl.DataFrame | None = None
        self.quarantine: pl.DataFrame | None = None
        self._lock: AbstractContextManager | None = None
        self.locked_at: dt.datetime | None = None
        self.started = False  # the runs row was inserted
        self.committed = False  # the load committed: whatever happens next, the data is in

    def _connect(self):
        return connect(self.summary.location)

    def __enter__(self) -> RunBook:
        s = self.summary
        try:
            # One run at a time per warehouse; then record the run as started.
            self._lock = warehouse_lock(s.location, s.run_id, s.started_at.isoformat(timespec="seconds"),
                                        self.settings.lock_wait)
            self._lock.__enter__()
            self.locked_at = dt.datetime.now(dt.UTC)
            con = self._connect()
            try:
                moved = s.location.files if relocated(s.location) else None
                check_whole(con, s.location.describe(), moved)  # a damaged lake is never written
                record_run_start(con, s)
                self.started = True
                known = known_state(con)
                self.known, self.stats, self.flagged = known.sha, known.stats, known.flagged
                self.held = held_files(con, s.extractor_version)
                self.unattributed_baseline = history.unattributed_baseline(con, MIN_QUOTES_FOR_TREND)
            finally:
                con.close()
        except Exception as exc:
            # The run never got going: nothing was read. Its runs row, if it has one, says why.
            s.fail(str(exc) if isinstance(exc, (WarehouseLocked, WarehouseUnavailable))
                   else f"{type(exc).__name__}: {exc}")
            s.seconds = round(time.perf_counter() - self.t0, 3)
            self.log.error("cannot open the warehouse: %s", s.error)
            if self.started:
                self._record_end()
            self._release()
            raise RunFailed(s) from exc
        self.log.info("run %s: seeds %s -> warehouse %s", s.run_id, s.seeds_dir, s.location.describe())
        self.validator = Validator(s.location.local, s.run_id) if self.checks else None
        return self

    def gated(self, dq_rows: pl.DataFrame, rejected: pl.DataFrame, quarantine: pl.DataFrame, loaded: list[str],
              plan: RunPlan, gone: list[str]) -> None:
        """Take the gate's verdict before the load: count the files, say what was set aside or
        rejected, and raise :class:`DataQualityError` when a critical check failed. ``gone``:
        the files flagged gone (``batches.gone_paths``: not those renamed or moved)."""
        s = self.summary
        self.dq_rows, self.rejected, self.quarantine = dq_rows, rejected, quarantine
        s.count_files(loaded, plan.loaded, gone, rejected, quarantine)
        if s.files_quarantined:
            self.log.warning("quarantined %d article(s) (%d rows) that failed row-level checks: see table quarantine",
                             s.files_quarantined, s.rows_quarantined)
        for path, reason, detail in s.rejected:
            self.log.warning("rejected %s: %s (%s)", path, reason, detail)
        if gone:
            self.log.warning("%d loaded file(s) are gone from %s: their rows are kept, flagged missing_since",
                             len(gone), s.seeds_dir)
        raise_on_critical(dq_rows)

    def idle(self, rejected: pl.DataFrame, plan: RunPlan) -> None:
        """Take a run that found nothing new or changed: it completes without checks or a
        load; its rejections are stored with its ``runs`` row."""
        s = self.summary
        self.nothing_to_do, self.rejected = True, rejected
        s.count_files([], plan.loaded, plan.missing, rejected, QUARANTINE.empty())
        s.notes.append("nothing new or changed: nothing to check or load; the warehouse is as the last run that "
                       "loaded left it (and checked it)")
        for path, reason, detail in s.rejected:
            self.log.warning("rejected %s: %s (%s)", path, reason, detail)

    def loaded(self, result: LoadResult, post_rows: pl.DataFrame) -> None:
        """Take the load's counts and the checks it ran before its commit: from here on the run
        has loaded, whatever fails after (the diagnostics went in with the data)."""
        self.committed = True
        self.dq_rows = post_rows if self.dq_rows is None else pl.concat([self.dq_rows, post_rows])
        self.summary.count_load(result)

    def _record_end(self) -> None:
        """The ``runs`` row, whole; for a run that did not load, first what it found (its
        rejections, checks and quarantine) and what the warehouse still holds. Each step on its
        own: a failure to store the diagnostics does not leave the run looking unfinished."""
        s = self.summary
        try:
            con = self._connect()
        except Exception as exc:
            self.log.error("could not record the end of run %s: %s", s.run_id, exc)
            return
        try:
            if self.nothing_to_do and self.rejected is not None and self.rejected.height:
                try:
                    record_diagnostics(con, s.run_id, self.rejected, DQ_RESULTS.empty())
                except Exception as exc:
                    self.log.error("could not store the rejections of run %s: %s", s.run_id, exc)
            if self.nothing_to_do:
                with suppress(Exception):
                    s.count_rows(table_counts(con))
            if not s.completed and not self.committed:
                self._remove_leftovers(con)  # a full disk must not stay full of them
                try:
                    record_diagnostics(con, s.run_id,
                                       REJECTED_FILES.empty() if self.rejected is None else self.rejected,
                                       DQ_RESULTS.empty() if self.dq_rows is None else self.dq_rows,
                                       QUARANTINE.empty() if self.quarantine is None else self.quarantine)
                except Exception as exc:
                    self.log.error("could not store the diagnostics of run %s: %s", s.run_id, exc)
                with suppress(Exception):
                    s.count_rows(table_counts(con))
            try:
                record_run_end(con, s)
            except Exception as exc:
                self.log.error("could not record the end of run %s: %s", s.run_id, exc)
                return
            finally:
                if not s.completed and not self.committed:
                    self._remove_leftovers(con)  # the diagnostics' own files, if they failed too
            if s.completed:
                self._upkeep(con)
        finally:
            con.close()

    def _remove_leftovers(self, con) -> None:
        if self.locked_at is None:
            return
        try:
            removed = upkeep.remove_leftovers(con, self.locked_at)
        except Exception as exc:
            self.log.warning("could not remove the files of the failed load (the next run's upkeep will): %s", exc)
            return
        if removed:
            self.log.info("removed %d file(s) the failed load had written", removed)

    def _upkeep(self, con) -> None:
        """The lake's upkeep after a run (small files merged, expired snapshots and files no
        snapshot needs removed, leftovers of dead runs deleted), while this run still holds
        the lock; a failure is logged, never the run's."""
        t = time.perf_counter()
        try:
            done = upkeep.compact(con, orphans_before=self.locked_at, shared=self.summary.location.is_postgres,
                                  merge=False)
        except Exception as exc:
            self.log.warning("lake upkeep failed (the run's data is committed): %s", exc)
            return
        self.summary.stage_seconds["upkeep"] = round(time.perf_counter() - t, 3)
        self.log.info("upkeep: %d snapshot(s) expired, %d file(s) removed; %d data file(s), %.1f MB "
                      "(`newsetl compact` merges small files)", done.expired, done.deleted, done.files,
                      done.bytes / 1e6)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        s = self.summary
        try:
            if isinstance(exc, DataQualityError):
                self.dq_rows = exc.rows if self.dq_rows is None else pl.concat([self.dq_rows, exc.rows]).unique(
                    subset=["table_name", "check_name"], keep="last", maintain_order=True)
                s.fail(str(exc))
                self.log.error("%s", exc)
            elif exc is not None and not self.committed and self._load_landed():
                self.committed = True  # the signal came inside the COMMIT, after the catalog took it
                s.status = COMPLETED
                s.notes.append(f"stopped ({_interruption(exc) or type(exc).__name__}) after the load committed: "
                               "the data are in")
                self.log.warning("stopped after the load committed: %s", exc)
            elif _interruption(exc) and not self.committed:
                s.interrupted = True
                s.fail(f"interrupted ({_interruption(exc)}) before the load committed: nothing was loaded, the "
                       "warehouse is as it was")
                self.log.error("%s", s.error)
            elif exc is not None and not self.committed:
                s.fail(str(exc) if isinstance(exc, RunRefused) else f"{type(exc).__name__}: {exc}")
                self.log.error("run failed: %s", s.error)
            else:
                s.status = COMPLETED
                if exc is not None:  # after the commit: the data is in, say what went wrong after
                    s.notes.append(f"after the load committed: {type(exc).__name__}: {exc}")
                    self.log.warning("after the load committed: %s", exc)
            if not s.completed:
                s.nothing_loaded()
            self._finish()
        finally:
            self._release()
        if s.interrupted:
            _exit_soon(s)
        if not s.completed:
            raise RunFailed(s) from exc
        self.log.info("run %s completed in %.1f s", s.run_id, s.seconds)

    def _load_landed(self) -> bool:
        if not self.started:
            return False
        try:
            con = self._connect()
        except Exception:
            return False
        try:
            if not load_committed(con, self.summary.run_id):
                return False
            with suppress(Exception):
                self.summary.count_rows(table_counts(con))
            return True
        except Exception:
            return False
        finally:
            con.close()

    def _finish(self) -> None:
        """Verdict, Data Docs, the ``runs`` row, report and artifacts; never raises."""
        from flows.publish import publish

        s = self.summary
        if self.dq_rows is not None:
            s.judge(self.dq_rows)
        if self.validator is not None and not self.nothing_to_do:
            t = time.perf_counter()
            try:
                docs_retention.limit_index(self.validator.context)
                docs_retention.prune(gx_root(s.location.local), docs_retention.keep_runs())
                self.validator.build_docs()
                s.stage_seconds["docs"] = round(time.perf_counter() - t, 3)
            except Exception as exc:  # the report must not hide the run's own outcome
                self.log.warning("could not build Data Docs: %s", exc)
        s.report_path = str(report_path(s.location.local))
        s.seconds = round(time.perf_counter() - self.t0, 3)
        self._record_end()
        publish(s, self.dq_rows, self.log)


def _interruption(exc: BaseException | None) -> str | None:
    """What stopped the run, if an operator did: Ctrl-C (Python's KeyboardInterrupt, or DuckDB's
    "Query interrupted" when it came during a query) or SIGTERM (Prefect's TerminationSignal)."""
    if isinstance(exc, KeyboardInterrupt) or (isinstance(exc, RuntimeError) and "Query interrupted" in str(exc)):
        return "Ctrl-C"
    if exc is not None and type(exc).__name__ == "TerminationSignal":
        return "SIGTERM"
    return None


#: Seconds an interrupted run may take to wind down once recorded before the process ends.
EXIT_GRACE = 10.0


def _exit_soon(summary: RunSummary) -> None:
    """End the process if it is still here ``EXIT_GRACE`` seconds after an interrupted run was
    recorded: extraction in the flow's own process runs in a task thread that no signal can
    stop, and Prefect waits for it (a pathological file can take minutes). Everything that
    matters is done by then: nothing committed, the run recorded, the lock released."""
    import os
    import sys
    import threading

    def leave() -> None:
        print(f"\nnewsetl run {summary.run_id}: {summary.error}", file=sys.stderr, flush=True)
        os._exit(130)

    timer = threading.Timer(EXIT_GRACE, leave)
    timer.daemon = True
    timer.start()

