"""Real Great Expectations runs on crafted bad frames, through the real gate and loader.

Every critical expectation: the load is blocked, the warehouse file is unchanged and the
message names the expectation. Every quarantine expectation: the bad article is set aside
with its reason (queryable) and the good one loads. Warnings load and are reported.
"""

import contextlib
import datetime as dt
import hashlib
import json
import shutil

import polars as pl
import pytest

from expectations.gate import check_frames
from expectations.quarantine import ARTICLE_SET_ASIDE
from expectations.runner import DataQualityError, Validator, critical_failures, raise_on_critical
from expectations.suites import (
    CRITICAL,
    MIN_ARTICLES_FOR_SHARE,
    QUARANTINE,
    RUN_CHECKS,
    SUITES,
    entity_checks,
    prepare_quotes,
    run_metrics,
    warehouse_invariants,
)
from transforms.frames import ChunkFrames, RawFile, process_files
from warehouse.connection import connect
from warehouse.loader import load_run

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OTHER = b"Other story\n\nJane Roe said \"we are fine and happy\" on Monday in Paris."


@pytest.fixture(scope="module")
def frames(seed_text):
    return process_files([RawFile("/s/seed.txt", seed_text.encode()), RawFile("/s/b.txt", OTHER)], "r", NOW)


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    return Validator(tmp_path_factory.mktemp("gx") / "w.duckdb", "run-test")


@pytest.fixture(scope="module")
def seed_id(frames):
    return frames.articles.filter(pl.col("source_path") == "/s/seed.txt")["article_id"][0]


def with_table(frames: ChunkFrames, table: str, df: pl.DataFrame) -> ChunkFrames:
    parts = {"articles": frames.articles, "mentions": frames.mentions, "quotes": frames.quotes, table: df}
    return ChunkFrames(parts["articles"], parts["mentions"], parts["quotes"], frames.rejected)


def gate_and_load(db, validator, frames):
    """What the flow does between extraction and commit: gate, block on critical, load with the
    warehouse invariants checked inside the transaction."""
    verdict = check_frames(validator, frames, NOW)
    raise_on_critical(verdict.rows)

    def check(con):
        post = validator.validate_warehouse(con, keys_enforced=False)  # a lake: no keys
        raise_on_critical(post)
        return post

    con = connect(db)
    try:
        load_run(con, verdict.kept.articles, verdict.kept.mentions, verdict.kept.quotes, verdict.kept.rejected,
                 verdict.rows, check, quarantine=verdict.quarantine)
    finally:
        con.close()
    return verdict


def digest(db) -> str:
    """A fingerprint of every data table's rows, to prove a blocked load changed nothing."""
    con = connect(db, read_only=True)
    try:
        parts = [str(con.execute(f"SELECT count(*), sum(hash(t)) FROM {t} AS t").fetchone())
                 for t in ("articles", "mentions", "quotes", "entities", "quarantine", "dq_results")]
    finally:
        con.close()
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory, validator, frames):
    db = tmp_path_factory.mktemp("clean") / "w.duckdb"
    gate_and_load(db, validator, frames)
    return db


