"""The full-text indexes in the lake, kept up to date load by load, against the extension's own rebuild.

Rows go in with plain SQL, the way the loader's transaction does it (``load`` below), so these
tests depend on the search module and the lake, not on the loader.
"""

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import frames_for
from transforms.schema import TABLES
from warehouse.connection import connect, connect_for_load, every_core, locate
from warehouse.ddl import DUCKLAKE, ensure_schema
from warehouse.extensions import extension_path, offline_settings, sql_string
from warehouse.search import (
    INDEX_MACROS,
    INDEXES,
    SearchUnavailable,
    create_index,
    definition,
    ensure_indexes,
    has_index,
    load_fts,
    search,
    sync_indexes,
)

QUERIES = ["penguins", "penguins thriving", "keeper", "giraffes zoo", "minister said budget", "incendiary", "Kirby"]
#: match_bm25 as analysts call it: the defaults, one field, every word required, NULL fields given
#: explicitly, other BM25 parameters.
CALLS = (
    "{s}.match_bm25({key}, ?)",
    "{s}.match_bm25({key}, ?, fields := '{field}')",
    "{s}.match_bm25({key}, ?, conjunctive := 1)",
    "{s}.match_bm25({key}, ?, fields := NULL, k := 2, b := 0.5)",
)


def article(topic: str, speaker: str, extra: str = "") -> str:
    return (
        f'{topic.title()} news\n\nLONDON - "The {topic} are thriving at the zoo," said {speaker}. '
        f"The minister's budget for {topic} grew. {extra}\n\n"
        f'"We feed the {topic} twice a day," {speaker} added.'
    )


def offline_duckdb() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for sql in offline_settings():
        con.execute(sql)
    return con


@pytest.fixture
def lake(tmp_path):
    """A new lake with the warehouse tables, open for writing as a pipeline load opens it
    (one thread, save the word split)."""
    con = connect_for_load(tmp_path / "w.ducklake")
    ensure_schema(con, DUCKLAKE)
    yield con
    con.close()


