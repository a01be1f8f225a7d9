"""Everything derived from the table declarations (transforms/schema.py) agrees with them, and
the columns users query (the warehouse contract) stay declared."""

import datetime as dt
import hashlib

import duckdb
import pytest

from transforms.frames import RawFile, process_files
from transforms.schema import (
    ALL_TABLES,
    ARTICLES,
    DATA_TABLES,
    MENTIONS,
    QUOTES,
    RUNS,
    Column,
    RunRecord,
    Table,
    sql_type,
)
from warehouse.ddl import DUCKDB, DUCKLAKE, create_table, ensure_schema, missing_columns, view_statements

# The columns of the public warehouse contract: what users and the held-out evaluation query.
# Written here on purpose, apart from the declarations, so that dropping or renaming one of
# them fails a test instead of silently breaking every saved query.
CONTRACT = {
    "articles": "article_id source_path content_sha256 title publisher agency dateline standfirst body "
                "published_at word_count paragraph_count run_id loaded_at",
    "mentions": "mention_id article_id entity_id text entity_type field char_start char_end paragraph_index",
    "entities": "entity_id name entity_type aliases mention_count article_count",
    "quotes": "quote_id article_id text char_start char_end paragraph_index speaker speaker_entity_id "
              "speaker_text cue kind",
    "runs": "run_id flow_run_id started_at finished_at status files_seen files_loaded files_skipped "
            "files_rejected dq_success",
    "rejected_files": "run_id source_path reason detail",
    "dq_results": "run_id table_name expectation column success unexpected_count severity",
}


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect(":memory:")
    ensure_schema(c, DUCKDB)
    yield c
    c.close()


