"""Full-text search over articles and quotes: BM25 indexes stored in the lake, in the same
commit as the rows they index.

The indexes have the layout of DuckDB's fts extension (schemas ``fts_main_articles`` and
``fts_main_quotes``, each with the tables ``docs``, ``terms``, ``dict``, ``stats``,
``fields`` and ``stopwords`` and the macros ``tokenize`` and ``match_bm25``), so SQL written
for the extension works on them unchanged, e.g. ``fts_main_quotes.match_bm25(quote_id,
'incendiary')``. The extension cannot build them in a DuckLake, though: its ``match_bm25``
macro has a NULL parameter default (``fields := NULL``), which a lake cannot store, so
``create_fts_index`` fails at commit with 'unsupported type "NULL"' (duckdb/ducklake#1211;
its tables, typed, would do). It could only rebuild from scratch anyway: 14 s at 21,000
articles, 57 s at 105,000, in every load, however few articles came in.

So the extension only supplies the definitions. :func:`ensure_indexes` has it build an index
over an empty table in a scratch in-memory DuckDB and creates the same things in the lake:
the schema, the tables with the column types the extension gave them, the macros with the
extension's own text and parameter defaults (save ``match_bm25``'s ``fields``: see
``NULL_FIELDS``), and the rows of ``fields`` and ``stopwords``. The lake keeps schemas,
tables and macros in its catalog, so every reader sees them, the DuckDB CLI included. Every
load then brings the indexes up to date inside the load transaction (:func:`sync_indexes`):
the documents of deleted or replaced rows leave them (their terms, and one off the document
frequency of each of their terms), the new rows are split into words exactly as the index's
``tokenize`` macro splits a query, stemmed with its stemmer and go in, and the collection
statistics are recomputed. The cost follows the rows
loaded, not the warehouse (measured, 2,095 BBC articles with their 8,647 quotes: 0.95 s into
an empty lake, 1.3 s into one of 21,000 articles; a first build of 21,000: 3.2 s, where
``create_fts_index`` takes 15 s in memory), and the scores are the ones ``create_fts_index``
gives over the same rows (a test compares them). An index that is missing, incomplete or
splits words otherwise is created empty, and the next sync fills it from all of its table's
rows: that is the rebuild.

A query needs the extension loaded (:func:`load_fts`), for the ``stem()`` that
``match_bm25`` calls, and the lake as the default catalog (``USE lake``, as
``warehouse.connection.connect`` does): like the extension's, the macros name their tables
without a catalog, and DuckDB resolves them in the caller's.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from warehouse.connection import every_core
from warehouse.extensions import ExtensionMissing, load, sql_string

#: The extension's default stemmer, used for the documents here and for queries by match_bm25.
STEMMER = "porter"
#: What separates words: anything but a letter (after accents are stripped and case folded).
#: The extension's built-in default keeps non-ASCII marks in words, so '“incendiary' and
#: 'Kirby’s' were words of their own that no query matched.
IGNORE = "[^a-z]+"
#: The extension's list of words left out of the index (571 English words, from SMART).
STOPWORDS = "english"
#: The words of a text exactly as the index's ``tokenize`` macro splits it (created with
#: ``IGNORE``), in one regex pass instead of a replace and a split: twice as fast.
WORDS = "regexp_split_to_array(lower(strip_accents(CAST({} AS VARCHAR))), '" + IGNORE + "')"
#: The tables and macros of an index, as the extension makes them.
INDEX_TABLES = ("dict", "docs", "fields", "stats", "stopwords", "terms")
INDEX_MACROS = ("match_bm25", "tokenize")


class SearchUnavailable(RuntimeError):
    """Search cannot run: the fts extension is not installed, or the warehouse has no index."""


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


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the fts extension (``stem()``, which ``match_bm25`` calls) from its wheel."""
    try:
        load(con, "fts")
    except ExtensionMissing as exc:
        raise SearchUnavailable(str(exc)) from exc


