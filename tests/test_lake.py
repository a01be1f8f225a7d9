"""What the lake gives that a DuckDB file did not: time travel, history, rollback, upkeep while
readers read, and the way in (migrate an old DuckDB file) and out (export to one file)."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import NEW_ARTICLES, ROOT, add_new_articles, copy_seed, counts, frames_for, newsetl, query
from transforms.schema import DQ_RESULTS
from warehouse.connection import connect

pytestmark = pytest.mark.integration
EXTRA = NEW_ARTICLES["port.txt"]



@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """A lake after two runs: the seed article, then one more."""
    from flows.pipeline import newsetl_flow

    root = tmp_path_factory.mktemp("lake")
    seeds = root / "seeds"
    copy_seed(seeds)
    db = root / "news.ducklake"
    first = newsetl_flow(seeds_dir=str(seeds), db_path=str(db))
    after_first = counts(db)
    (seeds / "port.txt").write_text(EXTRA, encoding="utf-8")
    second = newsetl_flow(seeds_dir=str(seeds), db_path=str(db))
    return db, first.run_id, after_first, second.run_id, counts(db)


def test_sql_as_of_a_run_answers_as_the_warehouse_stood_after_it(two_runs):
    db, first, after_first, second, after_second = two_runs
    assert after_second["articles"] == after_first["articles"] + 1
    for run, expected in ((first, after_first), (second, after_second)):
        out = newsetl("sql", "--db", str(db), "--as-of", run, "--format", "csv",
                      "SELECT (SELECT count(*) FROM articles) AS a, (SELECT count(*) FROM quotes) AS q")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["a,q", f"{expected['articles']},{expected['quotes']}"]
    unknown = newsetl("sql", "--db", str(db), "--as-of", "no-such-run", "SELECT 1")
    assert unknown.returncode == 2 and "no such run" in unknown.stderr


def test_history_lists_runs_with_their_snapshots(two_runs):
    db, first, _, second, _ = two_runs
    out = newsetl("history", "--db", str(db))
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines()[1:]}
    assert set(lines) >= {first, second}
    snap = {run: int(lines[run].split()[4]) for run in (first, second)}
    assert snap[second] > snap[first]


def test_rollback_restores_a_run_as_a_new_snapshot_keeping_the_history(tmp_path):
    from flows.pipeline import newsetl_flow

    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    (seeds / "port.txt").write_text(EXTRA, encoding="utf-8")
    own = tmp_path / "own.ducklake"  # rollback writes: on a lake of this test's own
    one = newsetl_flow(seeds_dir=str(seeds), db_path=str(own), batch_size=5000)
    (seeds / "more.txt").write_text("More news\n\nPARIS - \"It is done,\" said Marie Curie.", encoding="utf-8")
    newsetl_flow(seeds_dir=str(seeds), db_path=str(own))
    before_rollback = counts(own)
    runs_before = query(own, "SELECT count(*) FROM runs")[0][0]
    dq_before = query(own, "SELECT count(*) FROM dq_results")[0][0]

    out = newsetl("rollback", one.run_id, "--db", str(own))
    assert out.returncode == 0, out.stderr
    restored = counts(own)
    assert restored["articles"] == before_rollback["articles"] - 1
    assert query(own, "SELECT count(*) FROM articles WHERE source_path LIKE '%more.txt'") == [(0,)]
    # the history stays, and the rollback is a run of its own in it
    assert query(own, "SELECT count(*) FROM runs")[0][0] == runs_before + 1
    assert query(own, "SELECT count(*) FROM dq_results")[0][0] == dq_before
    assert query(own, "SELECT status FROM runs WHERE seeds_dir LIKE 'rollback to run%'") == [("completed",)]
    # search follows the data restored
    found = newsetl("search", "--db", str(own), "done")
    assert found.returncode == 0 and "Marie Curie" not in found.stdout
    # and the rolled-back state is itself a snapshot: the newest run can still be read as of
    last = query(own, "SELECT run_id FROM runs WHERE seeds_dir NOT LIKE 'rollback%' ORDER BY started_at DESC LIMIT 1")
    back = newsetl("sql", "--db", str(own), "--as-of", last[0][0], "--format", "csv", "SELECT count(*) FROM articles")
    assert back.stdout.split()[-1] == str(before_rollback["articles"])


def test_compaction_merges_small_files_while_a_reader_reads(tmp_path):
    """Small runs make small files; `newsetl compact` merges them while a reader queries, and
    every answer is the same before, during and after.

    (A reader *inside one transaction* across a merge is not promised that: DuckLake 1.5.5 then
    finds the merged tables empty until the transaction ends, which is why runs do not merge
    on their own: see warehouse/upkeep.py.)"""
    from flows.pipeline import newsetl_flow
    from tests.golden import BBC

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    db = tmp_path / "news.ducklake"
    for k, src in enumerate(sorted(BBC.rglob("*.txt"))[:12]):
        (seeds / src.name).write_bytes(src.read_bytes())
        if k % 3 == 2:
            newsetl_flow(seeds_dir=str(seeds), db_path=str(db), workers=1)
    reader = connect(db, read_only=True)
    sql = "SELECT (SELECT count(*) FROM mentions), (SELECT sum(char_end) FROM mentions), (SELECT count(*) FROM quotes)"
    try:
        # A reader inside one transaction across a run (its upkeep included) keeps its snapshot.
        reader.execute("BEGIN TRANSACTION")
        held = reader.execute(sql).fetchone()
        for src in sorted(BBC.rglob("*.txt"))[12:15]:
            (seeds / src.name).write_bytes(src.read_bytes())
        newsetl_flow(seeds_dir=str(seeds), db_path=str(db), workers=1)
        assert reader.execute(sql).fetchone() == held
        reader.execute("COMMIT")
        before = reader.execute(sql).fetchone()
        assert before[0] > held[0]
        out = newsetl("compact", "--db", str(db))
        assert out.returncode == 0, out.stderr
        merged = int(out.stdout.split("compacted: ")[1].split()[0])
        assert merged > 0, out.stdout
        assert reader.execute(sql).fetchone() == before
    finally:
        reader.close()
    assert query(db, sql)[0] == before


def test_migrate_imports_an_old_duckdb_warehouse_row_for_row(tmp_path):
    """A warehouse as an older newsetl wrote it (one DuckDB file, keys declared, without the
    columns added since) comes into a new lake with every row, the newer columns computed as a
    load would have written them; the old file is refused as a lake, with the command to run."""
    from warehouse.ddl import DUCKDB, ensure_schema
    from warehouse.loader import load_run

    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    ensure_schema(con, DUCKDB)
    con.execute("INSERT INTO runs (run_id, started_at, status, seeds_dir) VALUES ('r0', now(), 'completed', 's')")
    frames = frames_for([("/s/seed.txt", (ROOT / "seeds").glob("*.txt").__next__().read_text()),
                         ("/s/port.txt", EXTRA)])
    load_run(con, frames.articles, frames.mentions, frames.quotes, frames.rejected, DQ_RESULTS.empty())
    con.execute("CHECKPOINT")
    want = {t: con.execute(f"SELECT count(*), sum(hash(t)) FROM {t} AS t").fetchone()
            for t in ("articles", "mentions", "entities", "quotes", "runs")}
    # columns newer than that newsetl, which the import computes (Column.backfill)
    con.execute("ALTER TABLE articles DROP COLUMN body_sha256")
    con.execute("ALTER TABLE mentions DROP COLUMN run_id")
    con.execute("ALTER TABLE quotes DROP COLUMN run_id")
    con.close()

    refused = newsetl("sql", "--db", str(old), "SELECT 1")
    assert refused.returncode == 2 and "newsetl migrate" in refused.stderr

    lake = tmp_path / "new.ducklake"
    out = newsetl("migrate", str(old), "--db", str(lake))
    assert out.returncode == 0, out.stderr
    con = connect(lake, read_only=True)
    try:
        got = {t: con.execute(f"SELECT count(*), sum(hash(t)) FROM {t} AS t").fetchone() for t in want}
    finally:
        con.close()
    assert got == want
    found = newsetl("search", "--db", str(lake), "ship")
    assert found.returncode == 0 and "Jan Berg" in found.stdout
    again = newsetl("migrate", str(old), "--db", str(lake))
    assert again.returncode == 1 and "already holds runs" in again.stderr


def test_export_writes_one_self_contained_duckdb_file(two_runs, tmp_path):
    db, *_, after_second = two_runs
    out_file = tmp_path / "out" / "news.duckdb"
    out = newsetl("export", str(out_file), "--db", str(db))
    assert out.returncode == 0, out.stderr
    con = duckdb.connect(str(out_file), read_only=True)  # plain DuckDB, no extension
    try:
        for table in ("articles", "mentions", "entities", "quotes"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == after_second[table]
        assert con.execute("SELECT count(*) FROM top_speakers").fetchone()[0] > 0  # the views came along
    finally:
        con.close()
    again = newsetl("export", str(out_file), "--db", str(db))
    assert again.returncode == 1 and "exists" in again.stderr


def test_a_moved_or_copied_lake_reads_and_loads_its_own_files(tmp_path):
    """DuckLake records an absolute data path: a moved lake failed ("DATA_PATH parameter does
    not match") and a copy read the original's files until their upkeep removed them."""
    import shutil

    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    first = tmp_path / "first"
    assert newsetl("run", "--seeds", str(seeds), "--db", str(first / "n.ducklake")).returncode == 0
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    moved = tmp_path / "moved"
    first.rename(moved)  # the original is gone: the copy must read its own files
    distinct = "SELECT count(DISTINCT text) FROM mentions"  # reads the Parquet files
    for where in (copy, moved):
        out = newsetl("sql", "--db", str(where / "n.ducklake"), "--format", "csv", distinct)
        assert out.returncode == 0 and out.stdout.splitlines()[1] == "42", out.stderr
        add_new_articles(seeds)
        run = newsetl("run", "--seeds", str(seeds), "--db", str(where / "n.ducklake"))
        assert run.returncode == 0, run.stderr[-2000:]
    assert not list(tmp_path.glob("first*"))


def test_a_lake_made_with_a_data_path_elsewhere_is_written_without_repeating_it(tmp_path):
    """Readers found the recorded data path; writers (run, compact, rollback) named the default
    folder beside the catalog and failed ("DATA_PATH parameter ... does not match")."""
    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    db, files = tmp_path / "wh" / "n.ducklake", tmp_path / "elsewhere"
    made = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--data-path", str(files))
    assert made.returncode == 0, made.stderr[-2000:]
    add_new_articles(seeds)
    for cmd in (["run", "--seeds", str(seeds)], ["compact"]):
        proc = newsetl(*cmd, "--db", str(db))
        assert proc.returncode == 0, proc.stderr[-2000:]
    out = newsetl("sql", "--db", str(db), "--format", "csv", "SELECT count(*) FROM articles")
    assert out.returncode == 0 and int(out.stdout.splitlines()[1]) > 1, out.stderr
    assert not (tmp_path / "wh" / "n.files").exists()  # nothing written beside the catalog
    assert list(files.rglob("*.parquet"))


def test_a_catalog_copied_alone_never_writes_into_the_original_lake(tmp_path):
    """A copy of the catalog file records the original's data folder: a writer on it that used
    that folder would have its upkeep delete the original's newer files as orphans."""
    import shutil

    from warehouse.connection import WarehouseUnavailable

    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    original = tmp_path / "news.ducklake"
    assert newsetl("run", "--seeds", str(seeds), "--db", str(original)).returncode == 0
    copy = tmp_path / "copy.ducklake"
    shutil.copy2(original, copy)
    files = sorted((tmp_path / "news.files").rglob("*.parquet"))
    with pytest.raises(WarehouseUnavailable, match="does not match"):
        connect(copy)
    run = newsetl("run", "--seeds", str(seeds), "--db", str(copy))
    assert run.returncode == 1 and "does not match" in run.stdout + run.stderr
    assert sorted((tmp_path / "news.files").rglob("*.parquet")) == files
    out = newsetl("sql", "--db", str(original), "--format", "csv", "SELECT count(*) FROM mentions")
    assert out.returncode == 0, out.stderr


def test_articles_are_written_in_small_row_groups(tmp_path):
    """A reader holds a whole row group of a column: with DuckLake's default (122,880 rows) the
    bodies of 100,000 articles were one 240 MB block, and the 512 MB load failed its own
    invariants with "Out of Memory" (found by the 100k benchmark)."""
    import duckdb as ddb

    from warehouse.ddl import ensure_schema, row_group_options

    con = connect(tmp_path / "w.ducklake")
    try:
        ensure_schema(con)
        assert row_group_options(con) == []  # set, and set once
        con.execute("SET preserve_insertion_order = false")
        con.execute("""INSERT INTO articles SELECT md5(i::VARCHAR)[:16], 'f' || i, md5(i::VARCHAR) || md5(i::VARCHAR),
                       1, 'utf-8', false, 't', NULL, NULL, NULL, NULL, repeat('word ', 400), 0, [], NULL, 400, 1,
                       'r', now(), NULL, NULL, sha256(i::VARCHAR) FROM range(5000) r(i)""")
        files = [r[0] for r in con.execute("SELECT data_file FROM ducklake_list_files('lake', 'articles')").fetchall()]
    finally:
        con.close()
    rows = ddb.connect().execute("SELECT max(row_group_num_rows), count(DISTINCT row_group_id) "
                                 "FROM parquet_metadata(?)", [files]).fetchone()
    assert rows[0] <= 2048 and rows[1] >= 3
