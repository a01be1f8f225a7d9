"""Running the suites with Great Expectations, storing results, building Data Docs.

GX is imported here only (it costs ~4 s), and runs in a file context kept beside the
warehouse (``<db folder>/<db name>.gx/``) so that Data Docs accumulate every run's
validations at a stable path. Frames are validated through ``to_pandas()``, GX having no
Polars or DuckDB support that works here: its SQL path fails on DuckDB, and ``to_pandas()`` is cheap.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from expectations.paths import data_docs_path, gx_root
from expectations.suites import (
    CRITICAL,
    LOAD_BASIS,
    LOAD_GONE,
    LOAD_SCOPE,
    QUARANTINE,
    ROW_KEYS,
    RUN_CHECKS,
    Check,
    entity_checks,
    scoped_invariants,
    warehouse_checks,
    warehouse_invariants,
)
from transforms.schema import DQ_RESULTS

DATASOURCE = "newsetl"
#: In the meta of a validation result whose values were escaped, and beside the Data Docs'
#: assets once every page of the site was rendered from escaped results (a site without it was
#: built by an older newsetl, and is rendered again once).
ESCAPED_MARK = "newsetl-escaped-values"


#: Rows that failed a ``quarantine`` check: which check, and the row's article and key.
FLAGGED_SCHEMA = pl.Schema({"table_name": pl.Utf8, "check_name": pl.Utf8, "expectation": pl.Utf8,
                            "reason": pl.Utf8, "article_id": pl.Utf8, "row_key": pl.Utf8})


class SuiteResult(NamedTuple):
    rows: pl.DataFrame  # dq_results rows, one per expectation
    flagged: pl.DataFrame  # FLAGGED_SCHEMA: rows failing a quarantine check


class DataQualityError(RuntimeError):
    """A critical expectation failed: the load is refused."""

    def __init__(self, message: str, rows: pl.DataFrame):
        super().__init__(message)
        self.rows = rows


class StoredResult(NamedTuple):
    """A suite's validation result made away from the warehouse (on a cluster's worker), with
    what names it in Data Docs: the flow's validator stores it (:meth:`Validator.adopt`)."""

    suite_name: str
    run_name: str
    batch_id: str
    result: Any  # GX's ExpectationSuiteValidationResult, escaped


#: Integer types GX checks one value at a time: its ``ExpectColumnValuesToBeBetween`` compares a
#: pandas column in one vectorised step only if its dtype equals ``int`` or ``float`` (int64,
#: float64) and maps a Python function over every other (0.5 s CPU over the 338,000 mentions of
#: 20,950 articles, for int32 offsets). Widened before the check: the same values, the same results.
NARROW_INTS = (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32)