def load(con, files, full_refresh=False, speaker=None, fail=False):
    """What a load does for search, in one transaction: the indexes ensured, the rows of the
    files' articles replaced (by path or id, as the loader does), the indexes synced."""
    frames = frames_for(files)
    quotes = frames.quotes if speaker is None else frames.quotes.with_columns(speaker=pl.lit(speaker))
    con.register("incoming_articles", TABLES["articles"].conform(frames.articles))
    con.register("incoming_quotes", TABLES["quotes"].conform(quotes))
    con.execute("BEGIN")
    try:
        ensure_indexes(con)
        if full_refresh:
            con.execute("DELETE FROM quotes")
            con.execute("DELETE FROM articles")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE replaced AS
            SELECT article_id FROM articles
            WHERE source_path IN (SELECT source_path FROM incoming_articles)
               OR article_id IN (SELECT article_id FROM incoming_articles)""")
        con.execute("DELETE FROM quotes WHERE article_id IN (SELECT article_id FROM replaced)")
        con.execute("DELETE FROM articles WHERE article_id IN (SELECT article_id FROM replaced)")
        con.execute("INSERT INTO articles BY NAME SELECT * FROM incoming_articles")
        con.execute("INSERT INTO quotes BY NAME SELECT * FROM incoming_quotes")
        sync_indexes(con, "SELECT article_id FROM replaced", reset=full_refresh)
        con.execute("DROP TABLE replaced")
        if fail:
            raise RuntimeError("a check failed")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("incoming_articles")
        con.unregister("incoming_quotes")


def scores(con, calls=CALLS[:1]) -> dict:
    """Each call for every query, on both indexes: (key, score) of the matches, read in one
    transaction (one snapshot, and a lake looks its snapshot up once, not per query)."""
    load_fts(con)
    out = {}
    con.execute("BEGIN")
    try:
        for ix in INDEXES:
            for call in calls:
                expr = call.format(s=ix.schema, key=ix.key, field=ix.fields[0])
                for q in QUERIES:
                    out[(ix.table, call, q)] = con.execute(
                        f"SELECT {ix.key}, round({expr}, 9) AS s FROM {ix.table} WHERE s IS NOT NULL "
                        f"ORDER BY {ix.key}",
                        [q],
                    ).fetchall()
    finally:
        con.execute("COMMIT")
    return out


def rebuilt_scores(con, calls=CALLS[:1]) -> dict:
    """The scores the extension's create_fts_index gives over the same rows, copied into an
    in-memory DuckDB."""
    ref = offline_duckdb()
    try:
        load_fts(ref)
        for ix in INDEXES:
            rows = con.execute(f"SELECT {', '.join((ix.key, *ix.fields))} FROM {ix.table}").pl()
            ref.register("copied", rows)
            ref.execute(f"CREATE TABLE {ix.table} AS SELECT * FROM copied")
            ref.unregister("copied")
            create_index(ref, ix)
        return scores(ref, calls)
    finally:
        ref.close()


def test_index_kept_up_to_date_scores_as_a_rebuild(lake, seed_text):
    load(
        lake,
        [
            ("a.txt", article("penguins", "Ann Keeper")),
            ("b.txt", article("giraffes", "Bob Ward")),
            ("seed.txt", seed_text),
        ],
    )
    # a changed file (same path, new text), a new one, one unchanged
    load(lake, [("a.txt", article("giraffes", "Ann Keeper", "Penguins left.")),
                ("c.txt", article("lions", "Cy Young"))])
    # the same file again, its quotes now with another speaker (as a newer extractor might
    # give): same keys, new text to index
    load(lake, [("b.txt", article("giraffes", "Bob Ward"))], speaker="Zed Keeper")
    got = scores(lake, CALLS)
    default = CALLS[0]
    assert (
        got[("quotes", default, "keeper")]
        and got[("articles", default, "giraffes zoo")]
        and got[("quotes", default, "penguins")] == []
        and got[("articles", default, "penguins")]
    )
    assert got[("quotes", default, "incendiary")] and got[("quotes", default, "Kirby")]
    assert got[("quotes", CALLS[1], "keeper")] == []  # 'keeper' is only in speakers, not in the text
    assert got == rebuilt_scores(lake, CALLS)


def test_full_refresh_empties_the_index_first(lake):
    load(lake, [("a.txt", article("penguins", "Ann Keeper")), ("b.txt", article("giraffes", "Bob Ward"))])
    load(lake, [("a.txt", article("lions", "Ann Keeper"))], full_refresh=True)
    assert search(lake, "giraffes") == [] and search(lake, "penguins") == []
    assert {h.kind for h in search(lake, "lions")} == {"quote", "article"}
    assert scores(lake) == rebuilt_scores(lake)


def test_words_beside_curly_quotes_and_apostrophes_are_found(lake):
    load(lake, [("a.txt", "Zoo news\n\nLONDON - Kirby’s keepers called the plan “incendiary” on Monday.")])
    assert "article" in [h.kind for h in search(lake, "incendiary")]
    assert "article" in [h.kind for h in search(lake, "kirby")]


def test_the_index_commits_with_the_rows_or_not_at_all(lake):
    with pytest.raises(RuntimeError, match="a check failed"):
        load(lake, [("a.txt", article("penguins", "Ann Keeper"))], fail=True)
    assert not has_index(lake)
    assert lake.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name LIKE 'fts_main_%'").fetchone() == (0,)
    with pytest.raises(SearchUnavailable, match="no search index"):
        search(lake, "penguins")
    load(lake, [("a.txt", article("penguins", "Ann Keeper"))])
    assert has_index(lake) and search(lake, "penguins")


def test_the_lake_index_is_the_extensions(lake):
    """Same tables and column types, same macros (parameters and text), same fields and
    stopwords as create_fts_index makes; only match_bm25's default for ``fields`` differs
    (all the fields listed, not NULL, which a lake cannot store), and it scores the same."""
    load(lake, [("a.txt", article("penguins", "Ann Keeper"))])
    ref = offline_duckdb()
    try:
        load_fts(ref)
        for ix in INDEXES:
            ref.execute(f"CREATE TABLE {ix.table} ({', '.join(f'{c} VARCHAR' for c in (ix.key, *ix.fields))})")
            create_index(ref, ix)
        columns = ("SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
                   "WHERE database_name = current_database() AND schema_name LIKE 'fts_main_%' ORDER BY ALL")
        assert lake.execute(columns).fetchall() == ref.execute(columns).fetchall()
        macros = ("SELECT schema_name, function_name, parameters, macro_definition FROM duckdb_functions() "
                  "WHERE database_name = current_database() AND schema_name LIKE 'fts_main_%' ORDER BY ALL")
        got = lake.execute(macros).fetchall()
        assert got == ref.execute(macros).fetchall()
        assert sorted({r[1] for r in got}) == sorted(INDEX_MACROS)
        for ix in INDEXES:
            for table in ("fields", "stopwords"):
                rows = f"SELECT * FROM {ix.schema}.{table} ORDER BY ALL"
                assert lake.execute(rows).fetchall() == ref.execute(rows).fetchall()
            assert lake.execute(f"SELECT count(*) FROM {ix.schema}.stopwords").fetchone() == (571,)
            (bm25,) = [st for st in definition(ix).statements if st.startswith(f"CREATE MACRO {ix.schema}.match_bm25")]
            assert f"(docname, query_string, fields := '{','.join(ix.fields)}', k := 1.2, b := 0.75, " \
                   "conjunctive := false) AS " in bm25
    finally:
        ref.close()


def test_an_index_that_splits_words_otherwise_is_rebuilt(lake):
    load(lake, [("a.txt", "Zoo news\n\nLONDON - Keepers called the plan “incendiary” on Monday.")])
    # an index whose tokenize keeps the quotation marks in words, as the extension's default does
    lake.execute("BEGIN")
    lake.execute("CREATE OR REPLACE MACRO fts_main_articles.tokenize(s) AS "
                 "string_split_regex(lower(strip_accents(CAST(s AS VARCHAR))), '\\s+')")
    lake.execute("COMMIT")
    assert not has_index(lake)
    load(lake, [("b.txt", article("lions", "Cy Young"))])
    assert has_index(lake)
    assert "article" in [h.kind for h in search(lake, "incendiary")]
    assert scores(lake) == rebuilt_scores(lake)


def test_other_readers_see_the_index(lake, tmp_path):
    """A new connection, read-only, and the DuckDB CLI: the index is in the lake's catalog."""
    load(lake, [("a.txt", article("penguins", "Ann Keeper")), ("b.txt", article("giraffes", "Bob Ward"))])
    expected = scores(lake)
    reader = connect(tmp_path / "w.ducklake", read_only=True)
    try:
        assert has_index(reader)
        assert scores(reader) == expected
        assert {h.kind for h in search(reader, "giraffes")} == {"quote", "article"}
    finally:
        reader.close()

    cli = Path(sys.executable).parent / "duckdb"
    if not cli.exists():
        pytest.skip("the DuckDB CLI is not installed (pip install duckdb-cli)")
    loads = [f"LOAD '{sql_string(extension_path(e))}';" for e in ("ducklake", "sqlite_scanner", "fts")]
    target = sql_string(locate(tmp_path / "w.ducklake").attach_target())
    init = [*(f"{s};" for s in offline_settings()), *loads, f"ATTACH '{target}' AS lake (READ_ONLY);", "USE lake;"]
    sql = ("SELECT quote_id, round(fts_main_quotes.match_bm25(quote_id, 'giraffes zoo'), 9) AS s FROM quotes "
           "WHERE s IS NOT NULL ORDER BY quote_id;")
    proc = subprocess.run([str(cli), "-csv", "-noheader", "-c", "\n".join([*init, sql])],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(",") for line in proc.stdout.split()]
    assert [(k, float(s)) for k, s in rows] == expected[("quotes", CALLS[0], "giraffes zoo")] != []


