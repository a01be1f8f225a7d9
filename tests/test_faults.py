"""Faults on real processes: a run killed while loading, a second run and a reader meanwhile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, copy_seed, counts

pytestmark = pytest.mark.integration
NEWSETL = Path(sys.executable).parent / "newsetl"


def newsetl(*args, env=None, timeout=180):
    return subprocess.run([str(NEWSETL), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_sigkill_while_loading_leaves_the_warehouse_as_it_was(tmp_path):
    seeds = tmp_path / "seeds"
    copy_seed(seeds)
    db = tmp_path / "news.duckdb"
    assert newsetl("run", "--seeds", str(seeds), "--db", str(db)).returncode == 0
    before = counts(db)

    (seeds / "new.txt").write_text('Zoo news\n\nLONDON - "The penguins are thriving," said Ann Keeper.')
    marker = tmp_path / "in-load"
    env = {**os.environ, "NEWSETL_FAULT_PAUSE_BEFORE_COMMIT": "120", "NEWSETL_FAULT_MARKER": str(marker)}
    victim = subprocess.Popen([str(NEWSETL), "run", "--seeds", str(seeds), "--db", str(db)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while not marker.exists():
            assert victim.poll() is None, victim.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the run never reached the load step"
            time.sleep(0.2)

        # Meanwhile: a second run waits its bounded time and names the run holding the warehouse...
        second = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--wait", "1")
        assert second.returncode == 1
        assert "is being loaded by run" in second.stderr and f"pid {victim.pid}" in second.stderr
        # ...and a reader retries briefly, then says why it cannot read.
        reader = newsetl("sql", "--db", str(db), "--wait", "1", "SELECT 1")
        assert reader.returncode == 2 and "is in use by process" in reader.stderr
        assert "is being loaded by run" in reader.stderr

        os.killpg(victim.pid, signal.SIGKILL)  # the run and its Prefect server, mid-transaction
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)

    assert counts(db) == before  # nothing of the killed load is visible
    left = list(db.parent.glob(f".{db.name}.staging-*"))
    assert left, "the killed run's staged batches are still on disk"
    after = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    assert after.returncode == 0, after.stderr[-2000:]
    assert list(db.parent.glob(f".{db.name}.staging-*")) == []  # the next run cleared them
    con = duckdb.connect(str(db), read_only=True)
    try:
        statuses = [r[0] for r in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
        # the refused second run never got the warehouse, so it has no row of its own
        assert statuses == ["completed", "running", "completed"]
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == before["articles"] + 1
        killed = con.execute("SELECT finished_at FROM runs WHERE status = 'running'").fetchall()
        assert killed == [(None,)]  # the killed run shows as never finished
    finally:
        con.close()
