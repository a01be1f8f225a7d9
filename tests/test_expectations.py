"""Real Great Expectations runs on crafted frames: critical failures block, warnings report."""

import datetime as dt

import duckdb
import polars as pl
import pytest

from expectations.runner import DataQualityError, Validator, critical_failures, raise_on_critical
from expectations.suites import SUITES, prepare_articles, prepare_mentions, prepare_quotes
from transforms.frames import RawFile, process_files

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def frames(seed_text):
    return process_files([RawFile("/s/seed.txt", seed_text.encode()),
                          RawFile("/s/b.txt", b"Other story\n\nJane Roe said \"we are fine and happy\".")],
                         "r", NOW)


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    return Validator(tmp_path_factory.mktemp("gx") / "w.duckdb", "run-test")


def run_all(v, f):
    return pl.concat([
        v.validate("articles", SUITES["articles"], prepare_articles(f.articles, f.mentions, f.quotes)),
        v.validate("mentions", SUITES["mentions"], prepare_mentions(f.mentions, f.articles)),
        v.validate("quotes", SUITES["quotes"], prepare_quotes(f.quotes, f.articles, f.mentions)),
    ])


def failed(rows):
    return {(r["table_name"], r["check_name"]) for r in rows.filter(~pl.col("success")).iter_rows(named=True)}


def test_clean_frames_pass(validator, frames):
    rows = run_all(validator, frames)
    assert rows.height >= 50
    assert critical_failures(rows).height == 0
    raise_on_critical(rows)  # does not raise


@pytest.mark.parametrize(
    ("table", "corrupt", "check"),
    [
        ("mentions", lambda m: m.with_columns(pl.col("char_end") + 1), "offsets slice the text"),
        ("mentions", lambda m: pl.concat([m, m.head(1)]), "mention_id unique"),
        ("mentions", lambda m: m.with_columns(pl.lit("nope").alias("article_id")), "article exists"),
        ("mentions", lambda m: m.with_columns(pl.lit("ALIEN").alias("entity_type")), "entity_type allowed"),
        ("quotes", lambda q: q.with_columns(pl.col("char_start") - 1), "offsets slice the text"),
        ("quotes", lambda q: q.with_columns(pl.lit("bogus").alias("speaker_entity_id")), "speaker entity exists"),
        ("quotes", lambda q: q.with_columns(pl.lit("rumour").alias("kind")), "kind allowed"),
        ("quotes", lambda q: q.with_columns(pl.lit(99).cast(pl.Int32).alias("paragraph_index")),
         "paragraph inside article"),
        ("articles", lambda a: pl.concat([a, a.head(1)]), "article_id unique"),
        ("articles", lambda a: a.with_columns(pl.lit("zz").alias("content_sha256")), "content_sha256 is a sha256"),
    ],
)
def test_each_critical_expectation_catches_its_defect(validator, frames, table, corrupt, check):
    f = type(frames)(frames.articles, frames.mentions, frames.quotes, frames.rejected)
    setattr(f, table, corrupt(getattr(frames, table)))
    rows = run_all(validator, f)
    assert (table, check) in failed(rows)
    with pytest.raises(DataQualityError) as exc:
        raise_on_critical(rows)
    assert check in str(exc.value) and "examples" in str(exc.value)


def test_warning_does_not_block(validator, frames):
    long_title = frames.articles.with_columns(pl.lit("x" * 400).alias("title"))
    body_mentions = frames.mentions.filter(pl.col("field") != "title")  # their offsets stay true
    f = type(frames)(long_title, body_mentions, frames.quotes, frames.rejected)
    rows = run_all(validator, f)
    assert ("articles", "title shorter than any real headline") in failed(rows)
    assert critical_failures(rows).height == 0


def test_warehouse_invariants_catch_orphans(validator, tmp_path, frames):
    from transforms.schema import DQ_RESULTS
    from warehouse.connection import connect
    from warehouse.loader import load_run

    con = connect(tmp_path / "w.duckdb")
    load_run(con, frames.articles, frames.mentions, frames.quotes, frames.rejected, DQ_RESULTS.empty())
    con.execute("INSERT INTO quotes SELECT * REPLACE ('orphan' AS quote_id, 'missing' AS article_id) "
                "FROM quotes LIMIT 1")
    rows = validator.validate_warehouse(con)
    bad = rows.filter(pl.col("check_name") == "quotes point at articles").row(0, named=True)
    assert not bad["success"] and bad["unexpected_count"] == 1
    con.close()


def test_data_docs_are_built(validator, frames):
    run_all(validator, frames)
    path = validator.build_docs()
    assert path.exists() and "<html" in path.read_text(encoding="utf-8").lower()


def test_dq_rows_load_into_duckdb(validator, frames):
    from transforms.schema import DQ_RESULTS

    rows = run_all(validator, frames)
    con = duckdb.connect(":memory:")
    from warehouse.connection import ensure_schema

    ensure_schema(con)
    con.register("r", DQ_RESULTS.conform(rows))
    con.execute("INSERT INTO dq_results BY NAME SELECT * FROM r")
    n = con.execute("SELECT count(DISTINCT (table_name, check_name)) FROM dq_results").fetchone()[0]
    assert n == rows.height