def test_the_load_runs_on_one_thread_and_the_word_split_on_every_core(lake):
    """A load's connection runs its statements on one thread (on two they cost more CPU and
    took no less time); ``every_core`` gives the statements within DuckDB's default and
    restores the one thread, also when a statement fails (and reports that statement's error
    when its failure aborted the transaction)."""
    threads = "SELECT current_setting('threads')"
    assert lake.execute(threads).fetchone()[0] == 1
    with every_core(lake):
        default = lake.execute(threads).fetchone()[0]
    assert lake.execute(threads).fetchone()[0] == 1
    with pytest.raises(duckdb.Error), every_core(lake):
        lake.execute("SELECT * FROM no_such_table")
    assert lake.execute(threads).fetchone()[0] == 1
    # Inside a load's transaction a failed statement aborts it, and the aborted transaction
    # refuses the SET that restores one thread: the statement's own error must be the one raised.
    lake.execute("BEGIN")
    with pytest.raises(duckdb.ConversionException), every_core(lake):
        lake.execute("SELECT CAST('x' AS INTEGER)")
    lake.execute("ROLLBACK")
    fresh = duckdb.connect()
    assert default == fresh.execute(threads).fetchone()[0]
    fresh.close()


def _load_run(con, files, run_id, speaker=None):
    from transforms.schema import DQ_RESULTS
    from warehouse.loader import load_run

    f = frames_for(files)
    quotes = f.quotes if speaker is None else f.quotes.with_columns(speaker=pl.lit(speaker))
    load_run(con, f.articles, f.mentions, quotes, f.rejected, DQ_RESULTS.empty(), run_id=run_id)