def create_index(con: duckdb.DuckDBPyConnection, ix: TextIndex) -> None:
    """Build one index from scratch with the extension, over the table as it stands, in the
    connection's default catalog. A DuckDB database only: the extension cannot write a lake."""
    fields = ", ".join(f"'{f}'" for f in ix.fields)
    con.execute(f"PRAGMA create_fts_index('{ix.table}', '{ix.key}', {fields}, stemmer='{STEMMER}', "
                f"ignore='{IGNORE}', stopwords='{STOPWORDS}', overwrite=1)")


@dataclass(frozen=True)
class IndexDefinition:
    """What the extension creates for one index, as SQL any catalog takes."""

    #: ``CREATE SCHEMA``, then ``CREATE TABLE`` with column types, then ``CREATE MACRO``.
    statements: tuple[str, ...]
    fields: tuple[tuple[int, str], ...]
    stopwords: tuple[str, ...]


@cache
def definition(ix: TextIndex) -> IndexDefinition:
    """The extension's index for ``ix``, taken from one it builds over an empty table in a
    scratch in-memory DuckDB: its DDL as ``EXPORT DATABASE`` writes it (the tables with their
    column types; the macros with the text ``duckdb_functions().macro_definition`` shows and
    the parameter defaults it does not show), and the rows of ``fields`` and ``stopwords``."""
    scratch = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                 "autoload_known_extensions": False})
    try:
        load_fts(scratch)
        columns = ", ".join(f'"{c}" VARCHAR' for c in (ix.key, *ix.fields))
        scratch.execute(f"CREATE TABLE {ix.table} ({columns})")
        create_index(scratch, ix)
        scratch.execute(f"DROP TABLE {ix.table}")  # the export is then the index alone
        with tempfile.TemporaryDirectory(prefix="newsetl-fts-") as folder:
            scratch.execute(f"EXPORT DATABASE '{sql_string(folder)}'")
            exported = (Path(folder) / "schema.sql").read_text(encoding="utf-8")
        statements = tuple(_storable(st.query.strip().rstrip(";").strip(), ix)
                           for st in scratch.extract_statements(exported))
        fields = tuple(scratch.execute(f"SELECT fieldid, field FROM {ix.schema}.fields ORDER BY fieldid").fetchall())
        stopwords = tuple(r[0] for r in scratch.execute(f"SELECT sw FROM {ix.schema}.stopwords").fetchall())
    finally:
        scratch.close()
    made = sorted(st.split("(")[0].split()[-1] for st in statements if not st.startswith("CREATE SCHEMA"))
    known = sorted(f"{ix.schema}.{name}" for name in (*INDEX_TABLES, *INDEX_MACROS))
    if statements[:1] != (f"CREATE SCHEMA {ix.schema}",) or made != known:
        raise RuntimeError(f"the fts extension {duckdb.__version__} made an index newsetl does not know: {statements}")
    return IndexDefinition(statements, fields, stopwords)


#: ``match_bm25``'s default for ``fields`` as the extension writes it: NULL, meaning all fields.
#: A lake cannot store a NULL default: the commit fails with 'unsupported type "NULL"'
#: (duckdb/ducklake#1211; this, not the tables, is why ``create_fts_index`` fails on a lake),
#: and a typed NULL comes back as the string 'NULL' (ducklake#1116).
NULL_FIELDS = "fields := NULL"


def _storable(sql: str, ix: TextIndex) -> str:
    """The extension's statement as a lake can store it: ``match_bm25`` defaults ``fields`` to
    the list of all the index's fields instead of NULL. Its body is unchanged and reads either
    as all fields, so a call without ``fields`` scores exactly as the extension's, and
    ``fields := NULL`` given explicitly still works."""
    head, sep, body = sql.partition(" AS ")
    head = head.replace(NULL_FIELDS, "fields := '" + ",".join(ix.fields) + "'")
    if ":= NULL" in head:
        raise RuntimeError(f"a NULL default cannot be stored in a lake: {head}")
    return head + sep + body


