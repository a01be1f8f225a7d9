"""The expectation suites: what every table must satisfy, and how bad a failure is.

Each :class:`Check` names a Great Expectations expectation class and its arguments, with a
severity:

- ``critical`` blocks the load: the run fails with the reason and examples, and the warehouse
  stays exactly as it was. For defects no single article explains: duplicate keys, rows
  pointing at no article, a broken warehouse invariant, too many articles quarantined.
- ``quarantine`` is a row-level critical check: the failing rows' articles are set aside in
  the ``quarantine`` table (every row as JSON, with the reason) and the other articles load.
  One odd article should not hold back a day of wire copy, and nothing is lost: the file is
  retried by the next run. If more than :data:`MAX_QUARANTINED_SHARE` of a run's articles
  would be set aside, the extractor itself is broken and the run is blocked instead.
- ``warning`` lets the load go on; the report and the run summary say what and how many.

Checks that GX cannot state directly on one frame
(an offset slicing the body to exactly the mention's text, a quote pointing at an existing
article) are computed first as derived columns (``prepare_*``) that GX then validates, so
every verdict is a real GX result and lands in Data Docs.

Suites ``articles``, ``mentions`` and ``quotes`` run on the frames before the load;
``entities`` and ``warehouse`` run inside the load transaction on the final state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from transforms import vocab
from transforms.schema import ARTICLES, DATA_TABLES, ENTITIES, MENTIONS, QUOTES, Column, Table
from transforms.vocab import CRITICAL, QUARANTINE, SEVERITIES, SPEAKER_CHECK, WARNING

__all__ = ["CRITICAL", "QUARANTINE", "SEVERITIES", "SPEAKER_CHECK", "WARNING"]

#: Above this share of a run's articles quarantined, the run is blocked (the extractor is broken).
MAX_QUARANTINED_SHARE = 0.10
#: Fewer articles than this make the quarantined share meaningless (1 of 2 is not "half broken").
MIN_ARTICLES_FOR_SHARE = 20
#: A run's share of quotes without speaker may exceed its recent median by this much.
MAX_UNATTRIBUTED_JUMP = 0.15
#: Fewer quotes than this in a run make its unattributed share too noisy to compare.
MIN_QUOTES_FOR_TREND = 30
#: The key column of each frame suite: what a quarantined row is named by.
ROW_KEYS: dict[str, str] = {t.name: t.key[0] for t in DATA_TABLES}
#: An article this long with no mention at all points at a broken extractor.
LONG_ARTICLE_WORDS = 200
#: Longer than any real headline (the longest in the BBC and PolNeAR sets is under 150).
MAX_TITLE_CHARS = 250
#: Where a run's frames hold each referenced key: entities are derived from the mentions, so
#: within a run an entity exists when some mention names it.
FRAME_KEYS: dict[str, tuple[str, str]] = {"articles.article_id": ("articles", "article_id"),
                                          "entities.entity_id": ("mentions", "entity_id")}


@dataclass(frozen=True)
class Check:
    """One expectation of one suite."""

    name: str
    expectation: str  # GX expectation class in great_expectations.expectations
    kwargs: dict = field(default_factory=dict)
    severity: vocab.Severity = CRITICAL
    description: str = ""
    #: For a run-level check: the metric (a row of :func:`run_metrics`) it judges.
    metric: str = ""

    @property
    def column(self) -> str:
        return str(self.kwargs.get("column", ""))


def reference_flag(column: Column) -> str:
    """The derived boolean column saying a row's reference resolves (``_article_exists``)."""
    return f"_{column.name.removesuffix('_id')}_exists"


def frame_references(table: Table) -> list[Column]:
    """The columns of a frame table whose references can be checked within a run's frames
    (a mention's entity is defined by the mention itself, so that one cannot fail there)."""
    return [c for c in table.columns
            if c.references is not None and FRAME_KEYS[c.references] != (table.name, c.name)]


