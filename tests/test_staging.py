"""Staging a run's batches as Parquet and loading them in one transaction."""

import datetime as dt

import duckdb
import polars as pl

from transforms.frames import RawFile, process_files
from transforms.schema import ARTICLES, DQ_RESULTS, MENTIONS
from warehouse.connection import connect
from warehouse.loader import load_run, table_counts
from warehouse.staging import StagedTable, StagingArea, stage

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ONE = b"Story one\n\nJane Roe said \"we are fine and happy\" on Monday in Paris."
TWO = b"Story two\n\nJohn Doe of Acme Corp said prices would rise in Berlin."


def test_staged_batches_come_back_as_the_conformed_rows(tmp_path):
    a = process_files([RawFile("/s/one.txt", ONE)], "r", NOW)
    b = process_files([RawFile("/s/two.txt", TWO)], "r", NOW)
    with StagingArea(tmp_path / "w.duckdb", "run-1") as staging:
        parts = {t: [stage(staging.root, t, k, getattr(f, t)) for k, f in enumerate((a, b))]
                 for t in ("articles", "mentions", "quotes")}
        assert staging.root.parent == tmp_path and staging.root.name.startswith(".w.duckdb.staging-run-1-")
        articles = StagedTable.concat("articles", parts["articles"])
        assert articles.height == 2 and len(articles.paths) == 2
        assert articles.frame().equals(ARTICLES.conform(pl.concat([a.articles, b.articles])))
        assert StagedTable.concat("mentions", parts["mentions"]).height == a.mentions.height + b.mentions.height
        assert StagedTable.concat("quotes", parts["quotes"]).height == a.quotes.height + b.quotes.height == 1
    assert not staging.root.exists()


def test_a_batch_staged_twice_replaces_its_own_file(tmp_path):
    """A retried batch writes the same file again: its rows are never staged twice."""
    a = process_files([RawFile("/s/one.txt", ONE)], "r", NOW)
    with StagingArea(tmp_path / "w.duckdb", "r") as staging:
        first = stage(staging.root, "mentions", 3, a.mentions)
        again = stage(staging.root, "mentions", 3, a.mentions)
        assert first == again
        assert sorted(p.name for p in staging.root.iterdir()) == ["checked-mentions-00003.parquet"]
        assert again.frame().height == a.mentions.height


def test_an_empty_staged_table_is_an_empty_relation_of_the_right_columns(tmp_path):
    with StagingArea(tmp_path / "w.duckdb", "r") as staging:
        empty = stage(staging.root, "mentions", 0, MENTIONS.empty())
        rel = duckdb.sql(f"SELECT * FROM {empty.sql()}")
        assert rel.columns == MENTIONS.names and rel.fetchall() == []
        assert list(staging.root.iterdir()) == []


def test_staged_rows_load_like_frames(tmp_path):
    frames = process_files([RawFile("/s/one.txt", ONE), RawFile("/s/two.txt", TWO)], "r", NOW)
    by_frames, by_staging = connect(tmp_path / "a.duckdb"), connect(tmp_path / "b.duckdb")
    try:
        load_run(by_frames, frames.articles, frames.mentions, frames.quotes, frames.rejected, DQ_RESULTS.empty())
        with StagingArea(tmp_path / "b.duckdb", "r") as staging:
            staged = [stage(staging.root, t, 0, getattr(frames, t)) for t in ("articles", "mentions", "quotes")]
            load_run(by_staging, *staged, frames.rejected, DQ_RESULTS.empty())
        assert table_counts(by_staging) == table_counts(by_frames)
        sql = "SELECT quote_id, text, speaker FROM quotes ORDER BY 1"
        assert by_staging.execute(sql).fetchall() == by_frames.execute(sql).fetchall()
    finally:
        by_frames.close()
        by_staging.close()
