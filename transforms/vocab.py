"""Every closed vocabulary of the warehouse, declared once.

A value that lands in a column with a fixed set of values (an entity type, a quote kind, a
run's status, a reject reason, ...) is spelled here and nowhere else: the transforms write
these constants, the table declarations (``transforms.schema``) list them as the column's
allowed values, and the data-quality suites check them from there. Each vocabulary is a
``Literal`` type, so mypy rejects a misspelt value, and a tuple of its values in order for
the code that needs them at run time.

This module sits at the bottom of the house: it imports nothing of newsetl's.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# --- mentions and entities ------------------------------------------------------------------

EntityType = Literal["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "MISC"]
PERSON: Final = "PERSON"
ORG: Final = "ORG"
GPE: Final = "GPE"
LOC: Final = "LOC"
NORP: Final = "NORP"
EVENT: Final = "EVENT"
MISC: Final = "MISC"
ENTITY_TYPES: Final[tuple[str, ...]] = get_args(EntityType)

#: The part of an article a mention was found in.
Field = Literal["title", "standfirst", "body"]
TITLE: Final = "title"
STANDFIRST: Final = "standfirst"
BODY: Final = "body"
FIELDS: Final[tuple[str, ...]] = get_args(Field)

# --- quotes ---------------------------------------------------------------------------------

QuoteKind = Literal["full", "partial", "continuation", "multi-paragraph"]
FULL: Final = "full"
PARTIAL: Final = "partial"
CONTINUATION: Final = "continuation"
MULTI_PARAGRAPH: Final = "multi-paragraph"
QUOTE_KINDS: Final[tuple[str, ...]] = get_args(QuoteKind)

# --- input files ----------------------------------------------------------------------------

#: Codecs an article's bytes may be decoded with (``transforms.decode``).
Encoding = Literal["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252", "latin-1"]
UTF_8: Final = "utf-8"
UTF_8_SIG: Final = "utf-8-sig"
UTF_16: Final = "utf-16"
UTF_32: Final = "utf-32"
CP1252: Final = "cp1252"
LATIN_1: Final = "latin-1"
ENCODINGS: Final[tuple[str, ...]] = get_args(Encoding)

#: Why a file was not loaded (``rejected_files.reason``). ``<step>_error`` is an unexpected
#: exception in that step of the extraction: a bug or a pathological input.
RejectReason = Literal["unreadable", "too_large", "empty", "undecodable", "binary", "no_body",
                       "parse_error", "mentions_error", "quotes_error", "duplicate_content", "quarantined",
                       "outside_seeds", "bad_name"]
UNREADABLE: Final = "unreadable"
TOO_LARGE: Final = "too_large"
EMPTY: Final = "empty"
UNDECODABLE: Final = "undecodable"
BINARY: Final = "binary"
NO_BODY: Final = "no_body"
PARSE_ERROR: Final = "parse_error"
MENTIONS_ERROR: Final = "mentions_error"
QUOTES_ERROR: Final = "quotes_error"
DUPLICATE_CONTENT: Final = "duplicate_content"
QUARANTINED: Final = "quarantined"
OUTSIDE_SEEDS: Final = "outside_seeds"  # a link leading out of the seeds folder
BAD_NAME: Final = "bad_name"  # a file name that is not UTF-8
REJECT_REASONS: Final[tuple[str, ...]] = get_args(RejectReason)

#: The pipeline step that rejected a file (``rejected_files.step``).
Step = Literal["discover", "read", "decode", "parse", "mentions", "quotes", "dedupe", "validate"]
STEP_DISCOVER: Final = "discover"
STEP_READ: Final = "read"
STEP_DECODE: Final = "decode"
STEP_PARSE: Final = "parse"
STEP_MENTIONS: Final = "mentions"
STEP_QUOTES: Final = "quotes"
STEP_DEDUPE: Final = "dedupe"
STEP_VALIDATE: Final = "validate"
STEPS: Final[tuple[str, ...]] = get_args(Step)

# --- runs and data quality ------------------------------------------------------------------

RunStatus = Literal["running", "completed", "failed"]
RUNNING: Final = "running"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
RUN_STATUSES: Final[tuple[str, ...]] = get_args(RunStatus)

#: How bad a failed expectation is: ``critical`` blocks the load, ``quarantine`` sets the
#: failing rows' articles aside, ``warning`` is reported and loads.
Severity = Literal["critical", "quarantine", "warning"]
CRITICAL: Final = "critical"
QUARANTINE: Final = "quarantine"
WARNING: Final = "warning"
SEVERITIES: Final[tuple[str, ...]] = get_args(Severity)

#: Tables the data-quality results are about (``dq_results.table_name``): the frame suites,
#: the suite run inside the load, the warehouse-wide invariants and the run-level checks.
CheckedTable = Literal["articles", "mentions", "quotes", "entities", "warehouse", "run"]
CHECKED_TABLES: Final[tuple[str, ...]] = get_args(CheckedTable)

#: The ``check_name`` of the quarantine row that sets a whole article aside.
ARTICLE_SET_ASIDE: Final = "article set aside"
#: The check whose counts give a run's share of quotes without speaker (a run-level baseline).
SPEAKER_CHECK: Final = "most quotes have a speaker"