def test_the_loader_updates_the_index_from_what_it_changed_as_a_rebuild_would(lake, seed_text):
    """After a checked load the loader updates the indexes from the keys it deleted and the
    rows it inserted only (no comparison of every document with every row); after each kind
    of load the scores are still the extension's over the same rows."""
    from warehouse.loader import checked_basis

    loads = [
        [("/s/a.txt", article("penguins", "Ann Keeper")), ("/s/b.txt", article("giraffes", "Bob Ward")),
         ("/s/seed.txt", seed_text)],
        [("/s/a.txt", article("giraffes", "Ann Keeper", "Penguins left.")),  # changed: new quote keys
         ("/s/c.txt", article("lions", "Cy Young"))],  # added
        [("/s/moved/c.txt", article("lions", "Cy Young"))],  # moved: same article id, new path
    ]
    for k, files in enumerate(loads, 1):
        if k > 1:
            assert checked_basis(lake) == f"r{k - 1}"  # the path under test, not a rebuild
        _load_run(lake, files, f"r{k}")
        assert scores(lake, CALLS) == rebuilt_scores(lake, CALLS), f"after load {k}"
    # the same file, its quotes with another speaker: same keys, new text to index
    _load_run(lake, [("/s/b.txt", article("giraffes", "Bob Ward"))], "r4", speaker="Zed Keeper")
    got = scores(lake, CALLS)
    assert got[("quotes", CALLS[0], "keeper")] and got[("quotes", CALLS[0], "penguins")] == []
    assert got == rebuilt_scores(lake, CALLS)


def test_an_index_changed_by_hand_is_brought_back_by_the_next_load(lake, seed_text):
    """A document removed from an index by SQL from elsewhere is not a state a load left: the
    next load compares every document with every row again, and puts it back. (Its terms and
    document frequencies, left by such an edit, are not mended: a full refresh would.)"""
    from warehouse.loader import checked_basis

    _load_run(lake, [("/s/a.txt", article("penguins", "Ann Keeper")), ("/s/seed.txt", seed_text)], "r1")
    (name,) = lake.execute("SELECT name FROM fts_main_quotes.docs ORDER BY docid LIMIT 1").fetchone()
    lake.execute("DELETE FROM fts_main_quotes.docs WHERE name = ?", [name])
    assert checked_basis(lake) is None
    _load_run(lake, [("/s/c.txt", article("lions", "Cy Young"))], "r2")
    assert lake.execute("SELECT count(*) FROM fts_main_quotes.docs WHERE name = ?", [name]).fetchone()[0] == 1