def declared_checks(table: Table) -> list[Check]:
    """The checks a table's declaration implies: key and unique columns unique, required
    columns filled, vocabularies respected, references resolved.

    Severity follows what can be set aside. In a frame suite the unit of quarantine is the
    article, so a row without its key or its article cannot be set aside: those checks are
    critical, and every other failure quarantines the row's article. ``entities`` is checked
    inside the load, where there is no article to set aside: all its checks are critical.
    """
    frame_suite = table.name in ROW_KEYS

    def severity(column: str) -> vocab.Severity:
        return QUARANTINE if frame_suite and column not in {*table.key, "article_id"} else CRITICAL

    out = []
    if table.row_key is not None:
        k = table.row_key
        out.append(Check(f"{k} unique", "ExpectColumnValuesToBeUnique", {"column": k},
                         description=f"every {table.name} row has its own {k}"))
    out += [Check(f"{c.name} unique", "ExpectColumnValuesToBeUnique", {"column": c.name},
                  description=f"no two {table.name} rows share a {c.name}") for c in table.columns if c.unique]
    out += [Check(f"{c} not null", "ExpectColumnValuesToNotBeNull", {"column": c}, severity(c), f"{c} is always filled")
            for c in table.required]
    out += [Check(f"{c.name} allowed", "ExpectColumnValuesToBeInSet", {"column": c.name, "value_set": list(c.allowed)},
                  severity(c.name), f"{c.name} is one of: {', '.join(c.allowed)}")
            for c in table.columns if c.allowed]
    if frame_suite:
        out += [Check(f"{reference_flag(c).strip('_').replace('_', ' ')}", "ExpectColumnValuesToBeInSet",
                      {"column": reference_flag(c), "value_set": [True]}, severity(c.name),
                      f"{c.name} is {'NULL or ' if c.nullable else ''}a {c.target[0]} row of the run "
                      f"({c.references})")
                for c in frame_references(table)]
    return out


def _offsets(prefix: str = "") -> list[Check]:
    return [
        Check("char_start >= 0", "ExpectColumnValuesToBeBetween", {"column": "char_start", "min_value": 0},
              QUARANTINE),
        Check("char_end > char_start", "ExpectColumnPairValuesAToBeGreaterThanB",
              {"column_A": "char_end", "column_B": "char_start"}, QUARANTINE),
        Check("offsets slice the text", "ExpectColumnValuesToBeInSet",
              {"column": "_offset_matches", "value_set": [True]}, QUARANTINE,
              f"substr({prefix or 'field'}, char_start + 1, char_end - char_start) = text"),
    ]


