"""The one owner of every warehouse table's schema.

Each table is declared once here: column names, Polars dtypes, DuckDB types and nullability.
The frames built by the transforms are conformed to these schemas, the DDL files in
``warehouse/sql/ddl`` must declare the same columns (``tests/test_schema_contract.py`` proves
it), and the data-quality suites read key and not-null columns from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Column:
    """One column: its Polars dtype, its DuckDB type, and whether NULL is allowed."""

    name: str
    dtype: pl.DataType | type[pl.DataType]
    sql: str
    nullable: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """A warehouse table: ordered columns and the key that identifies a row."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    doc: str = ""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    @property
    def required(self) -> list[str]:
        """Columns that must never be NULL."""
        return [c.name for c in self.columns if not c.nullable]

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars_schema)

    def frame(self, rows: list[dict]) -> pl.DataFrame:
        """Build a frame of exactly this schema from row dicts (missing keys become NULL)."""
        if not rows:
            return self.empty()
        return pl.DataFrame(rows, schema=self.polars_schema, orient="row", strict=False)

    def frame_from_columns(self, cols: dict[str, list]) -> pl.DataFrame:
        """Build a frame of exactly this schema from one list per column (missing ones NULL)."""
        heights = {len(v) for v in cols.values()}
        if len(heights) > 1:
            raise ValueError(f"{self.name}: columns of different lengths {sorted(heights)}")
        height = heights.pop() if heights else 0
        if height == 0:
            return self.empty()
        return pl.DataFrame({c.name: cols.get(c.name, [None] * height) for c in self.columns},
                            schema=self.polars_schema, strict=False)

    def conform(self, df: pl.DataFrame) -> pl.DataFrame:
        """Select this table's columns in order, adding missing ones as NULL and casting types."""
        exprs = []
        for c in self.columns:
            if c.name in df.columns:
                exprs.append(pl.col(c.name).cast(c.dtype))
            else:
                exprs.append(pl.lit(None, dtype=c.dtype).alias(c.name))
        return df.select(exprs)


S = pl.Utf8
I32 = pl.Int32
I64 = pl.Int64

ARTICLES = Table(
    "articles",
    key=("article_id",),
    doc="One row per article (a decoded, parsed input file).",
    columns=(
        Column("article_id", S, "VARCHAR", False, "stable id: first 16 hex digits of content_sha256"),
        Column("source_path", S, "VARCHAR", False, "absolute path of the file it was read from"),
        Column("content_sha256", S, "VARCHAR", False, "sha256 of the file's raw bytes"),
        Column("size_bytes", I64, "BIGINT", False),
        Column("encoding", S, "VARCHAR", False, "codec the bytes were decoded with"),
        Column("encoding_fallback", pl.Boolean, "BOOLEAN", False, "true when not UTF-8"),
        Column("title", S, "VARCHAR"),
        Column("publisher", S, "VARCHAR"),
        Column("agency", S, "VARCHAR", doc="wire service named in the dateline, e.g. AFP"),
        Column("dateline", S, "VARCHAR", doc="place of the dateline, e.g. WASHINGTON"),
        Column("standfirst", S, "VARCHAR"),
        Column("body", S, "VARCHAR", False, "the body text exactly as in the file (newlines normalised)"),
        Column("body_offset", I32, "INTEGER", False, "character offset of body in the normalised file"),
        Column("headings", pl.List(pl.Utf8), "VARCHAR[]", False, "section headings inside the body"),
        Column("published_at", pl.Date, "DATE", doc="date from the dateline, when it has one"),
        Column("word_count", I32, "INTEGER", False),
        Column("paragraph_count", I32, "INTEGER", False, "blocks of the body, headings included"),
        Column("run_id", S, "VARCHAR", False),
        Column("loaded_at", pl.Datetime("us", "UTC"), "TIMESTAMPTZ", False),
        Column("missing_since", pl.Datetime("us", "UTC"), "TIMESTAMPTZ",
               doc="when a run first found the file gone from its seeds folder; NULL while it exists"),
    ),
)