@pytest.fixture
def loaded_db(tmp_path, clean_db):
    """A copy of a warehouse holding the clean frames: what a blocked run must leave as it is."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clean_db, db)
    return db


def test_clean_frames_pass(validator, frames):
    verdict = check_frames(validator, frames, NOW)
    assert verdict.rows.height >= 60
    assert critical_failures(verdict.rows).height == 0
    assert verdict.quarantine.height == 0 and verdict.kept.articles.height == 2
    raise_on_critical(verdict.rows)  # does not raise


def test_every_check_has_a_known_severity():
    checks = [c for suite in SUITES.values() for c in suite] + RUN_CHECKS + entity_checks(False, False)
    assert {c.severity for c in checks} == {CRITICAL, QUARANTINE, "warning"}
    assert {sev for sev, _ in warehouse_invariants(False).values()} <= {CRITICAL, "warning"}


# Frame-level critical expectations, each with a defect that only it catches.
FRAME_CRITICALS = [
    ("articles", lambda a: pl.concat([a, a.head(1)]), "article_id unique"),
    ("articles", lambda a: a.with_columns(pl.lit(None, pl.Utf8).alias("article_id")), "article_id not null"),
    ("articles", lambda a: a.with_columns(pl.lit("/s/same.txt").alias("source_path")), "source_path unique"),
    ("mentions", lambda m: pl.concat([m, m.head(1)]), "mention_id unique"),
    ("mentions", lambda m: m.with_columns(pl.lit(None, pl.Utf8).alias("mention_id")), "mention_id not null"),
    ("mentions", lambda m: m.with_columns(pl.lit("nope").alias("article_id")), "article exists"),
    ("quotes", lambda q: pl.concat([q, q.head(1)]), "quote_id unique"),
    ("quotes", lambda q: q.with_columns(pl.lit(None, pl.Utf8).alias("article_id")), "article_id not null"),
    ("quotes", lambda q: q.with_columns(pl.lit("nope").alias("article_id")), "article exists"),
]


@pytest.mark.parametrize(("table", "corrupt", "check"), FRAME_CRITICALS,
                         ids=[f"{t}:{c}" for t, _, c in FRAME_CRITICALS])
def test_each_critical_expectation_blocks_the_load(loaded_db, validator, frames, table, corrupt, check):
    before = digest(loaded_db)
    bad = with_table(frames, table, corrupt(getattr(frames, table)))
    with pytest.raises(DataQualityError) as exc:
        gate_and_load(loaded_db, validator, bad)
    assert check in str(exc.value) and "examples" in str(exc.value) and "nothing was loaded" in str(exc.value)
    assert (table, check) in {(r["table_name"], r["check_name"]) for r in critical_failures(exc.value.rows)
                              .iter_rows(named=True)}
    assert digest(loaded_db) == before


# Warehouse invariants run inside the load transaction: break the warehouse by hand, then load.
WAREHOUSE_BREAKS = [
    ("quotes.article_id points at articles", "orphan -> article_id missing",
     "INSERT INTO quotes SELECT * REPLACE ('orphan' AS quote_id, 'missing' AS article_id) FROM quotes LIMIT 1"),
    ("mentions.article_id points at articles", "orphan -> article_id missing",
     "INSERT INTO mentions SELECT * REPLACE ('orphan' AS mention_id, 'missing' AS article_id) FROM mentions LIMIT 1"),
    ("quote offsets slice body", "b.txt: quote",
     "UPDATE quotes SET char_end = char_end + 3 WHERE quote_id = (SELECT min(quote_id) FROM quotes)"),
    ("body mention offsets slice body", "b.txt: mention", "UPDATE mentions SET char_start = char_start + 1 "
     "WHERE mention_id = (SELECT min(mention_id) FROM mentions WHERE field = 'body')"),
    ("quotes.speaker_entity_id points at entities", "-> speaker_entity_id ghost",
     "UPDATE quotes SET speaker_entity_id = 'ghost' WHERE quote_id = (SELECT min(quote_id) FROM quotes)"),
    ("articles.source_path unique", "/s/b.txt", "INSERT INTO articles SELECT * REPLACE "
     "('dup0000000000000' AS article_id) FROM articles WHERE source_path = '/s/b.txt'"),
]


@pytest.mark.parametrize(("check", "example", "sql"), WAREHOUSE_BREAKS, ids=[c for c, *_ in WAREHOUSE_BREAKS])
def test_each_warehouse_invariant_blocks_the_load(tmp_path, validator, frames, seed_id, check, example, sql):
    db = tmp_path / "w.duckdb"
    others = pl.col("article_id") != seed_id
    gate_and_load(db, validator, ChunkFrames(frames.articles.filter(others), frames.mentions.filter(others),
                                             frames.quotes.filter(others), frames.rejected))
    con = connect(db)
    con.execute(sql)  # someone edits the warehouse by hand
    con.close()
    before = digest(db)
    seed_only = ChunkFrames(*(f.filter(~others) for f in (frames.articles, frames.mentions, frames.quotes)),
                            frames.rejected)
    with pytest.raises(DataQualityError) as exc:
        gate_and_load(db, validator, seed_only)
    message = str(exc.value)
    assert check in message and example in message.split(check, 1)[1].splitlines()[0]
    assert digest(db) == before


# Row-level critical expectations: the bad article is set aside, the other one loads.
QUARANTINES = [
    ("mentions", lambda m: m.with_columns(pl.col("char_end") + 1), "offsets slice the text"),
    ("mentions", lambda m: m.with_columns(pl.lit(-1).cast(pl.Int32).alias("char_start")), "char_start >= 0"),
    ("mentions", lambda m: m.with_columns(pl.col("char_start").alias("char_end")), "char_end > char_start"),
    ("mentions", lambda m: m.with_columns(pl.lit("ALIEN").alias("entity_type")), "entity_type allowed"),
    ("mentions", lambda m: m.with_columns(pl.lit("footer").alias("field")), "field allowed"),
    ("mentions", lambda m: m.with_columns(pl.lit(None, pl.Utf8).alias("entity_id")), "entity_id not null"),
    ("mentions", lambda m: m.with_columns(pl.lit(999).cast(pl.Int32).alias("paragraph_index")),
     "body mentions have a paragraph"),
    ("quotes", lambda q: q.with_columns(pl.col("char_start") - 1), "offsets slice the text"),
    ("quotes", lambda q: q.with_columns(pl.lit("bogus").alias("speaker_entity_id")), "speaker entity exists"),
    ("quotes", lambda q: q.with_columns(pl.lit("rumour").alias("kind")), "kind allowed"),
    ("quotes", lambda q: q.with_columns(pl.lit(99).cast(pl.Int32).alias("paragraph_index")),
     "paragraph inside article"),
    ("articles", lambda a: a.with_columns(pl.lit("zz").alias("content_sha256")), "content_sha256 is a sha256"),
    ("articles", lambda a: a.with_columns(pl.lit("ebcdic").alias("encoding")), "encoding allowed"),
    ("articles", lambda a: a.with_columns(pl.lit(0).cast(pl.Int32).alias("paragraph_count")),
     "paragraph_count positive"),
]


@pytest.mark.parametrize(("table", "corrupt", "check"), QUARANTINES, ids=[f"{t}:{c}" for t, _, c in QUARANTINES])
def test_each_quarantine_expectation_sets_the_article_aside(tmp_path, validator, frames, seed_id, table, corrupt,
                                                            check):
    src = getattr(frames, table)
    is_seed = pl.col("article_id") == seed_id
    if table == "mentions" and check not in ("field allowed", "body mentions have a paragraph"):
        is_seed = is_seed & (pl.col("field") == "body")
    bad_rows = corrupt(src.filter(is_seed).head(1))
    key = {"articles": "article_id", "mentions": "mention_id", "quotes": "quote_id"}[table]
    rest = src.filter(pl.col(key) != bad_rows[key][0])
    db = tmp_path / "w.duckdb"
    verdict = gate_and_load(db, validator, with_table(frames, table, pl.concat([rest, bad_rows.cast(src.schema)])))
    assert (table, check) in {(r["table_name"], r["check_name"]) for r in
                              verdict.rows.filter(~pl.col("success")).iter_rows(named=True)}
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT source_path FROM articles").fetchall() == [("/s/b.txt",)]
        q = con.execute("SELECT table_name, check_name, row_key, source_path, row_json FROM quarantine").fetchall()
        rej = con.execute("SELECT source_path, reason, detail FROM rejected_files").fetchall()
    finally:
        con.close()
    assert (table, check) in {(t, c) for t, c, *_ in q}
    assert {p for *_, p, _ in q} == {"/s/seed.txt"}
    row = next(json.loads(j) for t, c, k, _, j in q if (t, c) == (table, check))
    assert row[key] == bad_rows[key][0]  # the whole failing row is kept
    aside = [j for t, c, *_, j in q if c == ARTICLE_SET_ASIDE]
    assert len(aside) == 1 and json.loads(aside[0])["source_path"] == "/s/seed.txt"  # and the article itself
    assert rej == [("/s/seed.txt", "quarantined", rej[0][2])] and check in rej[0][2]


def test_too_many_quarantined_articles_block_the_run(loaded_db, validator):
    before = digest(loaded_db)
    many = process_files([RawFile(f"/m/{i}.txt", OTHER.replace(b"Monday", f"day {i}".encode()))
                          for i in range(MIN_ARTICLES_FOR_SHARE)], "r", NOW)
    three = many.quotes.get_column("article_id").unique().sort().head(3).implode()
    bad = with_table(many, "quotes", many.quotes.with_columns(
        pl.when(pl.col("article_id").is_in(three)).then(pl.lit("rumour")).otherwise(pl.col("kind")).alias("kind")))
    with pytest.raises(DataQualityError) as exc:
        gate_and_load(loaded_db, validator, bad)
    assert "quarantined share of articles" in str(exc.value)
    assert digest(loaded_db) == before


def test_warning_loads_and_is_reported(tmp_path, validator, frames):
    long_title = frames.articles.with_columns(pl.lit("x" * 400).alias("title"))
    body_mentions = frames.mentions.filter(pl.col("field") != "title")  # their offsets stay true
    db = tmp_path / "w.duckdb"
    verdict = gate_and_load(db, validator, ChunkFrames(long_title, body_mentions, frames.quotes, frames.rejected))
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
        row = con.execute("SELECT severity, unexpected_count FROM dq_results WHERE NOT success").fetchall()
    finally:
        con.close()
    assert row == [("warning", 2)]
    assert critical_failures(verdict.rows).height == 0


def test_unattributed_share_jump_is_a_warning(validator):
    steady = validator.validate_run(run_metrics(100, 0, 200, 30, unattributed_baseline=0.12))
    jumped = validator.validate_run(run_metrics(100, 0, 200, 120, unattributed_baseline=0.12))
    few = validator.validate_run(run_metrics(3, 0, 5, 5, unattributed_baseline=0.12))
    name = "share of quotes without speaker steady"

    def outcome(rows):
        return rows.filter(pl.col("check_name") == name).row(0, named=True)

    assert outcome(steady)["success"] and outcome(few)["success"]
    bad = outcome(jumped)
    assert not bad["success"] and bad["severity"] == "warning"
    assert json.loads(bad["unexpected_examples"]) == {"value": 0.6, "baseline": 0.12, "jump": pytest.approx(0.48)}


def test_data_docs_are_built_and_need_no_network(validator, frames):
    from expectations.assets import external_assets

    check_frames(validator, frames, NOW)
    path = validator.build_docs()
    pages = list(path.parent.rglob("*.html"))
    assert path.exists() and len(pages) > 3
    assert all(external_assets(p.read_text(encoding="utf-8")) == [] for p in pages)
    assert (path.parent / "static/vendor/bootstrap/dist/css/bootstrap.min.css").is_file()


def _outcomes(rows: pl.DataFrame) -> list[tuple]:
    return sorted(rows.select("table_name", "check_name", "success", "element_count", "unexpected_count").rows())


def test_batches_merge_into_the_verdict_of_one_batch(validator, frames, seed_id):
    from expectations.gate import check_batch, merge_batches

    def only(keep: bool) -> ChunkFrames:
        sel = (pl.col("article_id") == seed_id) if keep else (pl.col("article_id") != seed_id)
        return ChunkFrames(frames.articles.filter(sel), frames.mentions.filter(sel), frames.quotes.filter(sel),
                           frames.rejected)

    whole = check_batch(validator, frames, NOW).rows
    merged = merge_batches([check_batch(validator, only(True), NOW).rows,
                            check_batch(validator, only(False), NOW).rows])
    assert _outcomes(merged) == _outcomes(whole)


def test_merging_batches_judges_mostly_on_the_run_and_keeps_few_examples():
    from expectations.gate import MAX_EXAMPLES, merge_batches
    from expectations.suites import SPEAKER_CHECK
    from transforms.schema import DQ_RESULTS

    def row(check, success, elements, unexpected, details, examples):
        return {"run_id": "r", "table_name": "quotes", "expectation": "E", "column": "speaker",
                "check_name": check, "success": success, "severity": "warning", "element_count": elements,
                "unexpected_count": unexpected, "unexpected_examples": json.dumps(examples),
                "details": json.dumps(details), "evaluated_at": NOW}

    mostly = {"column": "speaker", "mostly": 0.6}
    first = DQ_RESULTS.frame([row(SPEAKER_CHECK, False, 10, 6, mostly, list(range(4))),
                              row("quote word count sane", False, 10, 1, {}, ["a"])])
    second = DQ_RESULTS.frame([row(SPEAKER_CHECK, True, 90, 10, mostly, list(range(4, 8))),
                               row("quote word count sane", True, 90, 0, {}, [])])
    merged = {r["check_name"]: r for r in merge_batches([first, second]).iter_rows(named=True)}
    speaker = merged[SPEAKER_CHECK]
    assert (speaker["success"], speaker["element_count"], speaker["unexpected_count"]) == (True, 100, 16)
    assert json.loads(speaker["unexpected_examples"]) == list(range(MAX_EXAMPLES))
    words = merged["quote word count sane"]
    assert (words["success"], words["unexpected_count"]) == (False, 1)
    # 6 of 10 unattributed in a run of one batch is a failure: judged the same way
    assert not merge_batches([first, first.clear()]).filter(pl.col("check_name") == SPEAKER_CHECK)["success"][0]


def test_a_store_without_keys_gets_the_key_checks(tmp_path, validator):
    """On the lake, which enforces no key, a duplicate key reaches the table: the checks
    derived from the declarations catch it there. On a DuckDB file the PRIMARY KEY refuses it
    at insert, so those checks would never fail and are not run."""
    from warehouse.ddl import ensure_schema

    con = connect(tmp_path / "w.ducklake")
    ensure_schema(con)  # the declared tables, without PRIMARY KEY
    con.execute("INSERT INTO entities VALUES ('e1', 'Ann', 'PERSON', ['Ann'], 1, 1), "
                "('e1', 'Ann B', 'PERSON', ['Ann B'], 2, 1)")
    loose = validator.validate_warehouse(con, keys_enforced=False)
    failed = {(r["table_name"], r["check_name"]) for r in critical_failures(loose).iter_rows(named=True)}
    assert {("entities", "entity_id unique"), ("warehouse", "entities.entity_id unique")} <= failed
    strict = validator.validate_warehouse(con, keys_enforced=True)
    names = set(strict["check_name"])
    assert "entity_id unique" not in names and "entities.entity_id unique" not in names
    assert not {c for c in names if c.endswith(" not null")}  # NOT NULL is enforced by both stores
    lake_names = set(loose["check_name"])
    assert not {c for c in lake_names if c.endswith(" not null")}
    con.close()


def test_gx_stores_no_fingerprint_of_each_batch(frames):
    """GX hashed every checked frame whole for a batch marker nobody reads (a quarter of the
    validation CPU): the validator turns that off (expectations/runner.py); every check runs."""
    detached = Validator(None, "fingerprint")
    result = detached.validate("articles", SUITES["articles"], frames.articles)
    assert result.rows.height == len(SUITES["articles"])
    markers = detached.detached_results[0].result.meta["batch_markers"]
    assert "ge_load_time" in markers and "pandas_data_fingerprint" not in markers


def test_each_expectation_is_configured_once_per_validation_with_the_same_results(frames, monkeypatch):
    """GX rebuilds an expectation's configuration at every lookup (about 120 per expectation
    and validation); the validator keeps the first one while it validates. Counted, and the
    results compared with GX's own behaviour (the property as GX defines it)."""
    from great_expectations.expectations.expectation import Expectation

    import expectations.runner as runner

    detached = Validator(None, "configured")
    keeper = Expectation.__dict__["configuration"].fget
    assert getattr(keeper, "newsetl_kept", False), "the validator did not install the kept configurations"
    builds = []
    built_by_gx = keeper.built_by_gx

    def counted(self):
        builds.append(id(self))
        return built_by_gx(self)

    frame = prepare_quotes(frames.quotes, frames.articles, frames.mentions)
    first = pl.int_range(pl.len()) == 0
    frame = frame.with_columns(pl.when(first).then(pl.lit("bogus")).otherwise(pl.col("kind")).alias("kind"),
                               pl.when(first).then(-5).otherwise(pl.col("char_start")).alias("char_start"))
    monkeypatch.setattr(keeper, "built_by_gx", counted)
    kept = detached.validate("quotes", SUITES["quotes"], frame).rows
    per_expectation = len(builds) / len(SUITES["quotes"])
    builds.clear()
    with monkeypatch.context() as m:  # GX as it comes: a build at every lookup
        m.setattr(runner, "_configurations_kept", contextlib.nullcontext)
        rebuilt = detached.validate("quotes", SUITES["quotes"], frame).rows
    assert 4 * per_expectation < len(builds) / len(SUITES["quotes"]), (per_expectation, len(builds))
    assert kept.drop("evaluated_at").equals(rebuilt.drop("evaluated_at"))
    assert kept.filter(~pl.col("success")).height  # the comparison includes failing checks' examples


