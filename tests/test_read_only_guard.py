"""``newsetl sql``, ``search`` and ``shell`` are read-only: they write nothing anywhere and read
no file but the warehouse's own, whatever SQL a hostile user gives them. Real processes on a
warehouse built by the real flow; every hostile statement here succeeded before the guard."""

from __future__ import annotations

import csv
import json
import os
import sqlite3

import duckdb
import pytest

from tests.conftest import copy_seed, counts, newsetl

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """A warehouse of one article, and a folder beside it for the files a hostile query aims at."""
    root = tmp_path_factory.mktemp("guard")
    copy_seed(root / "seeds")
    db = root / "news.ducklake"
    proc = newsetl("run", "--seeds", str(root / "seeds"), "--db", str(db))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return db


@pytest.fixture
def target(tmp_path):
    return tmp_path


def _state(db) -> dict:
    """The warehouse's files (name, size, mtime) and row counts: what no reader may change."""
    files = {str(p): (p.stat().st_size, p.stat().st_mtime_ns)
             for p in db.parent.rglob("*") if p.is_file() and ".gx" not in p.parts and p.suffix != ".lock"
             and not p.name.endswith(("-shm", "-wal"))}
    return {"files": files, "counts": counts(db)}


def sql(db, query: str, *args: str):
    return newsetl("sql", "--db", str(db), *args, query)


