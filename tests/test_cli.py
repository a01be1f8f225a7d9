"""The newsetl command line as a user runs it: real processes, real files."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_seed

pytestmark = pytest.mark.integration
NEWSETL = Path(sys.executable).parent / "newsetl"


def newsetl(*args, cwd=ROOT, timeout=300):
    return subprocess.run([str(NEWSETL), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def cli_warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    seeds = root / "seeds"
    copy_seed(seeds)
    (seeds / "broken.txt").write_bytes(b"\x00\x01\x02 binary")
    db = root / "news.duckdb"
    proc = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    return db, proc


def test_run_prints_summary(cli_warehouse):
    _, proc = cli_warehouse
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "COMPLETED" in out
    assert "2 seen, 1 loaded (1 new, 0 changed), 0 unchanged, 0 gone (rows kept), 1 rejected" in out
    assert "broken.txt: binary" in out
    assert "data quality: PASSED" in out
    assert "report:" in out and "index.html" in out
    assert "newsetl sql" in out
    assert "rows:       articles 1, mentions" in out
    # One temporary API server per run: the one newsetl launched before importing Prefect is
    # the one the flow used (Prefect did not start its own), and it is gone once the run ends.
    assert proc.stderr.count("Prefect's temporary API server on http://127.0.0.1:") == 1
    assert "Starting temporary server" not in proc.stderr
    port = int(re.search(r"temporary API server on http://127\.0\.0\.1:(\d+)/api", proc.stderr).group(1))
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_no_temporary_server_when_the_environment_names_one(monkeypatch):
    from flows.runtime import TemporaryServer

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert TemporaryServer.launch() is None


def test_temporary_server_stopped_when_prefect_settings_name_one(monkeypatch):
    """A server named in Prefect's own settings (a profile, prefect.toml) wins over ours."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.runtime import TemporaryServer

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    server = TemporaryServer.launch()
    assert server is not None and server.process is not None
    process = server.process
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        assert server.adopt() is None
    assert process.poll() is not None and server.process is None
    assert "PREFECT_API_URL" not in os.environ


def test_temporary_server_is_the_one_prefect_would_start(monkeypatch):
    """newsetl launches Prefect's temporary server itself (before importing Prefect): the same
    command and environment as Prefect's own, so a Prefect upgrade that changes them fails here."""
    from prefect.server.api import server as prefect_server

    from flows.runtime import SERVER_ENV, server_command

    seen = {}

    def fake_popen(args, env, **kwargs):
        seen.update(args=args, env=env)
        return None

    monkeypatch.setattr(prefect_server.subprocess, "Popen", fake_popen)
    prefect_server.SubprocessASGIServer(port=4321)._run_uvicorn_command()
    assert seen["args"] == server_command(4321)
    assert {k: seen["env"][k] for k in SERVER_ENV} == SERVER_ENV


def test_the_services_the_temporary_server_leaves_off_are_prefect_s_settings(monkeypatch):
    """Each name in IDLE_SERVICES_OFF switches a service of Prefect's server off (a renamed
    setting would be ignored without a word, and the server would poll again)."""
    from prefect.settings import Settings

    from flows.runtime import IDLE_SERVICES_OFF

    before = Settings().server.services
    assert before.event_persister.enabled and before.triggers.enabled
    for key, value in IDLE_SERVICES_OFF.items():
        monkeypatch.setenv(key, value)
    s = Settings().server.services
    assert not (s.event_persister.enabled or s.event_logger.enabled or s.triggers.enabled or s.db_vacuum.enabled)
    assert s.task_run_recorder.enabled  # task runs are still recorded


def test_sql_prints_a_table(cli_warehouse):
    db, _ = cli_warehouse
    proc = newsetl("sql", "--db", str(db), "SELECT speaker, count(*) AS n FROM quotes GROUP BY ALL ORDER BY n DESC")
    assert proc.returncode == 0, proc.stderr
    assert "John Kirby" in proc.stdout and "speaker" in proc.stdout


def test_sql_error_is_clear(cli_warehouse):
    db, _ = cli_warehouse
    proc = newsetl("sql", "--db", str(db), "SELECT nope FROM quotes")
    assert proc.returncode == 1 and "nope" in proc.stderr


def test_sql_on_missing_warehouse(tmp_path):
    proc = newsetl("sql", "--db", str(tmp_path / "none.duckdb"), "SELECT 1")
    assert proc.returncode == 2 and "run `newsetl run" in proc.stderr


def test_report_prints_stable_path(cli_warehouse):
    db, proc = cli_warehouse
    rep = newsetl("report", "--db", str(db))
    assert rep.returncode == 0
    path = Path(rep.stdout.strip())
    assert path.exists() and path.name == "index.html"
    assert str(path) in proc.stdout


