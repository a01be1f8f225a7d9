"""Loading a run's frames into DuckDB in one transaction, and the ``runs`` bookkeeping.

Idempotence comes from replacing, not appending: before the new rows go in, every row of an
article whose ``source_path`` or ``article_id`` is being loaded is deleted (with its mentions
and quotes), so a rerun over the same files leaves identical row counts and a changed file
replaces its old rows. ``entities`` follows the mentions inside the same transaction: the
entities whose mentions the load deleted are aggregated again from their mentions, those that
only gained mentions fold the new ones into their rows, and the rest cannot have changed, so a
load costs what it brings in, not the warehouse's size; a full refresh or a new warehouse
rebuilds them all (``ENTITIES_REBUILD``). A check callback
runs inside the transaction before the commit; if it raises, everything is rolled back and
the warehouse stays exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from transforms.schema import ALL_TABLES, DQ_RESULTS, RUNS, TABLES, RunRecord
from transforms.vocab import QUARANTINED
from warehouse.connection import LAKE, registered
from warehouse.ddl import ensure_schema, quote_ident
from warehouse.integrity import META
from warehouse.search import (
    INDEXES,
    LoadDelta,
    drop_deleted_keys,
    ensure_indexes,
    has_index,
    keep_deleted_keys,
    sync_indexes,
)
from warehouse.snapshots import on_lake, tag_commit
from warehouse.staging import StagedTable

#: A table's incoming rows: a frame in memory, or Parquet files staged batch by batch.
Rows = pl.DataFrame | StagedTable

#: One ``entities`` row per entity of the mentions in ``{source}``: the one definition of an
#: entity, for the whole table and for the entities a load touched alike. (``list(DISTINCT
#: text)`` is ``list_distinct(list(text))`` for a column that is never NULL, at 2/3 the cost.)
ENTITY_ROWS = """
SELECT
    entity_id,
    mode(entity_name) AS name,
    any_value(entity_type) AS entity_type,
    list_sort(list(DISTINCT text)) AS aliases,
    count(*) AS mention_count,
    count(DISTINCT article_id) AS article_count
FROM {source}
GROUP BY entity_id
"""

ENTITIES_REBUILD = "DELETE FROM entities;\nINSERT INTO entities BY NAME" + ENTITY_ROWS.format(source="mentions") + ";\n"

#: The mentions of the entities in ``touched_entities`` (``entity_id`` is NOT NULL in the
#: store, so ``IN`` misses no group).
TOUCHED_MENTIONS = "(SELECT * FROM mentions WHERE entity_id IN (SELECT entity_id FROM touched_entities))"

#: The ``entities`` rows of the entities that only gained mentions, the incoming ones (``{delta}``,
#: ENTITY_ROWS over them) folded into the rows they had: counts add up, aliases join. Exactly
#: what ENTITY_ROWS over all their mentions gives: the incoming mentions belong to articles no
#: mention had before (a load first deletes every article with the same path or id), so
#: ``article_count`` adds up; an ``entity_id`` hashes its type (the same in every mention) and
#: its folded name, so spellings may differ ("PayPal", "Paypal"), and an entity whose incoming
#: mentions do not all spell it as its row does is counted again instead (``NAME_CHANGES``).
NAME_CHANGES = """
INSERT INTO touched_entities
SELECT d.entity_id FROM (
    SELECT entity_id, min(entity_name) AS lo, max(entity_name) AS hi FROM {source} GROUP BY entity_id) d
LEFT JOIN entities e USING (entity_id)
WHERE (d.lo <> d.hi OR d.lo <> e.name) AND d.entity_id NOT IN (SELECT entity_id FROM touched_entities)
"""

ENTITY_MERGE = """
CREATE OR REPLACE TEMP TABLE entity_merge AS
SELECT d.entity_id, coalesce(e.name, d.name) AS name, coalesce(e.entity_type, d.entity_type) AS entity_type,
       list_sort(list_distinct(list_concat(coalesce(e.aliases, []), d.aliases))) AS aliases,
       coalesce(e.mention_count, 0) + d.mention_count AS mention_count,
       coalesce(e.article_count, 0) + d.article_count AS article_count