MENTIONS = Table(
    "mentions",
    key=("mention_id",),
    doc="One row per named-entity mention in an article's title, standfirst or body.",
    columns=(
        Column("mention_id", S, "VARCHAR", False),
        Column("article_id", S, "VARCHAR", False),
        Column("entity_id", S, "VARCHAR", False),
        Column("text", S, "VARCHAR", False, "the mention as written"),
        Column("entity_type", S, "VARCHAR", False),
        Column("entity_name", S, "VARCHAR", False, "canonical name of the entity"),
        Column("field", S, "VARCHAR", False, "title, standfirst or body"),
        Column("char_start", I32, "INTEGER", False, "offset into the field"),
        Column("char_end", I32, "INTEGER", False),
        Column("paragraph_index", I32, "INTEGER", doc="body block index; NULL outside the body"),
    ),
)

ENTITIES = Table(
    "entities",
    key=("entity_id",),
    doc="One row per distinct entity across the warehouse, rebuilt from mentions on every load.",
    columns=(
        Column("entity_id", S, "VARCHAR", False),
        Column("name", S, "VARCHAR", False),
        Column("entity_type", S, "VARCHAR", False),
        Column("aliases", pl.List(pl.Utf8), "VARCHAR[]", False),
        Column("mention_count", I64, "BIGINT", False),
        Column("article_count", I64, "BIGINT", False),
    ),
)

QUOTES = Table(
    "quotes",
    key=("quote_id",),
    doc="One row per direct quotation in an article body, with its attributed speaker.",
    columns=(
        Column("quote_id", S, "VARCHAR", False),
        Column("article_id", S, "VARCHAR", False),
        Column("text", S, "VARCHAR", False, "quoted words without the outer quotation marks"),
        Column("char_start", I32, "INTEGER", False, "offset into body"),
        Column("char_end", I32, "INTEGER", False),
        Column("paragraph_index", I32, "INTEGER", False, "body block where the quote opens"),
        Column("paragraph_count", I32, "INTEGER", False, "body blocks the quote spans"),
        Column("speaker", S, "VARCHAR", doc="resolved canonical speaker"),
        Column("speaker_entity_id", S, "VARCHAR"),
        Column("speaker_text", S, "VARCHAR", doc="speaker as written in the attribution"),
        Column("speaker_start", I32, "INTEGER", doc="offset of speaker_text in body"),
        Column("speaker_end", I32, "INTEGER"),
        Column("cue", S, "VARCHAR", doc="attribution verb or phrase: said, wrote, according to..."),
        Column("kind", S, "VARCHAR", False, "full, partial, continuation, multi-paragraph"),
        Column("word_count", I32, "INTEGER", False),
    ),
)

REJECTED_FILES = Table(
    "rejected_files",
    key=("run_id", "source_path"),
    doc="Input files a run could not load, with the reason.",
    columns=(
        Column("run_id", S, "VARCHAR", False),
        Column("source_path", S, "VARCHAR", False),
        Column("reason", S, "VARCHAR", False, "machine-readable: empty, binary, too_large, ..."),
        Column("detail", S, "VARCHAR", False, "human-readable explanation"),
        Column("step", S, "VARCHAR", False, "pipeline step that rejected it"),
        Column("size_bytes", I64, "BIGINT"),
        Column("content_sha256", S, "VARCHAR"),
        Column("rejected_at", pl.Datetime("us", "UTC"), "TIMESTAMPTZ", False),
    ),
)

