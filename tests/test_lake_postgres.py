"""A team's warehouse: the catalog on a real PostgreSQL server (started by the tests on
loopback), the files on a shared folder; readers elsewhere need only the URL."""

from __future__ import annotations

import os
import signal

import pytest

from tests.conftest import NEW_ARTICLES, add_new_articles, copy_seed, newsetl
from tests.test_faults import paused_run, wait_for

pytestmark = pytest.mark.integration



def count(url: str, table: str = "articles") -> int:
    """What a reader on another machine does: the URL, nothing else."""
    out = newsetl("sql", "--db", url, "--format", "csv", f"SELECT count(*) AS n FROM {table}")
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[-1])


@pytest.fixture
def team(postgres, tmp_path):
    """A new database on the session's server, a seeds folder, a shared data folder."""
    url = postgres.create_database(f"news_{tmp_path.name.replace('-', '_')[-20:].lower()}")
    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    return url, seeds, tmp_path / "shared" / "lake"


def test_a_team_warehouse_on_postgresql(postgres, team, tmp_path):
    url, seeds, data = team
    first = newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data))
    assert first.returncode == 0, first.stderr[-3000:]
    assert count(url) == 1 and count(url, "quotes") > 0
    assert any(data.rglob("*.parquet"))  # the rows are Parquet files on the shared folder

    # A run loads while a reader that knows only the URL queries: it sees the last commit.
    add_new_articles(seeds)
    marker = tmp_path / "in-load"
    run = paused_run(seeds, url, marker, seconds=3, extra=("--data-path", str(data)))
    try:
        wait_for(marker, run, "its load transaction")
        assert count(url) == 1
        out, _ = run.communicate(timeout=180)
        assert run.returncode == 0, out.decode()[-3000:]
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert count(url) == 1 + len(NEW_ARTICLES)
    history = newsetl("history", "--db", url)
    assert history.returncode == 0 and history.stdout.count("completed") == 2


def test_postgresql_down_before_a_run_fails_clearly_and_loses_nothing(postgres, team):
    url, seeds, data = team
    assert newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data)).returncode == 0
    postgres.stop()
    try:
        down = newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data))
        assert down.returncode == 1
        assert "cannot open the warehouse" in down.stderr and f"127.0.0.1:{postgres.port}" in down.stderr
        reader = newsetl("sql", "--db", url, "SELECT 1")
        assert reader.returncode == 2 and "Connection refused" in reader.stderr
    finally:
        postgres.start()
    assert count(url) == 1


def test_postgresql_down_during_the_commit_leaves_the_previous_snapshot(postgres, team, tmp_path):
    url, seeds, data = team
    assert newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data)).returncode == 0
    add_new_articles(seeds)
    marker = tmp_path / "in-load"
    run = paused_run(seeds, url, marker, seconds=3, extra=("--data-path", str(data)))
    try:
        wait_for(marker, run, "its load transaction")
        postgres.kill()  # the catalog's server dies with the run's transaction open
        out, _ = run.communicate(timeout=180)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        postgres.start()
    assert run.returncode == 1, out.decode()[-3000:]
    assert "FAILED" in out.decode()
    assert count(url) == 1  # the previous snapshot, whole
    again = newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data))
    assert again.returncode == 0, again.stderr[-3000:]
    assert count(url) == 1 + len(NEW_ARTICLES)


def test_a_missing_catalog_database_is_never_made_anew_over_existing_data(postgres, team):
    """A dropped (or mistyped) catalog database while the data path holds a lake's files: a new
    empty lake there would orphan them, and the upkeep deletes orphans. Refused instead."""
    url, seeds, data = team
    assert newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data)).returncode == 0
    files = sorted(data.rglob("*.parquet"))
    dbname = url.rsplit("/", 1)[1]
    postgres.psql(f"DROP DATABASE {dbname}")
    postgres.psql(f"CREATE DATABASE {dbname}")  # there, but empty
    again = newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data))
    assert again.returncode == 1 and "holds Parquet files" in again.stderr
    assert sorted(data.rglob("*.parquet")) == files  # nothing deleted


HOLD = """
import sys, time
from warehouse.connection import Location
from warehouse.runlock import catalog_lock
with catalog_lock(Location(sys.argv[1], sys.argv[2]), "run-on-machine-b", "2026-12-07T00:00:00", 10):
    print("held", flush=True)
    time.sleep(600)
"""


def test_runs_on_two_machines_exclude_each_other_through_the_catalog(postgres, team, tmp_path):
    """Another machine's run holds the catalog (its lock file, on its own disk, is not ours):
    a run here waits --wait seconds and names it; once that run's process dies (SIGKILL: its
    connection drops), the next run goes ahead."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    url, seeds, data = team
    elsewhere = tmp_path / "machine-b" / "lake"  # the same share, mounted elsewhere there
    holder = subprocess.Popen([sys.executable, "-c", HOLD, url, str(elsewhere)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        blocked = newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data), "--wait", "2")
        assert blocked.returncode == 1
        assert "is being loaded by run run-on-machine-b" in blocked.stderr and "waited 2 s" in blocked.stderr
        assert f"pid {holder.pid}, from 127.0.0.1 since " in blocked.stderr
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(30)
    done = newsetl("run", "--seeds", str(seeds), "--db", url, "--data-path", str(data), "--wait", "30")
    assert done.returncode == 0, done.stderr[-3000:]
    assert count(url) == 1