def test_remembered_metric_ids_and_first_failing_rows_give_gx_own_results(frames, monkeypatch):
    """The validator has GX remember metric ids by their arguments and list only the failing
    rows a summary keeps (expectations/runner.py). Every remembered id is the one GX computes,
    a summary's listing is given at most the rows it keeps (a quarantine check's complete
    listing every failing row), and the results (counts, examples naming the
    first failing rows) equal those of GX as it comes, with more failing rows than examples."""
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.metrics.map_metric_provider import (
        map_condition_auxilliary_methods as caller,
    )

    detached = Validator(None, "remembered")
    remembered, first_rows = IDDict.to_id, caller.compute_unexpected_pandas_indices
    assert getattr(remembered, "newsetl_remembered", False) and getattr(first_rows, "newsetl_first_rows", False)
    computed_by_gx, listed_by_gx = remembered.computed_by_gx, first_rows.listed_by_gx
    compared, listed = [], []

    def checked_id(self, id_keys=None, id_ignore_keys=None):
        ours = remembered(self, id_keys, id_ignore_keys)
        compared.append(ours == computed_by_gx(self, id_keys, id_ignore_keys))
        return ours

    def counted(**kwargs):
        listed.append((kwargs["result_format"]["result_format"], len(kwargs["domain_records_df"])))
        return listed_by_gx(**kwargs)

    frame = prepare_quotes(frames.quotes, frames.articles, frames.mentions)
    bad = pl.int_range(pl.len()) < 8  # more failing rows than the 5 examples a summary keeps
    frame = frame.with_columns(pl.when(bad).then(pl.lit("bogus")).otherwise(pl.col("kind")).alias("kind"),
                               pl.when(bad).then(-5).otherwise(pl.col("char_start")).alias("char_start"))
    assert frame.height > 8
    monkeypatch.setattr(IDDict, "to_id", checked_id)
    monkeypatch.setattr(first_rows, "listed_by_gx", counted)
    ours = detached.validate("quotes", SUITES["quotes"], frame).rows
    assert compared and all(compared), f"{compared.count(False)} of {len(compared)} ids differ from GX's"
    summaries = [n for fmt, n in listed if fmt != "COMPLETE"]
    assert max(summaries) <= 5
    assert max(n for fmt, n in listed if fmt == "COMPLETE") >= 8  # a quarantine check lists every row
    with monkeypatch.context() as m:  # GX as it comes
        m.setattr(IDDict, "to_id", computed_by_gx)
        m.setattr(caller, "compute_unexpected_pandas_indices", counted)
        listed.clear()
        theirs = detached.validate("quotes", SUITES["quotes"], frame).rows
    assert max(n for fmt, n in listed if fmt != "COMPLETE") >= 8
    assert ours.drop("evaluated_at").equals(theirs.drop("evaluated_at"))
    failing = ours.filter(pl.col("unexpected_count") >= 8)
    assert failing.height >= 2 and all(len(json.loads(e)) == 5 for e in failing["unexpected_examples"])


