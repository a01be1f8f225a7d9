"""The loader on real DuckDB files: idempotent reruns, replaced files, vetoed commits."""

import dataclasses

import polars as pl
import pytest

from tests.conftest import frames_for
from transforms.schema import DQ_RESULTS
from warehouse.connection import connect
from warehouse.loader import ENTITIES_REBUILD, checked_basis, load_run, table_counts


def load(con, frames, check=None):
    return load_run(con, frames.articles, frames.mentions, frames.quotes, frames.rejected, DQ_RESULTS.empty(), check)


def test_rerun_same_files_keeps_counts(con, seed_text):
    f = frames_for([("/s/a.txt", seed_text)])
    load(con, f)
    first = table_counts(con)
    load(con, f)
    assert table_counts(con) == first
    assert first["articles"] == 1 and first["quotes"] >= 12 and first["entities"] > 10


def test_changed_file_replaces_its_rows(con, seed_text):
    load(con, frames_for([("/s/a.txt", seed_text), ("/s/b.txt", "Other\n\nJane Roe said \"hello there my friends\".")]))
    load(con, frames_for([("/s/a.txt", "Changed\n\nBob Smith, the mayor, said \"we are fine and well\".")]))
    titles = dict(con.execute("SELECT source_path, title FROM articles").fetchall())
    assert titles == {"/s/a.txt": "Changed", "/s/b.txt": "Other"}
    speakers = {r[0] for r in con.execute("SELECT speaker FROM quotes").fetchall()}
    assert speakers == {"Bob Smith", "Jane Roe"}
    # entities are rebuilt: the seed's people are gone with its rows
    assert con.execute("SELECT count(*) FROM entities WHERE name = 'John Kerry'").fetchone()[0] == 0


def test_failed_check_rolls_back_everything(con, seed_text):
    load(con, frames_for([("/s/a.txt", seed_text)]))
    before = table_counts(con)
    snapshot = con.execute("SELECT * FROM quotes ORDER BY quote_id").fetchall()

    def veto(_):
        raise RuntimeError("veto")

    with pytest.raises(RuntimeError, match="veto"):
        load(con, frames_for([("/s/a.txt", "New\n\nSomething else entirely, said Al Bo.")]), veto)
    assert table_counts(con) == before
    assert con.execute("SELECT * FROM quotes ORDER BY quote_id").fetchall() == snapshot


def test_entities_aggregate_across_articles(con, seed_text):
    other = "Kerry again\n\nJohn Kerry flew to Geneva. Kerry met officials there."
    load(con, frames_for([("/s/a.txt", seed_text), ("/s/b.txt", other)]))
    articles, aliases = con.execute(
        "SELECT article_count, aliases FROM entities WHERE name = 'John Kerry'").fetchone()
    assert articles == 2 and {"Kerry", "John Kerry"} <= set(aliases)