def _no_batch_fingerprints() -> None:
    """Have GX skip the MD5 of every pandas batch it is given.

    GX 1.x hashes each in-memory DataFrame whole (``pd.util.hash_pandas_object``) to store a
    ``pandas_data_fingerprint`` among the batch markers of its results, for frames under
    ``HASH_THRESHOLD`` bytes. Nothing here reads that marker, and it cost a quarter of all
    validation CPU: 2.2 of 8.9 s over 20,950 articles. The threshold is GX's own switch for it
    (frames above it get no fingerprint); at 0 none does. The expectations and their results
    are untouched. ``tests/test_expectations.py`` checks the marker is gone, so a GX release
    that moves the switch fails a test instead of quietly hashing again."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


#: Python types whose values a metric id is computed from as they are (see _metric_ids_remembered).
_PLAIN = (str, int, float, bool, type(None))
#: How many metric ids are remembered at most; a run needs a few hundred.
MAX_REMEMBERED_IDS = 20_000


def _plain_form(value: Any) -> Any:
    """``value`` as a hashable key that keeps what GX's id sees of it: its type (``True``,
    ``1`` and ``1.0`` give different ids), a float's sign (``-0.0`` is not ``0.0``, though
    they compare equal) and a dict's key order (an argument's id is ``key=<its str>`` when it
    is the only one). None when it holds anything but plain values, lists, tuples and dicts."""
    kind = type(value)
    if kind is float:
        return (kind, repr(value))
    if kind in _PLAIN:
        return (kind, value)
    if kind is list or kind is tuple:
        items = tuple(_plain_form(v) for v in value)
        return None if None in items else (kind, items)
    if kind is dict:  # e.g. the result format the arguments carry
        return _plain_items(value)
    return None


def _plain_items(mapping: dict) -> tuple | None:
    """A dict's items as a key for :func:`_plain_form`, in their order (two orders of the
    same items only miss each other); None if not plain."""
    if not all(type(k) is str for k in mapping):
        return None
    items = tuple((k, _plain_form(v)) for k, v in mapping.items())
    return None if any(form is None for _, form in items) else (dict, items)


def _metric_ids_remembered() -> None:
    """Have GX compute the id of each metric's keyword arguments once per process.

    Planning a validation, GX 1.x builds a ``MetricConfiguration`` for every metric each
    expectation depends on (about 3,200 for the three frame suites) and each computes two ids
    (``IDDict.to_id``): the arguments made JSON-safe, dumped and hashed with MD5, though the
    arguments are the same few hundred at every batch. A third of the frame suites' fixed cost
    per batch (0.27 of 0.82 CPU s for 2,095 articles). The id of arguments that are plain
    values (strings, numbers, booleans, None, lists and dicts of them) is remembered by their value and
    type; any other argument, a subclass of ``IDDict`` or a call naming its keys goes to GX.
    ``tests/test_expectations.py`` compares every remembered id with the one GX computes."""
    from great_expectations.core.id_dict import IDDict

    computed_by_gx = IDDict.to_id
    if getattr(computed_by_gx, "newsetl_remembered", False):
        return
    remembered: dict[tuple, Any] = {}

    def to_id(self, id_keys=None, id_ignore_keys=None):
        if id_keys is not None or id_ignore_keys is not None or type(self) is not IDDict:
            return computed_by_gx(self, id_keys, id_ignore_keys)
        key = _plain_items(self)
        if key is None:
            return computed_by_gx(self)
        hit = remembered.get(key)
        if hit is None:
            if len(remembered) >= MAX_REMEMBERED_IDS:
                remembered.clear()
            hit = remembered[key] = computed_by_gx(self)
        return hit

    to_id.newsetl_remembered = True  # type: ignore[attr-defined]
    to_id.computed_by_gx = computed_by_gx  # type: ignore[attr-defined]
    IDDict.to_id = to_id  # type: ignore[method-assign]


def _first_failing_rows_named() -> None:
    """Have GX name the first failing rows a summary shows, not every failing row.

    For a result format that names failing rows by columns (``unexpected_index_column_names``,
    as :meth:`Validator.validate` asks), GX 1.x builds a dict for *every* failing row, a pandas
    ``.at`` lookup per row and column, then keeps the first ``partial_unexpected_count`` of
    them unless the format is ``COMPLETE``. A warning such as "most quotes have a speaker" fails
    on a fifth of the quotes by design: a sixth of the frame suites' CPU went into lists thrown
    away. With this, a summary's listing is given only the rows it keeps (the same first rows
    in the same order); ``COMPLETE``, ``exclude_unexpected_values``, no examples asked, and
    frames with a named index or repeated index labels (where GX's ``.at`` returns every row
    of a label) are GX's own path. ``tests/test_expectations.py`` compares the results with GX's."""
    from great_expectations.expectations.metrics.map_metric_provider import (
        map_condition_auxilliary_methods as caller,
    )

    listed_by_gx = caller.compute_unexpected_pandas_indices
    if getattr(listed_by_gx, "newsetl_first_rows", False):
        return

    def compute_unexpected_pandas_indices(domain_records_df, expectation_domain_column_list, result_format,
                                          execution_engine, metrics):
        keep = result_format.get("partial_unexpected_count")
        if (result_format.get("result_format") != "COMPLETE" and isinstance(keep, int) and keep > 0
                and result_format.get("unexpected_index_column_names")
                and not result_format.get("exclude_unexpected_values", False)
                and domain_records_df.index.names == [None] and domain_records_df.index.is_unique):
            domain_records_df = domain_records_df.iloc[:keep]
        return compute_unexpected_pandas_indices.listed_by_gx(  # type: ignore[attr-defined]
            domain_records_df=domain_records_df,
            expectation_domain_column_list=expectation_domain_column_list,
            result_format=result_format, execution_engine=execution_engine, metrics=metrics)

    compute_unexpected_pandas_indices.newsetl_first_rows = True  # type: ignore[attr-defined]
    compute_unexpected_pandas_indices.listed_by_gx = listed_by_gx  # type: ignore[attr-defined]
    caller.compute_unexpected_pandas_indices = compute_unexpected_pandas_indices


#: The configurations of the expectations being validated, in this thread (None: none is).
_BUILT = threading.local()


def _one_configuration_per_expectation() -> None:
    """Have GX build each expectation's configuration once per validation, not per lookup.

    GX 1.x's ``Expectation.configuration`` is a property that builds a new
    ``ExpectationConfiguration`` (a pydantic ``dict()`` of the expectation and a regex over its
    class name) at every access, and planning one validation accesses it about 120 times per
    expectation (every keyword argument is looked up through it): a quarter of the frame suites'
    CPU for a 2,095-article batch (0.49 -> 0.36 s), whatever the batch's size. While
    :meth:`Validator.validate` runs (:func:`_configurations_kept`) the property returns the one
    built first for that expectation object: GX makes the expectation objects of a validation
    anew and only reads them. Anywhere else, and in any other thread, it builds as GX does.
    ``tests/test_expectations.py`` compares results with and without, and counts the builds."""
    from great_expectations.expectations.expectation import Expectation

    built_by_gx = Expectation.__dict__["configuration"].fget
    if getattr(built_by_gx, "newsetl_kept", False):
        return

    def configuration(self):
        kept = getattr(_BUILT, "kept", None)
        if kept is None:
            return configuration.built_by_gx(self)  # type: ignore[attr-defined]
        hit = kept.get(id(self))
        if hit is None or hit[0] is not self:  # an id reused by a new object: build again
            hit = kept[id(self)] = (self, configuration.built_by_gx(self))  # type: ignore[attr-defined]
        return hit[1]

    configuration.newsetl_kept = True  # type: ignore[attr-defined]
    configuration.built_by_gx = built_by_gx  # type: ignore[attr-defined]
    Expectation.configuration = property(configuration)  # type: ignore[method-assign,assignment]


@contextmanager
def _configurations_kept() -> Iterator[None]:
    """Within: each expectation object's configuration is built once (see above)."""
    outer = getattr(_BUILT, "kept", None)
    _BUILT.kept = {} if outer is None else outer
    try:
        yield
    finally:
        _BUILT.kept = outer