def ensure_indexes(con: duckdb.DuckDBPyConnection) -> None:
    """Create, in the connection's default catalog (the lake), the indexes it lacks, empty.

    Called inside the load's transaction before its inserts, so an index appears in the same
    commit as the rows the load's :func:`sync_indexes` then puts in it (all of its table's
    rows, for a new index). An index that is incomplete, or splits words otherwise than with
    ``IGNORE``, is dropped and created anew, and fills the same way."""
    load_fts(con)
    for ix in INDEXES:
        state = _state(con, ix)
        if state == "current":
            continue
        if state == "stale":
            con.execute(f"DROP SCHEMA {ix.schema} CASCADE")
        _create(con, ix)


#: An index's collection statistics, as the extension computes them (0 and NULL when empty).
STATS = "INSERT INTO {s}.stats SELECT count(docid), sum(len) / count(len) FROM {s}.docs"


def _create(con: duckdb.DuckDBPyConnection, ix: TextIndex) -> None:
    found = definition(ix)
    for sql in found.statements:
        con.execute(sql)
    s = ix.schema
    con.execute(f"INSERT INTO {s}.fields VALUES " + ", ".join(f"({i}, '{sql_string(f)}')" for i, f in found.fields))
    if found.stopwords:
        con.execute(f"INSERT INTO {s}.stopwords VALUES " + ", ".join(f"('{sql_string(w)}')" for w in found.stopwords))
    con.execute(STATS.format(s=s))


def _state(con: duckdb.DuckDBPyConnection, ix: TextIndex) -> str:
    """``current``, ``missing``, or ``stale``: incomplete, or words split otherwise (not with
    ``IGNORE``), in the connection's default catalog."""
    if ix.schema not in _schemas(con):
        return "missing"
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ?",
        [ix.schema]).fetchall()}
    macros = dict(con.execute(
        "SELECT function_name, macro_definition FROM duckdb_functions() "
        "WHERE database_name = current_database() AND schema_name = ? AND function_type = 'macro'",
        [ix.schema]).fetchall())
    current = (set(INDEX_TABLES) <= tables and set(INDEX_MACROS) <= set(macros)
               and f"'{IGNORE}'" in str(macros["tokenize"]))
    return "current" if current else "stale"


@dataclass(frozen=True)
class LoadDelta:
    """What a load changed in one indexed table, for an index known to have matched the
    table before it: ``gone``, a relation of the keys (column ``key``) of every row the load
    deleted, read before the delete; ``incoming``, a relation of the rows it inserted (the
    key and the indexed fields at least)."""

    gone: str
    incoming: str


def sync_indexes(con: duckdb.DuckDBPyConnection, replaced: str, reset: bool = False,
                 deltas: dict[str, LoadDelta] | None = None) -> None:
    """Bring both indexes up to date with their tables (see the module docstring), inside the
    caller's transaction, after :func:`ensure_indexes`.

    ``replaced`` is a query for the ``article_id`` of every article whose rows this load
    deleted and may have inserted again under the same keys; ``reset`` empties the indexes
    first (a full refresh, where every key may come back with new text). Working tables go in
    the connection's in-memory ``temp`` catalog, never in the lake.

    ``deltas`` (table -> :class:`LoadDelta`), when the caller knows that each index matched
    its table before the load (a checked load left both as they stand): the documents that
    leave are those of the deleted keys and the ones that come in are the inserted rows, read
    from the load's own rows. Otherwise every document is compared with every row of its
    table, which finds whatever differs, however it came to (0.11 s of anti-joins over the
    quotes alone at 100,000 articles, for 2,095 new ones)."""
    load_fts(con)
    for ix in INDEXES:
        _sync(con, ix, replaced, reset, None if reset or deltas is None else deltas[ix.table])


