"""The data-quality gate between extraction and load: suites, quarantine, verdict.

Runs the frame suites, sets aside the articles whose rows failed a ``quarantine`` check, then
the run-level checks (how much was set aside; the share of quotes without speaker against the
recent runs). The caller blocks the load with :func:`expectations.runner.raise_on_critical`
on the returned rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from expectations.quarantine import set_aside
from expectations.runner import Validator
from expectations.suites import SPEAKER_CHECK, SUITES, prepare_articles, prepare_mentions, prepare_quotes, run_metrics
from transforms.frames import ChunkFrames


@dataclass(frozen=True)
class FrameVerdict:
    rows: pl.DataFrame  # dq_results rows of the frame suites and the run suite
    kept: ChunkFrames  # what may load: the frames without the quarantined articles
    quarantine: pl.DataFrame  # QUARANTINE rows


def check_frames(validator: Validator, frames: ChunkFrames, now: dt.datetime,
                 unattributed_baseline: float | None = None) -> FrameVerdict:
    """Validate a run's frames with GX and split off what must be quarantined."""
    a = validator.validate("articles", SUITES["articles"],
                           prepare_articles(frames.articles, frames.mentions, frames.quotes))
    m = validator.validate("mentions", SUITES["mentions"], prepare_mentions(frames.mentions, frames.articles))
    q = validator.validate("quotes", SUITES["quotes"],
                           prepare_quotes(frames.quotes, frames.articles, frames.mentions))
    kept, quarantine = set_aside(frames, pl.concat([a.flagged, m.flagged, q.flagged]), validator.run_id, now)
    speaker = q.rows.filter(pl.col("check_name") == SPEAKER_CHECK)
    quotes = int(speaker["element_count"].fill_null(0).sum())
    unattributed = int(speaker["unexpected_count"].fill_null(0).sum())
    metrics = run_metrics(frames.articles.height, frames.articles.height - kept.articles.height, quotes,
                          unattributed, unattributed_baseline)
    rows = pl.concat([a.rows, m.rows, q.rows, validator.validate_run(metrics)])
    return FrameVerdict(rows, kept, quarantine)
