"""Hostile input: links, odd file names and files that fail their checks cost one file, never the run.

Each case is what a hostile tester did to newsetl at 3492ce5 (issue 25): a link to a file
already in the seeds folder, a file name that is not UTF-8, a link to ``/etc/passwd``, a
quarantined file retried on every run. Real runs, real files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows import io
from tests.conftest import copy_seed, newsetl, query


def _names(paths):
    return [Path(p).name for p in paths]


def test_a_link_to_a_file_of_the_folder_is_that_file_once(tmp_path):
    seeds = tmp_path / "s"
    copy_seed(seeds / "sub", "deep.txt")
    (seeds / "a_link_to_deep.txt").symlink_to(seeds / "sub" / "deep.txt")  # sorts before its target
    found = io.discover(seeds)
    assert _names(found.paths) == ["deep.txt"]
    [(path, reason, detail)] = found.refused
    assert Path(path).name == "a_link_to_deep.txt" and reason == "duplicate_content" and "deep.txt" in detail


def test_links_out_of_the_folder_are_refused_unless_followed(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n")
    seeds = tmp_path / "s"
    copy_seed(seeds)
    (seeds / "passwd.txt").symlink_to(outside)
    (seeds / "linked_dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("x")
    found = io.discover(seeds)
    assert _names(found.paths) == ["seed.txt"]
    assert [(Path(p).name, r) for p, r, _ in found.refused] == [("passwd.txt", "outside_seeds")]
    assert "--follow-symlinks" in found.refused[0][2]
    followed = io.discover(seeds, follow_symlinks=True)
    assert _names(followed.paths) == ["passwd.txt", "seed.txt"] and not followed.refused


def test_a_file_name_that_is_not_utf8_is_refused_with_its_name_escaped(tmp_path):
    seeds = tmp_path / "s"
    copy_seed(seeds)
    odd = os.fsdecode(bytes(seeds) + b"/bad\xff\xfename.txt")
    Path(odd).write_text("Title\n\nBody text of an article.")
    found = io.discover(seeds)
    assert _names(found.paths) == ["seed.txt"]
    [(path, reason, _)] = found.refused
    assert reason == "bad_name" and path.endswith("bad\\xff\\xfename.txt")
    path.encode("utf-8")  # storable text


@pytest.mark.integration
def test_a_run_with_hostile_files_loads_the_good_one_and_says_why_not_the_others(tmp_path):
    """At 3492ce5 each of these failed the whole run (exit 1) or loaded /etc/passwd."""
    seeds, db = tmp_path / "s", tmp_path / "w.ducklake"
    copy_seed(seeds / "sub", "deep.txt")
    (seeds / "link_to_deep.txt").symlink_to(seeds / "sub" / "deep.txt")
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    Path(os.fsdecode(bytes(seeds) + b"/bad\xff\xfename.txt")).write_bytes((seeds / "sub" / "deep.txt").read_bytes())
    done = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [Path(p).name for (p,) in query(db, "SELECT source_path FROM articles")] == ["deep.txt"]
    rejected = {Path(p).name: (r, s) for p, r, s in query(db, "SELECT source_path, reason, step FROM rejected_files")}
    assert rejected == {"link_to_deep.txt": ("duplicate_content", "discover"),
                        "passwd.txt": ("outside_seeds", "discover"),
                        "bad\\xff\\xfename.txt": ("bad_name", "discover")}
    assert query(db, "SELECT files_seen, files_loaded, files_rejected FROM runs") == [(4, 1, 3)]


def _huge(words: int) -> str:
    """One line of ``words`` words: no news article, set aside by "word_count positive" (1 to 500,000)."""
    return "A log dump\n\n" + "x " * words + "\n"


@pytest.mark.integration
def test_a_quarantined_file_is_retried_only_once_its_bytes_change(tmp_path):
    """At 3492ce5 the file was extracted again on every run (50 s each for the tester's 5 MB one)
    and each retry stored two more quarantine rows, each with the whole body."""
    seeds, db = tmp_path / "s", tmp_path / "w.ducklake"
    copy_seed(seeds)
    (seeds / "dump.txt").write_text(_huge(500_001))
    first = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "1")
    assert first.returncode == 0, first.stdout + first.stderr
    [(reason, row_json)] = query(db, "SELECT reason, row_json FROM quarantine WHERE check_name = 'word_count positive'")
    assert "more is no news article" in reason  # the real cause, not "positive"
    assert '"word_count":500001' in row_json and '"body"' not in row_json  # the body is stored once
    assert query(db, "SELECT count(*) FROM quarantine WHERE row_json LIKE '%x x x x%'") == [(1,)]
    stored = query(db, "SELECT count(*) FROM quarantine")

    second = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "1")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "1 file(s) set aside by an earlier run, unchanged since: not retried" in second.stdout
    assert query(db, "SELECT count(*) FROM quarantine") == stored
    assert query(db, "SELECT files_skipped, files_quarantined FROM runs ORDER BY started_at DESC LIMIT 1") == [(2, 0)]

    (seeds / "dump.txt").write_text(_huge(500_002))  # new bytes: retried (and set aside again)
    third = newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "1")
    assert third.returncode == 0, third.stdout + third.stderr
    assert query(db, "SELECT files_skipped, files_quarantined FROM runs ORDER BY started_at DESC LIMIT 1") == [(1, 1)]
    assert query(db, "SELECT count(DISTINCT run_id) FROM quarantine") == [(2,)]


@pytest.mark.integration
def test_a_full_refresh_of_an_empty_folder_is_refused_and_changes_nothing(tmp_path):
    """At 3492ce5 (and until this fix) it emptied the warehouse and said "nothing to load": what
    an unmounted share looks like."""
    seeds, empty, db = tmp_path / "s", tmp_path / "empty", tmp_path / "w.ducklake"
    copy_seed(seeds)
    empty.mkdir()
    assert newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "1").returncode == 0
    refused = newsetl("run", "--seeds", str(empty), "--db", str(db), "--full-refresh")
    assert refused.returncode == 1 and "refusing to empty the warehouse" in refused.stderr
    assert query(db, "SELECT count(*) FROM articles") == [(1,)]


@pytest.mark.integration
def test_sql_output_never_overwrites_the_warehouse_s_own_files(tmp_path):
    seeds, db = tmp_path / "s", tmp_path / "w.ducklake"
    copy_seed(seeds)
    assert newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "1").returncode == 0
    os.link(db, tmp_path / "hard.ducklake")
    catalog = db.read_bytes()
    for target in (db, f"{db}-wal", tmp_path / "w.files" / "x.parquet", tmp_path / "hard.ducklake",
                   tmp_path / "w.gx" / "index.html"):
        out = newsetl("sql", "--db", str(db), "--format", "csv", "--output", str(target), "SELECT 1 AS x")
        assert out.returncode == 2 and "one of the warehouse's own files" in out.stderr, target
    assert db.read_bytes() == catalog
    ok = newsetl("sql", "--db", str(db), "--output", str(tmp_path / "fine.csv"), "SELECT 1 AS x")
    assert ok.returncode == 0 and (tmp_path / "fine.csv").read_text() == "x\n1\n"


@pytest.mark.integration
def test_migrate_refuses_what_is_not_an_old_warehouse_and_creates_nothing(tmp_path):
    """A text file gave a raw traceback and left an empty lake behind; a DuckLake catalog or an
    unrelated DuckDB file was "imported" as 0 rows (hostile cases of our own, issue 25)."""
    import duckdb

    (tmp_path / "text.duckdb").write_text("x\n")
    duckdb.connect(str(tmp_path / "other.duckdb")).execute("CREATE TABLE articles (x INT)").close()
    seeds = tmp_path / "s"
    copy_seed(seeds)
    assert newsetl("run", "--seeds", str(seeds), "--db", str(tmp_path / "lake.ducklake")).returncode == 0
    for old, why in (("text.duckdb", "not a DuckDB file"), ("other.duckdb", "it lacks articles("),
                     ("lake.ducklake", "a SQLite file")):
        out = newsetl("migrate", str(tmp_path / old), "--db", str(tmp_path / "new.ducklake"))
        assert out.returncode == 1 and why in out.stderr and "nothing was created" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr and not (tmp_path / "new.ducklake").exists()
