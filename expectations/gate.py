"""The data-quality gate between extraction and load: suites, quarantine, verdict.

Runs the frame suites, sets aside the articles whose rows failed a ``quarantine`` check, then
the run-level checks (how much was set aside; the share of quotes without speaker against the
recent runs). The caller blocks the load with :func:`expectations.runner.raise_on_critical`
on the returned rows.

A large run is checked batch by batch (:func:`check_batch`), so no more than a batch of
frames is ever held in memory; :func:`merge_batches` then folds the batches' results into
one row per expectation, and :func:`check_run` adds the run-level checks on the totals.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import polars as pl

from expectations.quarantine import set_aside
from expectations.runner import Validator, examples_json
from expectations.suites import SPEAKER_CHECK, SUITES, prepare_articles, prepare_mentions, prepare_quotes, run_metrics
from transforms.frames import ChunkFrames
from transforms.schema import DQ_RESULTS

#: Examples kept per expectation when batches are merged (as many as one GX result keeps).
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class FrameVerdict:
    rows: pl.DataFrame  # dq_results rows of the frame suites (and the run suite, from check_frames)
    kept: ChunkFrames  # what may load: the frames without the quarantined articles
    quarantine: pl.DataFrame  # QUARANTINE rows


def check_batch(validator: Validator, frames: ChunkFrames, now: dt.datetime,
                part: str | None = None) -> FrameVerdict:
    """Validate one batch of frames with the frame suites and split off what must be quarantined
    (``part``: the batch's name in Data Docs when a run has several)."""
    a = validator.validate("articles", SUITES["articles"],
                           prepare_articles(frames.articles, frames.mentions, frames.quotes), part)
    m = validator.validate("mentions", SUITES["mentions"], prepare_mentions(frames.mentions, frames.articles), part)
    q = validator.validate("quotes", SUITES["quotes"],
                           prepare_quotes(frames.quotes, frames.articles, frames.mentions), part)
    kept, quarantine = set_aside(frames, pl.concat([a.flagged, m.flagged, q.flagged]), validator.run_id, now)
    return FrameVerdict(pl.concat([a.rows, m.rows, q.rows]), kept, quarantine)


def _mostly(details: str) -> float | None:
    try:
        return json.loads(details).get("mostly")
    except (TypeError, ValueError, AttributeError):
        return None


def merge_batches(batch_rows: list[pl.DataFrame]) -> pl.DataFrame:
    """One ``dq_results`` row per expectation from the rows of every batch.

    Counts add up; an expectation fails if it failed on any batch, except a ``mostly``
    expectation, which is judged again on the summed counts (a batch of 40% unattributed
    quotes is fine when the run as a whole is at 20%). Examples: the first few of any batch.
    """
    frames = [r for r in batch_rows if r.height]
    if len(frames) <= 1:
        return frames[0] if frames else DQ_RESULTS.empty()
    out = []
    for group in pl.concat(frames).partition_by(["table_name", "check_name"], maintain_order=True):
        first = group.row(0, named=True)
        elements = int(group["element_count"].fill_null(0).sum())
        unexpected = int(group["unexpected_count"].fill_null(0).sum())
        mostly = _mostly(first["details"])
        if mostly is not None and elements:
            success = 1 - unexpected / elements >= mostly
        else:
            success = bool(group["success"].all())
        examples: list = []
        for ex in group["unexpected_examples"].to_list():
            examples += json.loads(ex or "[]") if (ex or "").startswith("[") else []
        out.append({**first, "success": success, "element_count": elements, "unexpected_count": unexpected,
                    "unexpected_examples": examples_json(examples[:MAX_EXAMPLES]),
                    "evaluated_at": group["evaluated_at"].max()})
    return DQ_RESULTS.frame(out)


def check_run(validator: Validator, articles: int, quarantined: int, frame_rows: pl.DataFrame,
              unattributed_baseline: float | None = None) -> pl.DataFrame:
    """The run-level checks on the whole run's totals (``frame_rows``: the merged frame suites)."""
    speaker = frame_rows.filter((pl.col("table_name") == "quotes") & (pl.col("check_name") == SPEAKER_CHECK))
    quotes = int(speaker["element_count"].fill_null(0).sum())
    unattributed = int(speaker["unexpected_count"].fill_null(0).sum())
    return validator.validate_run(run_metrics(articles, quarantined, quotes, unattributed, unattributed_baseline))


def check_frames(validator: Validator, frames: ChunkFrames, now: dt.datetime,
                 unattributed_baseline: float | None = None) -> FrameVerdict:
    """Validate a run's frames in one batch: frame suites, quarantine, run-level checks."""
    batch = check_batch(validator, frames, now)
    quarantined = frames.articles.height - batch.kept.articles.height
    run = check_run(validator, frames.articles.height, quarantined, batch.rows, unattributed_baseline)
    return FrameVerdict(pl.concat([batch.rows, run]), batch.kept, batch.quarantine)
