"""Full-text search over article bodies and quotes with DuckDB's fts extension, offline.

The DuckDB 1.5 wheel cannot download extensions here, so the extension comes from the PyPI
package ``duckdb-extension-fts`` (pinned to the same DuckDB version) and is loaded from its
path.

The BM25 indexes are the extension's own (schemas ``fts_main_articles`` and
``fts_main_quotes``: tables ``docs``, ``terms``, ``dict``, ``stats`` and the macros
``tokenize`` and ``match_bm25``), so SQL written for the extension works on them. But
``create_fts_index`` can only rebuild an index from scratch: 14 s at 21,000 articles, 57 s at
105,000, in every load, however few articles came in. So the extension creates each index
once, while its table is still empty, and every load then brings it up to date inside the
load transaction: the documents of deleted or replaced rows leave it (their terms, and one off
the document frequency of each of their terms), the new rows are split into words exactly as
the index's ``tokenize`` macro splits a query, stemmed with its stemmer and go in, and the
collection statistics are recomputed.
The cost follows the rows loaded, not the warehouse, and the scores are the ones a rebuild
would give (a test compares them with ``create_fts_index``'s on the same rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

#: The extension's default stemmer, used for the documents here and for queries by match_bm25.
STEMMER = "porter"
#: What separates words: anything but a letter (after accents are stripped and case folded).
#: The extension's built-in default keeps non-ASCII marks in words, so '“incendiary' and
#: 'Kirby’s' were words of their own that no query matched.
IGNORE = "[^a-z]+"
#: The words of a text exactly as the index's ``tokenize`` macro splits it (created with
#: ``IGNORE``), in one regex pass instead of a replace and a split: twice as fast.
WORDS = "regexp_split_to_array(lower(strip_accents(CAST({} AS VARCHAR))), '" + IGNORE + "')"


class SearchUnavailable(RuntimeError):
    """The fts extension is not installed for this DuckDB version."""


@dataclass(frozen=True)
class TextIndex:
    """One BM25 index: the table, its key (the document name) and the fields indexed."""

    table: str
    key: str
    fields: tuple[str, ...]

    @property
    def schema(self) -> str:
        return f"fts_main_{self.table}"


INDEXES = (TextIndex("articles", "article_id", ("title", "body")),
           TextIndex("quotes", "quote_id", ("text", "speaker", "speaker_text")))


@cache
def fts_extension_path() -> str:
    import duckdb_extension_fts

    root = Path(duckdb_extension_fts.__file__).parent / "extensions"
    wanted = root / f"v{duckdb.__version__}" / "fts.duckdb_extension"
    if wanted.exists():
        return str(wanted)
    found = sorted(root.glob("*/fts.duckdb_extension"))
    if not found:
        raise SearchUnavailable(f"no fts extension under {root}: reinstall duckdb-extension-fts=={duckdb.__version__}")
    return str(found[-1])


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"LOAD '{fts_extension_path()}'")


def create_index(con: duckdb.DuckDBPyConnection, ix: TextIndex) -> None:
    """Build one index from scratch with the extension (over the table as it stands)."""
    fields = ", ".join(f"'{f}'" for f in ix.fields)
    con.execute(f"PRAGMA create_fts_index('{ix.table}', '{ix.key}', {fields}, stemmer='{STEMMER}', "
                f"ignore='{IGNORE}', overwrite=1)")


def ensure_indexes(con: duckdb.DuckDBPyConnection) -> None:
    """Create the indexes a warehouse lacks. Called before a load inserts its rows, so a new
    warehouse's indexes are built over empty tables, at no cost."""
    load_fts(con)
    have = _schemas(con)
    for ix in INDEXES:
        if ix.schema not in have or not _current(con, ix):
            create_index(con, ix)


def _current(con: duckdb.DuckDBPyConnection, ix: TextIndex) -> bool:
    """Whether an index splits words with ``IGNORE`` (one built by an older newsetl, with the
    extension's default, is rebuilt once)."""
    found = con.execute("SELECT macro_definition FROM duckdb_functions() WHERE schema_name = ? "
                        "AND function_name = 'tokenize'", [ix.schema]).fetchone()
    return found is not None and f"'{IGNORE}'" in str(found[0])


def sync_indexes(con: duckdb.DuckDBPyConnection, replaced: str, reset: bool = False) -> None:
    """Bring both indexes up to date with their tables (see the module docstring).

    ``replaced`` is a query for the ``article_id`` of every article whose rows this load
    deleted and may have inserted again under the same keys; ``reset`` empties the indexes
    first (a full refresh, where every key may come back with new text)."""
    load_fts(con)
    for ix in INDEXES:
        _sync(con, ix, replaced, reset)


