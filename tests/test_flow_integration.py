"""The real Prefect flow over real files into a real DuckDB file, with real GX suites."""

from __future__ import annotations

import re
import shutil

import polars as pl
import pytest

from tests.conftest import SEED, copy_seed, counts, query

pytestmark = pytest.mark.integration

CP1252_ARTICLE = ("Caf\u00e9 owners protest\n\n"
                  "LYON (AFP) - Jean Dupont said \u201cwe will not close our doors\u201d on Monday.\n")


def make_seeds(root):
    copy_seed(root)
    nested = root / "nested" / "deeper"
    nested.mkdir(parents=True)
    (nested / "crlf.txt").write_bytes(
        b"Markets rally in Tokyo\r\n\r\nTOKYO (Reuters) - Shares rose, Sony said in a statement on Friday.\r\n")
    (root / "legacy.txt").write_bytes(CP1252_ARTICLE.encode("cp1252"))
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (root / "notes.md").write_text("not a .txt: ignored")
    return root


@pytest.fixture(scope="module")
def flow():
    from flows.pipeline import newsetl_flow

    return newsetl_flow


@pytest.fixture(scope="module")
def built(tmp_path_factory, flow):
    root = tmp_path_factory.mktemp("run")
    seeds = make_seeds(root / "seeds")
    db = root / "wh" / "news.duckdb"
    summary = flow(seeds_dir=str(seeds), db_path=str(db))
    return seeds, db, summary


def test_first_run_loads_good_files_and_rejects_bad_ones(built):
    _, db, s = built
    assert s.status == "completed"
    assert (s.files_seen, s.files_loaded, s.files_rejected) == (5, 3, 2)
    reasons = dict(query(db, "SELECT regexp_extract(source_path, '[^/]+$'), reason FROM rejected_files"))
    assert reasons == {"empty.txt": "empty", "binary.txt": "binary"}
    enc = dict(query(db, "SELECT regexp_extract(source_path, '[^/]+$'), encoding FROM articles"))
    assert enc["legacy.txt"] == "cp1252" and enc["crlf.txt"] == "utf-8"


def test_seed_quotes_land_with_speakers(built):
    _, db, _ = built
    rows = dict(query(db, "SELECT left(q.text, 20), q.speaker FROM quotes q JOIN articles a USING (article_id) "
                          "WHERE a.source_path LIKE '%seed.txt'"))
    assert rows["Unless we see someth"] == "John Kirby"
    assert rows["This is the sad, poi"] == "Fred Hof"


def test_run_is_recorded_with_dq_results_and_report(built):
    _, db, s = built
    status, dq, loaded = query(db, f"SELECT status, dq_success, files_loaded FROM runs WHERE run_id = '{s.run_id}'")[0]
    assert (status, dq, loaded) == ("completed", True, 3)
    n, suites = query(db, f"SELECT count(*), count(DISTINCT table_name) FROM dq_results WHERE run_id = '{s.run_id}'")[0]
    assert n == s.dq_checks and suites == 6  # articles, mentions, quotes, run, entities, warehouse
    from pathlib import Path

    assert s.report_path and Path(s.report_path).exists()


def test_invariants_hold_in_the_warehouse(built):
    _, db, _ = built
    bad = query(db, """
        SELECT count(*) FROM quotes q JOIN articles a USING (article_id)
        WHERE substr(a.body, q.char_start + 1, q.char_end - q.char_start) <> q.text""")[0][0]
    assert bad == 0
    orphans = query(db, "SELECT count(*) FROM mentions ANTI JOIN entities USING (entity_id)")[0][0]
    assert orphans == 0


def test_rerun_is_idempotent(built, flow):
    seeds, db, _ = built
    before = counts(db)
    s2 = flow(seeds_dir=str(seeds), db_path=str(db))
    assert s2.status == "completed"
    assert counts(db) == before
    assert query(db, "SELECT count(*) FROM articles GROUP BY source_path HAVING count(*) > 1") == []