#: Argument sets whose ids GX tells apart though Python holds some of their values equal.
ID_CASES = [
    {"min_value": 0.0, "max_value": 1, "strict": False}, {"min_value": -0.0, "max_value": 1, "strict": False},
    {"min_value": 1.0, "max_value": True, "strict": 1}, {"min_value": 1, "max_value": 1.0, "strict": True},
    {"result_format": {"b": 2, "a": 1}}, {"result_format": {"a": 1, "b": 2}}, {"value": -0.0}, {"value": 0.0},
    {"value_set": [1, "1", 1.0, None, [True]], "column": "kind"}, {"value": float("nan"), "other": [0.5]},
]


@pytest.mark.parametrize("args", ID_CASES, ids=str)
def test_a_remembered_metric_id_is_gx_own_for_values_equal_in_python(args):
    """Values Python holds equal but GX's id tells apart (``1``, ``1.0`` and ``True``; ``0.0``
    and ``-0.0``; the key order of a dict that is an argument's only value), each asked after
    all the others were remembered: every id is the one GX computes."""
    from great_expectations.core.id_dict import IDDict

    Validator(None, "ids")  # installs the remembering
    remembered = IDDict.to_id
    computed_by_gx = remembered.computed_by_gx
    for earlier in ID_CASES:
        remembered(IDDict(earlier))
    assert remembered(IDDict(args)) == computed_by_gx(IDDict(args))


