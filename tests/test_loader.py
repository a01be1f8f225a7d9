"""The loader on real DuckDB files: idempotent reruns, replaced files, vetoed commits."""

import polars as pl
import pytest

from tests.conftest import frames_for
from transforms.schema import DQ_RESULTS
from warehouse.connection import connect
from warehouse.loader import load_run, table_counts


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