@dataclass
class Validator:
    """A GX file context bound to one warehouse, reused for every suite of a run.

    ``db_path`` None: a *detached* validator (an in-memory GX context), as a cluster's worker
    runs the frame suites on its batch; the results it made (``detached_results``) go back to
    the flow, whose validator stores them beside the warehouse, so Data Docs show one run
    whichever machines checked its batches. ``run_time``: the run's, so they group as one.
    """

    db_path: Path | None
    run_id: str
    run_time: dt.datetime | None = None

    def __post_init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        _no_batch_fingerprints()
        _one_configuration_per_expectation()
        _metric_ids_remembered()
        _first_failing_rows_named()
        if self.db_path is None:
            self.context = gx.get_context(mode="ephemeral")
        else:
            root = gx_root(self.db_path)
            root.mkdir(parents=True, exist_ok=True)
            self.context = gx.get_context(mode="file", project_root_dir=str(root))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.variables.analytics_enabled = False
        if self.db_path is not None:
            self.context.variables.save()
        self.datasource = self.context.data_sources.add_or_update_pandas(DATASOURCE)
        self.run_time = self.run_time or dt.datetime.now(dt.UTC)
        self.resources: list = []  # this run's suites and validation results: what Data Docs re-render
        self.detached_results: list[StoredResult] = []  # made here, to be stored by the flow's validator
        self._definitions: dict[str, tuple[str, object]] = {}  # suite -> (what was saved, its definition)

    def _expectation(self, check: Check, suite: str):
        import great_expectations.expectations as gxe

        cls = getattr(gxe, check.expectation)
        meta = {"severity": check.severity, "check": check.name, "suite": suite, "notes": check.description}
        return cls(**check.kwargs, meta=meta)

    def _definition(self, suite_name: str, checks: list[Check]):
        """The suite and validation definition for one suite, saved in the GX context once per
        run and reused for every batch: saving them costs more than validating a batch of
        thousands of rows. No checkpoint: newsetl runs no GX action, and a checkpoint's run
        first compares itself with its stored copy (about 8% of a batch's validation in a
        profile of the flow), and the definition's own ``run`` stores the result for Data Docs
        just the same."""
        cache_key = json.dumps([suite_name, [(c.name, c.expectation, c.kwargs, c.severity) for c in checks]],
                               sort_keys=True, default=str)
        saved = self._definitions.get(suite_name)
        if saved is not None and saved[0] == cache_key:  # the suite in the store is this very one
            return saved[1]
        gx = self.gx
        try:
            asset = self.datasource.get_asset(suite_name)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(suite_name)
        try:
            batch_def = asset.get_batch_definition("whole")
        except KeyError:
            batch_def = asset.add_batch_definition_whole_dataframe("whole")
        # All expectations at construction: add_expectation on a suite already in the store
        # rewrites the stored suite once per expectation.
        suite = self.context.suites.add_or_update(gx.ExpectationSuite(
            name=suite_name, expectations=[self._expectation(check, suite_name) for check in checks]))
        vd = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch_def, suite=suite))
        self._definitions[suite_name] = (cache_key, vd)
        return vd

    def validate(self, suite_name: str, checks: list[Check], frame: pl.DataFrame,
                 part: str | None = None) -> SuiteResult:
        """Validate one frame against one suite: ``dq_results`` rows plus the rows to quarantine.

        Frame suites (``articles``, ``mentions``, ``quotes``) ask GX for the ``article_id`` and
        key of every failing row, so a ``quarantine`` check names exactly what to set aside.
        ``part`` names the batch of a run checked in several ("batch 2 of 5"): Data Docs list
        each batch's results under the run's id with that suffix.
        """
        key = ROW_KEYS.get(suite_name)
        # SUMMARY: counts and five examples per expectation. Every failing row is asked for
        # (COMPLETE) only of a quarantine check that failed, in a second pass below: listing
        # them for every check (a warning such as "most quotes have a speaker" fails on
        # thousands of rows by design) cost a fifth of the frame suites' time, and stored
        # results of megabytes that Data Docs read back at every build.
        result_format: dict = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
        if key is not None and frame.height:
            # Name failing rows by article (and file, for articles) so examples point somewhere.
            index = ["article_id", key, *(["source_path"] if "source_path" in frame.columns else [])]
            result_format = {"result_format": "SUMMARY", "partial_unexpected_count": 5,
                             "unexpected_index_column_names": list(dict.fromkeys(index)),
                             "return_unexpected_index_query": False}
        definition = self._definition(suite_name, checks)
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        # Only the columns the suite looks at (and those naming failing rows) go to pandas:
        # every string of a column no expectation reads was made a Python object for nothing
        # (a quote's speaker text and cue, an article's standfirst and dateline).
        named = _checked_columns(checks)
        index_columns = set(result_format.get("unexpected_index_column_names", ()))
        wanted = set(frame.columns) if named is None else named | index_columns
        pdf = (frame.select([c for c in frame.columns if c in wanted] or frame.columns)  # none: row counts
               .with_columns(pl.col(*NARROW_INTS).cast(pl.Int64)).to_pandas(use_pyarrow_extension_array=False))
        run_name = f"{self.run_id} {part}" if part else self.run_id
        run_id = RunIdentifier(run_name=run_name, run_time=self.run_time)
        with _configurations_kept():
            vr = definition.run(batch_parameters={"dataframe": pdf}, result_format=result_format, run_id=run_id)
        suite_id = ExpectationSuiteIdentifier(name=suite_name)
        # The key the definition stored the result under (as a checkpoint would name it): Data Docs render it.
        result_id = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=run_id,
                                               batch_identifier=vr.batch_id)
        self.resources += [*([] if suite_id in self.resources else [suite_id]), result_id]
        rows, flagged = [], []
        now = dt.datetime.now(dt.UTC)
        for r in vr.results:
            meta = r.expectation_config.meta or {}
            kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
            res = r.result or {}
            severity = meta.get("severity", CRITICAL)
            check_name = meta.get("check", r.expectation_config.type)
            rows.append({
                "run_id": self.run_id, "table_name": suite_name,
                "expectation": r.expectation_config.type,
                "column": str(kwargs.get("column") or kwargs.get("column_A") or ""),
                "check_name": check_name, "success": bool(r.success), "severity": severity,
                "element_count": res.get("element_count"),
                "unexpected_count": res.get("unexpected_count",
                                            0 if r.success else res.get("observed_value")),
                "unexpected_examples": examples_json(
                    (res.get("partial_unexpected_index_list") if key is not None else None)
                    or res.get("partial_unexpected_list") or []),
                "details": json.dumps(kwargs, default=str), "evaluated_at": now,
            })
            if severity == QUARANTINE and not r.success and key is not None:
                reason = meta.get("notes") or check_name
                hits = self._every_failing_row(definition, pdf, checks, check_name, suite_name, result_format)
                flagged += [{"table_name": suite_name, "check_name": check_name,
                             "expectation": r.expectation_config.type, "reason": reason,
                             "article_id": hit.get("article_id"), "row_key": str(hit.get(key))}
                            for hit in hits]
        self._store_escaped(vr, result_id, suite_id)
        if self.db_path is None:
            self.detached_results.append(StoredResult(suite_name, run_name, str(vr.batch_id), vr))
        return SuiteResult(DQ_RESULTS.frame(rows), pl.DataFrame(flagged, schema=FLAGGED_SCHEMA))

    def _every_failing_row(self, definition, pdf, checks: list[Check], check_name: str, suite_name: str,
                           result_format: dict) -> list[dict]:
        """Every row failing one quarantine check (its index columns), from GX: the check
        validated again alone on the same batch, with ``COMPLETE`` results. Not stored: the
        suite's result holds the check's counts and examples already."""
        check = next(c for c in checks if c.name == check_name)
        batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": pdf})
        with _configurations_kept():
            result = batch.validate(self._expectation(check, suite_name),
                                    result_format={**result_format, "result_format": "COMPLETE"})
        return list((result.result or {}).get("unexpected_index_list") or [])

    def _store_escaped(self, vr, result_id, suite_id) -> None:
        """Store the result Data Docs render with its data HTML-escaped.

        GX escapes the parameters of its sentences but puts the cells of its tables of
        unexpected values (the values, and the ``article_id`` / ``source_path`` naming each row)
        into the page as they are: a title or file name like ``<img src=x onerror=...>`` would run
        as script in Data Docs. The rows above were taken from the raw values (``dq_results`` keeps
        them as they are); here every string of each expectation's ``result`` and
        ``exception_info`` is escaped and the result stored again under the key the definition
        used, before any page is rendered from it. Nothing to escape (the usual case): not
        stored again.

        The frame suites' results are SUMMARY results: GX's page shows a failing check's rows
        with the columns naming them (article, file) from ``unexpected_index_list``, which only
        COMPLETE results have. The five examples SUMMARY keeps are given there too
        (:func:`_examples_named`), so the page still says which article and file each example
        comes from; the result is then stored again, a few kilobytes."""
        named = _examples_named(vr)
        if _escape_results(vr) or named:
            self.context.validation_results_store.store_validation_results(
                suite_validation_result=vr, suite_validation_result_identifier=result_id,
                expectation_suite_identifier=suite_id)

    def adopt(self, results: list[StoredResult], checks: dict[str, list[Check]]) -> None:
        """Store validation results a detached validator made (a worker's batch) in this
        warehouse's GX context, with their suites (``checks``: each suite's), as if made here."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        for stored in results:
            self._definition(stored.suite_name, checks[stored.suite_name])
            suite_id = ExpectationSuiteIdentifier(name=stored.suite_name)
            run_id = RunIdentifier(run_name=stored.run_name, run_time=self.run_time)
            result_id = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=run_id,
                                                   batch_identifier=stored.batch_id)
            self.context.validation_results_store.store_validation_results(
                suite_validation_result=stored.result, suite_validation_result_identifier=result_id,
                expectation_suite_identifier=suite_id)
            self.resources += [*([] if suite_id in self.resources else [suite_id]), result_id]

    def validate_run(self, metrics: pl.DataFrame) -> pl.DataFrame:
        """The run-level checks; each row's examples carry its metric, baseline and jump."""
        rows = self.validate("run", RUN_CHECKS, metrics).rows
        observed = {r["metric"]: json.dumps({k: r[k] for k in ("value", "baseline", "jump")})
                    for r in metrics.iter_rows(named=True)}
        by_check = {c.name: observed.get(c.metric) for c in RUN_CHECKS}
        return rows.with_columns(pl.col("check_name").replace_strict(by_check, default=None, return_dtype=pl.Utf8)
                                 .alias("unexpected_examples"))

    def validate_warehouse(self, con, keys_enforced: bool, not_null_enforced: bool = True) -> pl.DataFrame:
        """Run the entities suite and the warehouse invariants on the connection's current state.

        ``keys_enforced`` / ``not_null_enforced``: the store enforces declared keys / NOT NULL,
        so the checks those constraints guarantee are not run (they could never fail)."""
        entities = con.execute("SELECT * FROM entities").pl()
        rows = [self.validate("entities", entity_checks(keys_enforced, not_null_enforced), entities).rows]
        invariants = warehouse_invariants(keys_enforced)
        counts, examples = {}, {}
        for name, sql in invariant_queries(con, keys_enforced).items():
            # the count, and the first five in order: the same examples whatever order the store scans in
            found = con.execute(f"SELECT example, count(*) OVER () FROM ({sql}) ORDER BY example LIMIT 5").fetchall()
            counts[name] = found[0][1] if found else 0
            examples[name] = json.dumps([r[0] for r in found])
        inv = pl.DataFrame({"check": list(counts), "violations": list(counts.values())},
                           schema={"check": pl.Utf8, "violations": pl.Int64})
        wh = self.validate("warehouse", warehouse_checks(invariants), inv).rows.with_columns(
            pl.col("check_name").replace_strict(counts, default=None, return_dtype=pl.Int64).alias("unexpected_count"),
            pl.col("check_name").replace_strict(examples, default=None, return_dtype=pl.Utf8)
            .alias("unexpected_examples"))
        rows.append(wh)
        return pl.concat(rows)

    def build_docs(self) -> Path:
        """Render this run's pages and the index, and make them render offline.

        Only this run's validation results and suites are rendered (GX's default re-renders
        every page of every earlier run, which grows without bound with hourly runs); pages of
        earlier runs were made offline-ready when they were built.
        """
        from expectations.assets import localize_site

        started = dt.datetime.now().timestamp() - 1
        index = data_docs_path(self.db_path)
        first = not (index.parent / "static" / "vendor").exists()
        escaped = index.parent / "static" / ESCAPED_MARK
        if not first and not escaped.exists():
            # Pages of an older newsetl, rendered before values were escaped: escape every stored
            # result and render every page again, once.
            self._escape_stored_results()
            self.context.build_data_docs()
            first = True
        else:
            self.context.build_data_docs(resource_identifiers=self.resources or None)
        leftovers = localize_site(index.parent, since=None if first else started)
        if leftovers:
            raise RuntimeError(f"Data Docs still load {len(leftovers)} asset(s) from the network: {leftovers[:3]}")
        escaped.touch()
        return index

    def _escape_stored_results(self) -> None:
        """Every validation result in the store with its values escaped (:meth:`_store_escaped`)."""
        store = self.context.validation_results_store
        for key in store.list_keys():
            vr = store.get(key)
            if _escape_results(vr):
                store.set(key, vr)


