"""The warehouse never blocks, and faults lose nothing: real runs, real readers, real kills.

A run pauses inside its load transaction (the fault points of warehouse.loader) while readers
(a Python connection, `newsetl sql`, a `newsetl shell` fed by a pipe) query the lake: every
query succeeds and sees one committed snapshot, old or new, never a mix; the run commits
while a reader holds a transaction open. A run killed at the commit leaves the previous
snapshot, and the next run removes what it left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import NEW_ARTICLES, NEWSETL, ROOT, add_new_articles, copy_seed, counts, newsetl, query
from warehouse.connection import connect

pytestmark = pytest.mark.integration
TABLES = ("articles", "mentions", "quotes", "entities")



def snapshot_counts(con) -> tuple[int, ...]:
    """The data tables' counts, read inside one transaction: one snapshot."""
    con.execute("BEGIN TRANSACTION")
    try:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
    finally:
        con.execute("COMMIT")


def paused_run(seeds: Path, db: Path, marker: Path, point: str = "BEFORE_COMMIT", seconds: float = 120,
               extra: tuple[str, ...] = ()) -> subprocess.Popen:
    env = {**os.environ, f"NEWSETL_FAULT_PAUSE_{point}": str(seconds), "NEWSETL_FAULT_MARKER": str(marker)}
    return subprocess.Popen([str(NEWSETL), "run", "--seeds", str(seeds), "--db", str(db), *extra], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(marker: Path, proc: subprocess.Popen, what: str, limit: float = 150) -> None:
    deadline = time.monotonic() + limit
    while not marker.exists():
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        assert time.monotonic() < deadline, f"the run never reached {what}"
        time.sleep(0.1)


@pytest.fixture
def loaded(tmp_path):
    """A lake holding the seed article, and a seeds folder with two new articles for the next run."""
    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    db = tmp_path / "news.ducklake"
    first = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    assert first.returncode == 0, first.stderr[-3000:]
    add_new_articles(seeds)
    return seeds, db


def test_readers_never_wait_and_always_see_one_snapshot(loaded, tmp_path):
    seeds, db = loaded
    reader = connect(db, read_only=True)
    old = snapshot_counts(reader)
    shell = subprocess.Popen([str(NEWSETL), "shell", "--db", str(db)], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shell.stdin.write("SELECT 'before', count(*) FROM articles;\n")
    shell.stdin.flush()
    marker = tmp_path / "in-load"
    run = paused_run(seeds, db, marker, seconds=4)
    try:
        wait_for(marker, run, "its load transaction")
        # The run holds its transaction open, its new rows written: readers see the last commit.
        assert snapshot_counts(reader) == old
        sql = newsetl("sql", "--db", str(db), "--format", "csv", "SELECT count(*) AS n FROM articles")
        assert sql.returncode == 0, sql.stderr
        assert sql.stdout.split() == ["n", str(old[0])]
        shell.stdin.write("SELECT 'during', count(*) FROM articles;\n")
        shell.stdin.flush()
        # A reader inside a transaction across the commit: the writer does not wait for it, and
        # it keeps seeing its snapshot until it ends.
        reader.execute("BEGIN TRANSACTION")
        held = tuple(reader.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
        out, _ = run.communicate(timeout=180)
        assert run.returncode == 0, out.decode()[-3000:]
        assert tuple(reader.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES) == held == old
        reader.execute("COMMIT")
        new = snapshot_counts(reader)
        assert new[0] == old[0] + len(NEW_ARTICLES) and new[2] > old[2]
        shell.stdin.write("SELECT 'after', count(*) FROM articles;\nCREATE TABLE nope (a INT);\n")
        shell_out, shell_err = shell.communicate(timeout=60)
    finally:
        for proc in (run, shell):
            if proc.poll() is None:
                proc.kill()
        reader.close()
    seen = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in shell_out.splitlines()
            if line.count("│") >= 3 and line.split("│")[1].strip() in ("before", "during", "after")}
    assert seen == {"before": str(old[0]), "during": str(old[0]), "after": str(new[0])}, shell_out
    assert "read-only" in shell_err  # the shell holds the lake read-only


def test_a_second_run_waits_its_bound_then_names_the_run_writing(loaded, tmp_path):
    seeds, db = loaded
    marker = tmp_path / "in-load"
    run = paused_run(seeds, db, marker, seconds=60)
    try:
        wait_for(marker, run, "its load transaction")
        t0 = time.monotonic()
        second = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--wait", "2")
        waited = time.monotonic() - t0
        assert second.returncode == 1
        assert "is being loaded by run" in second.stderr and f"pid {run.pid}" in second.stderr
        assert "waited 2 s" in second.stderr and waited >= 2
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)


@pytest.mark.parametrize("point", ["BEFORE_COMMIT", "AFTER_COMMIT"])
def test_sigkill_at_the_commit_leaves_a_committed_snapshot_and_the_next_run_cleans_up(loaded, tmp_path, point):
    seeds, db = loaded
    before = counts(db)
    marker = tmp_path / "at-commit"
    victim = paused_run(seeds, db, marker, point=point)
    try:
        wait_for(marker, victim, point)
        os.killpg(victim.pid, signal.SIGKILL)  # the run and its Prefect server
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)

    after_kill = counts(db)
    if point == "BEFORE_COMMIT":
        assert after_kill == before  # nothing of the killed load is visible
    else:
        assert after_kill["articles"] == before["articles"] + len(NEW_ARTICLES)  # committed: all of it
    assert list(db.parent.glob(f".{db.name}.staging-*")), "the killed run's staged batches are still on disk"

    after = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    assert after.returncode == 0, after.stderr[-2000:]
    assert list(db.parent.glob(f".{db.name}.staging-*")) == []  # the next run cleared them
    assert counts(db)["articles"] == before["articles"] + len(NEW_ARTICLES)
    con = connect(db)
    try:
        statuses = [r[0] for r in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
        assert statuses == ["completed", "running", "completed"]  # the killed run shows as never finished
        # No file of the killed run is left behind: nothing on disk that no snapshot lists.
        leftovers = con.execute("CALL ducklake_delete_orphaned_files('lake', dry_run => true, "
                                "older_than => now())").fetchall()
        assert leftovers == []
    finally:
        con.close()


def test_a_damaged_warehouse_gives_a_clear_error_and_is_never_replaced(tmp_path):
    db = tmp_path / "news.ducklake"
    db.write_bytes(b"this is not a catalog" * 100)
    out = newsetl("sql", "--db", str(db), "SELECT 1")
    assert out.returncode == 2 and "cannot open the warehouse" in out.stderr and str(db) in out.stderr
    run = newsetl("run", "--seeds", str(ROOT / "seeds"), "--db", str(db))
    assert run.returncode == 1 and "cannot open the warehouse" in run.stderr
    assert db.read_bytes() == b"this is not a catalog" * 100  # left as it was, not made anew
    missing = newsetl("sql", "--db", str(tmp_path / "nope.ducklake"), "SELECT 1")
    assert missing.returncode == 2 and "no warehouse at" in missing.stderr
    assert not (tmp_path / "nope.ducklake").exists()


def test_a_lost_catalog_or_parquet_file_is_named_and_nothing_is_made_over_it(loaded):
    seeds, db = loaded
    files = db.with_suffix(".files")
    # A deleted data file: a query that reads it fails naming the file; the catalog is intact.
    victim = sorted((files / "main" / "mentions").glob("*.parquet"))[0]  # (a 1-row articles lives in the catalog)
    victim.unlink()
    out = newsetl("sql", "--db", str(db), "SELECT count(DISTINCT text) FROM mentions")
    assert out.returncode == 1 and victim.name in out.stderr
    # A catalog emptied (truncated to nothing) is refused, not taken for a new lake.
    saved = db.read_bytes()
    db.write_bytes(b"")
    run = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    assert run.returncode == 1 and "is empty" in run.stderr and db.read_bytes() == b""
    # A catalog deleted while its data folder still holds files: no new lake over the old data.
    db.unlink()
    for extra in db.parent.glob(db.name + "-*"):
        extra.unlink()
    run = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    assert run.returncode == 1 and "holds Parquet files" in run.stderr and not db.exists()
    assert any(files.rglob("*.parquet"))  # nothing was deleted
    db.write_bytes(saved)


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_run_on_a_lake_with_a_damaged_data_file_writes_nothing_and_says_how_to_recover(loaded, damage):
    """At 3492ce5 a run on a damaged warehouse failed halfway and recorded its failure in it."""
    seeds, db = loaded
    victim = sorted((db.with_suffix(".files") / "main" / "mentions").glob("*.parquet"))[0]
    if damage == "truncated":
        victim.write_bytes(victim.read_bytes()[:100])  # a copy cut short by a full disk
    else:
        victim.unlink()
    catalog = db.read_bytes()
    run = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    assert run.returncode == 1
    assert "is damaged, nothing was written" in run.stderr and victim.name in run.stderr
    assert ("missing" if damage == "deleted" else "100 bytes where the catalog recorded") in run.stderr
    assert "Restore them from a backup" in run.stderr
    assert db.read_bytes() == catalog  # not one snapshot more: no runs row, no diagnostics
    assert query(db, "SELECT count(*), count(*) FILTER (status = 'completed') FROM runs") == [(1, 1)]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB file system (tmpfs) for the lake's data path; skipped where mounting is not allowed."""
    mnt = tmp_path / "data"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("mounting a small file system needs root with CAP_SYS_ADMIN")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_during_the_load_commits_nothing_and_leaves_the_space_free(tmp_path, small_disk):
    import random
    import shutil

    seeds, db = tmp_path / "seeds", tmp_path / "news.ducklake"
    copy_seed(seeds)
    lake = ("--db", str(db), "--data-path", str(small_disk))
    assert newsetl("run", "--seeds", str(seeds), *lake).returncode == 0
    before = _lake_counts(db, small_disk)
    rnd = random.Random(25)
    words = ["".join(rnd.choices("abcdefghijklmnopqrstuvwxyz", k=rnd.randint(3, 9))) for _ in range(5000)]
    for i in range(60):  # ~1.5 MB of text that compresses badly: more than the disk holds
        body = " ".join(rnd.choices(words, k=3000))
        (seeds / f"filler{i:02d}.txt").write_text(f"Filler {i}\n\nLONDON - {body}.\n")
    full = newsetl("run", "--seeds", str(seeds), *lake, "--workers", "1")
    assert full.returncode == 1 and "No space left on device" in full.stderr
    assert _lake_counts(db, small_disk) == before  # nothing committed
    free = shutil.disk_usage(small_disk)
    assert free.used < free.total / 2, "the failed load's files were left to fill the disk"
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)  # space comes back
    again = newsetl("run", "--seeds", str(seeds), *lake, "--workers", "1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert _lake_counts(db, small_disk)[0] == before[0] + 60


def _lake_counts(db, data) -> tuple[int, ...]:
    from warehouse.connection import Location

    con = connect(Location(str(db), str(data)), read_only=True)
    try:
        return snapshot_counts(con)
    finally:
        con.close()
