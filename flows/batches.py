"""One batch of a run: extract, drop duplicates, check with GX, stage to Parquet.

The batch's frames live only inside :meth:`BatchRunner.run`; what comes out is small (the
batch's ``dq_results`` rows, quarantined and rejected rows, the loaded paths, timings). That
matters: Prefect keeps every task's parameters and return value referenced until the flow
ends (measured: 100 MB passed to or returned from a task stays resident per call), so a task
that handed frames around would hold the whole corpus in memory by the last batch.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from flows.extract import Extractor
from transforms.frames import ChunkFrames, drop_duplicate_articles
from transforms.schema import DQ_RESULTS, QUARANTINE
from warehouse.staging import Staging


@dataclass
class BatchOutcome:
    """What a batch leaves behind once its rows are staged."""

    rows: pl.DataFrame  # dq_results of the frame suites on this batch
    quarantine: pl.DataFrame
    rejected: pl.DataFrame
    loaded: list[str]  # source paths staged for the load
    articles: int  # articles extracted (before quarantine)
    skipped: int  # files unchanged since they were loaded
    blocked: bool  # a critical expectation failed: nothing was staged, the run must stop
    seconds: dict[str, float] = field(default_factory=dict)


class BatchRunner:
    """Runs a run's batches in order, extracting the next one while the current is checked."""

    def __init__(self, batches: list[list[list[str]]], extractor: Extractor, staging: Staging, validator,
                 seen: dict[str, str], run_id: str, now: dt.datetime, progress: Callable[[int], None]):
        self.batches, self.extractor, self.staging, self.validator = batches, extractor, staging, validator
        self.seen, self.run_id, self.now, self.progress = seen, run_id, now, progress
        self.pending = extractor.submit(batches[0]) if batches else []
        self.validated = False  # a batch of this run went through the frame suites

    def label(self, k: int) -> str:
        return f"batch {k + 1} of {len(self.batches)}" if len(self.batches) > 1 else "run"

    def run(self, k: int) -> BatchOutcome:
        from expectations.gate import FrameVerdict, check_batch
        from expectations.runner import critical_failures

        seconds: dict[str, float] = {}
        t = time.perf_counter()
        parts = self.extractor.collect(self.pending, self.progress)
        self.pending = self.extractor.submit(self.batches[k + 1]) if k + 1 < len(self.batches) else []
        frames = drop_duplicate_articles(ChunkFrames.concat(parts), self.run_id, self.now, self.seen)
        self.seen.update(zip(frames.articles["article_id"], frames.articles["source_path"], strict=True))
        seconds.update({f"cpu_{name}": secs for name, secs in frames.seconds.items()})  # summed over workers
        seconds["extract"] = time.perf_counter() - t

        t = time.perf_counter()
        if frames.articles.height or (k + 1 == len(self.batches) and not self.validated):
            verdict = check_batch(self.validator, frames, self.now, self.label(k) if len(self.batches) > 1 else None)
            self.validated = True
        else:
            # No article in this batch (its files unchanged, rejected or duplicates): the suites
            # would pass on empty frames and add nothing to the run's merged results, at about
            # a second of GX each. A run with no article at all still checks its last batch.
            verdict = FrameVerdict(DQ_RESULTS.empty(), frames, QUARANTINE.empty())
        seconds["validate"] = time.perf_counter() - t
        blocked = critical_failures(verdict.rows).height > 0
        if not blocked:
            t = time.perf_counter()
            for table in ("articles", "mentions", "quotes"):
                self.staging.add(table, getattr(verdict.kept, table))
            seconds["stage"] = time.perf_counter() - t
        return BatchOutcome(verdict.rows, verdict.quarantine, verdict.kept.rejected,
                            verdict.kept.articles.get_column("source_path").to_list(), frames.articles.height,
                            len(frames.unchanged), blocked, seconds)
