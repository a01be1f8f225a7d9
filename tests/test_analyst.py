"""The analyst's side on a warehouse built by the real flow: views, documented queries, search, exports."""

from __future__ import annotations

import csv
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, copy_seed, query

pytestmark = pytest.mark.integration
NEWSETL = Path(sys.executable).parent / "newsetl"
VIEWS = ["quote_attributions", "top_speakers", "top_entities", "entity_cooccurrence", "article_summaries",
         "dq_status", "dq_latest"]


QUERYING = ROOT / "docs" / "querying.md"  # the warehouse in full and "Asking questions"


def doc_section(path: Path, heading: str) -> str:
    """The text of one ``## `` section of a markdown file, up to the next one."""
    text = path.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    end = section.find("\n## ", 5)
    return section if end < 0 else section[:end]


def querying_doc_queries() -> list[str]:
    """The ```sql blocks of docs/querying.md's "Asking questions"."""
    return re.findall(r"```sql\n(.*?)```", doc_section(QUERYING, "## Asking questions"), flags=re.S)


def readme_sql_commands() -> list[list[str]]:
    """The ``newsetl sql`` commands of README.md's ```sh examples, as the arguments after ``newsetl``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if len(argv) > 1 and Path(argv[0]).name == "newsetl" and argv[1] == "sql":
                commands.append(argv[1:])
    return commands


def example_queries() -> list:
    """Every documented query as ``newsetl`` arguments: docs/querying.md's, then the README's own."""
    return ([pytest.param(["sql", q], id=q.splitlines()[0][:40]) for q in querying_doc_queries()]
            + [pytest.param(argv, id="README: " + argv[1][:32]) for argv in readme_sql_commands()])


def newsetl(*args, stdin=None):
    return subprocess.run([str(NEWSETL), *args], cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=120)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from flows.pipeline import newsetl_flow

    root = tmp_path_factory.mktemp("analyst")
    seeds = root / "seeds"
    copy_seed(seeds)
    path = root / "news.duckdb"
    assert newsetl_flow(seeds_dir=str(seeds), db_path=str(path)).status == "completed"
    return path


def test_querying_doc_has_at_least_eight_example_queries():
    assert len(querying_doc_queries()) >= 8


def test_readme_shows_an_sql_example():
    assert readme_sql_commands()


@pytest.mark.parametrize("example", example_queries())
def test_every_documented_query_runs_on_the_seed_warehouse(db, example):
    proc = newsetl(*example, "--db", str(db), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    if "rejected_files" not in " ".join(example):  # the seed loads cleanly: nothing rejected
        assert result, f"no rows for {example}"


@pytest.mark.parametrize("view", VIEWS)
def test_views_return_query(db, view):
    assert query(db, f"SELECT * FROM {view} LIMIT 5")


def test_views_answer_the_first_questions(db):
    assert ("John Kirby",) in query(db, "SELECT speaker FROM top_speakers")
    pair = query(db, "SELECT articles FROM entity_cooccurrence WHERE 'John Kerry' IN (name_a, name_b) "
                    "AND 'Sergei Lavrov' IN (name_a, name_b)")
    assert pair == [(1,)]
    quotes, speakers = query(db, "SELECT quotes, speakers FROM article_summaries")[0]
    assert quotes == 15 and "Fred Hof" in speakers
    status, dq = query(db, "SELECT status, dq_success FROM dq_status")[0]
    assert (status, dq) == ("completed", True)


def test_search_finds_a_seed_quote_by_a_word_in_it(db):
    proc = newsetl("search", "--db", str(db), "incendiary")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[:2]
    assert first[0].startswith("[quote") and "Unlikely US-Russia outreach" in first[0]
    # Kerry's spokesman reports the secretary's warning: the outer source speaks (PolNeAR's convention)
    assert "incendiary and bunker-buster bombs" in first[1] and "John Kirby" in first[1]


def test_search_index_follows_every_run(tmp_path):
    from flows.pipeline import newsetl_flow
    from warehouse.connection import connect
    from warehouse.search import search

    seeds = tmp_path / "seeds"
    (seeds).mkdir()
    (seeds / "a.txt").write_text('Zoo news\n\nLONDON - "The penguins are thriving," said Ann Keeper.')
    path = tmp_path / "w.ducklake"
    newsetl_flow(seeds_dir=str(seeds), db_path=str(path))
    (seeds / "a.txt").write_text('Zoo news\n\nLONDON - "The giraffes are thriving," said Ann Keeper.')
    newsetl_flow(seeds_dir=str(seeds), db_path=str(path))
    con = connect(path, read_only=True)
    try:
        assert [h.text for h in search(con, "giraffes") if h.kind == "quote"] == ["The giraffes are thriving,"]
        assert search(con, "penguins") == []
    finally:
        con.close()


def test_csv_and_parquet_exports_round_trip(db, tmp_path):
    sql = "SELECT quote_id, speaker, text, char_start FROM quotes ORDER BY quote_id"
    expected = query(db, sql)
    out_csv, out_parquet = tmp_path / "q.csv", tmp_path / "q.parquet"
    assert newsetl("sql", "--db", str(db), sql, "--output", str(out_csv)).returncode == 0
    assert newsetl("sql", "--db", str(db), sql, "--output", str(out_parquet)).returncode == 0
    with out_csv.open(newline="", encoding="utf-8") as fh:
        back = [(r["quote_id"], r["speaker"] or None, r["text"], int(r["char_start"])) for r in csv.DictReader(fh)]
    assert back == expected
    con = duckdb.connect()
    assert con.execute(f"SELECT * FROM read_parquet('{out_parquet}') ORDER BY quote_id").fetchall() == expected


def test_json_to_stdout_and_csv_to_stdout(db):
    proc = newsetl("sql", "--db", str(db), "--format", "json", "SELECT speaker, count(*) AS n FROM quotes "
                   "WHERE speaker IS NOT NULL GROUP BY ALL ORDER BY n DESC, speaker")
    data = json.loads(proc.stdout)
    assert data[0] == {"speaker": "John Kirby", "n": 6}
    proc = newsetl("sql", "--db", str(db), "--format", "csv", "SELECT 1 AS a, 'x,y' AS b")
    assert proc.stdout.splitlines() == ["a,b", '1,"x,y"']


def test_parquet_needs_a_file(db):
    proc = newsetl("sql", "--db", str(db), "--format", "parquet", "SELECT 1")
    assert proc.returncode == 2 and "--output" in proc.stderr


@pytest.mark.parametrize("command", [["shell"], ["sql"]])
def test_shell_opens_the_duckdb_cli_read_only(db, command):
    proc = newsetl(*command, "--db", str(db), stdin="SELECT count(*) AS n FROM quotes;\n"
                   "SELECT count(*) FROM (SELECT fts_main_quotes.match_bm25(quote_id, 'incendiary') AS s "
                   "FROM quotes) WHERE s IS NOT NULL;\nCREATE TABLE nope (a INT);\n")
    counts = re.findall(r"│\s+(\d+)\s+│", proc.stdout)
    assert counts == ["15", "1"]  # the quotes, then one quote found by the search extension
    assert "read-only" in (proc.stdout + proc.stderr).lower()  # writes are refused


def test_querying_doc_python_snippet_runs(db):
    section = doc_section(QUERYING, "## Asking questions")
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    scope: dict = {}
    exec(code.replace("warehouse/news.ducklake", str(db)), scope)
    assert scope["df"].height == 15 and scope["df2"].height > 10