FROM ({delta}) d LEFT JOIN entities e USING (entity_id)
"""

#: Tables whose rows a load replaces and the warehouse checks judge: a commit that changes one
#: of them and is not a load leaves a state no check has seen.
CHECKED_TABLES = ("articles", "mentions", "quotes", "entities")
#: Kinds of change of a snapshot that only add or remove rows (any other kind, e.g. a table
#: created, altered or compacted, counts as a change of every table).
ROW_CHANGES = ("tables_inserted_into", "tables_deleted_from", "inlined_insert", "inlined_delete")


@dataclass(frozen=True)
class LoadResult:
    articles_loaded: int
    mentions_loaded: int
    quotes_loaded: int
    rejected: int
    table_rows: dict[str, int]


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t.name: con.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0] for t in ALL_TABLES}


#: The columns of ``runs`` a run knows when it starts; the rest stay NULL until it ends, so a
#: run that dies on the way is visibly unfinished rather than "0 files".
RUN_START_COLUMNS = ("run_id", "flow_run_id", "started_at", "status", "seeds_dir", "extractor_version")


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any: a failed COMMIT has ended it already, and the
    error to report is the one that got us here, not "no transaction is active"."""
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, run_id: str, message: str) -> Iterator[None]:
    """One transaction (one snapshot of the lake, named after the run); rolled back on any
    error. DuckDB turns a COMMIT after a failed statement into a silent rollback, so the
    error is never swallowed here: it propagates after the ROLLBACK."""
    con.execute("BEGIN TRANSACTION")
    try:
        tag_commit(con, run_id, message)
        yield
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise


def record_run_start(con: duckdb.DuckDBPyConnection, record: RunRecord) -> None:
    """Insert the run's row as it stands at the start (status ``running``)."""
    ensure_schema(con)
    row = record.row()
    with transaction(con, record.run_id, f"run {record.run_id} started"):
        _insert(con, "runs", RUNS.frame([{k: row[k] for k in RUN_START_COLUMNS}]))


def record_run_end(con: duckdb.DuckDBPyConnection, record: RunRecord) -> None:
    """Write the run's whole record over its row (``finished_at`` now, unless the record says;
    set on the record too, so that the summary a script reads says when the run ended)."""
    record.finished_at = record.finished_at or dt.datetime.now(dt.UTC)
    row = record.row()
    fields = {k: v for k, v in row.items() if k not in RUNS.key}
    sets = ", ".join(f"{quote_ident(k)} = ?" for k in fields)
    with transaction(con, record.run_id, f"run {record.run_id} {record.status}"):
        con.execute(f"UPDATE runs SET {sets} WHERE run_id = ?", [*fields.values(), record.run_id])


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Rows) -> int:
    """Append rows to a table: a frame conformed to the table's schema first, or staged
    Parquet files (conformed when staged) read by DuckDB without passing through Python."""
    if rows.height == 0:
        return 0
    if isinstance(rows, StagedTable):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {rows.sql()}")
        return rows.height
    with registered(con, f"stage_{table}", TABLES[table].conform(rows)) as name:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {name}")
    return rows.height


def _fault_point(point: str) -> None:
    """Fault injection for the crash-safety tests: pause at a point of the load.

    With NEWSETL_FAULT_PAUSE_<POINT>=<seconds> set (BEFORE_COMMIT: inside the open transaction,
    its rows written; AFTER_COMMIT: just after it), the loader touches the file named by
    NEWSETL_FAULT_MARKER and sleeps, so a test can SIGKILL a real run there, or read while it
    waits. Unset in normal use: costs one environment look-up per point.
    """
    pause = os.environ.get(f"NEWSETL_FAULT_PAUSE_{point}")
    if pause:
        marker = os.environ.get("NEWSETL_FAULT_MARKER")
        if marker:
            Path(marker).touch()
        time.sleep(float(pause))


def _flag_missing(con: duckdb.DuckDBPyConnection, returning: list[str], missing: list[str],
                  now: dt.datetime) -> None:
    paths = pl.Schema({"source_path": pl.Utf8})
    if missing:
        with registered(con, "gone", pl.DataFrame({"source_path": missing}, schema=paths)):
            con.execute("UPDATE articles SET missing_since = ? WHERE missing_since IS NULL "
                        "AND source_path IN (SELECT source_path FROM gone)", [now])
    if returning:
        with registered(con, "back", pl.DataFrame({"source_path": returning}, schema=paths)):
            con.execute("UPDATE articles SET missing_since = NULL WHERE missing_since IS NOT NULL "
                        "AND source_path IN (SELECT source_path FROM back)")