def test_a_failed_warehouse_check_renders_in_data_docs_without_a_rendering_error(tmp_path, caplog):
    """The warehouse suite's rows are named by number, not by columns: its failed check must
    render as a table of the value found, not as GX's "issue while building count and index
    table" error (which a page of every run with a warning showed before)."""
    v = Validator(tmp_path / "w.duckdb", "r-render")
    invariants = warehouse_invariants(False)
    failing = next(name for name, (severity, _) in invariants.items() if severity != CRITICAL)
    inv = pl.DataFrame({"check": list(invariants), "violations": [34 if n == failing else 0 for n in invariants]})
    from expectations.suites import warehouse_checks

    rows = v.validate("warehouse", warehouse_checks(invariants), inv).rows
    assert rows.filter(pl.col("check_name") == failing)["success"].to_list() == [False]
    with caplog.at_level("ERROR"):
        index = v.build_docs()
    assert not [r for r in caplog.records if "issue while building" in r.getMessage()]
    page = next(index.parent.rglob("validations/warehouse/**/*.html"))
    html = page.read_text(encoding="utf-8")
    assert "issue while building" not in html and ">34<" in html


def test_examples_of_quotes_without_a_speaker_are_strict_json(validator, frames):
    """GX lists a NULL speaker as pandas' NaN; stored as Python's ``NaN`` it was no JSON
    (DuckDB's json functions and browsers refuse it): it must be null."""
    from expectations.suites import SPEAKER_CHECK

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    nameless = frames.quotes.with_columns(pl.lit(None, pl.Utf8).alias("speaker"),
                                          pl.lit(None, pl.Utf8).alias("speaker_entity_id"))
    rows = check_frames(validator, with_table(frames, "quotes", nameless), NOW).rows
    for ex in rows["unexpected_examples"].to_list():
        json.loads(ex or "[]", parse_constant=refuse)
    [speaker] = rows.filter(pl.col("check_name") == SPEAKER_CHECK)["unexpected_examples"].to_list()
    assert {e["speaker"] for e in json.loads(speaker)} == {None}
