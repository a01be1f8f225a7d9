"""The real PostgreSQL server of the tests (tests/pgserver.py) holds a DuckLake catalog.

A lake is written through one connection and read back by a separate Python process that knows
only the catalog's URL; a stopped (or killed) server makes ATTACH fail at once with a connection
error, and the restarted server serves the same data again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.pgserver import PostgresNotInstalled, PostgresServer, find_bindir, start_for_pytest

ROOT = Path(__file__).resolve().parent.parent

#: Run in a separate process: attach the lake from the URL alone (the data path comes from the
#: catalog) and print what it holds as JSON.
READER = textwrap.dedent("""
    import json, sys
    import duckdb
    from warehouse.extensions import load, offline_settings

    url = sys.argv[1]
    con = duckdb.connect()
    for s in offline_settings():
        con.execute(s)
    load(con, "ducklake", "postgres_scanner")
    con.execute(f"ATTACH 'ducklake:postgres:{url}' AS lake (READ_ONLY)")
    rows, total = con.execute("SELECT count(*), sum(v) FROM lake.t").fetchone()
    words = [w for (w,) in con.execute("SELECT w FROM lake.small ORDER BY w").fetchall()]
    data_path = con.execute("SELECT data_path FROM ducklake_settings('lake')").fetchone()[0]
    print(json.dumps({"rows": rows, "total": total, "words": words, "data_path": data_path}))
""")

ROWS = 5000  # more than DuckLake inlines into the catalog (10), so table t is in Parquet files
EXPECTED = {"rows": ROWS, "total": ROWS * (ROWS - 1) // 2, "words": ["a", "b", "c"]}


def lake(url: str, data_path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A new DuckDB connection with the DuckLake catalog at ``url`` attached as ``lake``."""
    from warehouse.extensions import load, offline_settings

    con = duckdb.connect()
    for s in offline_settings():
        con.execute(s)
    load(con, "ducklake", "postgres_scanner")
    options = f" (DATA_PATH '{data_path}/')" if data_path else ""
    con.execute(f"ATTACH 'ducklake:postgres:{url}' AS lake{options}")
    return con


def write_lake(url: str, data_path: Path) -> None:
    con = lake(url, data_path)
    try:
        con.execute("BEGIN")
        con.execute(f"CREATE TABLE lake.t AS SELECT range AS v FROM range({ROWS})")
        con.execute("CREATE TABLE lake.small (w VARCHAR)")
        con.execute("INSERT INTO lake.small VALUES ('b'), ('a'), ('c')")  # inlined in the catalog
        con.execute("COMMIT")
    finally:
        con.close()


def read_elsewhere(url: str) -> dict:
    """What a separate Python process reads from the lake, given only its URL."""
    result = subprocess.run([sys.executable, "-c", READER, url], capture_output=True, text=True, timeout=120,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_ducklake_catalog_on_postgres_is_read_by_another_process(postgres, tmp_path):
    url = postgres.create_database("lake_shared")
    assert url == f"postgresql://postgres@127.0.0.1:{postgres.port}/lake_shared"
    write_lake(url, tmp_path / "data")

    got = read_elsewhere(url)
    assert {k: got[k] for k in EXPECTED} == EXPECTED
    assert got["data_path"].rstrip("/") == str(tmp_path / "data")
    assert list((tmp_path / "data").rglob("*.parquet")), "table t should be in Parquet files"
    # The catalog is PostgreSQL's: DuckLake's tables are in that database.
    tables = postgres.psql("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ducklake_%'", "lake_shared")
    assert int(tables) > 10


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_stopped_server_fails_attach_fast_and_serves_again_after_start(postgres, tmp_path, how):
    url = postgres.create_database(f"lake_{how}")
    write_lake(url, tmp_path / "data")
    try:
        getattr(postgres, how)()
        assert not postgres.running
        t0 = time.monotonic()
        with pytest.raises(duckdb.Error) as failed:
            lake(url)
        assert time.monotonic() - t0 < 5, "ATTACH should fail at once when nothing listens"
        message = str(failed.value)
        assert "connect" in message.lower() and str(postgres.port) in message, message
    finally:
        postgres.start()  # the session's server must run again for the tests after this one
    assert postgres.running
    got = read_elsewhere(url)
    assert {k: got[k] for k in EXPECTED} == EXPECTED


def test_server_listens_on_loopback_only_and_leaves_nothing_behind():
    with PostgresServer("solo") as pg:
        root, port = pg.root, pg.port
        assert pg.url() == f"postgresql://postgres@127.0.0.1:{port}/solo"
        assert pg.psql("SHOW listen_addresses").strip() == "127.0.0.1"
        assert pg.psql("SELECT current_user").strip() == "postgres"
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert not root.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_killed_test_process_leaves_no_server_behind():
    """The watchdog stops the server and deletes its folder when its process dies unannounced."""
    code = ("import time; from tests.pgserver import PostgresServer; pg = PostgresServer().start(); "
            "print(pg.root, pg.port, flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        root, port = proc.stdout.readline().split()
        assert Path(root).exists()
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 20
    while Path(root).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(root).exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(port)), timeout=5).close()


def test_missing_postgresql_says_what_to_install(tmp_path, monkeypatch):
    with pytest.raises(PostgresNotInstalled, match="apt-get install postgresql"):
        find_bindir(lib_root=tmp_path, path=str(tmp_path))
    # The fixture's behaviour: a skip on a developer's machine, a failure in CI.
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        start_for_pytest(bindir=tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide PostgreSQL"):
        start_for_pytest(bindir=tmp_path)