def _checked_columns(checks: list[Check]) -> set[str] | None:
    """The columns the checks' expectations name (``column``, ``column_A``, ``column_list``...);
    None if one has a condition (``row_condition`` names columns in an expression). Other
    arguments whose names start so (``column_index``, a number) name no column."""
    found: set[str] = set()
    for check in checks:
        if "row_condition" in check.kwargs:
            return None
        for name, value in check.kwargs.items():
            if not name.startswith("column"):
                continue
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, list | tuple | set):
                found.update(v for v in value if isinstance(v, str))
    return found


#: The most runs a scoped check names as constants (``scoped_invariants``' ``runs``).
MAX_SCOPE_RUNS = 100


def invariant_queries(con, keys_enforced: bool) -> dict[str, str]:
    """The SQL of each warehouse invariant for this load: the whole-warehouse query, or, where
    the load left a scope and a basis (``LOAD_SCOPE``, ``LOAD_BASIS``) and the basis run passed
    the same check, its query over the rows the load wrote (``scoped_invariants``), which finds
    the same violations at the cost of what the load brought in."""
    queries = {name: sql for name, (_, sql) in warehouse_invariants(keys_enforced).items()}
    if not _has_scope(con):
        return queries
    [(articles_run, runs)] = con.execute(f"SELECT articles_run, scope_runs FROM {LOAD_BASIS}").fetchall()
    # a load of a few runs' rows names them (their files are read, no other); one that
    # replaced the rows of many runs reads every file anyway
    runs = runs if runs and None not in runs and len(runs) <= MAX_SCOPE_RUNS else []
    gone = (con.execute(f"SELECT count(*) > 0 FROM {LOAD_GONE}").fetchone()[0]
            if _temp_tables(con, LOAD_GONE) else None)
    scoped = scoped_invariants(articles_run, keys_enforced, runs, gone)
    passed = {name for (name,) in con.execute(f"""
        SELECT check_name FROM dq_results
        WHERE table_name = 'warehouse' AND run_id IN (SELECT run_id FROM {LOAD_BASIS})
        GROUP BY check_name HAVING bool_and(success)""").fetchall()}
    return {name: scoped[name] if name in scoped and name in passed else sql for name, sql in queries.items()}


