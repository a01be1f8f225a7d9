"""What the command line says when something is wrong: one clear line, a non-zero exit, and
nothing started or created for nothing. Each test here once met a raw traceback, a Prefect
server started for nothing, or files left behind (real processes, real files, real locks)."""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_seed

pytestmark = pytest.mark.integration
NEWSETL = Path(sys.executable).parent / "newsetl"


def environment(**changes: str) -> dict[str, str]:
    """The process environment with ``changes``, the transforms run from source: these tests
    read stderr line by line, where a stale native build would add its warning."""
    return {**os.environ, "NEWSETL_PURE_PYTHON": "1", **changes}


def newsetl(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 300):
    return subprocess.run([str(NEWSETL), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env or environment())


def without_prefect_api() -> dict[str, str]:
    """The environment, without a Prefect API: `newsetl run` starts its temporary server."""
    return {k: v for k, v in environment().items() if k != "PREFECT_API_URL"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A warehouse outside the default place, loaded by one real run: (catalog, that run)."""
    root = tmp_path_factory.mktemp("errors")
    copy_seed(root / "seeds")
    db = root / "elsewhere" / "news.ducklake"
    proc = newsetl("run", "--seeds", str(root / "seeds"), "--db", str(db), env=without_prefect_api())
    assert proc.returncode == 0, proc.stderr[-2000:]
    return db, proc


# 1. a mistyped seeds folder


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_a_mistyped_seeds_folder_is_one_line_before_anything_starts(tmp_path, kind):
    """It took ~9 s, started Prefect's server, logged two tracebacks and made an empty lake
    before it said `SeedsNotFound`."""
    seeds = tmp_path / "no-such-folder"
    if kind == "a file":
        seeds = tmp_path / "article.txt"
        seeds.write_text("not a folder", encoding="utf-8")
    db = tmp_path / "nw" / "x.ducklake"
    proc = newsetl("run", "--seeds", str(seeds), "--db", str(db), env=without_prefect_api())
    assert proc.returncode == 2, proc.stderr
    said = "folder {} does not exist" if kind == "missing" else "path {} is not a folder"
    assert proc.stderr.strip().splitlines() == [f"newsetl run: seeds {said.format(seeds)}"], proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "nw").exists()  # no catalog, no .files, no .gx, no lock file


# 2. a warehouse held by another run


def hold_lock(db: Path, run_id: str):
    """The warehouse's run lock, held here with the real lock API (as a run holds it)."""
    from warehouse.connection import Location
    from warehouse.runlock import warehouse_lock

    return warehouse_lock(Location(str(db)), run_id, "2026-12-07T00:00:00", 0)


def test_a_run_kept_waiting_names_the_holder_without_starting_prefect(tmp_path):
    """It started Prefect, then wrote a ~40-line ERROR traceback before the summary."""
    seeds, db = tmp_path / "seeds", tmp_path / "w" / "news.ducklake"
    copy_seed(seeds)
    with hold_lock(db, "holder-run-1"):
        t0 = time.monotonic()
        proc = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--wait", "1", env=without_prefect_api())
        took = time.monotonic() - t0
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr
    assert "temporary API server" not in proc.stderr  # nothing started for a run that cannot go
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsetl run: the warehouse "), proc.stderr
    assert "run holder-run-1 (pid" in lines[0] and "waited 1 s" in lines[0]
    assert took < 30  # no Prefect server boot


def test_a_run_that_finds_the_warehouse_taken_once_prefect_started_prints_no_traceback(tmp_path):
    """The same lock taken between the command line's look and the flow's own: the flow's
    failure is said in its summary, without Prefect's traceback of it."""
    seeds, db = tmp_path / "seeds", tmp_path / "w" / "news.ducklake"
    copy_seed(seeds)
    proc = subprocess.Popen([str(NEWSETL), "run", "--seeds", str(seeds), "--db", str(db), "--wait", "1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=without_prefect_api())
    try:
        assert proc.stderr is not None
        seen = []  # until the server is launched: by then the command line has looked at the lock
        while not seen or "temporary API server" not in seen[-1]:
            line = proc.stderr.readline()
            assert line, "".join(seen)
            seen.append(line)
        with hold_lock(db, "holder-run-2"):
            _, rest = proc.communicate(timeout=300)
        err = "".join(seen) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err
    assert "FAILED" in err and "run holder-run-2 (pid" in err


def test_a_run_failed_by_a_bug_keeps_prefect_s_traceback():
    """Only failures newsetl words for the user lose Prefect's traceback; a bug keeps it, or
    nobody could tell where it happened."""
    import logging

    from flows.cli import _quiet_explained_failures
    from flows.runbook import RunFailed, RunSummary
    from flows.settings import RunSettings
    from warehouse.connection import WarehouseLocked

    logger = logging.getLogger("prefect.flow_runs")
    before = list(logger.filters)
    _quiet_explained_failures()
    _quiet_explained_failures()  # once per process, however often a run starts in it
    added = [f for f in logger.filters if f not in before]
    try:
        assert len(added) == 1
        kept = {}
        for cause in (WarehouseLocked("held by run r"), TypeError("a bug")):
            summary = RunSummary.begin(RunSettings(), None)
            summary.fail(str(cause))
            try:
                raise RunFailed(summary) from cause
            except RunFailed:
                record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, "Encountered", (), sys.exc_info())
            added[0].filter(record)
            kept[type(cause).__name__] = record.exc_info is not None
        assert kept == {"WarehouseLocked": False, "TypeError": True}
    finally:
        for f in added:
            logger.removeFilter(f)


# 3. serve against a Prefect API that is not there


def test_serve_against_an_unreachable_prefect_api_says_so_before_serving(tmp_path):
    """It printed "serving deployment ..." and then a 98-line httpx.ConnectError traceback."""
    url = f"http://127.0.0.1:{closed_port()}/api"
    proc = newsetl("serve", "--seeds", str(tmp_path), "--db", str(tmp_path / "w.ducklake"),
                   env=environment(PREFECT_API_URL=url), timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "serving" not in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith(f"newsetl serve: cannot reach the Prefect API at {url}"), proc.stderr
    assert "make server" in proc.stderr


def test_serve_of_a_seeds_folder_that_is_not_there_is_refused_first(tmp_path):
    """Every scheduled run would have failed on it, one an hour."""
    url = f"http://127.0.0.1:{closed_port()}/api"
    proc = newsetl("serve", "--seeds", str(tmp_path / "nowhere"), "--db", str(tmp_path / "w.ducklake"),
                   env=environment(PREFECT_API_URL=url), timeout=120)
    assert proc.returncode == 2 and "serving" not in proc.stdout
    assert proc.stderr.strip() == f"newsetl serve: seeds folder {tmp_path / 'nowhere'} does not exist"


def test_the_summary_of_a_run_that_wrote_no_report_points_at_none(tmp_path):
    import io

    from flows.cli import _print_summary
    from flows.runbook import RunSummary
    from flows.settings import RunSettings

    s = RunSummary.begin(RunSettings(str(tmp_path), str(tmp_path / "w.ducklake")))
    s.report_path = str(tmp_path / "w.gx" / "index.html")  # where it would be: never written
    s.fail("cannot open the warehouse")
    out = io.StringIO()
    _print_summary(s, out)
    assert "report:" not in out.getvalue()


# 4. report --serve on a bad or busy port


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_report_port_out_of_range_is_an_argument_error(tmp_path, port):
    """--port 99999 gave a raw OverflowError."""
    proc = newsetl("report", "--serve", "--port", port, "--db", str(tmp_path / "w.ducklake"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "argument --port" in proc.stderr, proc.stderr


def test_report_on_a_port_in_use_is_one_line(loaded):
    """It gave a raw `OSError: [Errno 98] Address already in use` traceback."""
    db, _ = loaded
    with contextlib.closing(socket.socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = newsetl("report", "--serve", "--port", str(port), "--db", str(db), timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"newsetl report: cannot serve the report on 127.0.0.1:{port}: Address already in use "
        "(another --port, or --port 0 for any free one)"], proc.stderr


# 5. upkeep commands on a warehouse that is not there


@pytest.mark.parametrize("command", [["compact"], ["rollback", "some-run"]])
def test_upkeep_of_a_missing_warehouse_creates_nothing(tmp_path, command):
    """They said "no warehouse" but had made its folder and its lock file."""
    db = tmp_path / "nw" / "x.ducklake"
    proc = newsetl(*command, "--db", str(db), "--wait", "0")
    assert proc.returncode == 1 and "no warehouse at" in proc.stderr, proc.stderr
    assert not (tmp_path / "nw").exists()


# 6. the report hint of the run summary


def test_the_summary_s_report_hint_names_a_warehouse_elsewhere(loaded, tmp_path):
    """It said `(newsetl report --open)`, which from another folder shows the default
    warehouse's report; the hint as printed finds this one from anywhere."""
    db, proc = loaded
    report = db.parent / "news.gx" / "index.html"
    assert f"  report:     {report}  (newsetl report --open --db {db})" in proc.stdout, proc.stdout
    hint = proc.stdout.split("(newsetl report --open ", 1)[1].split(")", 1)[0]
    shown = newsetl("report", *shlex.split(hint), cwd=tmp_path)  # without --open: prints the path
    assert shown.returncode == 0 and shown.stdout.strip() == str(report), shown.stderr


def test_the_summary_of_the_default_warehouse_reads_as_the_readme_shows():
    """The README's sample summary (the default warehouse) stays true: no --db in the hints."""
    import io

    from flows.cli import _print_summary
    from flows.runbook import RunSummary
    from flows.settings import RunSettings

    s = RunSummary.begin(RunSettings(), None)
    s.status, s.report_path = "completed", "/x/warehouse/news.gx/index.html"
    out = io.StringIO()
    _print_summary(s, out)
    assert "  report:     /x/warehouse/news.gx/index.html  (newsetl report --open)\n" in out.getvalue()
    assert '  try:        newsetl sql "SELECT speaker' in out.getvalue()


def test_the_summary_and_its_json_name_a_postgresql_catalog_without_its_password(tmp_path):
    """The hints already left the password out; the 'warehouse:' line and --summary-json, a file
    scripts pass around, printed the URL as given."""
    import io
    import json

    from flows.cli import _print_summary, _write_summary_json
    from flows.runbook import RunSummary
    from flows.settings import RunSettings

    url = "postgresql://etl:s3cret@db.example:5432/news"
    s = RunSummary.begin(RunSettings(str(tmp_path), url, data_path=str(tmp_path / "files")))
    s.fail("cannot reach the catalog")
    out = io.StringIO()
    _print_summary(s, out)
    _write_summary_json(s, str(tmp_path / "s.json"))
    written = (tmp_path / "s.json").read_text(encoding="utf-8")
    assert "s3cret" not in out.getvalue() and "s3cret" not in written
    assert "postgresql://etl@db.example:5432/news" in out.getvalue()
    assert json.loads(written)["db_path"] == "postgresql://etl@db.example:5432/news"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://etl:s3cret@db:5432/news?sslmode=require", "postgresql://etl@db:5432/news?sslmode=require"),
    ("postgresql://etl@db/news?password=s3cret&sslmode=require", "postgresql://etl@db/news?sslmode=require"),
    ("postgresql:///news?host=/var/run/postgresql", "postgresql:///news?host=/var/run/postgresql"),
    ("postgresql://etl:s3cret@[::1]:5432/news", "postgresql://etl@[::1]:5432/news"),
    ("postgresql://etl:s3cret@h1:5432,h2:5433/news", "postgresql://etl@h1:5432,h2:5433/news"),
])
def test_a_catalog_url_is_shown_as_given_but_for_its_password(url, shown):
    """It was rebuilt from its parts: a socket URL showed host None, IPv6 lost its brackets, the
    query went, a multi-host URL raised ValueError."""
    from warehouse.connection import Location

    assert Location(url).describe() == shown


def test_a_mistyped_seeds_folder_leaves_a_failed_summary_json_not_the_last_run_s(tmp_path):
    import json

    summary = tmp_path / "s.json"
    summary.write_text('{"status": "completed", "run_id": "OLD"}')
    proc = newsetl("run", "--seeds", str(tmp_path / "nope"), "--db", str(tmp_path / "w.ducklake"),
                   "--summary-json", str(summary))
    assert proc.returncode == 2
    written = json.loads(summary.read_text())
    assert written["status"] == "failed" and "does not exist" in written["error"] and written["run_id"] != "OLD"
