"""The full-text indexes kept up to date load by load, against the extension's own rebuild."""

import duckdb
import polars as pl

from tests.conftest import frames_for
from transforms.schema import DQ_RESULTS
from warehouse.loader import load_run
from warehouse.search import INDEXES, create_index, load_fts, search

QUERIES = ["penguins", "penguins thriving", "keeper", "giraffes zoo", "minister said budget", "incendiary", "Kirby"]


def article(topic: str, speaker: str, extra: str = "") -> str:
    return (
        f'{topic.title()} news\n\nLONDON - "The {topic} are thriving at the zoo," said {speaker}. '
        f"The minister's budget for {topic} grew. {extra}\n\n"
        f'"We feed the {topic} twice a day," {speaker} added.'
    )


def load(con, files, full_refresh=False, speaker=None):
    frames = frames_for(files)
    quotes = frames.quotes if speaker is None else frames.quotes.with_columns(speaker=pl.lit(speaker))
    load_run(
        con, frames.articles, frames.mentions, quotes, frames.rejected, DQ_RESULTS.empty(), full_refresh=full_refresh
    )


def scores(con) -> dict:
    load_fts(con)
    out = {}
    for ix in INDEXES:
        for q in QUERIES:
            rows = con.execute(
                f"SELECT {ix.key}, round({ix.schema}.match_bm25({ix.key}, ?), 9) AS s "
                f"FROM {ix.table} WHERE s IS NOT NULL ORDER BY {ix.key}",
                [q],
            ).fetchall()
            out[(ix.table, q)] = rows
    return out


def rebuilt_scores(path, tmp_path) -> dict:
    """The scores the extension's create_fts_index gives over the same rows, in a copy."""
    copy = tmp_path / "rebuilt.duckdb"
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
    con.execute(f"ATTACH '{copy}' AS dst")
    con.execute("COPY FROM DATABASE src TO dst")
    con.close()
    con = duckdb.connect(str(copy))
    try:
        load_fts(con)
        for ix in INDEXES:
            create_index(con, ix)
        return scores(con)
    finally:
        con.close()


def test_index_kept_up_to_date_scores_as_a_rebuild(con, tmp_path, seed_text):
    load(
        con,
        [
            ("a.txt", article("penguins", "Ann Keeper")),
            ("b.txt", article("giraffes", "Bob Ward")),
            ("seed.txt", seed_text),
        ],
    )
    # a changed file (same path, new text), a new one, one unchanged
    load(con, [("a.txt", article("giraffes", "Ann Keeper", "Penguins left.")), ("c.txt", article("lions", "Cy Young"))])
    # the same file again, its quotes now with another speaker (as a newer extractor might
    # give): same keys, new text to index
    load(con, [("b.txt", article("giraffes", "Bob Ward"))], speaker="Zed Keeper")
    got = scores(con)
    assert (
        got[("quotes", "keeper")]
        and got[("articles", "giraffes zoo")]
        and got[("quotes", "penguins")] == []
        and got[("articles", "penguins")]
    )
    assert got[("quotes", "incendiary")] and got[("quotes", "Kirby")]
    con.close()
    assert got == rebuilt_scores(tmp_path / "w.duckdb", tmp_path)


def test_full_refresh_empties_the_index_first(con, tmp_path):
    load(con, [("a.txt", article("penguins", "Ann Keeper")), ("b.txt", article("giraffes", "Bob Ward"))])
    load(con, [("a.txt", article("lions", "Ann Keeper"))], full_refresh=True)
    assert search(con, "giraffes") == [] and search(con, "penguins") == []
    assert {h.kind for h in search(con, "lions")} == {"quote", "article"}
    got = scores(con)
    con.close()
    assert got == rebuilt_scores(tmp_path / "w.duckdb", tmp_path)


def test_words_beside_curly_quotes_and_apostrophes_are_found(con):
    load(con, [("a.txt", "Zoo news\n\nLONDON - Kirby’s keepers called the plan “incendiary” on Monday.")])
    assert "article" in [h.kind for h in search(con, "incendiary")]
    assert "article" in [h.kind for h in search(con, "kirby")]


def test_an_index_from_an_older_version_is_rebuilt_once(con):
    load(con, [("a.txt", "Zoo news\n\nLONDON - Keepers called the plan “incendiary” on Monday.")])
    load_fts(con)
    # what older versions built: the extension's default word splitting keeps '“incendiary'
    con.execute("PRAGMA create_fts_index('articles', 'article_id', 'title', 'body', overwrite=1)")
    assert "article" not in [h.kind for h in search(con, "incendiary")]
    load(con, [("b.txt", article("lions", "Cy Young"))])
    assert "article" in [h.kind for h in search(con, "incendiary")]