def _has_scope(con) -> bool:
    return _temp_tables(con, LOAD_SCOPE, LOAD_BASIS)


def _temp_tables(con, *names: str) -> bool:
    """Whether the connection holds every one of these temp tables."""
    return con.execute("SELECT count(DISTINCT table_name) FROM duckdb_tables() "
                       "WHERE database_name = 'temp' AND list_contains(?, table_name)",
                       [list(names)]).fetchone()[0] == len(names)


def _examples_named(vr) -> bool:
    """Give each expectation's result that names its examples only in
    ``partial_unexpected_index_list`` (a SUMMARY result) the same list as its
    ``unexpected_index_list``, the one Data Docs render with the naming columns; whether any was.

    Only results whose examples are named by columns (``unexpected_index_column_names``): a
    list of bare row numbers (the warehouse suite's one row per invariant) is rendered by GX
    only beside ``unexpected_list``, which a SUMMARY result lacks; given one, GX's page logged
    a ``RenderingError`` and showed no table for the failed check."""
    changed = False
    for r in vr.results:
        res = r.result
        if (isinstance(res, dict) and res.get("partial_unexpected_index_list")
                and res.get("unexpected_index_column_names") and "unexpected_index_list" not in res):
            res["unexpected_index_list"] = list(res["partial_unexpected_index_list"])
            changed = True
    return changed