def test_run_on_missing_folder_fails_with_message(tmp_path):
    """Said before anything starts (tests/test_cli_errors.py); the flow's own check of it is
    tests/test_flow_integration.py's."""
    proc = newsetl("run", "--seeds", str(tmp_path / "missing"), "--db", str(tmp_path / "w.duckdb"))
    assert proc.returncode == 2
    assert f"seeds folder {tmp_path / 'missing'} does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_sql_path_imports_neither_prefect_nor_gx(cli_warehouse):
    db, _ = cli_warehouse
    code = (f"import sys; from flows.cli import main; rc = main(['sql', '--db', {str(db)!r}, 'SELECT 1']); "
            "assert rc == 0; bad = [m for m in ('prefect', 'great_expectations') if m in sys.modules]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_temporary_server_dies_with_a_killed_run(tmp_path):
    """SIGKILL (or the OOM killer) runs no atexit handler: the kernel stops the server instead."""
    script = ("import os, signal; from flows.runtime import TemporaryServer; s = TemporaryServer.launch(); "
              "print(s.process.pid, flush=True); s.wait(120); print('up', flush=True); "
              "os.kill(os.getpid(), signal.SIGKILL)")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    out = tmp_path / "out.txt"
    with out.open("w") as f:  # a file, not a pipe: a server left running would hold a pipe open
        code = subprocess.run([sys.executable, "-c", script], cwd=ROOT, stdout=f, stderr=subprocess.DEVNULL,
                              timeout=180, env=env).returncode
    pid, up = out.read_text().split()[:2]
    assert up == "up" and code == -9
    for _ in range(100):
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(int(pid), 9)
    raise AssertionError("the temporary server outlived the killed run")


def test_a_run_with_nothing_to_do_is_recorded_without_starting_prefect(tmp_path):
    """The usual scheduled run finds every file as loaded: it is recorded in the warehouse
    without Prefect's server, its imports or GX (flows/preflight.py); anything to do (a new
    file, a file to reject) runs the flow."""
    from tests.conftest import query

    seeds, db = tmp_path / "seeds", tmp_path / "news.ducklake"
    copy_seed(seeds)
    assert newsetl("run", "--seeds", str(seeds), "--db", str(db)).returncode == 0
    code = (f"import sys; from flows.cli import main; rc = main(['run', '--seeds', {str(seeds)!r}, '--db', "
            f"{str(db)!r}]); bad = [m for m in ('prefect', 'great_expectations') if m in sys.modules]; "
            "sys.exit(rc or (3 if bad else 0))")
    idle = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert idle.returncode == 0, idle.stdout + idle.stderr  # 3: Prefect or GX was imported
    assert "nothing new or changed" in idle.stdout and "recorded without a flow run" in idle.stdout
    assert "temporary API server" not in idle.stderr
    (seeds / "broken.txt").write_bytes(b"\x00\x01 binary")  # a file to reject: the flow records it
    flowed = newsetl("run", "--seeds", str(seeds), "--db", str(db))
    assert flowed.returncode == 0 and "broken.txt: binary" in flowed.stdout
    assert "recorded without a flow run" not in flowed.stdout
    runs = query(db, "SELECT status, flow_run_id IS NULL OR flow_run_id = '', files_skipped, dq_success "
                     "FROM runs ORDER BY started_at")
    assert runs == [("completed", False, 0, True), ("completed", True, 1, None), ("completed", False, 1, None)]


def test_odd_arguments_and_closed_or_broken_output_get_a_clear_answer(cli_warehouse, tmp_path):
    """Each gave a raw traceback, waited forever (--wait nan) or overwrote nothing useful."""
    db, _ = cli_warehouse
    for args, message in ((["history", "--limit", "-1"], "out of range"),
                          (["compact", "--wait", "nan"], "not a number of seconds"),
                          (["sql", "--max-rows", "0", "SELECT 1"], "out of range"),
                          (["run", "--workers", "0"], "out of range")):
        out = newsetl(*args, "--db", str(db))
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, args
    folder = newsetl("history", "--db", str(tmp_path))
    assert folder.returncode != 0 and "is a folder, not a warehouse catalog" in folder.stderr
    nodir = newsetl("run", "--db", str(db), "--summary-json", str(tmp_path / "no" / "s.json"))
    assert nodir.returncode == 2 and "its folder does not exist" in nodir.stderr
    piped = subprocess.run(f"{NEWSETL} sql --db {db} --format csv 'SELECT * FROM range(100000)' | head -1",
                           shell=True, capture_output=True, text=True, cwd=ROOT)
    assert piped.stdout == "range\n" and "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr
    closed = subprocess.run(f"{NEWSETL} sql --db {db} 'SELECT 1' >&-", shell=True, capture_output=True, text=True,
                            cwd=ROOT)
    assert closed.returncode == 0 and "Traceback" not in closed.stderr
