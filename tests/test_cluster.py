"""The flow's batches on a real Dask cluster (``newsetl run --cluster``), on loopback.

A scheduler and two workers are started from ``.venv`` as ``make worker`` starts them
(tests/daskcluster.py). Every table of a cluster run must equal a run on this machine's pool,
row for row, both workers must have done batches, and killing a worker in the middle of a batch
must change nothing but the time it takes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import NEWSETL, ROOT, SHARED, newsetl, query
from tests.daskcluster import DaskCluster
from tests.golden import KEYS, digest
from tests.pgserver import free_port
from tests.test_schedule import serve_once

BBC = SHARED / "corpus" / "bbc"
#: Small batches, so a few hundred articles make enough of them for two workers.
SMALL = ("--chunk-size", "10", "--batch-size", "20")
COMPARED = ("articles", "mentions", "entities", "quotes", "rejected_files", "quarantine")

pytestmark = pytest.mark.skipif(not BBC.is_dir(), reason="needs ../shared/corpus/bbc")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """240 BBC articles, a copy of one of them in a file that sorts into a later batch (a
    duplicate only the flow can see across batches), and a file that is not text."""
    folder = tmp_path_factory.mktemp("cluster-seeds")
    files = sorted(BBC.rglob("*.txt"))[:240]
    for f in files:
        (folder / f"{f.parent.name}-{f.name}").write_bytes(f.read_bytes())
    (folder / "zz-copy-of-the-first.txt").write_bytes(files[0].read_bytes())
    (folder / "sport-broken.txt").write_bytes(b"\x00\x01\x02 not an article \xff\xfe" * 40)
    return folder


@pytest.fixture(scope="module")
def local_run(seeds, tmp_path_factory) -> dict:
    """The same files through the flow on this machine's own pool: what a cluster run must equal."""
    db = tmp_path_factory.mktemp("local") / "w.ducklake"
    out = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "2", *SMALL,
                  "--summary-json", str(db.with_suffix(".json")), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return {"db": db, "tables": fingerprint(db, seeds), "summary": json.loads(db.with_suffix(".json").read_text())}


def fingerprint(db: Path, seeds: Path) -> dict[str, str]:
    """Per table, its row count and a SHA-256 over its rows in key order (run ids, times and
    the seeds folder left out)."""
    from warehouse.connection import connect

    con = connect(db, read_only=True)
    try:
        return {t: digest(con.execute(f"SELECT * FROM {t}").pl(), KEYS[t], str(seeds) + "/") for t in COMPARED}
    finally:
        con.close()


def run_on(cluster: str, seeds: Path, db: Path, timeout: float = 900) -> tuple[subprocess.CompletedProcess, dict]:
    out = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--cluster", cluster, *SMALL,
                  "--summary-json", str(db.with_suffix(".json")), timeout=timeout)
    summary = json.loads(db.with_suffix(".json").read_text()) if db.with_suffix(".json").exists() else {}
    return out, summary


def test_a_cluster_run_loads_exactly_what_a_local_run_loads_and_both_workers_work(seeds, local_run, tmp_path):
    with DaskCluster(workers=2) as cluster:
        out, summary = run_on(cluster.address, seeds, tmp_path / "w.ducklake")
        names = cluster.workers()
    assert out.returncode == 0, out.stderr[-3000:]
    assert fingerprint(tmp_path / "w.ducklake", seeds) == local_run["tables"]
    assert summary["cluster"] == cluster.address
    batches = summary["batches"]
    assert len(batches) == len(local_run["summary"]["batches"]) > 10
    assert {b["worker"] for b in batches} == set(names.values())  # both workers did batches
    assert all(b["cpu_seconds"] > 0 and b["wall_seconds"] > 0 for b in batches)
    assert sum(b["files"] for b in batches) == summary["files_seen"] == 242
    # the copy across batches is rejected as on one machine, naming the first file
    rejected = dict(_rejected(tmp_path / "w.ducklake"))
    assert rejected["zz-copy-of-the-first.txt"][0] == "duplicate_content"
    assert rejected["sport-broken.txt"][0] != "duplicate_content"
    # Data Docs hold each batch's validations, checked on the workers, under the run
    site = tmp_path / "w.gx" / "gx" / "uncommitted" / "validations" / "articles"
    assert len(list(site.rglob("*.json"))) == len(batches)