def keep_deleted_keys(con: duckdb.DuckDBPyConnection, replaced: str) -> dict[str, str]:
    """Before a load deletes the rows of the articles of ``replaced`` (a query for their
    ``article_id``): the keys of those rows in each indexed table, in ``temp`` tables (table ->
    relation with column ``key``), for :class:`LoadDelta`'s ``gone``. No table is read when no
    article is replaced (a load of new articles)."""
    none = not con.execute(f"SELECT count(*) FROM ({replaced})").fetchone()[0]
    out = {}
    for ix in INDEXES:
        name = f"temp.fts_gone_{ix.table}"
        where = "false" if none else f"article_id IN ({replaced})"
        con.execute(f"CREATE OR REPLACE TEMP TABLE fts_gone_{ix.table} AS SELECT {ix.key} AS key FROM {ix.table} "
                    f"WHERE {where}")
        out[ix.table] = name
    return out


def drop_deleted_keys(con: duckdb.DuckDBPyConnection) -> None:
    for ix in INDEXES:
        con.execute(f"DROP TABLE IF EXISTS temp.fts_gone_{ix.table}")


def _sync(con: duckdb.DuckDBPyConnection, ix: TextIndex, replaced: str, reset: bool, delta: LoadDelta | None) -> None:
    s, t, key = ix.schema, ix.table, ix.key
    if reset:
        stale = f"SELECT docid FROM {s}.docs"
    elif delta is not None:
        stale = f"SELECT docid FROM {s}.docs WHERE name IN (SELECT key FROM {delta.gone})"
    else:
        stale = f"""
        SELECT docid FROM {s}.docs d
        WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {t}.{key} = d.name)
           OR d.name IN (SELECT {key} FROM {t} WHERE article_id IN ({replaced}))"""
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
    # The inserted rows are new documents: every document of a key the load deleted has gone
    new = (f"FROM {delta.incoming}" if delta is not None else
           f"FROM {t} WHERE NOT EXISTS (SELECT 1 FROM {s}.docs d WHERE d.name = {t}.{key})")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fts_new AS
        SELECT (SELECT coalesce(max(docid) + 1, 0) FROM {s}.docs) + row_number() OVER () - 1 AS docid,
               {key} AS name
        {new}""")
    if con.execute("SELECT count(*) FROM fts_new").fetchone()[0]:
        rows = delta.incoming if delta is not None else _rows_of_new_docs(con, ix)
        words = " UNION ALL ".join(f"""
            SELECT n.docid, (SELECT fieldid FROM {s}.fields WHERE field = '{f}') AS fieldid,
                   unnest({WORDS.format(f'x."{f}"')}) AS w
            FROM fts_new n JOIN {rows} x ON x.{key} = n.name""" for f in ix.fields)
        # Each distinct word is stemmed once, not once per occurrence. The split is the one
        # statement of a load that runs twice as fast on two cores.
        with every_core(con):
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
    con.execute(STATS.format(s=s))
    con.execute("DROP TABLE fts_stale")
    con.execute("DROP TABLE fts_new")


def _rows_of_new_docs(con: duckdb.DuckDBPyConnection, ix: TextIndex) -> str:
    """The table's rows to read the text of the new documents from: for a table with a
    ``run_id`` (``articles``), those of the runs that wrote them, named as constants so that
    DuckDB skips the other runs' row groups by their statistics and reads only the bodies
    the load brought in (the join alone read every body: 0.2 s more at 100,000 articles).
    The same rows either way."""
    cols = {r[0] for r in con.execute(f"DESCRIBE {ix.table}").fetchall()}
    if "run_id" not in cols:
        return ix.table
    runs = [r for (r,) in con.execute(
        f"SELECT DISTINCT run_id FROM {ix.table} WHERE {ix.key} IN (SELECT name FROM fts_new)").fetchall()]
    if not runs or len(runs) > 100 or None in runs:
        return ix.table
    listed = ", ".join(f"'{sql_string(r)}'" for r in runs)
    return f"(SELECT * FROM {ix.table} WHERE run_id IN ({listed}))"


def _schemas(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()").fetchall()}


def has_index(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the default catalog holds both indexes, complete and current."""
    return all(_state(con, ix) == "current" for ix in INDEXES)


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