def _restat(con: duckdb.DuckDBPyConnection, stats: dict[str, str]) -> None:
    """Record the ``file_stat`` of loaded files this run read and found unchanged (their stat
    had changed, or was never recorded: a warehouse from before the column, a file read
    within seconds of its last change): the next run need not read them. Only the bookkeeping
    column changes, inside the load's transaction; no checked value does."""
    if not stats:
        return
    frame = pl.DataFrame({"source_path": list(stats), "file_stat": list(stats.values())},
                         schema={"source_path": pl.String, "file_stat": pl.String})
    with registered(con, "restat", frame):
        con.execute("UPDATE articles SET file_stat = r.file_stat FROM restat r "
                    "WHERE articles.source_path = r.source_path AND articles.file_stat IS DISTINCT FROM r.file_stat")


@dataclass(frozen=True)
class KnownFiles:
    """What the warehouse holds of the files it loaded, read in one pass over ``articles``.

    ``sha``: source_path -> content_sha256 of every loaded article, what an incremental run can
    skip. ``stats``: source_path -> ``file_stat`` of those that have one: a file that stats the
    same now is the file loaded, and a run need not read it. ``flagged``: those flagged gone
    from their seeds folder. (Three queries read the same rows three times and built the
    objects row by row: 0.21 s at 100,560 articles, against 0.09 s.)"""

    sha: dict[str, str]
    stats: dict[str, str]
    flagged: set[str]


def known_state(con: duckdb.DuckDBPyConnection) -> KnownFiles:
    """:class:`KnownFiles` of the warehouse (called after :func:`record_run_start`, which has
    brought the schema up to date). A warehouse from before ``file_stat`` (read-only, not yet
    brought up to date) has no stats: its files are read and hashed."""
    cols = "source_path, content_sha256, {} AS file_stat, missing_since IS NOT NULL AS gone FROM articles"
    try:
        frame = con.execute("SELECT " + cols.format("file_stat")).pl()
    except duckdb.BinderException:
        frame = con.execute("SELECT " + cols.format("NULL::VARCHAR")).pl()
    with_stat = frame.filter(pl.col("file_stat").is_not_null())
    return KnownFiles(dict(zip(frame["source_path"].to_list(), frame["content_sha256"].to_list(), strict=True)),
                      dict(zip(with_stat["source_path"].to_list(), with_stat["file_stat"].to_list(), strict=True)),
                      set(frame.filter(pl.col("gone"))["source_path"].to_list()))


def held_files(con: duckdb.DuckDBPyConnection, extractor_version: str | None) -> dict[str, str]:
    """source_path -> content_sha256 of the files a run of this very extractor set aside
    (quarantined) and that no run has loaded since: with the same bytes they would be set
    aside again, so an incremental run does not retry them."""
    if not extractor_version:
        return {}
    held = dict(con.execute(
        "SELECT r.source_path, arg_max(r.content_sha256, r.rejected_at) FROM rejected_files r "
        "JOIN runs u USING (run_id) WHERE r.reason = ? AND u.extractor_version = ? "
        "AND r.content_sha256 IS NOT NULL GROUP BY r.source_path",
        [QUARANTINED, extractor_version]).fetchall())
    if not held:  # the usual case: no scan of articles
        return {}
    with registered(con, "held", pl.DataFrame({"source_path": list(held)}, schema={"source_path": pl.String})):
        loaded = {p for (p,) in con.execute(
            "SELECT source_path FROM articles WHERE source_path IN (SELECT source_path FROM held)").fetchall()}
    return {p: sha for p, sha in held.items() if p not in loaded}


def record_diagnostics(con: duckdb.DuckDBPyConnection, run_id: str, rejected: pl.DataFrame, dq_rows: pl.DataFrame,
                       quarantine: pl.DataFrame | None = None) -> None:
    """Store a run's rejections, data-quality results and quarantined rows (for runs whose
    load failed, or that had nothing to load: what they found is worth keeping)."""
    with transaction(con, run_id, f"run {run_id}: diagnostics of a run that loaded nothing"):
        _insert(con, "rejected_files", rejected)
        _insert(con, "dq_results", dq_rows)
        if quarantine is not None:
            _insert(con, "quarantine", quarantine)


