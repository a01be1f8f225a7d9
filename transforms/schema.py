"""Every warehouse table, declared once.

A table is its columns (name, Polars dtype, nullability, what it means), the key that
identifies a row, and the rules a column obeys beyond its type: a closed vocabulary of
allowed values (from :mod:`transforms.vocab`), a reference to another table's key, or being
unique. Everything else is derived from these declarations, the way dbt derives tests from a
``schema.yml`` and dlt creates tables from a resource's schema:

- the Polars schema of every frame the transforms build (:meth:`Table.empty`, :meth:`Table.conform`);
- the DDL of each storage backend and the migration of an older warehouse (``warehouse.ddl``);
- the key, not-null, allowed-value, unique and reference expectations of the data-quality
  suites (``expectations.suites``);
- the ``runs`` row, from :class:`RunRecord`, the one object that holds a run's record.

This module sits at the bottom of the house: it imports nothing of newsetl's but the
vocabularies, so every layer above may use it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from transforms import vocab

#: The SQL type of each Polars dtype a column may have (DuckDB's names; DuckLake maps them too).
_SQL_TYPES: dict[Any, str] = {
    pl.Utf8: "VARCHAR", pl.Int32: "INTEGER", pl.Int64: "BIGINT", pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN", pl.Date: "DATE",
}


def sql_type(dtype: Any) -> str:
    """The SQL type that stores values of ``dtype`` (a Polars dtype, class or instance) without loss."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone != "UTC" or dtype.time_unit != "us":
            raise TypeError(f"timestamps are stored as microseconds in UTC, not {dtype}")
        return "TIMESTAMPTZ"
    if isinstance(dtype, pl.List):
        return f"{sql_type(dtype.inner)}[]"
    base = dtype if isinstance(dtype, type) else type(dtype)
    try:
        return _SQL_TYPES[base]
    except KeyError:
        raise TypeError(f"no SQL type declared for the Polars dtype {dtype}") from None


@dataclass(frozen=True)
class Column:
    """One column and the rules its values obey."""

    name: str
    dtype: pl.DataType | type[pl.DataType]
    nullable: bool = True
    doc: str = ""
    #: A closed vocabulary: the only values the column may hold (NULL aside, if nullable).
    allowed: tuple[str, ...] = ()
    #: ``"table.column"`` this column points at: every non-NULL value must exist there.
    references: str | None = None
    #: No two rows share a value (besides the table's key, which is unique by being the key).
    unique: bool = False
    #: SQL that computes the column for rows written before it was declared (an expression over
    #: the row, e.g. ``sha256(body)``): an older warehouse gains the column filled, so it may
    #: be NOT NULL. Without one, a column added later must be nullable (``warehouse.ddl``).
    backfill: str | None = None

    @property
    def sql(self) -> str:
        """The column's SQL type."""
        return sql_type(self.dtype)

    @property
    def target(self) -> tuple[str, str]:
        """(table, column) of the reference."""
        if self.references is None:
            raise ValueError(f"{self.name} references nothing")
        table, _, column = self.references.partition(".")
        return table, column


