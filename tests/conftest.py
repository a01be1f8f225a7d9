"""Shared fixtures: the seed article, the shared data folder, and a warehouse built by the real flow."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = SEEDS / "000_a6cf31c31b9b3c7e.txt"
SHARED = ROOT.parent / "shared"
#: When the loader tests' run "run-1" happens.
RUN_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: What a next run has to load (tests of faults and of the lake): two new files.
NEW_ARTICLES = {
    "zoo.txt": 'Zoo news\n\nLONDON - "The penguins are thriving," said Ann Keeper, the zoo\'s director.',
    "port.txt": 'Port strike\n\nHAMBURG (Reuters) - "We will not unload a single ship," said Jan Berg of the union.',
}


def add_new_articles(seeds: Path) -> None:
    """Write :data:`NEW_ARTICLES` into the seeds folder."""
    for name, text in NEW_ARTICLES.items():
        (seeds / name).write_text(text, encoding="utf-8")


@contextmanager
def chromium(*extra_args: str) -> Iterator:
    """Debian's headless Chromium through Playwright, sent through a proxy that goes nowhere, for
    the pages of a test module; skipped where it is missing (a failure under CI, which installs it)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium for this test")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
            "--proxy-server=127.0.0.1:9", *extra_args])
        yield b
        b.close()


def pytest_configure(config):
    """The test process starts here: it runs the compiled transforms when they match the
    source, as ``newsetl`` does (``transforms.native``), so enable them before any test imports one."""
    from flows.runtime import configure
    from transforms.native import enable

    configure()  # Prefect and GX settings (project-local home, no telemetry) before either is imported
    enable()


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_parsed(seed_text):
    from transforms.parse import parse_article

    return parse_article(seed_text)


@pytest.fixture(scope="session")
def extraction():
    """The extraction context of the tests: lexicons built once, memos shared as in a worker."""
    from transforms.context import build_context

    return build_context()


@pytest.fixture(scope="session")
def seed_entities(seed_parsed, extraction):
    from transforms.resolve import resolve_article

    a = seed_parsed
    return resolve_article({"title": a.title, "standfirst": a.standfirst, "body": a.body}, extraction)


@pytest.fixture(scope="session")
def seed_quotes(seed_parsed, seed_entities):
    from transforms.quotes import extract_quotes

    return extract_quotes(seed_parsed.body, seed_parsed.blocks, seed_entities)


def frames_for(files):
    """The frames run "run-1" extracts from (path, text) pairs."""
    from transforms.frames import RawFile, process_files

    return process_files([RawFile(p, t.encode()) for p, t in files], "run-1", RUN_TIME)


@pytest.fixture
def con(tmp_path):
    """A new warehouse file with run "run-1" started, open for the loader."""
    from transforms.schema import RunRecord
    from warehouse.connection import connect
    from warehouse.loader import record_run_start

    c = connect(tmp_path / "w.duckdb")
    record_run_start(c, RunRecord(run_id="run-1", started_at=RUN_TIME, status="running", seeds_dir="seeds"))
    yield c
    c.close()


def copy_seed(dest: Path, name: str = "seed.txt") -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / name
    shutil.copyfile(SEED, target)
    return target


@pytest.fixture(scope="session", autouse=True)
def _stop_prefect_server_before_capture_closes():
    """Stop Prefect's temporary server while pytest still captures output.

    Prefect stops it from an atexit hook, after pytest closed its capture streams, which
    makes its log handler print a traceback; stopping it here keeps the output clean.
    """
    yield
    import logging
    import sys

    if "prefect.server.api.server" in sys.modules:
        from prefect.logging.handlers import APILogHandler
        from prefect.server.api.server import SubprocessASGIServer

        APILogHandler().flush()  # send queued run logs while the server still listens
        # Its console handler may hold a capture stream pytest already closed: keep it quiet.
        logging.getLogger("prefect").setLevel(logging.WARNING)

        for server in list(SubprocessASGIServer._instances.values()):
            server.stop()


#: The installed command, as a user runs it.
NEWSETL = Path(sys.executable).parent / "newsetl"


def newsetl(*args: str, env: dict | None = None, stdin: str | None = None, timeout: float = 180):
    """One `newsetl` command in its own process, from the project folder."""
    return subprocess.run([str(NEWSETL), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env, input=stdin)


def query(db, sql: str) -> list[tuple]:
    """Rows of a query on a warehouse, opened read-only (its last committed snapshot)."""
    from warehouse.connection import connect

    con = connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def counts(db) -> dict[str, int]:
    """Row counts of the data tables of a warehouse file."""
    return {t: query(db, f"SELECT count(*) FROM {t}")[0][0] for t in ("articles", "mentions", "entities", "quotes")}


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on 127.0.0.1 for the session, with database "news" (tests/pgserver.py).

    Stopped and deleted at the end. Without PostgreSQL installed, its tests are skipped, or fail under CI.
    """
    from tests.pgserver import start_for_pytest

    server = start_for_pytest()
    yield server
    server.close()


#: The project's .venv/bin: its newsetl, prefect and dask commands.
BIN = Path(sys.executable).parent


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session, with its children: TERM, then KILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def prefect_server(tmp_path):
    """A real Prefect server (the one schedules need) on a free loopback port, for one test:
    its URL and the environment that points newsetl at it."""
    from tests.pgserver import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": url,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false"}
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: healthy(url) or server.poll() is not None, 120, "the Prefect server")
        assert server.poll() is None, "the Prefect server exited"
        yield url, env
    finally:
        stop(server)