def test_changed_file_replaces_old_rows(tmp_path, flow):
    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    db = tmp_path / "news.duckdb"
    flow(seeds_dir=str(seeds), db_path=str(db))
    (seeds / "seed.txt").write_text("Short story\n\nBRUSSELS (AFP) - Anna Berg said \"the summit went well today\".")
    flow(seeds_dir=str(seeds), db_path=str(db))
    assert counts(db)["articles"] == 1
    assert query(db, "SELECT speaker FROM quotes") == [("Anna Berg",)]
    assert query(db, "SELECT count(*) FROM entities WHERE name = 'John Kerry'") == [(0,)]


def test_critical_failure_blocks_load_and_leaves_warehouse_unchanged(tmp_path, flow, monkeypatch):
    from flows import extract
    from flows.pipeline import RunFailed

    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    db = tmp_path / "news.duckdb"
    flow(seeds_dir=str(seeds), db_path=str(db))
    before = counts(db)
    snapshot = query(db, "SELECT quote_id, text FROM quotes ORDER BY quote_id")
    shutil.copyfile(SEED, seeds / "copy-with-change.txt")
    with (seeds / "copy-with-change.txt").open("a", encoding="utf-8") as fh:
        fh.write("\n\nA new paragraph, Kirby said.")

    real = extract.process_files

    def broken_extractor(*args, **kwargs):  # an extractor bug: every quote emitted twice
        out = real(*args, **kwargs)
        out.quotes = pl.concat([out.quotes, out.quotes])
        return out

    monkeypatch.setattr(extract, "process_files", broken_extractor)
    with pytest.raises(RunFailed) as exc:
        flow(seeds_dir=str(seeds), db_path=str(db))
    message = str(exc.value)
    assert "quote_id unique" in message and "examples" in message
    assert counts(db) == before
    assert query(db, "SELECT quote_id, text FROM quotes ORDER BY quote_id") == snapshot
    run = exc.value.summary.run_id
    status, err, loaded = query(db, f"SELECT status, error, files_loaded FROM runs WHERE run_id = '{run}'")[0]
    assert status == "failed" and "quote_id unique" in err
    assert loaded == 0 and exc.value.summary.files_extracted == 1  # at 3492ce5: "1 loaded"
    failed = query(db, f"SELECT check_name FROM dq_results WHERE run_id = '{run}' AND NOT success")
    assert ("quote_id unique",) in failed


def test_missing_seeds_folder_fails_clearly(tmp_path, flow):
    from flows.pipeline import RunFailed

    with pytest.raises(RunFailed, match="does not exist"):
        flow(seeds_dir=str(tmp_path / "nope"), db_path=str(tmp_path / "news.duckdb"))
    assert query(tmp_path / "news.duckdb", "SELECT status FROM runs") == [("failed",)]


def test_duplicate_content_under_two_paths_loads_once(tmp_path, flow):
    seeds = tmp_path / "seeds"
    copy_seed(seeds, "a.txt")
    copy_seed(seeds, "b.txt")
    db = tmp_path / "news.duckdb"
    s = flow(seeds_dir=str(seeds), db_path=str(db))
    assert s.files_loaded == 1 and s.files_rejected == 1
    assert query(db, "SELECT reason FROM rejected_files") == [("duplicate_content",)]


def test_empty_seeds_folder_loads_nothing_and_says_so(tmp_path, flow):
    (tmp_path / "seeds").mkdir()
    s = flow(seeds_dir=str(tmp_path / "seeds"), db_path=str(tmp_path / "news.duckdb"))
    assert s.status == "completed" and s.files_seen == 0
    assert any("no *.txt files" in n for n in s.notes)


def test_unusable_warehouse_path_fails_clearly(tmp_path, flow):
    from flows.pipeline import RunFailed

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the warehouse folder should be")
    with pytest.raises(RunFailed, match="cannot write the warehouse"):
        flow(seeds_dir=str(SEED.parent), db_path=str(blocker / "news.duckdb"))