def _touched_entities(con: duckdb.DuckDBPyConnection, replaced: str) -> None:
    """``touched_entities``: the entities of the mentions about to be deleted (those of the
    ``replaced`` articles): their counts and aliases change, or they go, so each is counted
    again from all of its mentions."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE touched_entities AS
        SELECT DISTINCT entity_id FROM mentions WHERE article_id IN (SELECT article_id FROM {replaced})""")


def _source(con: duckdb.DuckDBPyConnection, stack: ExitStack, table: str, rows: Rows, *columns: str) -> str:
    """A relation of the incoming rows to read in SQL: the staged Parquet files, or the frame
    conformed to ``table`` and registered for the rest of ``stack`` (only ``columns`` of it)."""
    if isinstance(rows, StagedTable):
        return rows.sql()
    return stack.enter_context(registered(con, f"incoming_{table}", TABLES[table].conform(rows).select(*columns)))


def _index_deltas(con: duckdb.DuckDBPyConnection, stack: ExitStack, gone: dict[str, str], articles: Rows,
                  quotes: Rows) -> dict[str, LoadDelta]:
    """What the load changed in each indexed table: the keys it deleted (``gone``, from
    :func:`warehouse.search.keep_deleted_keys`) and its incoming rows (:func:`_source`: their
    key and indexed fields)."""
    rows = {"articles": articles, "quotes": quotes}
    return {ix.table: LoadDelta(gone[ix.table], _source(con, stack, ix.table, rows[ix.table], ix.key, *ix.fields))
            for ix in INDEXES}


def _update_entities(con: duckdb.DuckDBPyConnection, rebuild: bool, mentions: Rows) -> None:
    """Bring ``entities`` in line with ``mentions``: all of it for a ``rebuild``; else the
    entities in ``touched_entities`` (those of the deleted mentions) aggregated again from all
    of their mentions, and the other entities of the incoming ``mentions`` updated with those
    alone (``ENTITY_MERGE``; those whose name might change with them are counted again too):
    a load of new articles reads none of the mentions already in the warehouse (0.2 s at 23,000
    articles when it re-aggregated them). Either way the rows equal what ``ENTITIES_REBUILD``
    gives (up to the name ``mode`` picks among spellings tied for most mentions, which DuckDB
    leaves to scan order)."""
    if rebuild:
        con.execute(ENTITIES_REBUILD)
        return
    with ExitStack() as stack:
        men = _source(con, stack, "mentions", mentions, "entity_id", "entity_name", "entity_type", "text", "article_id")
        con.execute(NAME_CHANGES.format(source=men))
        gained = f"(SELECT * FROM {men} WHERE entity_id NOT IN (SELECT entity_id FROM touched_entities))"
        con.execute(ENTITY_MERGE.format(delta=ENTITY_ROWS.format(source=gained)))
    con.execute("DELETE FROM entities WHERE entity_id IN (SELECT entity_id FROM touched_entities) "
                "OR entity_id IN (SELECT entity_id FROM entity_merge)")
    con.execute("INSERT INTO entities BY NAME SELECT * FROM entity_merge")
    con.execute("INSERT INTO entities BY NAME" + ENTITY_ROWS.format(source=TOUCHED_MENTIONS))
    con.execute("DROP TABLE entity_merge")