def _escape_results(vr) -> bool:
    """Escape, in place, the data of every expectation's result in a suite's validation result
    (what Data Docs render as they are); whether anything needed it. A result escaped once is
    marked so (in its meta, which Data Docs do not show) and never escaped twice."""
    if (vr.meta or {}).get(ESCAPED_MARK):
        return False
    changed = False
    for r in vr.results:
        for attr in ("result", "exception_info"):
            value = getattr(r, attr, None)
            safe = html_escaped(value)
            if safe is not value:
                setattr(r, attr, safe)
                changed = True
    if changed:
        vr.meta[ESCAPED_MARK] = True
    return changed


def html_escaped(value: Any) -> Any:
    """``value`` with every string in it (in lists, tuples and dicts, keys too) HTML-escaped,
    quotes included; the very same object when nothing in it needed escaping."""
    if isinstance(value, str):
        safe = escape(value, quote=True)
        return value if safe == value else safe
    if isinstance(value, dict):
        items = [(html_escaped(k), html_escaped(v)) for k, v in value.items()]
        same = all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True))
        return value if same else dict(items)
    if isinstance(value, (list, tuple)):
        seq = [html_escaped(v) for v in value]
        if all(v is v0 for v, v0 in zip(seq, value, strict=True)):
            return value
        return tuple(seq) if isinstance(value, tuple) else seq
    return value