SUITES: dict[str, list[Check]] = {
    "articles": [
        *declared_checks(ARTICLES),
        Check("content_sha256 is a sha256", "ExpectColumnValuesToMatchRegex",
              {"column": "content_sha256", "regex": "^[0-9a-f]{64}$"}, QUARANTINE),
        Check("word_count positive", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": 1, "max_value": 500_000}, QUARANTINE,
              "an article has 1 to 500,000 words: none means no body was found, more is no news article "
              "(a dump, a log, one line of megabytes)"),
        Check("paragraph_count positive", "ExpectColumnValuesToBeBetween",
              {"column": "paragraph_count", "min_value": 1}, QUARANTINE),
        Check("title shorter than any real headline", "ExpectColumnValueLengthsToBeBetween",
              {"column": "title", "max_value": MAX_TITLE_CHARS}, WARNING,
              "a longer title means the parser took a paragraph for the title"),
        Check("long articles name someone", "ExpectColumnValuesToBeInSet",
              {"column": "_long_without_mentions", "value_set": [False]}, WARNING,
              f"an article of {LONG_ARTICLE_WORDS}+ words with no mention at all points at a broken extractor"),
        Check("quotes per article within bounds", "ExpectColumnValuesToBeBetween",
              {"column": "_quotes", "min_value": 0, "max_value": 400}, WARNING),
        Check("mentions per article within bounds", "ExpectColumnValuesToBeBetween",
              {"column": "_mentions", "min_value": 0, "max_value": 5000}, WARNING),
    ],
    "mentions": [
        *declared_checks(MENTIONS),
        *_offsets(),
        Check("body mentions have a paragraph", "ExpectColumnValuesToBeInSet",
              {"column": "_paragraph_ok", "value_set": [True]}, QUARANTINE,
              "paragraph_index is set for body mentions and inside the article"),
    ],
    "quotes": [
        *declared_checks(QUOTES),
        *_offsets("body"),
        Check("paragraph inside article", "ExpectColumnValuesToBeInSet",
              {"column": "_paragraph_ok", "value_set": [True]}, QUARANTINE),
        Check(SPEAKER_CHECK, "ExpectColumnValuesToNotBeNull",
              {"column": "speaker", "mostly": 0.6}, WARNING,
              "a drop in attributed quotes points at a broken attribution step"),
        Check("quote word count sane", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": 1, "max_value": 2000}, WARNING),
    ],
}


def entity_checks(keys_enforced: bool, not_null_enforced: bool = True) -> list[Check]:
    """The ``entities`` suite, run on the table inside the load.

    A store that enforces the declared key (a DuckDB file's PRIMARY KEY) or NOT NULL refuses a
    duplicate or a NULL at insert, so those declared checks could never fail on the table read
    back from it and are left out. On a store without keys (a lakehouse) the key check is what
    guards the table.
    """
    guaranteed = {"ExpectColumnValuesToBeUnique": keys_enforced, "ExpectColumnValuesToNotBeNull": not_null_enforced}
    declared = [c for c in declared_checks(ENTITIES) if not guaranteed.get(c.expectation, False)]
    return [
        *declared,
        Check("mention_count positive", "ExpectColumnValuesToBeBetween",
              {"column": "mention_count", "min_value": 1}),
        Check("article_count within mentions", "ExpectColumnPairValuesAToBeGreaterThanB",
              {"column_A": "mention_count", "column_B": "article_count", "or_equal": True}),
    ]


#: Warehouse-wide invariants that no declaration states; each SQL selects one ``example`` per
#: row that breaks it (expected: none).
CONTENT_INVARIANTS: dict[str, tuple[vocab.Severity, str]] = {
    "quote offsets slice body": (CRITICAL, """
        SELECT a.source_path || ': quote ' || q.quote_id AS example FROM quotes q JOIN articles a USING (article_id)
        WHERE substr(a.body, q.char_start + 1, q.char_end - q.char_start) IS DISTINCT FROM q.text"""),
    "body mention offsets slice body": (CRITICAL, """
        SELECT a.source_path || ': mention ' || m.mention_id AS example
        FROM mentions m JOIN articles a USING (article_id)
        WHERE m.field = 'body'
          AND substr(a.body, m.char_start + 1, m.char_end - m.char_start) IS DISTINCT FROM m.text"""),
    # every article but the first (by path) of each body held more than once; grouped by the
    # body's stored sha256, not the body: reading and hashing every body took 0.3 s at 100,000
    # articles, in every load
    "no duplicated bodies": (WARNING, """
        SELECT unnest(list(source_path ORDER BY source_path)[2:]) || ' repeats ' || min(source_path) AS example
        FROM articles GROUP BY body_sha256 HAVING count(*) > 1"""),
}

#: The tables the warehouse suite checks: what analysts query.
WAREHOUSE_TABLES: tuple[Table, ...] = (ARTICLES, MENTIONS, ENTITIES, QUOTES)


def _unique_sql(table: Table, column: str, scoped: bool = False, runs: Sequence[str] = ()) -> str:
    """One row per value held by more than one row (a hash aggregate: cheaper than numbering
    every row of the table in a window); ``scoped``: of the values the rows of the load's
    articles hold (``LOAD_SCOPE``; ``runs``: see ``_in_scope``)."""
    where = (f"\n        WHERE {column} IN (SELECT {column} FROM {table.name} WHERE {_in_scope(table, runs=runs)})"
             if scoped else "")
    return f"""
        SELECT {column} AS example FROM {table.name}{where} GROUP BY {column} HAVING count(*) > 1"""


def _key_columns(table: Table, enforced: bool) -> list[str]:
    """The columns that must be unique: the declared unique ones, and the row key where the
    store does not enforce it."""
    keys = [table.row_key] if not enforced and table.row_key is not None else []
    return keys + [c.name for c in table.columns if c.unique]


def _reference_sql(table: Table, column: Column, scope: str | None = None) -> str:
    """One row per row whose ``column`` points at no row of its target; ``scope``: of the rows
    that predicate selects only."""
    target, target_col = column.target
    key = table.row_key or table.key[0]
    where = f"{scope} AND " if scope else ""
    return f"""
        SELECT {key} || ' -> {column.name} ' || {column.name} AS example FROM {table.name}
        WHERE {where}{column.name} IS NOT NULL AND {column.name} NOT IN (SELECT {target_col} FROM {target})"""


#: Temp tables a load leaves for the warehouse suite (``warehouse.loader``): ``load_scope``
#: lists the article_id of every article, mention and quote the load wrote and of every
#: article it deleted; ``load_basis``
#: names the run whose load, checked, left every other row as it stands. Absent: the load
#: knows of no such run, and every check judges the whole warehouse.
LOAD_SCOPE = "load_scope"
LOAD_BASIS = "load_basis"
#: And ``load_gone_entities``: the entity_id of every entity row the load removed.
LOAD_GONE = "load_gone_entities"
def _in_scope(table: Table, alias: str = "", runs: Sequence[str] = ()) -> str:
    """The rows of ``table`` that belong to the load's articles.

    ``runs``: the ``run_id`` of every row the load wrote or deleted in a table that carries one
    below ``articles`` (``mentions``, ``quotes``): named as constants, they let DuckDB skip every other
    run's data files by their statistics instead of reading the whole ``article_id`` column
    (0.35 s of the checks at 100,000 articles). What that leaves out is a row of an article the
    load neither wrote nor deleted that the load did not write either: as the checked basis
    left it, and so as it was when the checks passed. Not ``articles`` itself: an article the
    load did not write is in the scope as what a row it wrote points at, whichever run wrote
    the article (its bodies are pruned by ``articles_run`` instead)."""
    scope = f"{alias}article_id IN (SELECT article_id FROM {LOAD_SCOPE})"
    if runs and "run_id" in table.names and table is not ARTICLES:
        listed = ", ".join("'" + r.replace("'", "''") + "'" for r in runs)
        scope = f"{alias}run_id IN ({listed}) AND {scope}"
    return scope


def scoped_invariants(articles_run: str | None = None, keys_enforced: bool = False,
                      runs: Sequence[str] = (), entities_gone: bool | None = None) -> dict[str, str]:
    """The content invariants that judge only the rows of the load's articles (``LOAD_SCOPE``)
    when the same check passed on the rows the basis left: the SQL of each finds exactly the
    violations (and the examples) the whole-warehouse SQL of :func:`warehouse_invariants` finds
    there. It can, because a load replaces an article with all of its rows: a quote or mention
    outside the scope, and the article body it slices, are as they were when the basis passed
    the check, so an offset broken now is one of a row the load wrote.

    ``articles_run``: the ``run_id`` that every article of the scope carries, if the load knows
    one; the bodies are then read from that run's data files only, not from every article's.
    ``runs``: the ``run_id`` of every row of the scope in the tables that carry one, if the load
    knows them (``_in_scope``).

    So it is with the keys and the references to ``articles`` of the tables whose rows belong
    to an article (:func:`_scoped_keys`), and, where the load lists the entities it removed
    (``entities_gone``: whether it removed any; None: it does not say), with the references to
    ``entities`` (:func:`_scoped_entity_references`). The warning on duplicated bodies judges
    the whole warehouse (it counts what the basis kept too).
    """
    bodies = "articles" if articles_run is None else (
        "(SELECT * FROM articles WHERE run_id = '" + articles_run.replace("'", "''") + "')")
    entity_refs = {} if entities_gone is None else _scoped_entity_references(runs, entities_gone)
    return _scoped_keys(keys_enforced, runs) | entity_refs | {
        "quote offsets slice body": f"""
        SELECT a.source_path || ': quote ' || q.quote_id AS example FROM quotes q JOIN {bodies} a USING (article_id)
        WHERE {_in_scope(QUOTES, "q.", runs)} AND {_in_scope(ARTICLES, "a.", runs)}
          AND substr(a.body, q.char_start + 1, q.char_end - q.char_start) IS DISTINCT FROM q.text""",
        "body mention offsets slice body": f"""
        SELECT a.source_path || ': mention ' || m.mention_id AS example
        FROM mentions m JOIN {bodies} a USING (article_id)
        WHERE m.field = 'body' AND {_in_scope(MENTIONS, "m.", runs)} AND {_in_scope(ARTICLES, "a.", runs)}
          AND substr(a.body, m.char_start + 1, m.char_end - m.char_start) IS DISTINCT FROM m.text""",
    }


def _scoped_keys(enforced: bool, runs: Sequence[str] = ()) -> dict[str, str]:
    """Key and ``articles`` reference checks over the rows of the load's articles, for the
    tables whose rows each belong to one (``article_id``). Exact: the basis held no duplicate
    and no row pointing nowhere, so a duplicate now has a row the load wrote, and a row pointing
    nowhere is one the load wrote or one of an article it deleted, all of them in the scope.
    Each still reads one column of the whole table, but groups or probes only the scope's keys:
    the whole-table ``GROUP BY`` of ``mention_id`` took 0.5 s at 100,000 articles."""
    out: dict[str, str] = {}
    for t in WAREHOUSE_TABLES:
        if "article_id" not in t.names:
            continue
        for col in _key_columns(t, enforced):
            out[f"{t.name}.{col} unique"] = _unique_sql(t, col, scoped=True, runs=runs)
        for c in t.columns:
            if c.references is not None and c.target[0] == "articles":
                out[f"{t.name}.{c.name} points at articles"] = _reference_sql(t, c, _in_scope(t, runs=runs))
    return out


def _scoped_entity_references(runs: Sequence[str], gone: bool) -> dict[str, str]:
    """The references to ``entities`` over the rows of the load's articles, and, if the load
    removed an entity row (``gone``), over the rows that point at one it removed (``LOAD_GONE``).
    Exact: the basis held no row pointing nowhere, and an entity row goes only in a load (the
    loader removes one whose mentions all went), so a row pointing nowhere now is one the load
    wrote or one that points at an entity it removed. The whole-warehouse anti-join probed every
    mention against every entity: 0.19 s at 100,000 articles."""
    out: dict[str, str] = {}
    for t in WAREHOUSE_TABLES:
        if "article_id" not in t.names:
            continue
        for c in t.columns:
            if c.references is not None and c.target[0] == "entities":
                scope = _in_scope(t, runs=runs)
                if gone:
                    scope = f"({scope} OR {c.name} IN (SELECT entity_id FROM {LOAD_GONE}))"
                out[f"{t.name}.{c.name} points at entities"] = _reference_sql(t, c, scope)
    return out


def warehouse_invariants(enforced: bool) -> dict[str, tuple[vocab.Severity, str]]:
    """Warehouse-wide invariants, all critical but the content ones that say otherwise.

    Derived from the declarations: unique columns unique, and every reference resolved, on the
    final state of the warehouse inside the load (a frame check only sees its own run). Keys
    are checked only where the store does not enforce them (``enforced``: a DuckDB file's
    PRIMARY KEY refuses a duplicate at insert, so that check could never fail there).
    """
    out: dict[str, tuple[vocab.Severity, str]] = {}
    for t in WAREHOUSE_TABLES:
        for col in _key_columns(t, enforced):
            out[f"{t.name}.{col} unique"] = (CRITICAL, _unique_sql(t, col))
    for t in WAREHOUSE_TABLES:
        for c in t.columns:
            if c.references is not None:
                out[f"{t.name}.{c.name} points at {c.target[0]}"] = (CRITICAL, _reference_sql(t, c))
    return out | CONTENT_INVARIANTS


def _metric_check(name: str, metric: str, column: str, severity: vocab.Severity, description: str,
                  **bounds: float) -> Check:
    return Check(name, "ExpectColumnValuesToBeBetween",
                 {"column": column, **bounds, "row_condition": f'metric=="{metric}"', "condition_parser": "pandas"},
                 severity, description, metric)


#: Run-level checks on the frame of :func:`run_metrics` (one row per metric).
RUN_CHECKS: list[Check] = [
    _metric_check("quarantined share of articles", "quarantined_share", "value", CRITICAL,
                  f"more than {MAX_QUARANTINED_SHARE:.0%} of the run's articles (of at least "
                  f"{MIN_ARTICLES_FOR_SHARE}) failing row-level checks means the extractor is broken: "
                  "block rather than quarantine", min_value=0,
                  max_value=MAX_QUARANTINED_SHARE),
    _metric_check("share of quotes without speaker steady", "unattributed_quote_share", "jump", WARNING,
                  f"the run's share of quotes without speaker is at most {MAX_UNATTRIBUTED_JUMP:.0%} points above "
                  "the median of the last completed runs (a jump points at a broken attribution step)",
                  max_value=MAX_UNATTRIBUTED_JUMP),
]


def run_metrics(articles: int, quarantined: int, quotes: int, unattributed: int,
                unattributed_baseline: float | None) -> pl.DataFrame:
    """The run's metrics with their baseline from earlier runs. A value is NULL (GX skips
    NULLs) when the run is too small for it to mean anything; ``jump`` is NULL when either side
    is unknown."""
    share = unattributed / quotes if quotes >= MIN_QUOTES_FOR_TREND else None
    jump = share - unattributed_baseline if share is not None and unattributed_baseline is not None else None
    return pl.DataFrame(
        {"metric": ["quarantined_share", "unattributed_quote_share"],
         "value": [quarantined / articles if articles >= MIN_ARTICLES_FOR_SHARE else None, share],
         "baseline": [None, unattributed_baseline],
         "jump": [None, jump]},
        schema={"metric": pl.Utf8, "value": pl.Float64, "baseline": pl.Float64, "jump": pl.Float64})


def warehouse_checks(invariants: dict[str, tuple[vocab.Severity, str]]) -> list[Check]:
    """One GX check per invariant, each on its own row of the invariants frame."""
    return [
        Check(name, "ExpectColumnValuesToBeBetween",
              {"column": "violations", "min_value": 0, "max_value": 0,
               "row_condition": f'check=="{name}"', "condition_parser": "pandas"},
              severity, "no row of: " + " ".join(sql.split()))
        for name, (severity, sql) in invariants.items()
    ]


def with_reference_flags(df: pl.DataFrame, table: Table, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Add the boolean column of each of the table's references that a run's frames can check
    (:func:`frame_references`): true when the row's value is NULL (if allowed) or a key the
    run holds. ``frames``: the run's frames by table name."""
    flags = []
    for c in frame_references(table):
        source, column = FRAME_KEYS[c.references or ""]
        known = frames[source].get_column(column).unique().implode()
        ok = pl.col(c.name).is_in(known)
        flags.append((pl.col(c.name).is_null() | ok if c.nullable else ok).fill_null(False).alias(reference_flag(c)))
    return df.with_columns(flags) if flags else df


def _slice_matches(df: pl.DataFrame, text_col: str) -> pl.Expr:
    length = pl.col("char_end") - pl.col("char_start")
    return (pl.col(text_col).str.slice(pl.col("char_start"), length) == pl.col("text")).fill_null(False)


def prepare_articles(articles: pl.DataFrame, mentions: pl.DataFrame, quotes: pl.DataFrame) -> pl.DataFrame:
    n_m = mentions.group_by("article_id").len("_mentions")
    n_q = quotes.group_by("article_id").len("_quotes")
    return (
        articles.join(n_m, on="article_id", how="left").join(n_q, on="article_id", how="left")
        .with_columns(pl.col("_mentions").fill_null(0), pl.col("_quotes").fill_null(0))
        .with_columns(_long_without_mentions=(pl.col("word_count") >= LONG_ARTICLE_WORDS) & (pl.col("_mentions") == 0))
    )


def prepare_mentions(mentions: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    # One row per (article, field) joined on both keys: a when/then choosing among title,
    # standfirst and body would copy the body into every mention row (2 GB at 20k articles).
    texts = (articles.select("article_id", "title", "standfirst", "body")
             .unpivot(index="article_id", variable_name="field", value_name="_field_text"))
    df = (mentions.join(texts, on=["article_id", "field"], how="left")
          .join(articles.select("article_id", "paragraph_count"), on="article_id", how="left"))
    df = with_reference_flags(df, MENTIONS, {"articles": articles})
    return df.with_columns(
        _offset_matches=_slice_matches(df, "_field_text"),
        _paragraph_ok=pl.when(pl.col("field") == "body")
        .then(pl.col("paragraph_index").is_between(0, pl.col("paragraph_count") - 1))
        .otherwise(pl.col("paragraph_index").is_null()).fill_null(False),
    ).drop("_field_text", "paragraph_count")


def prepare_quotes(quotes: pl.DataFrame, articles: pl.DataFrame, mentions: pl.DataFrame) -> pl.DataFrame:
    blocks = articles.select("article_id", "body", pl.col("paragraph_count").alias("_article_blocks"))
    df = with_reference_flags(quotes.join(blocks, on="article_id", how="left"), QUOTES,
                              {"articles": articles, "mentions": mentions})
    return df.with_columns(
        _offset_matches=_slice_matches(df, "body"),
        _paragraph_ok=((pl.col("paragraph_index") >= 0)
                       & (pl.col("paragraph_index") + pl.col("paragraph_count") <= pl.col("_article_blocks")))
        .fill_null(False),
    ).drop("body", "_article_blocks")