def _rejected(db: Path) -> list[tuple[str, tuple[str, str]]]:
    return [(Path(p).name, (r, d)) for p, r, d in query(db, "SELECT source_path, reason, detail FROM rejected_files")]


def test_a_worker_killed_in_the_middle_of_a_batch_changes_nothing_but_the_time(seeds, local_run, tmp_path):
    db = tmp_path / "w.ducklake"
    with DaskCluster(workers=2) as cluster:
        victim = cluster.workers()["w1"]
        run = subprocess.Popen([str(NEWSETL), "run", "--seeds", str(seeds), "--db", str(db), "--cluster",
                                cluster.address, *SMALL, "--summary-json", str(db.with_suffix(".json"))],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            with cluster.client() as client:
                deadline = time.monotonic() + 300
                while not client.processing(workers=[victim]).get(victim):
                    assert run.poll() is None, run.communicate()[1][-3000:]
                    assert time.monotonic() < deadline, "no batch ever ran on w1"
                    time.sleep(0.02)
            assert run.poll() is None  # w1 dies with a batch in hand, the run still going
            cluster.kill_worker("w1")
            _, err = run.communicate(timeout=900)
        finally:
            if run.poll() is None:
                run.send_signal(signal.SIGINT)
                run.wait(60)
    assert run.returncode == 0, err[-3000:]
    assert fingerprint(db, seeds) == local_run["tables"]
    summary = json.loads(db.with_suffix(".json").read_text())
    assert len(summary["batches"]) == len(local_run["summary"]["batches"])
    assert summary["files_loaded"] == local_run["summary"]["files_loaded"]


def test_a_scheduler_that_does_not_answer_fails_the_run_before_it_reads_a_file(seeds, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    out, summary = run_on(address, seeds, tmp_path / "w.ducklake", timeout=120)
    assert out.returncode == 1
    assert address in out.stderr and "cannot be reached" in out.stderr
    assert summary["files_seen"] == 0 and summary["status"] == "failed"


def test_a_worker_that_cannot_import_newsetl_is_named(seeds, tmp_path):
    hide = tmp_path / "without_newsetl.py"  # a worker whose environment lacks the project
    hide.write_text("import sys\nsys.modules['flows'] = None\n")
    with DaskCluster(workers=0) as cluster:
        cluster.start_worker("bare", preload=str(hide))
        cluster.wait_for_workers(1)
        address = cluster.workers()["bare"]
        out, summary = run_on(cluster.address, seeds, tmp_path / "w.ducklake", timeout=120)
    assert out.returncode == 1
    assert f"Dask worker {address}" in out.stderr and "cannot run newsetl" in out.stderr
    assert "ModuleNotFoundError" in out.stderr
    assert summary["files_seen"] == 0


def test_cluster_flag_is_checked_before_anything_starts():
    out = newsetl("run", "--cluster", "localhost:8786")
    assert out.returncode == 2 and "tcp://HOST:PORT" in out.stderr
    out = newsetl("run", "--cluster", "local:0")
    assert out.returncode == 2 and "at least one worker" in out.stderr


def test_the_cluster_comes_from_the_environment_when_no_flag_names_one(seeds, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    out = newsetl("run", "--seeds", str(seeds), "--db", str(tmp_path / "w.ducklake"),
                  env={**os.environ, "NEWSETL_CLUSTER": address}, timeout=120)
    assert out.returncode == 1 and address in out.stderr


def test_a_served_deployment_runs_its_batches_on_the_cluster(seeds, local_run, tmp_path, prefect_server):
    """``newsetl serve --cluster``: a scheduled run started from the Prefect server uses the
    workers, and loads what a local run loads."""
    db = tmp_path / "w.ducklake"
    with DaskCluster(workers=2) as cluster:
        dep, final = serve_once(prefect_server, "on-the-cluster", "--seeds", str(seeds), "--db", str(db),
                                "--cluster", cluster.address)
        logs = cluster.log("w1") + cluster.log("w2")  # the workers' own logs: the batches ran there
    assert dep.parameters["cluster"] == cluster.address
    assert final == "COMPLETED"
    assert "Task run 'run' - Finished in state Completed()" in logs  # one batch: the default size
    assert fingerprint(db, seeds) == local_run["tables"]