def _sync(con: duckdb.DuckDBPyConnection, ix: TextIndex, replaced: str, reset: bool) -> None:
    s, t, key = ix.schema, ix.table, ix.key
    stale = (f"SELECT docid FROM {s}.docs" if reset else f"""
        SELECT docid FROM {s}.docs d
        WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {t}.{key} = d.name)
           OR d.name IN (SELECT {key} FROM {t} WHERE article_id IN ({replaced}))""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE fts_stale AS {stale}")
    if con.execute("SELECT count(*) FROM fts_stale").fetchone()[0]:
        con.execute(f"""
            UPDATE {s}.dict SET df = {s}.dict.df - x.n
            FROM (SELECT termid, count(DISTINCT docid) AS n FROM {s}.terms
                  WHERE docid IN (SELECT docid FROM fts_stale) GROUP BY termid) AS x
            WHERE {s}.dict.termid = x.termid""")
        con.execute(f"DELETE FROM {s}.terms WHERE docid IN (SELECT docid FROM fts_stale)")
        con.execute(f"DELETE FROM {s}.docs WHERE docid IN (SELECT docid FROM fts_stale)")
        con.execute(f"DELETE FROM {s}.dict WHERE df <= 0")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fts_new AS
        SELECT (SELECT coalesce(max(docid) + 1, 0) FROM {s}.docs) + row_number() OVER () - 1 AS docid,
               {key} AS name
        FROM {t} WHERE NOT EXISTS (SELECT 1 FROM {s}.docs d WHERE d.name = {t}.{key})""")
    if con.execute("SELECT count(*) FROM fts_new").fetchone()[0]:
        words = " UNION ALL ".join(f"""
            SELECT n.docid, (SELECT fieldid FROM {s}.fields WHERE field = '{f}') AS fieldid,
                   unnest({WORDS.format(f'x."{f}"')}) AS w
            FROM fts_new n JOIN {t} x ON x.{key} = n.name""" for f in ix.fields)
        # Each distinct word is stemmed once, not once per occurrence.
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE fts_tokens AS
            WITH words AS ({words}),
            stems AS (SELECT w, stem(w, '{STEMMER}') AS term FROM (SELECT DISTINCT w FROM words)
                      WHERE len(w) > 0 AND w NOT IN (SELECT sw FROM {s}.stopwords))
            SELECT docid, fieldid, term FROM words JOIN stems USING (w)""")
        con.execute(f"""
            INSERT INTO {s}.docs (docid, name, len)
            SELECT n.docid, n.name, coalesce(k.len, 0)
            FROM fts_new n LEFT JOIN (SELECT docid, count(*) AS len FROM fts_tokens GROUP BY docid) k USING (docid)""")
        # Document frequencies: added to the terms already known, new terms inserted with theirs.
        con.execute("CREATE OR REPLACE TEMP TABLE fts_df AS "
                    "SELECT term, count(DISTINCT docid) AS n FROM fts_tokens GROUP BY term")
        con.execute(f"UPDATE {s}.dict SET df = {s}.dict.df + x.n FROM fts_df AS x WHERE {s}.dict.term = x.term")
        con.execute(f"""
            INSERT INTO {s}.dict (termid, term, df)
            SELECT (SELECT coalesce(max(termid) + 1, 0) FROM {s}.dict) + row_number() OVER (ORDER BY term) - 1,
                   term, n
            FROM fts_df WHERE term NOT IN (SELECT term FROM {s}.dict)""")
        con.execute(f"""
            INSERT INTO {s}.terms (docid, fieldid, termid)
            SELECT k.docid, k.fieldid, d.termid FROM fts_tokens k JOIN {s}.dict d USING (term)""")
        con.execute("DROP TABLE fts_tokens")
        con.execute("DROP TABLE fts_df")
    con.execute(f"DELETE FROM {s}.stats")
    con.execute(f"INSERT INTO {s}.stats SELECT count(docid), sum(len) / count(len) FROM {s}.docs")
    con.execute("DROP TABLE fts_stale")
    con.execute("DROP TABLE fts_new")


def _schemas(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}


def has_index(con: duckdb.DuckDBPyConnection) -> bool:
    return {ix.schema for ix in INDEXES} <= _schemas(con)


@dataclass(frozen=True)
class Hit:
    kind: str  # quote or article
    score: float
    title: str | None
    speaker: str | None
    text: str
    article_id: str
    source_path: str


SEARCH_SQL = """
WITH q AS (
    SELECT 'quote' AS kind, fts_main_quotes.match_bm25(quote_id, $query) AS score, a.title,
           coalesce(q.speaker, q.speaker_text) AS speaker, q.text, q.article_id, a.source_path
    FROM quotes q JOIN articles a USING (article_id)
), a AS (
    SELECT 'article' AS kind, fts_main_articles.match_bm25(article_id, $query) AS score, title,
           NULL AS speaker, left(body, 300) AS text, article_id, source_path
    FROM articles
)
SELECT * FROM (SELECT * FROM q UNION ALL SELECT * FROM a)
WHERE score IS NOT NULL
ORDER BY score DESC, kind DESC
LIMIT $limit
"""


def search(con: duckdb.DuckDBPyConnection, query: str, limit: int = 10) -> list[Hit]:
    """Best-matching quotes and articles for ``query`` (BM25, stemmed English)."""
    load_fts(con)
    if not has_index(con):
        raise SearchUnavailable("this warehouse has no search index yet: run `newsetl run` to build it")
    rows = con.execute(SEARCH_SQL, {"query": query, "limit": limit}).fetchall()
    return [Hit(*r) for r in rows]