def test_a_writer_and_a_reader_in_other_processes_do_not_exclude_each_other(tmp_path):
    """A DuckDB file let one process write and locked every other out, readers included; the
    lake lets a process hold it open for writing while others read and the writer commits."""
    import subprocess
    import sys

    from warehouse.ddl import ensure_schema

    db = tmp_path / "w.ducklake"
    con = connect(db)
    ensure_schema(con)
    con.close()
    script = (f"import time; from warehouse.connection import connect; c = connect({str(db)!r}); "
              "c.execute('BEGIN'); c.execute(\"INSERT INTO runs (run_id, started_at, status, seeds_dir) "
              "VALUES ('held', now(), 'running', 's')\"); print('ready', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        reader = connect(db, read_only=True)
        assert reader.execute("SELECT count(*) FROM runs").fetchone()[0] == 0  # the holder has not committed
        reader.close()
        writer = connect(db)
        writer.execute("INSERT INTO runs (run_id, started_at, status, seeds_dir) VALUES ('w', now(), 'running', 's')")
        writer.close()
        assert connect(db, read_only=True).execute("SELECT run_id FROM runs").fetchall() == [("w",)]
    finally:
        holder.kill()
        holder.wait()


def test_frames_conform_when_empty(con):
    empty = frames_for([])
    result, _ = load(con, empty)
    assert result.articles_loaded == 0
    assert isinstance(con.execute("SELECT * FROM articles").pl(), pl.DataFrame)


def _entities(con):
    return con.execute("SELECT * FROM entities ORDER BY entity_id").fetchall()


def _rebuilt(con):
    """``entities`` as ENTITIES_REBUILD makes it from the mentions now (rolled back after)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(ENTITIES_REBUILD)
        return _entities(con)
    finally:
        con.execute("ROLLBACK")


def test_entities_kept_incrementally_equal_a_rebuild(con, seed_text):
    """Loads that add, replace (a changed file, a moved one) and keep articles update only the
    entities they touch; after each, ``entities`` equals a rebuild from all mentions, row for
    row, and after a full refresh too."""
    kerry = "Kerry again\n\nJohn Kerry flew to Geneva. Kerry met officials there, said Jane Roe."
    roe = "Roe\n\nJane Roe, the mayor, said \"we are fine and well\". Bob Smith agreed with John Kerry."
    runs = [
        [("/s/a.txt", seed_text), ("/s/b.txt", kerry)],
        [("/s/c.txt", roe)],  # added
        [("/s/a.txt", "Changed\n\nBob Smith, the mayor, said \"we are fine\". John Kerry left.")],  # changed
        [("/s/moved/b.txt", kerry), ("/s/d.txt", "Smith\n\nBob Smith met Jane Roe in Paris.")],  # moved, added
        [("/s/c.txt", "Roe gone\n\nNobody of note spoke in Paris today.")],  # an entity loses mentions
    ]
    for k, files in enumerate(runs, 1):
        if k > 1:
            assert checked_basis(con) == f"r{k - 1}"  # the incremental path, not a rebuild
        f = frames_for(files)
        load_run(con, f.articles, f.mentions, f.quotes, f.rejected, DQ_RESULTS.empty(), run_id=f"r{k}")
        assert _entities(con) == _rebuilt(con), f"after load {k}"
    assert con.execute("SELECT count(*) FROM entities WHERE name = 'John Kerry'").fetchone()[0] == 1
    f = frames_for([("/s/e.txt", roe)])
    load_run(con, f.articles, f.mentions, f.quotes, f.rejected, DQ_RESULTS.empty(), full_refresh=True, run_id="r9")
    assert _entities(con) == _rebuilt(con)
    assert {r[1] for r in _entities(con)} >= {"Jane Roe", "Bob Smith"}


def test_entities_kept_incrementally_follow_the_spelling_most_mentions_use(con):
    """An entity's id hashes its folded name, so its mentions may spell it differently; its
    ``name`` is the spelling most of them use, after an incremental load as after a rebuild."""
    text = "Deal\n\nPayPal said on Monday it had agreed the deal, said Jane Roe in London."

    def respelled(files, spelling):  # the same entity, spelled otherwise by these mentions
        f = frames_for(files)
        name = pl.when(pl.col("entity_name") == "PayPal").then(pl.lit(spelling)).otherwise(pl.col("entity_name"))
        return dataclasses.replace(f, mentions=f.mentions.with_columns(name.alias("entity_name")))

    loads = [respelled([("/s/a.txt", text)], "Paypal"),
             respelled([("/s/b.txt", text.replace("Deal", "Deal two")),
                        ("/s/c.txt", text.replace("Deal", "Deal three"))], "PayPal"),  # two against one
             respelled([("/s/d.txt", text.replace("Deal", "Deal four"))], "PayPal")]
    for k, f in enumerate(loads, 1):
        load_run(con, f.articles, f.mentions, f.quotes, f.rejected, DQ_RESULTS.empty(), run_id=f"r{k}")
        assert _entities(con) == _rebuilt(con), f"after load {k}"
    names = {r[0] for r in con.execute("SELECT name FROM entities WHERE lower(name) = 'paypal'").fetchall()}
    assert names == {"PayPal"}


def test_only_a_checked_load_is_a_basis(con, seed_text):
    """The checks may trust the rows a load left only while no other commit changed them."""
    f = frames_for([("/s/a.txt", seed_text)])
    assert checked_basis(con) is None  # nothing loaded yet
    load_run(con, f.articles, f.mentions, f.quotes, f.rejected, DQ_RESULTS.empty(), run_id="r1")
    assert checked_basis(con) == "r1"
    con.execute("INSERT INTO runs (run_id, started_at, status, seeds_dir) VALUES ('x', now(), 'running', 's')")
    assert checked_basis(con) == "r1"  # bookkeeping does not change the checked tables
    con.execute("UPDATE mentions SET text = 'x' WHERE mention_id = (SELECT min(mention_id) FROM mentions)")
    assert checked_basis(con) is None


class Vetoed(Exception):
    pass


def test_scoped_warehouse_checks_find_what_whole_ones_find(con, seed_text, tmp_path):
    """After a checked load, the next load's warehouse checks judge the rows it wrote only; with
    broken offsets and keys repeated across the old and new rows they report the same counts,
    examples and verdicts as the same checks over the whole warehouse: reading the bodies of
    the load's run only when all its rows point at its own articles, else of every article."""
    from functools import partial

    from expectations.runner import Validator, invariant_queries
    from expectations.suites import _scoped_keys, warehouse_invariants

    def frames(run, files):
        f = frames_for(files)
        return dataclasses.replace(f, articles=f.articles.with_columns(pl.lit(run).alias("run_id")),
                                   mentions=f.mentions.with_columns(pl.lit(run).alias("run_id")),
                                   quotes=f.quotes.with_columns(pl.lit(run).alias("run_id")))

    first = frames("r1", [("/s/a.txt", seed_text)])
    load_run(con, first.articles, first.mentions, first.quotes, first.rejected, DQ_RESULTS.empty(),
             partial(Validator(tmp_path / "gx" / "w.duckdb", "r1").validate_warehouse, keys_enforced=False),
             run_id="r1")  # the checks' results name the run
    old = first.mentions.filter(pl.col("field") == "body").head(1)
    entity_refs = {"mentions.entity_id points at entities", "quotes.speaker_entity_id points at entities"}
    scoped_names = {"quote offsets slice body", "body mention offsets slice body", *_scoped_keys(False), *entity_refs}
    assert {"mentions.mention_id unique", "mentions.article_id points at articles", "quotes.quote_id unique",
            "articles.source_path unique"} <= scoped_names
    # an entity of the first run's article only, which r3 pretends its load removed
    lone = first.mentions.group_by("entity_id").len().filter(pl.col("len") == 1)["entity_id"][0]
    for run, points_elsewhere in (("r2", False), ("r3", True)):
        text = f"Kerry {run}\n\nJohn Kerry flew to Geneva, said \"we are fine and well\"."
        f = frames(run, [(f"/s/{run}.txt", text)])
        new_id = f.articles["article_id"][0]
        broken = (pl.col("field") == "body") & (pl.col("char_start") == pl.col("char_start").filter(
            pl.col("field") == "body").min())
        mentions = pl.concat([
            f.mentions.with_columns(pl.when(broken).then(pl.col("char_start") + 1).otherwise(pl.col("char_start"))
                                    .alias("char_start")),
            # an old mention_id again
            old.with_columns(pl.lit(new_id).alias("article_id"), pl.lit(run).alias("run_id")),
        ])
        if points_elsewhere:  # mentions of this run: a broken offset into an article of the first; no article
            mentions = pl.concat([mentions, old.with_columns(pl.lit(f"{run}-m").alias("mention_id"),
                                                             (pl.col("char_end") + 1).alias("char_end"),
                                                             pl.lit(run).alias("run_id")),
                                  old.with_columns(pl.lit(f"{run}-o").alias("mention_id"),
                                                   pl.lit("nowhere").alias("article_id"), pl.lit(run).alias("run_id"))])
        quotes = f.quotes.with_columns((pl.col("char_end") - 1).alias("char_end"))
        validator = Validator(tmp_path / "gx" / "w.duckdb", run)
        found = {}

        def both(c, run=run, points_elsewhere=points_elsewhere, validator=validator, found=found):
            if points_elsewhere:  # as if the load had removed an entity an old mention still names
                c.execute("DELETE FROM entities WHERE entity_id = ?", [lone])
                c.execute("INSERT INTO temp.load_gone_entities VALUES (?)", [lone])
            scoped = invariant_queries(c, False)
            whole = {name: sql for name, (_, sql) in warehouse_invariants(False).items()}
            assert {n for n in whole if scoped[n] != whole[n]} == scoped_names
            assert (f"run_id = '{run}'" in scoped["quote offsets slice body"]) is not points_elsewhere
            # mentions are read from the data files of this run only: the first run's are skipped
            assert f"m.run_id IN ('{run}') AND" in scoped["body mention offsets slice body"]
            assert f"WHERE run_id IN ('{run}') AND" in scoped["mentions.mention_id unique"]
            assert f"q.run_id IN ('{run}') AND" in scoped["quote offsets slice body"]
            # the rows naming a removed entity are read only when the load removed one
            assert ("load_gone_entities" in scoped["mentions.entity_id points at entities"]) is points_elsewhere
            found["scoped"] = validator.validate_warehouse(c, keys_enforced=False)
            c.execute("DROP TABLE temp.load_basis")  # no basis: the checks judge the whole warehouse
            found["whole"] = validator.validate_warehouse(c, keys_enforced=False)
            raise Vetoed  # rolled back: each load builds on the first, which passed

        with pytest.raises(Vetoed):
            load_run(con, f.articles, mentions, quotes, f.rejected, DQ_RESULTS.empty(), both, run_id=run)
        cols = ["table_name", "check_name", "success", "unexpected_count", "unexpected_examples"]
        scoped, whole = (found[k].select(cols).sort("table_name", "check_name") for k in ("scoped", "whole"))
        assert scoped.equals(whole)
        failed = set(whole.filter(~pl.col("success"))["check_name"])
        assert {"quote offsets slice body", "body mention offsets slice body", "mentions.mention_id unique"} <= failed
        assert ("mentions.article_id points at articles" in failed) is points_elsewhere
        assert ("mentions.entity_id points at entities" in failed) is points_elsewhere
