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

from dataclasses import dataclass, field

import polars as pl

from transforms.schema import ARTICLES, ENTITIES, MENTIONS, QUOTES, Table

CRITICAL, QUARANTINE, WARNING = "critical", "quarantine", "warning"
SEVERITIES = (CRITICAL, QUARANTINE, WARNING)
#: Above this share of a run's articles quarantined, the run is blocked (the extractor is broken).
MAX_QUARANTINED_SHARE = 0.10
#: Fewer articles than this make the quarantined share meaningless (1 of 2 is not "half broken").
MIN_ARTICLES_FOR_SHARE = 20
#: A run's share of quotes without speaker may exceed its recent median by this much.
MAX_UNATTRIBUTED_JUMP = 0.15
#: Fewer quotes than this in a run make its unattributed share too noisy to compare.
MIN_QUOTES_FOR_TREND = 30
#: The check whose failure counts give a run's share of quotes without speaker.
SPEAKER_CHECK = "most quotes have a speaker"
#: The key column of each frame suite: what a quarantined row is named by.
ROW_KEYS = {"articles": "article_id", "mentions": "mention_id", "quotes": "quote_id"}
ENTITY_TYPES = ["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "MISC"]
QUOTE_KINDS = ["full", "partial", "continuation", "multi-paragraph"]
FIELDS = ["title", "standfirst", "body"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252", "latin-1"]
#: An article this long with no mention at all points at a broken extractor.
LONG_ARTICLE_WORDS = 200
#: Longer than any real headline (the longest in the BBC and PolNeAR sets is under 150).
MAX_TITLE_CHARS = 250


@dataclass(frozen=True)
class Check:
    """One expectation of one suite."""

    name: str
    expectation: str  # GX expectation class in great_expectations.expectations
    kwargs: dict = field(default_factory=dict)
    severity: str = CRITICAL
    description: str = ""

    @property
    def column(self) -> str:
        return str(self.kwargs.get("column", ""))


def _keys_and_required(table: Table) -> list[Check]:
    """Keys unique and filled (critical: a row without them cannot even be set aside);
    every other required column filled (quarantine: the row's article is set aside). Tables
    checked inside the load (``entities``) have no article to set aside: all critical."""
    out = []
    if len(table.key) == 1:
        k = table.key[0]
        out.append(Check(f"{k} unique", "ExpectColumnValuesToBeUnique", {"column": k},
                         description=f"every {table.name} row has its own {k}"))
    ids = {*table.key, "article_id"}
    out += [Check(f"{c} not null", "ExpectColumnValuesToNotBeNull", {"column": c},
                  CRITICAL if c in ids or table.name not in ROW_KEYS else QUARANTINE, f"{c} is always filled")
            for c in table.required]
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
        Check("article exists", "ExpectColumnValuesToBeInSet", {"column": "_article_exists", "value_set": [True]},
              description="article_id points at an article of the run"),
    ]


SUITES: dict[str, list[Check]] = {
    "articles": [
        *_keys_and_required(ARTICLES),
        Check("source_path unique", "ExpectColumnValuesToBeUnique", {"column": "source_path"},
              description="one article per file"),
        Check("content_sha256 is a sha256", "ExpectColumnValuesToMatchRegex",
              {"column": "content_sha256", "regex": "^[0-9a-f]{64}$"}, QUARANTINE),
        Check("encoding known", "ExpectColumnValuesToBeInSet", {"column": "encoding", "value_set": ENCODINGS},
              QUARANTINE),
        Check("word_count positive", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": 1, "max_value": 500_000}, QUARANTINE),
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
        *_keys_and_required(MENTIONS),
        Check("entity_type allowed", "ExpectColumnValuesToBeInSet",
              {"column": "entity_type", "value_set": ENTITY_TYPES}, QUARANTINE),
        Check("field allowed", "ExpectColumnValuesToBeInSet", {"column": "field", "value_set": FIELDS},
              QUARANTINE),
        *_offsets(),
        Check("body mentions have a paragraph", "ExpectColumnValuesToBeInSet",
              {"column": "_paragraph_ok", "value_set": [True]}, QUARANTINE,
              "paragraph_index is set for body mentions and inside the article"),
    ],
    "quotes": [
        *_keys_and_required(QUOTES),
        Check("kind allowed", "ExpectColumnValuesToBeInSet", {"column": "kind", "value_set": QUOTE_KINDS},
              QUARANTINE),
        *_offsets("body"),
        Check("paragraph inside article", "ExpectColumnValuesToBeInSet",
              {"column": "_paragraph_ok", "value_set": [True]}, QUARANTINE),
        Check("speaker entity exists", "ExpectColumnValuesToBeInSet",
              {"column": "_speaker_entity_exists", "value_set": [True]}, QUARANTINE,
              "speaker_entity_id is NULL or an entity mentioned in the run"),
        Check(SPEAKER_CHECK, "ExpectColumnValuesToNotBeNull",
              {"column": "speaker", "mostly": 0.6}, WARNING,
              "a drop in attributed quotes points at a broken attribution step"),
        Check("quote word count sane", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": 1, "max_value": 2000}, WARNING),
    ],
    "entities": [
        *_keys_and_required(ENTITIES),
        Check("entity_type allowed", "ExpectColumnValuesToBeInSet",
              {"column": "entity_type", "value_set": ENTITY_TYPES}),
        Check("mention_count positive", "ExpectColumnValuesToBeBetween",
              {"column": "mention_count", "min_value": 1}),
        Check("article_count within mentions", "ExpectColumnPairValuesAToBeGreaterThanB",
              {"column_A": "mention_count", "column_B": "article_count", "or_equal": True}),
    ],
}

#: Warehouse-wide invariants: each SQL selects one ``example`` per row that breaks it
#: (expected: none); the count of its rows is what GX validates, the first five are examples.
WAREHOUSE_INVARIANTS: dict[str, tuple[str, str]] = {
    "articles.article_id unique": (CRITICAL, """
        SELECT article_id AS example FROM (
            SELECT article_id, row_number() OVER (PARTITION BY article_id) AS k FROM articles) WHERE k > 1"""),
    "articles.source_path unique": (CRITICAL, """
        SELECT source_path AS example FROM (
            SELECT source_path, row_number() OVER (PARTITION BY source_path) AS k FROM articles) WHERE k > 1"""),
    "mentions point at articles": (CRITICAL, """
        SELECT mention_id || ' -> article ' || article_id AS example
        FROM mentions ANTI JOIN articles USING (article_id)"""),
    "quotes point at articles": (CRITICAL, """
        SELECT quote_id || ' -> article ' || article_id AS example
        FROM quotes ANTI JOIN articles USING (article_id)"""),
    "mention entities exist": (CRITICAL, """
        SELECT mention_id || ' -> entity ' || entity_id AS example
        FROM mentions ANTI JOIN entities USING (entity_id)"""),
    "quote speaker entities exist": (CRITICAL, """
        SELECT quote_id || ' -> entity ' || speaker_entity_id AS example FROM quotes
        WHERE speaker_entity_id IS NOT NULL AND speaker_entity_id NOT IN (SELECT entity_id FROM entities)"""),
    "quote offsets slice body": (CRITICAL, """
        SELECT a.source_path || ': quote ' || q.quote_id AS example FROM quotes q JOIN articles a USING (article_id)
        WHERE substr(a.body, q.char_start + 1, q.char_end - q.char_start) IS DISTINCT FROM q.text"""),
    "body mention offsets slice body": (CRITICAL, """
        SELECT a.source_path || ': mention ' || m.mention_id AS example
        FROM mentions m JOIN articles a USING (article_id)
        WHERE m.field = 'body'
          AND substr(a.body, m.char_start + 1, m.char_end - m.char_start) IS DISTINCT FROM m.text"""),
    "no duplicated bodies": (WARNING, """
        SELECT source_path || ' repeats ' || first AS example FROM (
            SELECT source_path, first_value(source_path) OVER w AS first, row_number() OVER w AS k FROM articles
            WINDOW w AS (PARTITION BY md5(body) ORDER BY source_path)) WHERE k > 1"""),
}


def _metric_check(name: str, metric: str, column: str, severity: str, description: str, **bounds) -> Check:
    return Check(name, "ExpectColumnValuesToBeBetween",
                 {"column": column, **bounds, "row_condition": f'metric=="{metric}"', "condition_parser": "pandas"},
                 severity, description)


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


def warehouse_checks() -> list[Check]:
    """One GX check per invariant, each on its own row of the invariants frame."""
    return [
        Check(name, "ExpectColumnValuesToBeBetween",
              {"column": "violations", "min_value": 0, "max_value": 0,
               "row_condition": f'check=="{name}"', "condition_parser": "pandas"},
              severity, "no row of: " + " ".join(sql.split()))
        for name, (severity, sql) in WAREHOUSE_INVARIANTS.items()
    ]


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
    return df.with_columns(
        _offset_matches=_slice_matches(df, "_field_text"),
        _article_exists=pl.col("paragraph_count").is_not_null(),
        _paragraph_ok=pl.when(pl.col("field") == "body")
        .then(pl.col("paragraph_index").is_between(0, pl.col("paragraph_count") - 1))
        .otherwise(pl.col("paragraph_index").is_null()).fill_null(False),
    ).drop("_field_text", "paragraph_count")


def prepare_quotes(quotes: pl.DataFrame, articles: pl.DataFrame, mentions: pl.DataFrame) -> pl.DataFrame:
    blocks = articles.select("article_id", "body", pl.col("paragraph_count").alias("_article_blocks"))
    df = quotes.join(blocks, on="article_id", how="left")
    known = mentions.get_column("entity_id").unique().implode()
    return df.with_columns(
        _offset_matches=_slice_matches(df, "body"),
        _article_exists=pl.col("body").is_not_null(),
        _paragraph_ok=((pl.col("paragraph_index") >= 0)
                       & (pl.col("paragraph_index") + pl.col("paragraph_count") <= pl.col("_article_blocks")))
        .fill_null(False),
        _speaker_entity_exists=pl.col("speaker_entity_id").is_null() | pl.col("speaker_entity_id").is_in(known),
    ).drop("body", "_article_blocks")
