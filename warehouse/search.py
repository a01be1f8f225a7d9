"""Full-text search over article bodies and quotes with DuckDB's fts extension, offline.

The DuckDB 1.5 wheel cannot download extensions here, so the extension comes from the PyPI
package ``duckdb-extension-fts`` (pinned to the same DuckDB version) and is loaded from its
path. The BM25 indexes (schemas ``fts_main_articles`` and ``fts_main_quotes``) are rebuilt
inside every load transaction, so they always match the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb


class SearchUnavailable(RuntimeError):
    """The fts extension is not installed for this DuckDB version."""


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


def rebuild_index(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the BM25 indexes of articles (title, body) and quotes (text, speaker)."""
    load_fts(con)
    con.execute("PRAGMA create_fts_index('articles', 'article_id', 'title', 'body', overwrite=1)")
    con.execute("PRAGMA create_fts_index('quotes', 'quote_id', 'text', 'speaker', 'speaker_text', overwrite=1)")


def has_index(con: duckdb.DuckDBPyConnection) -> bool:
    names = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    return {"fts_main_articles", "fts_main_quotes"} <= names


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