@pytest.mark.parametrize("table", ALL_TABLES, ids=lambda t: t.name)
def test_ddl_matches_schema_owner(con, table):
    rows = con.execute(f"DESCRIBE {table.name}").fetchall()
    got = [(r[0], r[1], r[2] == "YES") for r in rows]
    want = [(c.name, c.sql.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"), c.nullable) for c in table.columns]
    assert got == want
    keys = con.execute("SELECT constraint_column_names FROM duckdb_constraints() "
                       "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'", [table.name]).fetchall()
    assert keys == [(list(table.key),)]


@pytest.mark.parametrize("table", ALL_TABLES, ids=lambda t: t.name)
def test_a_store_without_keys_gets_no_key_clause(table):
    lake = create_table(table, DUCKLAKE)
    assert "PRIMARY KEY" not in lake and "UNIQUE" not in lake
    assert create_table(table, DUCKDB).replace(",\n    PRIMARY KEY", "").count("NOT NULL") == lake.count("NOT NULL")


def test_sql_types_come_from_the_polars_dtypes():
    import polars as pl

    assert sql_type(pl.List(pl.Utf8)) == "VARCHAR[]" and sql_type(pl.Datetime("us", "UTC")) == "TIMESTAMPTZ"
    with pytest.raises(TypeError, match="microseconds in UTC"):
        sql_type(pl.Datetime("ns"))
    with pytest.raises(TypeError, match="no SQL type"):
        sql_type(pl.Float32)


def test_a_declaration_must_name_its_key_among_required_columns():
    import polars as pl

    with pytest.raises(ValueError, match="key column"):
        Table("t", key=("id",), columns=(Column("id", pl.Utf8, nullable=True),))
    with pytest.raises(ValueError, match="declared twice"):
        Table("t", key=("id",), columns=(Column("id", pl.Utf8, False), Column("id", pl.Utf8)))


def test_the_run_record_is_the_runs_row():
    """RUNS is derived from RunRecord: a field added to the record is a column of the table."""
    import dataclasses

    assert RUNS.names == [f.name for f in dataclasses.fields(RunRecord)]
    record = RunRecord(run_id="r", started_at=dt.datetime.now(dt.UTC), status="running", seeds_dir="s")
    assert list(record.row()) == RUNS.names
    assert RUNS.frame([record.row()]).schema == RUNS.polars_schema
    assert RUNS.column("status").allowed == ("running", "completed", "failed")


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_columns_present(name):
    table = next(t for t in ALL_TABLES if t.name == name)
    assert set(CONTRACT[name].split()) <= set(table.names)


def test_frames_have_exact_schemas(seed_text):
    now = dt.datetime.now(dt.UTC)
    frames = process_files([RawFile("/x/seed.txt", seed_text.encode())], "r", now)
    for table, df in zip(DATA_TABLES, (frames.articles, frames.mentions, frames.quotes), strict=True):
        assert df.schema == table.polars_schema, table.name
        assert df.height > 0
    assert frames.rejected.schema == ALL_TABLES[4].polars_schema


def test_mention_and_quote_rows_line_up_with_the_article(seed_text):
    """The column-wise frames keep each row's values together and its ids stable."""
    from transforms.ids import row_id, stable_id

    frames = process_files([RawFile("/x/seed.txt", seed_text.encode())], "r", dt.datetime.now(dt.UTC))
    body = frames.articles.item(0, "body")
    for df in (frames.mentions.filter(field="body"), frames.quotes):
        for row in df.iter_rows(named=True):
            assert body[row["char_start"]:row["char_end"]] == row["text"]
    blocks = body.split("\n\n")
    for row in frames.mentions.filter(field="body").iter_rows(named=True):
        assert row["text"] in blocks[row["paragraph_index"]]
        assert row["mention_id"] == stable_id(row["article_id"], "body", row["char_start"], row["char_end"])
    assert frames.mentions.filter(field="title")["paragraph_index"].null_count() > 0
    assert row_id("a", "body", 3, 7) == stable_id("a", "body", 3, 7)


def test_frame_from_columns_fills_missing_columns_and_refuses_ragged_ones():
    mentions = MENTIONS
    df = mentions.frame_from_columns({"mention_id": ["m"], "char_start": [1]})
    assert df.schema == mentions.polars_schema
    assert df.row(0, named=True)["char_start"] == 1 and df.row(0, named=True)["text"] is None
    with pytest.raises(ValueError, match="different lengths"):
        mentions.frame_from_columns({"mention_id": ["m", "n"], "char_start": [1]})


def test_views_run_on_empty_warehouse(con):
    for name, _ in view_statements():
        view = name.removesuffix(".sql")
        con.execute(f"SELECT * FROM {view} LIMIT 1").fetchall()


def test_older_warehouse_gains_new_columns_in_place(tmp_path):
    db = tmp_path / "old.duckdb"
    old = duckdb.connect(str(db))
    old.execute("CREATE TABLE runs (run_id VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, "
                "status VARCHAR NOT NULL, seeds_dir VARCHAR NOT NULL)")
    old.execute("INSERT INTO runs VALUES ('r0', now(), 'completed', 'seeds')")
    ensure_schema(old, DUCKDB)
    cols = [r[0] for r in old.execute("DESCRIBE runs").fetchall()]
    assert {"files_new", "files_deleted", "full_refresh", "dq_success"} <= set(cols)
    assert old.execute("SELECT run_id, files_new FROM runs").fetchall() == [("r0", None)]
    assert set(cols) == set(RUNS.names)
    old.close()


def test_a_new_required_column_is_refused_rather_than_migrated(tmp_path):
    import polars as pl

    old = duckdb.connect(str(tmp_path / "old.duckdb"))
    old.execute("CREATE TABLE t (id VARCHAR NOT NULL)")
    grown = Table("t", key=("id",), columns=(Column("id", pl.Utf8, False), Column("n", pl.Int64, False)))
    with pytest.raises(RuntimeError, match="declared NOT NULL but an older warehouse lacks it"):
        missing_columns(old, grown)
    nullable = Table("t", key=("id",), columns=(Column("id", pl.Utf8, False), Column("n", pl.Int64)))
    assert missing_columns(old, nullable) == ['ALTER TABLE t ADD COLUMN "n" BIGINT']
    old.close()


def test_columns_with_a_backfill_arrive_filled_and_required_in_an_older_lake(tmp_path):
    """``articles.body_sha256``, ``mentions.run_id`` and ``quotes.run_id`` came after warehouses
    held rows: a lake of an older newsetl gains them computed for its rows (the hash of each
    body, the run of each row's article) and NOT NULL, in one migration."""
    import dataclasses

    from warehouse.connection import connect

    con = connect(tmp_path / "old.ducklake")
    added = {"articles": "body_sha256", "mentions": "run_id", "quotes": "run_id"}
    for table in (ARTICLES, MENTIONS, QUOTES):
        older = dataclasses.replace(table, columns=tuple(c for c in table.columns if c.name != added[table.name]))
        con.execute(create_table(older, DUCKLAKE))
    values = {"article_id": "'a1'", "source_path": "'/s/a.txt'", "content_sha256": "'x'", "size_bytes": "3",
              "encoding": "'utf-8'", "encoding_fallback": "false", "body": "'Body.'", "body_offset": "0",
              "headings": "[]", "word_count": "1", "paragraph_count": "1", "run_id": "'r0'", "loaded_at": "now()"}
    con.execute(f"INSERT INTO articles ({', '.join(values)}) VALUES ({', '.join(values.values())})")
    con.execute("INSERT INTO mentions (mention_id, article_id, entity_id, text, entity_type, entity_name, field, "
                "char_start, char_end) VALUES ('m1', 'a1', 'e1', 'Body', 'ORG', 'Body', 'body', 0, 4)")
    assert missing_columns(con, ARTICLES) == [
        'ALTER TABLE articles ADD COLUMN "body_sha256" VARCHAR', 'UPDATE articles SET "body_sha256" = sha256(body)',
        'ALTER TABLE articles ALTER COLUMN "body_sha256" SET NOT NULL']
    ensure_schema(con, DUCKLAKE)
    assert con.execute("SELECT body_sha256 FROM articles").fetchone()[0] == hashlib.sha256(b"Body.").hexdigest()
    assert con.execute("SELECT run_id FROM mentions").fetchall() == [("r0",)]
    assert con.execute("SELECT count(*) FROM quotes").fetchone()[0] == 0  # none to fill: still added
    assert "run_id" in {r[0] for r in con.execute("DESCRIBE quotes").fetchall()}
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO mentions (mention_id, article_id, entity_id, text, entity_type, entity_name, field, "
                    "char_start, char_end) VALUES ('m2', 'a1', 'e1', 'Body', 'ORG', 'Body', 'body', 0, 4)")
    con.close()


def test_backfilled_columns_survive_orphans_empty_tables_and_a_rollback_past_them(tmp_path):
    """What the review of the backfill found: a mention of no article still gets a run (the
    migration completes, and the checks then name it); a table empty at the migration gains
    the column nullable and is filled and constrained once it holds rows; a rollback to a
    snapshot from before the columns computes them for the restored rows."""
    import dataclasses

    from warehouse.connection import LAKE, Location, attach, connect
    from warehouse.snapshots import restore

    db = tmp_path / "old.ducklake"
    con = connect(db)
    added = {"articles": "body_sha256", "mentions": "run_id", "quotes": "run_id"}
    for table in (ARTICLES, MENTIONS, QUOTES):
        con.execute(create_table(dataclasses.replace(
            table, columns=tuple(c for c in table.columns if c.name != added[table.name])), DUCKLAKE))
    con.execute("INSERT INTO articles (article_id, source_path, content_sha256, size_bytes, encoding, "
                "encoding_fallback, body, body_offset, headings, word_count, paragraph_count, run_id, loaded_at) "
                "VALUES ('a1', '/s/a.txt', 'x', 3, 'utf-8', false, 'Body.', 0, [], 1, 1, 'r0', now())")
    mention = ("INSERT INTO mentions (mention_id, article_id, entity_id, text, entity_type, entity_name, field, "
               "char_start, char_end) VALUES ('{m}', '{a}', 'e1', 'Body', 'ORG', 'Body', 'body', 0, 4)")
    con.execute(mention.format(m="m1", a="a1"))
    con.execute(mention.format(m="m2", a="gone"))  # points at no article
    before = con.execute(f"SELECT max(snapshot_id) FROM {LAKE}.snapshots()").fetchone()[0]
    ensure_schema(con, DUCKLAKE)
    assert dict(con.execute("SELECT mention_id, run_id FROM mentions").fetchall()) == {"m1": "r0", "m2": "unknown"}
    nullable = {r[0]: r[2] for r in con.execute("DESCRIBE quotes").fetchall()}
    assert nullable["run_id"] == "YES"  # empty: DuckLake cannot SET NOT NULL without statistics
    con.execute("INSERT INTO quotes (quote_id, article_id, text, char_start, char_end, paragraph_index, "
                "paragraph_count, kind, word_count) VALUES ('q1', 'a1', 'Body', 0, 4, 0, 1, 'partial', 1)")
    ensure_schema(con, DUCKLAKE)  # the next open fills and constrains it
    assert con.execute("SELECT run_id FROM quotes").fetchall() == [("r0",)]
    assert {r[0]: r[2] for r in con.execute("DESCRIBE quotes").fetchall()}["run_id"] == "NO"

    attach(con, Location(str(db)), alias="lake_then", read_only=True, snapshot=before)
    con.execute("BEGIN TRANSACTION")
    restore(con, "lake_then")  # rows of a snapshot without the columns, into NOT NULL ones
    con.execute("COMMIT")
    assert con.execute("SELECT body_sha256 FROM articles").fetchone()[0] == hashlib.sha256(b"Body.").hexdigest()
    assert dict(con.execute("SELECT mention_id, run_id FROM mentions").fetchall()) == {"m1": "r0", "m2": "unknown"}
    con.close()