# Each: the statement, what it must not leave in the target folder, the error it gives.
HOSTILE = [
    ("COPY (SELECT 1 AS a) TO '{t}/x.csv'", "x.csv", "COPY is refused"),
    ("COPY (SELECT 1 AS a) TO '{t}/x.csv' (FORMAT csv, USE_TMP_FILE false)", "x.csv", "COPY is refused"),
    ("EXPORT DATABASE '{t}/d'", "d", "EXPORT DATABASE is refused"),
    ("SET profiling_output = '{t}/p.json'; SET enable_profiling = 'json'; SELECT 1", "p.json", "locked"),
    ("SET log_query_path = '{t}/q.log'; SELECT 1", "q.log", "locked"),
    ("PRAGMA log_query_path = '{t}/q.log'", "q.log", "locked"),
    ("CALL enable_logging(storage => 'file', storage_path => '{t}/logs')", "logs", "enable_logging() is refused"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{t}/x.csv'", "x.csv", "EXPLAIN of COPY is refused"),
    ("ATTACH '{t}/new.duckdb' AS n; CREATE TABLE n.t AS SELECT 1", "new.duckdb", "ATTACH is refused"),
    ("ATTACH '{t}/new.sqlite' AS n (TYPE sqlite); CREATE TABLE n.t AS SELECT 1", "new.sqlite", "ATTACH is refused"),
]


@pytest.mark.parametrize("query, leftover, error", HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_a_statement_that_writes_a_file_is_refused(wh, target, query, leftover, error):
    before = _state(wh)
    proc = sql(wh, query.format(t=target))
    assert proc.returncode != 0 and error in proc.stderr, proc.stderr[-2000:]
    assert not (target / leftover).exists()
    assert _state(wh) == before


def test_an_existing_file_is_not_overwritten(wh, target):
    kept = target / "kept.csv"
    kept.write_text("mine\n")
    for query in (f"COPY (SELECT 1 AS a) TO '{kept}'", f"COPY (SELECT 1) TO '{kept}' (FORMAT csv, USE_TMP_FILE false)"):
        assert sql(wh, query).returncode != 0
    assert kept.read_text() == "mine\n"


def test_the_catalog_itself_is_not_overwritten(wh):
    """DuckDB allows the attached catalog file by itself once external access is off."""
    before = _state(wh)
    proc = sql(wh, f"COPY (SELECT 1 AS a) TO '{wh}' (FORMAT csv, USE_TMP_FILE false)")
    assert proc.returncode != 0 and "COPY is refused" in proc.stderr
    proc = sql(wh, f"COPY (SELECT 1 AS a) TO '{wh.with_suffix('.files')}/main/evil.parquet'")
    assert proc.returncode != 0 and "COPY is refused" in proc.stderr
    assert _state(wh) == before


def test_no_file_but_the_warehouse_is_read(wh, target):
    secret = target / "secret.csv"
    secret.write_text("s3cr3t\n")
    other = target / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (a TEXT)")
    con.execute("INSERT INTO t VALUES ('s3cr3t')")
    con.commit()
    con.close()
    for query, error in [
        (f"SELECT * FROM read_text('{secret}')", "Permission Error"),
        (f"SELECT * FROM read_csv('{secret}')", "Permission Error"),
        (f"SELECT * FROM '{secret}'", "Permission Error"),
        (f"SELECT * FROM glob('{target}/*')", "Permission Error"),
        (f"SELECT * FROM sqlite_scan('{other}', 't')", "sqlite_scan() is refused"),
        (f'SELECT * FROM system.main."SQLITE_SCAN" (\'{other}\', \'t\')', "sqlite_scan() is refused"),
        (f"CALL sqlite_attach('{other}')", "sqlite_attach() is refused"),
        (f"ATTACH '{other}' AS o (TYPE sqlite)", "ATTACH is refused"),
        ("SELECT * FROM query('SELECT 1')", "query() is refused"),
    ]:
        proc = sql(wh, query)
        assert proc.returncode != 0 and error in proc.stderr, (query, proc.stderr[-1500:])
        assert "s3cr3t" not in proc.stdout


def test_no_extension_is_installed_or_loaded(wh):
    for query, error in [("INSTALL httpfs", "INSTALL/LOAD is refused"), ("LOAD httpfs", "INSTALL/LOAD is refused"),
                         ("SELECT * FROM read_csv('https://example.com/x.csv')", "Permission Error")]:
        proc = sql(wh, query)
        assert proc.returncode != 0 and error in proc.stderr, (query, proc.stderr[-1500:])


def test_another_database_cannot_be_attached_and_changed(wh, target):
    other = target / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE articles AS SELECT 1 AS a")
    con.close()
    proc = sql(wh, f"ATTACH '{other}' AS o (READ_WRITE); DELETE FROM o.articles")
    assert proc.returncode != 0 and "ATTACH is refused" in proc.stderr
    con = duckdb.connect(str(other), read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    con.close()


def test_a_hard_link_to_the_warehouse_cannot_change_it(wh, target):
    link = target / "link.ducklake"
    os.link(wh, link)
    before = _state(wh)
    for query in (f"ATTACH 'ducklake:sqlite:{link}' AS w (READ_WRITE); DELETE FROM w.articles",
                  f"ATTACH '{link}' AS s (TYPE sqlite); DELETE FROM s.ducklake_data_file",
                  f"ATTACH 'sqlite:{link}' AS s; DELETE FROM s.ducklake_snapshot"):
        proc = sql(wh, query)
        assert proc.returncode != 0 and "ATTACH is refused" in proc.stderr, proc.stderr[-1500:]
    assert _state(wh) == before and before["counts"]["articles"] == 1


def test_the_lake_cannot_be_changed_or_tidied(wh):
    before = _state(wh)
    for query, error in [("DELETE FROM articles", "read-only"),
                         ("CALL lake.merge_adjacent_files()", "merge_adjacent_files() is refused"),
                         ("CALL ducklake_flush_inlined_data('lake')", "ducklake_flush_inlined_data() is refused"),
                         ("CALL ducklake_cleanup_old_files('lake', cleanup_all => true)", "is refused"),
                         ("CALL ducklake_expire_snapshots('lake', older_than => now())", "is refused")]:
        proc = sql(wh, query)
        assert proc.returncode != 0 and error in proc.stderr, (query, proc.stderr[-1500:])
    assert _state(wh) == before


def test_the_lock_cannot_be_undone(wh):
    proc = sql(wh, "SELECT current_setting('enable_external_access') AS ext, "
                   "current_setting('lock_configuration') AS locked", "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.splitlines()[1] == "False,True"
    for query in ("SET enable_external_access = true", "SET lock_configuration = false", "RESET allowed_directories",
                  "SET allowed_directories = ['/']", "PRAGMA threads = 1", "SET temp_directory = '/tmp'"):
        proc = sql(wh, query)
        assert proc.returncode != 0 and "configuration has been locked" in proc.stderr, (query, proc.stderr)


def test_queries_and_every_output_still_work(wh, target):
    query = "SELECT speaker, count(*) AS n FROM quotes WHERE speaker IS NOT NULL GROUP BY ALL ORDER BY n DESC, speaker"
    proc = sql(wh, query)
    assert proc.returncode == 0 and "John Kirby" in proc.stdout
    for fmt in ("csv", "json", "parquet"):
        out = target / f"speakers.{fmt}"
        proc = sql(wh, query, "--output", str(out))
        assert proc.returncode == 0, proc.stderr[-1500:]
        assert "row(s) written" in proc.stderr
        if fmt == "csv":
            rows = list(csv.reader(out.open()))
            assert rows[0] == ["speaker", "n"] and rows[1] == ["John Kirby", "6"]
        elif fmt == "json":
            assert json.loads(out.read_text())[0] == {"speaker": "John Kirby", "n": 6}
        else:
            assert duckdb.sql(f"SELECT * FROM '{out}' LIMIT 1").fetchone() == ("John Kirby", 6)
    # Reading the lake's Parquet files (not only the rows inlined in the catalog) works.
    proc = sql(wh, "SELECT count(*), sum(length(text)) > 0 FROM quotes", "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.splitlines()[1] == "15,True"
    proc = sql(wh, "DESCRIBE quotes")
    assert proc.returncode == 0 and "speaker" in proc.stdout


def test_as_of_and_search_still_work(wh):
    run_id = sql(wh, "SELECT run_id FROM runs ORDER BY started_at LIMIT 1", "--format", "csv").stdout.split()[-1]
    proc = sql(wh, "SELECT count(*) AS n FROM quotes", "--as-of", run_id, "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.split()[-1] == "15", proc.stderr
    proc = sql(wh, "COPY quotes TO '/tmp/newsetl-as-of.csv'", "--as-of", run_id)
    assert proc.returncode != 0 and "COPY is refused" in proc.stderr
    proc = newsetl("search", "--db", str(wh), "incendiary")
    assert proc.returncode == 0 and "incendiary" in proc.stdout, proc.stderr[-1500:]


@pytest.mark.parametrize("command", [["shell"], ["sql"]])
def test_the_shell_is_locked_down_too(wh, target, command):
    out = target / "shell.csv"
    proc = newsetl(*command, "--db", str(wh), stdin=(
        "SELECT count(*) AS n FROM quotes;\n"
        f"COPY (SELECT 1) TO '{out}';\n"
        "SELECT * FROM read_text('/etc/hostname');\n"
        f".output {target}/dot.txt\n"
        f".shell touch {target}/ran\n"
        "SET enable_external_access = true;\n"
        "SELECT current_setting('lock_configuration') AS locked;\n"))
    text = proc.stdout + proc.stderr
    assert "│ 15 │" in text.replace("  ", "").replace("│ ", "│ ") or "15" in proc.stdout
    assert "Permission Error" in text and "cannot be used in -safe mode" in text
    assert "configuration has been locked" in text and "true" in proc.stdout
    assert not out.exists() and not (target / "dot.txt").exists() and not (target / "ran").exists()


def test_every_function_of_the_catalog_extensions_is_refused():
    """The SQLite and PostgreSQL extensions open files and servers whatever enable_external_access
    says: each table function they register must be in the refused list (a new version may add one)."""
    from warehouse.extensions import load
    from warehouse.query import REFUSED_FUNCTIONS

    con = duckdb.connect(config={"autoload_known_extensions": False, "autoinstall_known_extensions": False})
    names = "SELECT function_name FROM duckdb_functions() WHERE function_type = 'table'"
    before = {r[0] for r in con.execute(names).fetchall()}
    load(con, "sqlite_scanner", "postgres_scanner")
    added = {r[0] for r in con.execute(names).fetchall()} - before
    assert added and added <= REFUSED_FUNCTIONS, added - REFUSED_FUNCTIONS


def test_a_postgresql_catalog_is_locked_down_too(postgres, tmp_path):
    url = postgres.create_database(f"guard_{tmp_path.name.replace('-', '_')[-16:].lower()}")
    copy_seed(tmp_path / "seeds")
    data = tmp_path / "lake"
    assert newsetl("run", "--seeds", str(tmp_path / "seeds"), "--db", url, "--data-path", str(data)).returncode == 0
    proc = newsetl("sql", "--db", url, "--format", "csv", "SELECT count(*) AS n FROM quotes")
    assert proc.returncode == 0 and proc.stdout.split()[-1] == "15", proc.stderr[-1500:]
    for query, error in [(f"COPY (SELECT 1) TO '{tmp_path}/x.csv'", "COPY is refused"),
                         ("CALL postgres_execute('__ducklake_metadata_lake', 'DELETE FROM ducklake_snapshot')",
                          "postgres_execute() is refused"),
                         (f"ATTACH '{url}' AS p (TYPE postgres)", "ATTACH is refused"),
                         (f"SELECT * FROM read_text('{tmp_path}/seeds/seed.txt')", "Permission Error")]:
        proc = newsetl("sql", "--db", url, query)
        assert proc.returncode != 0 and error in proc.stderr, (query, proc.stderr[-1500:])
    assert not (tmp_path / "x.csv").exists()
    out = newsetl("sql", "--db", url, "--format", "csv", "SELECT count(*) FROM articles")
    assert out.stdout.split()[-1] == "1"
    shell = newsetl("shell", "--db", url,
                    stdin=f"SELECT count(*) FROM quotes;\nCOPY (SELECT 1) TO '{tmp_path}/y.csv';\n")
    assert "15" in shell.stdout and "Permission Error" in shell.stdout + shell.stderr
    assert not (tmp_path / "y.csv").exists()


def test_the_shell_cannot_write_the_lake_s_own_files(wh, target):
    """DuckDB allows writing the files it attached and the SQLite extension ignores its file
    settings: the shell's process is sandboxed by the kernel (Landlock) so neither can write."""
    from flows.sandbox import forbid_writes  # noqa: F401  (the module the shell uses)

    before = _state(wh)
    link = target / "hard.ducklake"
    os.link(wh, link)  # a hard link to the catalog: the tester's way in, read-write
    proc = newsetl("shell", "--db", str(wh), stdin=(
        "SELECT count(*) AS n FROM quotes;\n"
        f"COPY (SELECT 1) TO '{wh}' (FORMAT csv, USE_TMP_FILE false);\n"
        f"ATTACH '{link}' AS h (TYPE sqlite);\n"
        "DELETE FROM h.ducklake_snapshot;\n"
        f"ATTACH '{wh}' AS c (TYPE sqlite);\n"
        "CREATE TABLE c.evil (x INT);\n"))
    text = proc.stdout + proc.stderr
    if "Landlock is not enabled" in text:
        pytest.skip("this kernel has no Landlock: the shell runs with DuckDB's guard alone (documented)")
    assert "15" in proc.stdout
    assert "Permission denied" in text and text.count("readonly database") == 2, text[-3000:]
    assert _state(wh) == before
    with sqlite3.connect(wh) as con:
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'evil'").fetchone() == (0,)