RUNS = Table(
    "runs",
    key=("run_id",),
    doc="One row per pipeline run, failed and killed ones included.",
    columns=(
        Column("run_id", S, "VARCHAR", False),
        Column("flow_run_id", S, "VARCHAR"),
        Column("started_at", pl.Datetime("us", "UTC"), "TIMESTAMPTZ", False),
        Column("finished_at", pl.Datetime("us", "UTC"), "TIMESTAMPTZ"),
        Column("status", S, "VARCHAR", False, "running, completed or failed"),
        Column("seeds_dir", S, "VARCHAR", False),
        Column("files_seen", I64, "BIGINT"),
        Column("files_loaded", I64, "BIGINT"),
        Column("files_skipped", I64, "BIGINT", doc="files unchanged since their last load: not re-read"),
        Column("files_rejected", I64, "BIGINT"),
        Column("articles_rows", I64, "BIGINT"),
        Column("mentions_rows", I64, "BIGINT"),
        Column("quotes_rows", I64, "BIGINT"),
        Column("entities_rows", I64, "BIGINT"),
        Column("dq_success", pl.Boolean, "BOOLEAN"),
        Column("dq_critical_failures", I64, "BIGINT"),
        Column("dq_warnings", I64, "BIGINT"),
        Column("report_path", S, "VARCHAR"),
        Column("error", S, "VARCHAR"),
        Column("files_new", I64, "BIGINT", doc="files loaded for the first time"),
        Column("files_changed", I64, "BIGINT", doc="files whose new content replaced their old rows"),
        Column("files_deleted", I64, "BIGINT", doc="loaded files no longer in the seeds folder (kept, flagged)"),
        Column("full_refresh", pl.Boolean, "BOOLEAN", doc="the run rebuilt the warehouse from scratch"),
        Column("files_quarantined", I64, "BIGINT", doc="articles set aside by row-level critical checks"),
    ),
)

DQ_RESULTS = Table(
    "dq_results",
    key=("run_id", "table_name", "check_name"),
    doc="Every expectation evaluated in a run.",
    columns=(
        Column("run_id", S, "VARCHAR", False),
        Column("table_name", S, "VARCHAR", False),
        Column("expectation", S, "VARCHAR", False, "GX expectation type"),
        Column("column", S, "VARCHAR", False, "column checked, or '' for table-level checks"),
        Column("check_name", S, "VARCHAR", False, "what the check means, in words"),
        Column("success", pl.Boolean, "BOOLEAN", False),
        Column("severity", S, "VARCHAR", False, "critical (blocks the load), quarantine or warning"),
        Column("element_count", I64, "BIGINT"),
        Column("unexpected_count", I64, "BIGINT"),
        Column("unexpected_examples", S, "VARCHAR", doc="JSON list of example bad values"),
        Column("details", S, "VARCHAR", doc="JSON of the expectation's arguments"),
        Column("evaluated_at", pl.Datetime("us", "UTC"), "TIMESTAMPTZ", False),
    ),
)

QUARANTINE = Table(
    "quarantine",
    key=("run_id", "table_name", "row_key", "check_name"),
    doc="Rows that failed a row-level critical expectation, set aside with the reason; their "
        "article was not loaded (the file is retried by the next run).",
    columns=(
        Column("run_id", S, "VARCHAR", False),
        Column("table_name", S, "VARCHAR", False, "articles, mentions or quotes"),
        Column("row_key", S, "VARCHAR", False, "article_id, mention_id or quote_id of the row"),
        Column("check_name", S, "VARCHAR", False, "the expectation it failed (or 'article set aside')"),
        Column("article_id", S, "VARCHAR", False),
        Column("source_path", S, "VARCHAR"),
        Column("expectation", S, "VARCHAR", False, "GX expectation type"),
        Column("reason", S, "VARCHAR", False, "what is wrong, in words"),
        Column("row_json", S, "VARCHAR", False, "the whole row as JSON: nothing is lost"),
        Column("quarantined_at", pl.Datetime("us", "UTC"), "TIMESTAMPTZ", False),
    ),
)

#: Tables the pipeline's transforms produce, in load order.
DATA_TABLES: tuple[Table, ...] = (ARTICLES, MENTIONS, QUOTES)
#: Every table of the warehouse.
ALL_TABLES: tuple[Table, ...] = (ARTICLES, MENTIONS, ENTITIES, QUOTES, REJECTED_FILES, RUNS, DQ_RESULTS,
                                 QUARANTINE)
TABLES: dict[str, Table] = {t.name: t for t in ALL_TABLES}