def checked_basis(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run whose load left the checked tables as they stand, if the lake shows it: the last
    snapshot that changed ``articles``, ``mentions``, ``quotes`` or ``entities`` is that run's
    load commit (a load commits only after the warehouse checks pass). None when another commit
    changed them since (a rollback, a migration, a compaction, SQL from elsewhere), when the
    snapshots that would say were expired, or when the store is not a lake: then nothing is
    known to have been checked, and the checks judge every row."""
    if not on_lake(con):
        return None
    # The search indexes count too: a load keeps them matching the tables, and updates them
    # from what it changed only when this says that nothing else has changed them since.
    ids = {str(i) for (i,) in con.execute(
        f"SELECT t.table_id FROM {META}.ducklake_table t JOIN {META}.ducklake_schema s USING (schema_id) "
        "WHERE t.end_snapshot IS NULL AND s.end_snapshot IS NULL "
        "AND (s.schema_name = 'main' AND list_contains(?, t.table_name) OR list_contains(?, s.schema_name))",
        [list(CHECKED_TABLES), [ix.schema for ix in INDEXES]]).fetchall()}
    rows = con.execute(f"SELECT changes, commit_message, commit_extra_info FROM {LAKE}.snapshots() "
                       "ORDER BY snapshot_id DESC").fetchall()
    for changes, message, extra in rows:
        if all(kind in ROW_CHANGES and not ids & set(touched) for kind, touched in (changes or {}).items()):
            continue  # the runs, data-quality or rejection tables only
        try:
            run = json.loads(extra).get("run_id") if extra else None
        except (ValueError, AttributeError):
            run = None
        return run if run and message == f"run {run}: load" else None
    return None


def _load_scope(con: duckdb.DuckDBPyConnection, replaced: str, articles: Rows, mentions: Rows, quotes: Rows,
                basis: str | None) -> None:
    """For the warehouse checks: ``temp.load_scope`` holds the article_id of every article,
    mention and quote this load wrote and of every article it deleted (``replaced``), and
    ``temp.load_basis`` the run whose checked load left every other row as it stands
    (:func:`checked_basis`) with the ``run_id`` that every article of the scope still there
    carries, if one does (a filter on it skips the data files of other runs), and the runs of
    every mention and quote of the scope (``scope_runs``, to the same end). A check may then
    judge the rows of those articles only, where that finds every violation (see
    ``expectations.suites.scoped_invariants``). Without a basis no scope is made, and every
    check scans the whole warehouse."""
    if basis is None:
        return
    with ExitStack() as stack:
        men = _source(con, stack, "mentions", mentions, "article_id", "run_id")
        art = _source(con, stack, "articles", articles, "article_id", "run_id")
        quo = _source(con, stack, "quotes", quotes, "article_id", "run_id")
        written = f"SELECT article_id FROM {men} UNION SELECT article_id FROM {quo}"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE load_scope AS
            SELECT article_id FROM {art} UNION {written} UNION SELECT article_id FROM {replaced}""")
        # The run_id every article of the scope that still exists carries, when one does: the
        # articles the load wrote carry it, and no mention or quote points at another (the
        # usual case); the replaced articles that did not come back are gone. And the runs of
        # the rows the load wrote and of the articles it deleted, whose mentions and quotes
        # carry their article's run (none is left, unless the delete failed).
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE load_basis AS
            SELECT ? AS run_id, CASE WHEN count(DISTINCT run_id) = 1 AND count(run_id) = count(*)
                AND NOT EXISTS ({written} EXCEPT SELECT article_id FROM {art})
                THEN min(run_id) END AS articles_run,
                (SELECT list(DISTINCT r ORDER BY r) FROM (SELECT run_id AS r FROM {art}
                 UNION ALL SELECT run_id FROM {men} UNION ALL SELECT run_id FROM {quo}
                 UNION ALL SELECT run_id FROM {replaced})) AS scope_runs
            FROM {art}""", [basis])


def _gone_entities(con: duckdb.DuckDBPyConnection) -> None:
    """``temp.load_gone_entities``, beside the scope: the entities the load removed (touched,
    and no row left), for the checks of the references to ``entities`` (see
    ``expectations.suites.scoped_invariants``)."""
    con.execute("CREATE OR REPLACE TEMP TABLE load_gone_entities AS SELECT entity_id FROM touched_entities "
                "WHERE entity_id NOT IN (SELECT entity_id FROM entities)")


def _drop_scope(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS temp.load_scope")
    con.execute("DROP TABLE IF EXISTS temp.load_basis")
    con.execute("DROP TABLE IF EXISTS temp.load_gone_entities")


def load_run(
    con: duckdb.DuckDBPyConnection,
    articles: Rows,
    mentions: Rows,
    quotes: Rows,
    rejected: pl.DataFrame,
    dq_rows: pl.DataFrame,
    check: Callable[[duckdb.DuckDBPyConnection], pl.DataFrame] | None = None,
    *,
    full_refresh: bool = False,
    returning_paths: list[str] | None = None,
    missing_paths: list[str] | None = None,
    quarantine: pl.DataFrame | None = None,
    now: dt.datetime | None = None,
    run_id: str = "",
    restat: dict[str, str] | None = None,
) -> tuple[LoadResult, pl.DataFrame]:
    """Replace the run's articles (and their mentions and quotes) in one transaction.

    ``dq_rows`` (the checks run on the frames before the load) and ``rejected`` are stored in
    the same transaction. ``check`` is called inside it after the load, with the connection;
    it returns more data-quality rows, and raises to veto the commit. Returns the load counts
    and the check's rows.

    ``full_refresh`` empties the data tables first (a rebuild from scratch). ``missing_paths``
    are loaded files gone from their seeds folder: their rows stay, flagged with
    ``missing_since``; ``returning_paths`` (files flagged so that are back) clears the flag.
    ``quarantine`` rows (articles set aside by the data-quality gate) are stored alongside.
    ``articles``, ``mentions`` and ``quotes`` are frames, or the tables of a
    :class:`warehouse.staging.StagedTable` for a run too large to hold in memory. ``run_id``
    names the commit's snapshot (time travel and rollback find the run's snapshot by it).
    ``restat``: source_path -> ``file_stat`` of loaded files the run read and found unchanged.
    """
    ensure_schema(con)
    now = now or dt.datetime.now(dt.UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        basis = None if full_refresh else checked_basis(con)  # before this load changes anything
        tag_commit(con, run_id, f"run {run_id}: load")
        indexed = has_index(con)
        ensure_indexes(con)  # before the inserts: a new warehouse's indexes start empty
        if full_refresh:
            for table in ("mentions", "quotes", "articles"):
                con.execute(f"DELETE FROM {table}")
        _flag_missing(con, returning_paths or [], missing_paths or [], now)
        _restat(con, restat or {})
        with ExitStack() as stack:
            incoming = (articles.sql() if isinstance(articles, StagedTable) else
                        stack.enter_context(registered(con, "incoming", articles.select("article_id", "source_path"))))
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE replaced AS
                SELECT article_id, run_id FROM articles
                WHERE source_path IN (SELECT source_path FROM {incoming})
                   OR article_id IN (SELECT article_id FROM {incoming})
            """)
        # Derived from scratch in a new (or migrated) warehouse, and wherever no checked load left
        # the tables as they stand (a commit of something else may have changed them)
        rebuild = full_refresh or not indexed or basis is None
        _touched_entities(con, "replaced")  # before their mentions go
        # A checked load left the indexes matching their tables: they follow the rows changed
        # (synced below only when an article comes in)
        gone = keep_deleted_keys(con, "SELECT article_id FROM replaced") if not rebuild and articles.height else None
        for table in ("mentions", "quotes", "articles"):
            con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM replaced)")
        n_art = _insert(con, "articles", articles)
        n_men = _insert(con, "mentions", mentions)
        n_quo = _insert(con, "quotes", quotes)
        _load_scope(con, "replaced", articles, mentions, quotes, None if rebuild else basis)
        if rebuild or articles.height:
            # Nothing derived changes when no article came in: a no-change rerun skips this.
            _update_entities(con, rebuild, mentions)
            # Full-text search always matches the tables: the indexes follow the rows changed.
            with ExitStack() as stack:
                deltas = None if gone is None else _index_deltas(con, stack, gone, articles, quotes)
                sync_indexes(con, "SELECT article_id FROM replaced", reset=full_refresh, deltas=deltas)
        if gone is not None:
            drop_deleted_keys(con)
        con.execute("DROP TABLE replaced")
        if basis is not None and not rebuild:  # a scope was made (_load_scope)
            _gone_entities(con)
        con.execute("DROP TABLE touched_entities")
        _fault_point("BEFORE_COMMIT")
        try:
            post_rows = check(con) if check is not None else DQ_RESULTS.empty()
        finally:
            _drop_scope(con)
        _insert(con, "rejected_files", rejected)
        _insert(con, "dq_results", pl.concat([DQ_RESULTS.conform(dq_rows), DQ_RESULTS.conform(post_rows)]))
        if quarantine is not None:
            _insert(con, "quarantine", quarantine)
        counts = table_counts(con)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    _fault_point("AFTER_COMMIT")
    return LoadResult(n_art, n_men, n_quo, rejected.height, counts), post_rows
