"""The expectation suites: what every table must satisfy, and how bad a failure is.

Each :class:`Check` names a Great Expectations expectation class and its arguments, with a
severity: ``critical`` blocks the load (the run fails and the warehouse stays as it was),
``warning`` lets it go on and is reported. Checks that GX cannot state directly on one frame
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

CRITICAL, WARNING = "critical", "warning"
ENTITY_TYPES = ["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "MISC"]
QUOTE_KINDS = ["full", "partial", "continuation", "multi-paragraph"]
FIELDS = ["title", "standfirst", "body"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252", "latin-1"]
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
    out = []
    if len(table.key) == 1:
        k = table.key[0]
        out.append(Check(f"{k} unique", "ExpectColumnValuesToBeUnique", {"column": k},
                         description=f"every {table.name} row has its own {k}"))
    out += [Check(f"{c} not null", "ExpectColumnValuesToNotBeNull", {"column": c},
                  description=f"{c} is always filled") for c in table.required]
    return out


def _offsets(prefix: str = "") -> list[Check]:
    return [
        Check("char_start >= 0", "ExpectColumnValuesToBeBetween", {"column": "char_start", "min_value": 0}),
        Check("char_end > char_start", "ExpectColumnPairValuesAToBeGreaterThanB",
              {"column_A": "char_end", "column_B": "char_start"}),
        Check("offsets slice the text", "ExpectColumnValuesToBeInSet",
              {"column": "_offset_matches", "value_set": [True]},
              description=f"substr({prefix or 'field'}, char_start + 1, char_end - char_start) = text"),
        Check("article exists", "ExpectColumnValuesToBeInSet", {"column": "_article_exists", "value_set": [True]},
              description="article_id points at an article of the run"),
    ]


SUITES: dict[str, list[Check]] = {
    "articles": [
        *_keys_and_required(ARTICLES),
        Check("source_path unique", "ExpectColumnValuesToBeUnique", {"column": "source_path"},
              description="one article per file"),
        Check("content_sha256 is a sha256", "ExpectColumnValuesToMatchRegex",
              {"column": "content_sha256", "regex": "^[0-9a-f]{64}$"}),
        Check("encoding known", "ExpectColumnValuesToBeInSet", {"column": "encoding", "value_set": ENCODINGS}),
        Check("word_count positive", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": 1, "max_value": 500_000}),
        Check("paragraph_count positive", "ExpectColumnValuesToBeBetween",
              {"column": "paragraph_count", "min_value": 1}),
        Check("title shorter than any real headline", "ExpectColumnValueLengthsToBeBetween",
              {"column": "title", "max_value": MAX_TITLE_CHARS}, WARNING,
              "a longer title means the parser took a paragraph for the title"),
        Check("long articles name someone", "ExpectColumnValuesToBeInSet",
              {"column": "_long_without_mentions", "value_set": [False]}, WARNING,
              "an article of 200+ words with no mention at all points at a broken extractor"),
        Check("quotes per article within bounds", "ExpectColumnValuesToBeBetween",
              {"column": "_quotes", "min_value": 0, "max_value": 400}, WARNING),
        Check("mentions per article within bounds", "ExpectColumnValuesToBeBetween",
              {"column": "_mentions", "min_value": 0, "max_value": 5000}, WARNING),
    ],
    "mentions": [
        *_keys_and_required(MENTIONS),
        Check("entity_type allowed", "ExpectColumnValuesToBeInSet",
              {"column": "entity_type", "value_set": ENTITY_TYPES}),
        Check("field allowed", "ExpectColumnValuesToBeInSet", {"column": "field", "value_set": FIELDS}),
        *_offsets(),
        Check("body mentions have a paragraph", "ExpectColumnValuesToBeInSet",
              {"column": "_paragraph_ok", "value_set": [True]},
              description="paragraph_index is set for body mentions and inside the article"),
    ],
    "quotes": [
        *_keys_and_required(QUOTES),
        Check("kind allowed", "ExpectColumnValuesToBeInSet", {"column": "kind", "value_set": QUOTE_KINDS}),
        *_offsets("body"),
        Check("paragraph inside article", "ExpectColumnValuesToBeInSet",
              {"column": "_paragraph_ok", "value_set": [True]}),
        Check("speaker entity exists", "ExpectColumnValuesToBeInSet",
              {"column": "_speaker_entity_exists", "value_set": [True]},
              description="speaker_entity_id is NULL or an entity mentioned in the run"),
        Check("most quotes have a speaker", "ExpectColumnValuesToNotBeNull",
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

#: Warehouse-wide invariants: each SQL counts the rows that break it (expected: 0).
WAREHOUSE_INVARIANTS: dict[str, tuple[str, str]] = {
    "articles.article_id unique": (CRITICAL, "SELECT count(*) - count(DISTINCT article_id) FROM articles"),
    "articles.source_path unique": (CRITICAL, "SELECT count(*) - count(DISTINCT source_path) FROM articles"),
    "mentions point at articles": (CRITICAL, """
        SELECT count(*) FROM mentions m ANTI JOIN articles a USING (article_id)"""),
    "quotes point at articles": (CRITICAL, """
        SELECT count(*) FROM quotes q ANTI JOIN articles a USING (article_id)"""),
    "mention entities exist": (CRITICAL, """
        SELECT count(*) FROM mentions m ANTI JOIN entities e USING (entity_id)"""),
    "quote speaker entities exist": (CRITICAL, """
        SELECT count(*) FROM quotes q
        WHERE speaker_entity_id IS NOT NULL
          AND speaker_entity_id NOT IN (SELECT entity_id FROM entities)"""),
    "quote offsets slice body": (CRITICAL, """
        SELECT count(*) FROM quotes q JOIN articles a USING (article_id)
        WHERE substr(a.body, q.char_start + 1, q.char_end - q.char_start) IS DISTINCT FROM q.text"""),
    "body mention offsets slice body": (CRITICAL, """
        SELECT count(*) FROM mentions m JOIN articles a USING (article_id)
        WHERE m.field = 'body'
          AND substr(a.body, m.char_start + 1, m.char_end - m.char_start) IS DISTINCT FROM m.text"""),
    "no duplicated bodies": (WARNING, """
        SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM articles GROUP BY md5(body) HAVING n > 1)"""),
}


def warehouse_checks() -> list[Check]:
    """One GX check per invariant, each on its own row of the invariants frame."""
    return [
        Check(name, "ExpectColumnValuesToBeBetween",
              {"column": "violations", "min_value": 0, "max_value": 0,
               "row_condition": f'check=="{name}"', "condition_parser": "pandas"},
              severity, sql.strip().splitlines()[0])
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
        .with_columns(_long_without_mentions=(pl.col("word_count") >= 200) & (pl.col("_mentions") == 0))
    )


def prepare_mentions(mentions: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    fields = articles.select("article_id", "title", "standfirst", "body", "paragraph_count")
    df = mentions.join(fields, on="article_id", how="left")
    field_text = (pl.when(pl.col("field") == "title").then(pl.col("title"))
                  .when(pl.col("field") == "standfirst").then(pl.col("standfirst"))
                  .otherwise(pl.col("body")))
    df = df.with_columns(_field_text=field_text)
    return df.with_columns(
        _offset_matches=_slice_matches(df, "_field_text"),
        _article_exists=pl.col("body").is_not_null(),
        _paragraph_ok=pl.when(pl.col("field") == "body")
        .then(pl.col("paragraph_index").is_between(0, pl.col("paragraph_count") - 1))
        .otherwise(pl.col("paragraph_index").is_null()).fill_null(False),
    ).drop("title", "standfirst", "body", "_field_text", "paragraph_count")


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