def test_incremental_runs_skip_unchanged_add_new_replace_changed_and_flag_deleted(tmp_path, flow):
    seeds = tmp_path / "seeds"
    copy_seed(seeds, "a.txt")
    (seeds / "b.txt").write_text('Zoo\n\nLONDON - "The penguins are fine," said Ann Keeper.')
    db = tmp_path / "news.duckdb"
    first = flow(seeds_dir=str(seeds), db_path=str(db))
    assert (first.files_new, first.files_changed, first.files_skipped) == (2, 0, 0)

    again = flow(seeds_dir=str(seeds), db_path=str(db))  # nothing changed: nothing re-extracted
    assert (again.files_loaded, again.files_skipped, again.files_new) == (0, 2, 0)
    assert counts(db)["quotes"] == 16

    (seeds / "b.txt").write_text('Zoo\n\nLONDON - "The giraffes are fine," said Ann Keeper.')
    (seeds / "c.txt").write_text('Farm\n\nLEEDS - "Cows are calm," said Bo Farmer.')
    (seeds / "a.txt").unlink()
    third = flow(seeds_dir=str(seeds), db_path=str(db))
    assert (third.files_new, third.files_changed, third.files_skipped, third.files_deleted) == (1, 1, 0, 1)
    assert query(db, "SELECT regexp_extract(source_path, '[^/]+$'), missing_since IS NOT NULL FROM articles "
                     "ORDER BY 1") == [("a.txt", True), ("b.txt", False), ("c.txt", False)]
    assert ("The giraffes are fine,",) in query(db, "SELECT text FROM quotes")
    run = query(db, f"SELECT files_new, files_changed, files_skipped, files_deleted FROM runs "
                    f"WHERE run_id = '{third.run_id}'")
    assert run == [(1, 1, 0, 1)]

    # a.txt is still gone: no news, so nothing to check or load, and its flag keeps its date
    flagged = query(db, "SELECT missing_since FROM articles WHERE source_path LIKE '%/a.txt'")
    quiet = flow(seeds_dir=str(seeds), db_path=str(db))
    assert (quiet.files_deleted, quiet.files_loaded, quiet.files_skipped) == (0, 0, 2)
    assert any(n.startswith("nothing new or changed") for n in quiet.notes)
    assert query(db, "SELECT missing_since FROM articles WHERE source_path LIKE '%/a.txt'") == flagged
    loads = f"SELECT count(*) FROM lake.snapshots() WHERE commit_message = 'run {quiet.run_id}: load'"
    assert query(db, loads) == [(0,)] and query(db, loads.replace(quiet.run_id, third.run_id)) == [(1,)]

    copy_seed(seeds, "a.txt")  # it comes back unchanged: skipped, and no longer flagged
    fourth = flow(seeds_dir=str(seeds), db_path=str(db))
    assert fourth.files_skipped == 3
    assert query(db, "SELECT count(*) FROM articles WHERE missing_since IS NOT NULL") == [(0,)]


def test_a_renamed_file_moves_its_rows_and_is_not_counted_gone(tmp_path, flow):
    seeds = tmp_path / "seeds"
    copy_seed(seeds, "a.txt")
    (seeds / "b.txt").write_text('Zoo\n\nLONDON - "The penguins are fine," said Ann Keeper.')
    db = tmp_path / "news.duckdb"
    flow(seeds_dir=str(seeds), db_path=str(db))
    before = counts(db)
    (seeds / "b.txt").rename(seeds / "zoo.txt")  # renamed: the same bytes under a new name
    (seeds / "a.txt").unlink()  # gone
    run = flow(seeds_dir=str(seeds), db_path=str(db))
    assert (run.files_deleted, run.files_new) == (1, 1)
    assert query(db, "SELECT regexp_extract(source_path, '[^/]+$'), missing_since IS NOT NULL FROM articles "
                     "ORDER BY 1") == [("a.txt", True), ("zoo.txt", False)]
    assert counts(db) == before  # rows moved, none added or lost
    assert query(db, f"SELECT files_deleted FROM runs WHERE run_id = '{run.run_id}'") == [(1,)]
    # the summary (what --summary-json writes) says when the run ended, as its runs row does
    [(finished,)] = query(db, f"SELECT finished_at FROM runs WHERE run_id = '{run.run_id}'")
    assert run.finished_at is not None and run.started_at <= run.finished_at
    assert abs((run.finished_at - finished).total_seconds()) < 1e-3


