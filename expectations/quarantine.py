"""Setting aside the articles whose rows failed a row-level (``quarantine``) expectation.

The unit set aside is the whole article: loading an article without the mention or quote
that failed would leave it silently incomplete. Every failing row is kept as JSON in the
``quarantine`` table with the check and its reason, the article row itself too (so nothing is
lost; its body once, in the row that sets the article aside), and the file is listed in
``rejected_files`` (reason ``quarantined``) so the run summary counts it. The article is not
loaded; a later run retries the file once its bytes or newsetl's extraction have changed
(``runs.extractor_version``): retried unchanged it would only be set aside again. Pure
Polars: no I/O here.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from transforms.frames import ChunkFrames
from transforms.schema import DATA_TABLES, QUARANTINE, REJECTED_FILES
from transforms.vocab import ARTICLE_SET_ASIDE, QUARANTINED, STEP_VALIDATE


def _as_json(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """key -> the whole row as one JSON object (dates and lists included)."""
    if frame.height == 0:
        return pl.DataFrame(schema={"row_key": pl.Utf8, "row_json": pl.Utf8})
    return frame.select(pl.col(key).cast(pl.Utf8).alias("row_key"),
                        pl.struct(pl.all()).struct.json_encode().alias("row_json"))


def set_aside(frames: ChunkFrames, flagged: pl.DataFrame, run_id: str, now: dt.datetime
              ) -> tuple[ChunkFrames, pl.DataFrame]:
    """Split the frames into what loads and what is quarantined.

    ``flagged`` has one row per (failing row, check) as :data:`expectations.runner.FLAGGED_SCHEMA`.
    Returns the frames without the flagged articles (their files added to ``rejected``) and the
    ``quarantine`` rows.
    """
    bad = flagged.get_column("article_id").drop_nulls().unique()
    if bad.len() == 0:
        return frames, QUARANTINE.empty()
    paths = frames.articles.select("article_id", "source_path")
    keys = {t.name: t.key[0] for t in DATA_TABLES}
    rows = []
    for table, key in keys.items():
        part = flagged.filter(pl.col("table_name") == table)
        if part.height:
            source = getattr(frames, table).with_columns(pl.col(key).cast(pl.Utf8))
            if table == "articles":  # the body goes once, into the row that sets the article aside
                source = source.drop("body")
            rows.append(part.join(_as_json(source, key), on="row_key", how="left"))
    aside = frames.articles.filter(pl.col("article_id").is_in(bad.implode()))
    checks = (flagged.group_by("article_id")
              .agg(pl.col("check_name").unique().sort().str.join("; ").alias("failed")))
    rows.append(
        _as_json(aside, "article_id").with_columns(article_id=pl.col("row_key"))
        .join(checks, on="article_id", how="left")
        .select(pl.lit("articles").alias("table_name"), pl.lit(ARTICLE_SET_ASIDE).alias("check_name"),
                pl.lit("").alias("expectation"),
                pl.concat_str(pl.lit("its rows failed: "), pl.col("failed")).alias("reason"),
                "article_id", "row_key", "row_json"))
    quarantine = (
        pl.concat([r.select("table_name", "check_name", "expectation", "reason", "article_id", "row_key",
                            pl.col("row_json").fill_null("{}")) for r in rows])
        .join(paths, on="article_id", how="left")
        .with_columns(pl.lit(run_id).alias("run_id"), pl.lit(now).alias("quarantined_at"))
        .unique(subset=["table_name", "row_key", "check_name"], keep="first", maintain_order=True)
    )
    rejected = (
        aside.select("source_path", "content_sha256", "size_bytes", "article_id")
        .join(checks, on="article_id", how="left")
        .select(pl.lit(run_id).alias("run_id"), "source_path", pl.lit(QUARANTINED).alias("reason"),
                pl.concat_str(pl.lit("set aside in table quarantine: rows failed "), pl.col("failed"))
                .alias("detail"),
                pl.lit(STEP_VALIDATE).alias("step"), "size_bytes", "content_sha256", pl.lit(now).alias("rejected_at"))
    )
    keep = ~pl.col("article_id").is_in(bad.implode())
    kept = ChunkFrames(
        frames.articles.filter(keep), frames.mentions.filter(keep), frames.quotes.filter(keep),
        pl.concat([frames.rejected, REJECTED_FILES.conform(rejected)]), frames.seconds, frames.unchanged,
    )
    return kept, QUARANTINE.conform(quarantine)