def examples_json(examples: list) -> str:
    """A check's failing examples as JSON that any reader parses: a missing value that pandas
    made NaN (a quote's NULL speaker, as GX lists it) is null, not Python's ``NaN``, which is no
    JSON (DuckDB's ``json`` functions and ``JSON.parse`` refuse it); an infinity and other odd
    values are text."""
    def plain(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None if math.isnan(v) else str(v)
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(examples), default=str, allow_nan=False)


def critical_failures(rows: pl.DataFrame) -> pl.DataFrame:
    """Failed checks that block the load (a failed ``quarantine`` check sets rows aside instead)."""
    return rows.filter(~pl.col("success") & (pl.col("severity") == CRITICAL))


def failure_message(rows: pl.DataFrame) -> str:
    """Human-readable list of failed critical expectations with example bad values."""
    lines = []
    for r in critical_failures(rows).iter_rows(named=True):
        lines.append(f"  - {r['table_name']}: {r['check_name']} ({r['expectation']}"
                     f"{', column ' + r['column'] if r['column'] else ''}): "
                     f"{r['unexpected_count']} unexpected; examples: {r['unexpected_examples']}")
    return "critical data-quality expectations failed, nothing was loaded:\n" + "\n".join(lines)


def raise_on_critical(rows: pl.DataFrame) -> None:
    if critical_failures(rows).height:
        raise DataQualityError(failure_message(rows), rows)