def test_files_that_stat_as_when_loaded_are_not_read_again_and_a_changed_one_is(tmp_path, flow):
    import os
    import time

    from flows import io

    seeds = tmp_path / "seeds"
    copy_seed(seeds, "a.txt")
    (seeds / "b.txt").write_text('Zoo\n\nLONDON - "The penguins are fine," said Ann Keeper.')
    time.sleep(io.SETTLED_NS / 1e9 + 0.2)  # settled: written long enough before the run reads them
    db = tmp_path / "news.duckdb"
    first = flow(seeds_dir=str(seeds), db_path=str(db))
    assert first.files_loaded == 2
    stats = dict(query(db, "SELECT regexp_extract(source_path, '[^/]+$'), file_stat FROM articles"))
    b = os.stat(seeds / "b.txt")
    assert stats["b.txt"] == f"{b.st_size}:{b.st_mtime_ns}:{b.st_ctime_ns}:{b.st_ino}" and stats["a.txt"]

    again = flow(seeds_dir=str(seeds), db_path=str(db))  # neither file read: the batch holds none
    assert (again.files_skipped, again.files_loaded) == (2, 0)
    assert [batch["files"] for batch in again.batches] == [0]

    # Same size, and the modification time set back as a copy that keeps it would: the change
    # time still moves, so the file is read, and its new text replaces the old.
    (seeds / "b.txt").write_text('Zoo\n\nLONDON - "The giraffes are fine," said Ann Keeper.')
    os.utime(seeds / "b.txt", ns=(b.st_atime_ns, b.st_mtime_ns))
    assert os.stat(seeds / "b.txt").st_size == b.st_size
    third = flow(seeds_dir=str(seeds), db_path=str(db))
    assert (third.files_changed, third.files_skipped) == (1, 1)
    assert [batch["files"] for batch in third.batches] == [1]
    assert ("The giraffes are fine,",) in query(db, "SELECT text FROM quotes")
    assert query(db, "SELECT count(*) FROM quotes WHERE text = 'The penguins are fine,'") == [(0,)]

    # Touched, the same bytes: read, found unchanged, and its new stat recorded by the next
    # load (here, of a new file), so the run after that reads nothing. b.txt is read again
    # too if it changed (utime) just before its last read (io.SETTLED_NS): no stat vouched for it.
    [(b_unvouched,)] = query(db, "SELECT file_stat IS NULL FROM articles WHERE source_path LIKE '%/b.txt'")
    os.utime(seeds / "a.txt")
    (seeds / "c.txt").write_text('Farm\n\nLEEDS - "Cows are calm," said Bo Farmer.')
    time.sleep(io.SETTLED_NS / 1e9 + 0.2)
    fourth = flow(seeds_dir=str(seeds), db_path=str(db))
    assert (fourth.files_new, fourth.files_skipped) == (1, 1 + b_unvouched)
    assert [x["files"] for x in fourth.batches] == [2 + b_unvouched]
    a = os.stat(seeds / "a.txt")
    assert query(db, "SELECT file_stat FROM articles WHERE source_path LIKE '%/a.txt'") == [
        (f"{a.st_size}:{a.st_mtime_ns}:{a.st_ctime_ns}:{a.st_ino}",)]
    fifth = flow(seeds_dir=str(seeds), db_path=str(db))
    assert fifth.files_skipped == 3 and [x["files"] for x in fifth.batches] == [0]