@dataclass(frozen=True)
class Table:
    """A warehouse table: ordered columns and the key that identifies a row."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    doc: str = ""
    #: Rows per Parquet row group on a lake, for a table of long texts: a reader holds a whole
    #: row group of a column, and DuckLake's default (122,880 rows) made the articles' bodies at
    #: 100,000 articles one 240 MB block that no 512 MB load could scan. None: DuckLake's default.
    row_group_rows: int | None = None

    def __post_init__(self) -> None:
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a column is declared twice")
        for k in self.key:
            if k not in names or self.column(k).nullable:
                raise ValueError(f"{self.name}: key column {k} must be a declared NOT NULL column")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    @property
    def required(self) -> list[str]:
        """Columns that must never be NULL."""
        return [c.name for c in self.columns if not c.nullable]

    @property
    def row_key(self) -> str | None:
        """The one column that names a row (None for a composite key)."""
        return self.key[0] if len(self.key) == 1 else None

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


def _run_of_article(table: str) -> str:
    """The backfill of a row's ``run_id``: its article's. A row pointing at no article (or at
    an id two articles hold) still gets one ('unknown', or the least), so the migration
    completes and the warehouse checks then name the row."""
    return (f"coalesce((SELECT min(a.run_id) FROM articles a WHERE a.article_id = {table}.article_id), "
            "'unknown')")


S = pl.Utf8
I32 = pl.Int32
I64 = pl.Int64
B = pl.Boolean
TS = pl.Datetime("us", "UTC")

ARTICLES = Table(
    "articles",
    key=("article_id",),
    doc="One row per article (a decoded, parsed input file).",
    row_group_rows=2048,  # about 5 MB of bodies (the average article is 2.3 KB)
    columns=(
        Column("article_id", S, False, "stable id: first 16 hex digits of content_sha256"),
        Column("source_path", S, False, "absolute path of the file it was read from", unique=True),
        Column("content_sha256", S, False, "sha256 of the file's raw bytes"),
        Column("size_bytes", I64, False),
        Column("encoding", S, False, "codec the bytes were decoded with", allowed=vocab.ENCODINGS),
        Column("encoding_fallback", B, False, "true when not clean UTF-8 (a legacy codec, or stray legacy bytes)"),
        Column("title", S),
        Column("publisher", S),
        Column("agency", S, doc="wire service named in the dateline, e.g. AFP"),
        Column("dateline", S, doc="place of the dateline, e.g. WASHINGTON"),
        Column("standfirst", S),
        Column("body", S, False, "the body text exactly as in the file (newlines normalised)"),
        Column("body_offset", I32, False, "character offset of body in the normalised file"),
        Column("headings", pl.List(pl.Utf8), False, "section headings inside the body"),
        Column("published_at", pl.Date, doc="date from the dateline, when it has one"),
        Column("word_count", I32, False),
        Column("paragraph_count", I32, False, "blocks of the body, headings included"),
        Column("run_id", S, False),
        Column("loaded_at", TS, False),
        Column("missing_since", TS,
               doc="when a run first found the file gone from its seeds folder; NULL while it exists"),
        Column("file_stat", S,
               doc="the file's size, mtime and ctime (ns) and inode when it was read, as "
                   "'size:mtime:ctime:inode'; NULL when it had changed within seconds of the read. "
                   "A later run skips the file unread while it stats the same"),
        Column("body_sha256", S, False, "sha256 of the body (UTF-8, hex): equal bodies, equal hashes",
               backfill="sha256(body)"),
    ),
)

MENTIONS = Table(
    "mentions",
    key=("mention_id",),
    doc="One row per named-entity mention in an article's title, standfirst or body.",
    columns=(
        Column("mention_id", S, False),
        Column("article_id", S, False, references="articles.article_id"),
        Column("entity_id", S, False, references="entities.entity_id"),
        Column("text", S, False, "the mention as written"),
        Column("entity_type", S, False, allowed=vocab.ENTITY_TYPES),
        Column("entity_name", S, False, "canonical name of the entity"),
        Column("field", S, False, "title, standfirst or body", allowed=vocab.FIELDS),
        Column("char_start", I32, False, "offset into the field"),
        Column("char_end", I32, False),
        Column("paragraph_index", I32, doc="body block index; NULL outside the body"),
        Column("run_id", S, False, "the run that loaded it (its article's run_id)",
               backfill=_run_of_article("mentions")),
    ),
)

ENTITIES = Table(
    "entities",
    key=("entity_id",),
    doc="One row per distinct entity across the warehouse, derived from its mentions.",
    columns=(
        Column("entity_id", S, False),
        Column("name", S, False),
        Column("entity_type", S, False, allowed=vocab.ENTITY_TYPES),
        Column("aliases", pl.List(pl.Utf8), False),
        Column("mention_count", I64, False),
        Column("article_count", I64, False),
    ),
)

QUOTES = Table(
    "quotes",
    key=("quote_id",),
    doc="One row per direct quotation in an article body, with its attributed speaker.",
    columns=(
        Column("quote_id", S, False),
        Column("article_id", S, False, references="articles.article_id"),
        Column("text", S, False, "quoted words without the outer quotation marks"),
        Column("char_start", I32, False, "offset into body"),
        Column("char_end", I32, False),
        Column("paragraph_index", I32, False, "body block where the quote opens"),
        Column("paragraph_count", I32, False, "body blocks the quote spans"),
        Column("speaker", S, doc="resolved canonical speaker"),
        Column("speaker_entity_id", S, references="entities.entity_id"),
        Column("speaker_text", S, doc="speaker as written in the attribution"),
        Column("speaker_start", I32, doc="offset of speaker_text in body"),
        Column("speaker_end", I32),
        Column("cue", S, doc="attribution verb or phrase: said, wrote, according to..."),
        Column("kind", S, False, "full, partial, continuation, multi-paragraph", allowed=vocab.QUOTE_KINDS),
        Column("word_count", I32, False),
        Column("run_id", S, False, "the run that loaded it (its article's run_id)",
               backfill=_run_of_article("quotes")),
    ),
)

REJECTED_FILES = Table(
    "rejected_files",
    key=("run_id", "source_path"),
    doc="Input files a run could not load, with the reason.",
    columns=(
        Column("run_id", S, False),
        Column("source_path", S, False),
        Column("reason", S, False, "machine-readable: empty, binary, too_large, ...", allowed=vocab.REJECT_REASONS),
        Column("detail", S, False, "human-readable explanation"),
        Column("step", S, False, "pipeline step that rejected it", allowed=vocab.STEPS),
        Column("size_bytes", I64),
        Column("content_sha256", S),
        Column("rejected_at", TS, False),
    ),
)


def _run_column(dtype: pl.DataType | type[pl.DataType], doc: str = "", *, required: bool = False,
                allowed: tuple[str, ...] = (), default: object = None) -> Any:
    """A field of :class:`RunRecord` that is also a column of ``runs``."""
    meta = {"column": (dtype, not required, doc, allowed)}
    if required:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(kw_only=True)
class RunRecord:
    """A run's row of ``runs``: the one object that holds it while the run goes on.

    Its fields are the table's columns (``RUNS`` is derived from them), so the row that is
    written is always the record, whole. Counters start at 0; ``*_rows`` and the data-quality
    verdict stay NULL until the run knows them.
    """

    run_id: str = _run_column(S, required=True)
    flow_run_id: str | None = _run_column(S)
    started_at: dt.datetime = _run_column(TS, required=True)
    finished_at: dt.datetime | None = _run_column(TS)
    status: vocab.RunStatus = _run_column(S, "running, completed or failed", required=True,
                                          allowed=vocab.RUN_STATUSES)
    seeds_dir: str = _run_column(S, required=True)
    files_seen: int = _run_column(I64, default=0)
    files_loaded: int = _run_column(I64, default=0)
    files_skipped: int = _run_column(I64, "files unchanged since their last load: not re-read", default=0)
    files_rejected: int = _run_column(I64, default=0)
    articles_rows: int | None = _run_column(I64)
    mentions_rows: int | None = _run_column(I64)
    quotes_rows: int | None = _run_column(I64)
    entities_rows: int | None = _run_column(I64)
    dq_success: bool | None = _run_column(B)
    dq_critical_failures: int = _run_column(I64, default=0)
    dq_warnings: int = _run_column(I64, "expectations that failed with severity warning", default=0)
    report_path: str | None = _run_column(S)
    error: str | None = _run_column(S)
    files_new: int = _run_column(I64, "files loaded for the first time", default=0)
    files_changed: int = _run_column(I64, "files whose new content replaced their old rows", default=0)
    files_deleted: int = _run_column(I64, "loaded files no longer in the seeds folder (kept, flagged)", default=0)
    full_refresh: bool = _run_column(B, "the run rebuilt the warehouse from scratch", default=False)
    files_quarantined: int = _run_column(I64, "articles set aside by row-level critical checks", default=0)
    extractor_version: str | None = _run_column(S, "digest of the extraction's code and checks: a file set aside "
                                                   "is retried once its bytes or this change")

    def row(self) -> dict[str, object]:
        """The record as a row of ``runs``."""
        return {name: getattr(self, name) for name in RUNS.names}


def _record_columns(record: type) -> tuple[Column, ...]:
    out = []
    for f in dataclasses.fields(record):
        if "column" in f.metadata:
            dtype, nullable, doc, allowed = f.metadata["column"]
            out.append(Column(f.name, dtype, nullable, doc, allowed))
    return tuple(out)


RUNS = Table("runs", key=("run_id",), columns=_record_columns(RunRecord),
             doc="One row per pipeline run, failed and killed ones included.")

DQ_RESULTS = Table(
    "dq_results",
    key=("run_id", "table_name", "check_name"),
    doc="Every expectation evaluated in a run.",
    columns=(
        Column("run_id", S, False, references="runs.run_id"),
        Column("table_name", S, False, "the suite: a table, 'warehouse' or 'run'", allowed=vocab.CHECKED_TABLES),
        Column("expectation", S, False, "GX expectation type"),
        Column("column", S, False, "column checked, or '' for table-level checks"),
        Column("check_name", S, False, "what the check means, in words"),
        Column("success", B, False),
        Column("severity", S, False, "critical (blocks the load), quarantine or warning", allowed=vocab.SEVERITIES),
        Column("element_count", I64),
        Column("unexpected_count", I64),
        Column("unexpected_examples", S, doc="JSON list of example bad values"),
        Column("details", S, doc="JSON of the expectation's arguments"),
        Column("evaluated_at", TS, False),
    ),
)

QUARANTINE = Table(
    "quarantine",
    key=("run_id", "table_name", "row_key", "check_name"),
    doc="Rows that failed a row-level critical expectation, set aside with the reason; their "
        "article was not loaded (the file is retried by the next run).",
    columns=(
        Column("run_id", S, False, references="runs.run_id"),
        Column("table_name", S, False, "articles, mentions or quotes"),
        Column("row_key", S, False, "article_id, mention_id or quote_id of the row"),
        Column("check_name", S, False, f"the expectation it failed (or '{vocab.ARTICLE_SET_ASIDE}')"),
        Column("article_id", S, False),
        Column("source_path", S),
        Column("expectation", S, False, "GX expectation type"),
        Column("reason", S, False, "what is wrong, in words"),
        Column("row_json", S, False, "the whole row as JSON: nothing is lost"),
        Column("quarantined_at", TS, False),
    ),
)

#: Tables the pipeline's transforms produce, in load order.
DATA_TABLES: tuple[Table, ...] = (ARTICLES, MENTIONS, QUOTES)
#: Every table of the warehouse.
ALL_TABLES: tuple[Table, ...] = (ARTICLES, MENTIONS, ENTITIES, QUOTES, REJECTED_FILES, RUNS, DQ_RESULTS,
                                 QUARANTINE)
TABLES: dict[str, Table] = {t.name: t for t in ALL_TABLES}