def test_full_refresh_rebuilds_from_the_folder(tmp_path, flow):
    seeds = tmp_path / "seeds"
    copy_seed(seeds, "a.txt")
    other = tmp_path / "other"
    (other).mkdir()
    (other / "x.txt").write_text('Zoo\n\nLONDON - "Elsewhere entirely," said Ann Keeper.')
    db = tmp_path / "news.duckdb"
    flow(seeds_dir=str(seeds), db_path=str(db))
    flow(seeds_dir=str(other), db_path=str(db))
    assert counts(db)["articles"] == 2
    s = flow(seeds_dir=str(seeds), db_path=str(db), full_refresh=True)
    assert s.full_refresh and s.files_loaded == 1 and s.files_skipped == 0
    assert counts(db)["articles"] == 1


def test_a_new_copy_of_a_loaded_file_is_a_duplicate(tmp_path, flow):
    seeds = tmp_path / "seeds"
    copy_seed(seeds, "a.txt")
    db = tmp_path / "news.duckdb"
    flow(seeds_dir=str(seeds), db_path=str(db))
    copy_seed(seeds, "b.txt")
    s = flow(seeds_dir=str(seeds), db_path=str(db))
    assert s.files_skipped == 1 and s.files_rejected == 1
    assert query(db, "SELECT regexp_extract(source_path, '[^/]+$') FROM articles") == [("a.txt",)]


def test_worker_processes_load_the_same_warehouse_as_one_process(tmp_path, flow):
    seeds = make_seeds(tmp_path / "seeds")
    db_one, db_two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    one = flow(seeds_dir=str(seeds), db_path=str(db_one), workers=1)
    two = flow(seeds_dir=str(seeds), db_path=str(db_two), chunk_size=2, workers=2)  # 5 files: 3 chunks, 2 workers
    assert (two.files_loaded, two.files_rejected) == (one.files_loaded, one.files_rejected)
    assert counts(db_two) == counts(db_one)
    same = "SELECT source_path, reason FROM rejected_files ORDER BY 1"
    assert query(db_two, same) == query(db_one, same)
    quotes = "SELECT article_id, char_start, text, speaker FROM quotes ORDER BY 1, 2"
    assert query(db_two, quotes) == query(db_one, quotes)


def staging_left(db) -> list:
    return sorted(p.name for p in db.parent.glob(f".{db.name}.staging-*"))


def test_a_run_in_batches_loads_what_one_batch_loads(tmp_path, flow):
    """Batches bound memory; they must not change a row: same tables, same rejections (a copy
    in a later batch of a file from an earlier one is still a duplicate), same merged checks."""
    seeds = make_seeds(tmp_path / "seeds")
    shutil.copyfile(seeds / "legacy.txt", seeds / "zz-copy-of-legacy.txt")  # sorts last: a later batch
    db_one, db_many = tmp_path / "one.duckdb", tmp_path / "many.duckdb"
    one = flow(seeds_dir=str(seeds), db_path=str(db_one), workers=1)
    many = flow(seeds_dir=str(seeds), db_path=str(db_many), chunk_size=1, batch_size=2, workers=2)
    assert (many.files_loaded, many.files_rejected) == (one.files_loaded, one.files_rejected) == (3, 3)
    assert counts(db_many) == counts(db_one)
    same = "SELECT regexp_extract(source_path, '[^/]+$'), reason, detail FROM rejected_files ORDER BY 1"
    assert query(db_many, same) == query(db_one, same)
    assert ("zz-copy-of-legacy.txt", "duplicate_content") in [r[:2] for r in query(db_many, same)]
    quotes = "SELECT article_id, char_start, text, speaker FROM quotes ORDER BY 1, 2"
    assert query(db_many, quotes) == query(db_one, quotes)
    checks = ("SELECT table_name, check_name, success, element_count, unexpected_count FROM dq_results "
              "WHERE table_name IN ('articles', 'mentions', 'quotes') ORDER BY 1, 2")
    assert query(db_many, checks) == query(db_one, checks)
    assert staging_left(db_many) == [] and staging_left(db_one) == []
    docs = (tmp_path / "many.gx").rglob("*.html")
    # batches are labelled in Data Docs (one whose files were all rejected has no page of its own)
    assert any(" of 3" in p.read_text(encoding="utf-8") for p in docs)


def test_a_rerun_with_nothing_new_checks_nothing_and_a_batch_with_nothing_new_is_not_checked(tmp_path, flow):
    """A run whose files are all unchanged has nothing to check or load: it records its run and
    stops (no GX, no load, no Data Docs; the data were checked by the run that loaded them). A
    batch whose files are all unchanged has empty frames: GX would pass them at about a second
    each, so only the batches with articles are checked."""
    seeds = make_seeds(tmp_path / "seeds")
    db = tmp_path / "w.duckdb"
    first = flow(seeds_dir=str(seeds), db_path=str(db), chunk_size=1, batch_size=1, workers=1)
    again = flow(seeds_dir=str(seeds), db_path=str(db), chunk_size=1, batch_size=1, workers=1)
    assert (first.files_loaded, again.files_loaded, again.files_skipped) == (3, 0, 3)
    assert again.completed and again.dq_success is None and any("nothing new or changed" in n for n in again.notes)
    assert query(db, f"SELECT count(*) FROM dq_results WHERE run_id = '{again.run_id}'") == [(0,)]
    assert query(db, f"SELECT status, dq_success, files_skipped FROM runs WHERE run_id = '{again.run_id}'") == [
        ("completed", None, 3)]
    validated = lambda run: {p.name for p in (tmp_path / "w.gx").rglob("validations/articles/*")  # noqa: E731
                             if p.name.startswith(run)}
    assert validated(again.run_id) == set()
    # One new file, in the last batch: only that batch is checked, and the run-level and
    # warehouse checks run as for any load.
    (seeds / "zz_new.txt").write_text('Port strike\n\nHAMBURG - "We will not unload a ship," said Jan Berg.')
    third = flow(seeds_dir=str(seeds), db_path=str(db), chunk_size=1, batch_size=1, workers=1)
    assert (third.files_new, third.files_skipped, third.dq_success) == (1, 3, True)
    pages = validated(third.run_id)
    # (the last batch: 6 files unless some of the loaded ones stat as when loaded and are not read)
    assert len(pages) == 1 and re.fullmatch(r".* batch (\d) of \1", pages.pop())
    assert query(db, f"SELECT count(DISTINCT table_name) FROM dq_results WHERE run_id = '{third.run_id}'") == [(6,)]


def test_a_critical_failure_in_a_batch_stops_the_run_and_loads_nothing(tmp_path, flow, monkeypatch):
    from flows import extract
    from flows.pipeline import RunFailed

    seeds = make_seeds(tmp_path / "seeds")
    db = tmp_path / "news.duckdb"
    flow(seeds_dir=str(seeds), db_path=str(db))
    before = counts(db)
    (seeds / "new.txt").write_text("Fresh story\n\nJane Roe said \"we are fine and happy\" in Paris.",
                                   encoding="utf-8")
    real = extract.process_files

    def broken_extractor(*args, **kwargs):  # every mention emitted twice
        out = real(*args, **kwargs)
        out.mentions = pl.concat([out.mentions, out.mentions])
        return out

    monkeypatch.setattr(extract, "process_files", broken_extractor)
    with pytest.raises(RunFailed) as exc:
        flow(seeds_dir=str(seeds), db_path=str(db), chunk_size=1, batch_size=1, workers=1)
    assert "mention_id unique" in str(exc.value)
    assert counts(db)["articles"] == before["articles"] and counts(db)["mentions"] == before["mentions"]
    assert staging_left(db) == []
