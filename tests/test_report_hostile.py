"""The report and the Data Docs against a hostile tester: markup in titles, file names, quotes and
speakers never runs or lands in a page; `newsetl report` on a read-only folder says what to do in
one line; the report server serves only the report's files, only to 127.0.0.1/localhost.

Every page is opened in headless Chromium (the browser of tests/test_report.py), counting the
dialogs that fire and looking for injected elements; the server is a real `newsetl report --serve`
answering real HTTP requests on a free loopback port.
"""

from __future__ import annotations

import fcntl
import http.client
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import NEWSETL, ROOT, SEED, chromium, query

pytestmark = pytest.mark.integration


#: Markup a page would run or render if a value reached it unescaped. Each alert has its own number.
TITLE = "<img src=x onerror=alert(1)> <script>alert(2)</script> \"'><svg onload=alert(3)> headline"
while len(TITLE) < 270:  # 251-300 characters: still a title to the parser, too long to the title check
    TITLE += " Extraordinarily"
#: Legal file names on Linux.
HOSTILE_FILE = "\"><img src=x onerror=alert(4)>.txt"
QUARANTINED_FILE = "'><svg onload=alert(5)> odd.txt"
QUOTE = "<img src=x onerror=alert(6)> the numbers are 'wrong' & \"bad\""
SPEAKER = "<script>alert(7)</script>\"'><b onmouseover=alert(8)>Eve"
KIND = "<img src=x onerror=alert(9)>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A warehouse of the seed article, an article with a hostile title, quote, speaker and file
    name (it loads with the title warning) and a hostile-named article whose quotes come out of
    extraction with a hostile kind and speaker (quarantined), all built by the real flow."""
    from flows import batches, pipeline

    root = tmp_path_factory.mktemp("hostile")
    seeds = root / "seeds"
    seeds.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    body = seed.split("\n\n", 1)[1]
    (seeds / "seed.txt").write_text(seed, encoding="utf-8")
    (seeds / HOSTILE_FILE).write_text(
        f"{TITLE}\n\n{body}\n\nJane Roe said \"{QUOTE}\" on Monday.\n\n"
        f"\"{QUOTE}\", said {SPEAKER} Smith.\n", encoding="utf-8")
    (seeds / QUARANTINED_FILE).write_text(
        "Odd story\n\nJane Roe said \"the numbers are wrong\" on Monday in Paris.\n", encoding="utf-8")
    real = batches.drop_duplicate_articles

    def corrupt(*args, **kwargs):
        frames = real(*args, **kwargs)
        odd = frames.articles.filter(pl.col("source_path").str.ends_with("odd.txt"))["article_id"].implode()
        hit = pl.col("article_id").is_in(odd)
        frames.quotes = frames.quotes.with_columns(
            pl.when(hit).then(pl.lit(KIND)).otherwise(pl.col("kind")).alias("kind"),
            pl.when(hit).then(pl.lit(SPEAKER)).otherwise(pl.col("speaker")).alias("speaker"))
        return frames

    db = root / "wh" / "news.ducklake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batches, "drop_duplicate_articles", corrupt)
        summary = pipeline.newsetl_flow(seeds_dir=str(seeds), db_path=str(db))
    return db, summary


def test_the_hostile_values_got_in_and_dq_results_keep_them_as_they_are(hostile):
    """The pages below are tested with these values in them; the warehouse keeps them raw."""
    db, summary = hostile
    assert summary.status == "completed" and summary.files_quarantined == 1
    assert any("title shorter than any real headline" in w for w in summary.warning_checks)
    assert query(db, "SELECT count(*) FROM articles WHERE contains(title, 'onerror=alert(1)') "
                     "AND contains(source_path, 'onerror=alert(4)')") == [(1,)]
    examples = query(db, "SELECT unexpected_examples FROM dq_results "
                         "WHERE check_name = 'title shorter than any real headline'")[0][0]
    assert "<img src=x onerror=alert(1)>" in examples and HOSTILE_FILE.replace('"', '\\"') in examples
    kinds = query(db, "SELECT unexpected_examples FROM dq_results WHERE check_name = 'kind allowed'")[0][0]
    assert KIND in kinds


# Every page, in Chromium.

@pytest.fixture(scope="module")
def browser():
    with chromium() as b:  # loopback is bypassed: the report server is on it
        yield b


#: Elements or attributes only an injection would put in a page.
INJECTED = """() => Array.from(document.querySelectorAll(
    '[onerror], [onload], [onmouseover], img[src="x"], svg[onload], b[onmouseover]')).map(e => e.outerHTML)
    .concat(Array.from(document.scripts).filter(s => /alert\\(/.test(s.textContent)).map(s => s.outerHTML))"""


def visit(browser, url: str) -> tuple[list[str], list[str], str]:
    """Open a page offline (file: and loopback only): the dialogs that fired, the elements an
    injection made, and the page's text."""
    context = browser.new_context(offline=not url.startswith("http"))
    dialogs: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "http://127.0.0.1")):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # an onerror fires once the image request failed
    injected = page.evaluate(INJECTED)
    text = page.inner_text("body")
    context.close()
    return dialogs, injected, text


def _pages(db: Path) -> list[Path]:
    from expectations.paths import data_docs_path, report_path

    site = data_docs_path(db).parent
    return [report_path(db), *sorted(p for p in site.rglob("*.html") if "static" not in p.relative_to(site).parts)]


def test_no_page_runs_or_shows_the_hostile_markup(hostile, browser):
    db, _ = hostile
    pages = _pages(db)
    assert len(pages) >= 1 + 1 + 6 + 6  # the report, the Data Docs index, six suites, six validations
    seen: dict[Path, str] = {}
    for page in pages:
        dialogs, injected, text = visit(browser, page.as_uri())
        assert dialogs == [], f"{page}: script ran: {dialogs}"
        assert injected == [], f"{page}: markup injected: {injected}"
        seen[page] = text
    # The values did reach the pages, shown as text: the checks above looked at the real thing.
    articles = next(t for p, t in seen.items() if p.name.endswith("-articles.html"))
    assert "<img src=x onerror=alert(1)>" in articles and HOSTILE_FILE in articles
    quotes = next(t for p, t in seen.items() if p.name.endswith("-quotes.html"))
    assert KIND in quotes
    report = seen[pages[0]]
    assert HOSTILE_FILE in report and KIND in report and QUARANTINED_FILE in report


def test_served_pages_run_no_hostile_markup_either(hostile, browser):
    db, _ = hostile
    with served(db) as url:
        from expectations.paths import DATA_DOCS_SITE, gx_root

        site = gx_root(db) / DATA_DOCS_SITE
        articles = next((site / "validations" / "articles").rglob("*.html"))
        for rel in ("", articles.relative_to(gx_root(db)).as_posix()):
            dialogs, injected, text = visit(browser, url + rel)
            assert dialogs == [] and injected == [], (rel, dialogs, injected)
        assert "<img src=x onerror=alert(1)>" in text


def _unescaped(value):
    import html

    if isinstance(value, str):
        return html.unescape(value)
    if isinstance(value, dict):
        return {_unescaped(k): _unescaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescaped(v) for v in value]
    return value


def test_pages_an_older_newsetl_rendered_are_rendered_again_escaped(hostile, tmp_path):
    """Data Docs built before values were escaped: the next run renders every page again, once."""
    import json

    from expectations.paths import DATA_DOCS_SITE, gx_root
    from expectations.runner import ESCAPED_MARK, Validator

    db, summary = hostile
    shutil.copytree(db.parent, tmp_path / "wh")
    copy = tmp_path / "wh" / db.name
    root = gx_root(copy)
    stored = next((root / "gx" / "uncommitted" / "validations" / "articles" / summary.run_id).rglob("*.json"))
    result = json.loads(stored.read_text(encoding="utf-8"))  # as an older newsetl stored it: raw
    result["results"] = [{**r, "result": _unescaped(r["result"])} for r in result["results"]]
    result["meta"].pop(ESCAPED_MARK)
    stored.write_text(json.dumps(result), encoding="utf-8")
    (root / DATA_DOCS_SITE / "static" / ESCAPED_MARK).unlink()
    Validator(copy, "older").context.build_data_docs()
    page = next((root / DATA_DOCS_SITE / "validations" / "articles" / summary.run_id).rglob("*.html"))
    assert "<img src=x onerror=alert(1)>" in page.read_text(encoding="utf-8")  # the old, unsafe page

    Validator(copy, "later").build_docs()
    html = page.read_text(encoding="utf-8")
    assert "<img src=x onerror=alert(1)>" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&amp;lt;" not in html  # escaped once, not twice
    assert (root / DATA_DOCS_SITE / "static" / ESCAPED_MARK).exists()


# `newsetl report` on a read-only folder.

def _run_read_only(folder: Path, *argv: str) -> subprocess.CompletedProcess:
    """Run a command with ``folder`` read-only for it, as it is for a user on a read-only mount.

    Not root: the folder's write bits go (chmod). Root writes through those, so the command runs
    in a mount namespace of its own where the folder is bind-mounted read-only (EROFS, the
    reporter's case); failing that, the folder is made immutable (chattr +i)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in (folder, *folder.rglob("*")) if p.is_dir()}
        for p in modes:
            p.chmod(0o555)
        try:
            return subprocess.run(list(argv), cwd=ROOT, capture_output=True, text=True, timeout=120)
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
    unshare = shutil.which("unshare")
    if unshare:
        script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
        probe = subprocess.run([unshare, "-m", "sh", "-c", script + " 2>/dev/null", str(folder), "true"],
                               capture_output=True, timeout=30)
        if probe.returncode == 0:
            return subprocess.run([unshare, "-m", "sh", "-c", script, str(folder), *argv], cwd=ROOT,
                                  capture_output=True, text=True, timeout=120)
    chattr = shutil.which("chattr")
    dirs = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    if chattr and subprocess.run([chattr, "+i", *map(str, dirs)], capture_output=True).returncode == 0:
        try:
            return subprocess.run(list(argv), cwd=ROOT, capture_output=True, text=True, timeout=120)
        finally:
            subprocess.run([chattr, "-i", *map(str, dirs)], check=True)
    pytest.skip("running as root without mount namespaces or chattr: no way to make a folder read-only for root")


def _newsetl_lines(stderr: str) -> list[str]:
    """What newsetl itself printed (not a Python warning about the compiled transforms)."""
    return [line for line in stderr.splitlines() if line.startswith("newsetl")]


@pytest.mark.parametrize("with_report", [False, True], ids=["no-report-yet", "stale-report"])
def test_report_on_a_read_only_folder_says_what_and_how_in_one_line(hostile, tmp_path, with_report):
    db, _ = hostile
    folder = tmp_path / "ro"
    shutil.copytree(db.parent, folder)
    copy = folder / db.name
    gx = folder / f"{db.stem}.gx"
    if not with_report:
        shutil.rmtree(gx)  # the reporter's case: '…/w.gx' cannot even be made
    before = (gx / "index.html").read_bytes() if with_report else None
    done = _run_read_only(folder, str(NEWSETL), "report", "--db", str(copy))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    lines = _newsetl_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"newsetl report: cannot write the report {gx / 'index.html'}: ")
    assert "read-only" in lines[0] or "permission" in lines[0]
    if with_report:
        assert (gx / "index.html").read_bytes() == before and "still there" in lines[0]
    else:
        assert not gx.exists()


def test_report_never_waits_for_a_run(hostile, tmp_path):
    """A run holds the run lock for its whole duration and writes the catalog while it commits:
    the report reads the last committed snapshot and takes no lock, so it answers at once."""
    from warehouse.runlock import lock_path

    db, _ = hostile
    shutil.copytree(db.parent, tmp_path / "wh")
    copy = tmp_path / "wh" / db.name
    fd = os.open(lock_path(copy), os.O_RDWR | os.O_CREAT, 0o644)
    catalog = sqlite3.connect(copy, isolation_level=None)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        catalog.execute("BEGIN IMMEDIATE")  # a writer in the middle of its commit
        catalog.execute("CREATE TABLE busy_writer (x INTEGER)")
        started = time.monotonic()
        done = subprocess.run([str(NEWSETL), "report", "--db", str(copy)], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        took = time.monotonic() - started
    finally:
        catalog.execute("ROLLBACK")
        catalog.close()
        os.close(fd)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("index.html")
    assert took < 20, f"report took {took:.1f} s while a run held the warehouse"  # a run waits 30 s


def test_report_has_no_wait_option():
    from flows.cli import build_parser

    rep = build_parser()._subparsers._group_actions[0].choices["report"]  # type: ignore[union-attr]
    assert "--wait" not in rep._option_string_actions
    assert "never waits" in rep.description


# The report server.

class served:
    """`newsetl report --serve --port 0` on a warehouse, in its own process; yields its URL."""

    def __init__(self, db: Path):
        self.db = db

    def __enter__(self) -> str:
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "report", "--db", str(self.db), "--serve",
                                      "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.proc.stdout.readline()  # the report's path
        line = self.proc.stdout.readline()
        assert " at http://127.0.0.1:" in line, line + self.proc.stderr.read()
        self.url = line.split(" at ")[1].split()[0]
        return self.url

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def get(url: str, target: str, host: str | None = "") -> tuple[int, bytes]:
    """One raw GET: ``target`` sent as is (no normalising of '..'), ``host`` as the Host header
    (default: the server's own address; None: no Host header at all)."""
    netloc = url.split("//")[1].rstrip("/")
    ip, port = netloc.split(":")
    with socket.create_connection((ip, int(port)), timeout=10) as s:
        head = f"GET {target} HTTP/1.1\r\n"
        if host is not None:
            head += f"Host: {host or netloc}\r\n"
        s.sendall((head + "Connection: close\r\n\r\n").encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    if not data:
        return 0, b""  # the server dropped the connection without an answer
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


@pytest.fixture(scope="module")
def server(hostile):
    db, _ = hostile
    with served(db) as url:
        yield db, url


def test_server_serves_the_report_and_the_data_docs(server):
    from expectations.paths import DATA_DOCS_SITE, gx_root

    db, url = server
    site = DATA_DOCS_SITE.as_posix()
    status, body = get(url, "/")
    assert status == 200 and b"Latest load" in body
    assert get(url, "/index.html")[0] == 200
    assert get(url, f"/{site}/index.html")[0] == 200
    assert get(url, f"/{site}/")[0] == 200  # the site's folder shows its index page
    assert get(url, f"/{site}/static/vendor/jquery/dist/jquery.min.js")[0] == 200
    validation = next((gx_root(db) / DATA_DOCS_SITE / "validations").rglob("*.html")).relative_to(gx_root(db))
    assert get(url, "/" + validation.as_posix())[0] == 200
    assert get(url, "/?x=1#y")[0] == 200
    # A real client as a user's browser sends it.
    conn = http.client.HTTPConnection(url.split("//")[1].rstrip("/"), timeout=10)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status == 200 and "default-src 'none'" in r.getheader("Content-Security-Policy", "")
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    conn.close()


def test_server_lists_no_folder_and_serves_nothing_but_the_report(server):
    db, url = server
    site = "/gx/uncommitted/data_docs/local_site"
    for target in ("/gx/", "/gx", "/gx/great_expectations.yml", "/gx/uncommitted/", "/gx/uncommitted/validations/",
                   f"{site}/static/", f"{site}/static/vendor/", f"{site}/validations/", "/" + db.name,
                   "/gx/uncommitted/config_variables.yml", "/.index.html.1-2.tmp", "/nothing.html"):
        status, body = get(url, target)
        assert status == 404, (target, status)
        assert b"Directory listing" not in body and b"<a href" not in body
    validations = next((db.parent / f"{db.stem}.gx" / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert get(url, "/" + validations.relative_to(db.parent / f"{db.stem}.gx").as_posix())[0] == 404


def test_server_refuses_path_traversal(server):
    db, url = server
    secret = db.read_bytes()[:16]
    site = "/gx/uncommitted/data_docs/local_site"
    for target in ("/../" + db.name, "/%2e%2e/" + db.name, f"{site}/../../../../{db.name}",
                   f"{site}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/{db.name}", f"{site}/..%2f..%2f..%2f..%2f{db.name}",
                   "/..%5c" + db.name, "//etc/passwd", "/etc/passwd", f"{site}/%00index.html",
                   "http://127.0.0.1/" + db.name):
        status, body = get(url, target)
        assert status in (400, 404), (target, status)
        assert secret not in body


def test_server_refuses_a_link_out_of_the_site(server):
    db, url = server
    site = db.parent / f"{db.stem}.gx" / "gx" / "uncommitted" / "data_docs" / "local_site"
    link = site / "catalog.html"
    link.symlink_to(db)
    try:
        assert get(url, "/gx/uncommitted/data_docs/local_site/catalog.html")[0] == 404
    finally:
        link.unlink()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example",
                                  "localhost.evil.example:{port}", "127.0.0.1:1", "[::1]:{port}", "0.0.0.0:{port}"])
def test_server_answers_only_to_its_own_host_name(server, host):
    """DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends Host: evil.example."""
    _, url = server
    port = url.rstrip("/").rsplit(":", 1)[1]
    status, body = get(url, "/", host.format(port=port))
    assert status in (400, 421) and b"Latest load" not in body


def test_server_answers_to_localhost_and_127_0_0_1(server):
    _, url = server
    port = url.rstrip("/").rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", "LOCALHOST:" + port, "127.0.0.1"):
        assert get(url, "/", host)[0] == 200, host
    assert get(url, "/", None)[0] == 400  # no Host at all


# Pure parts.

def test_error_text_cannot_close_its_code_block_in_the_prefect_markdown():
    from flows.publish import fenced

    text = "a file named ```x``` <img src=x onerror=alert(1)>"
    fence, inner, closing = fenced(text)
    assert fence == closing == "````" and inner == text


def test_html_escaped_escapes_every_string_and_keeps_what_needs_nothing():
    from expectations.runner import html_escaped

    clean = {"unexpected_list": ["plain", 3, None], "unexpected_index_list": [{"article_id": "a1"}]}
    assert html_escaped(clean) is clean
    dirty = {"partial_unexpected_list": ["<b>", ("x", "'")], "unexpected_index_list": [{"source_path": '"><i>'}]}
    assert html_escaped(dirty) == {"partial_unexpected_list": ["&lt;b&gt;", ("x", "&#x27;")],
                                   "unexpected_index_list": [{"source_path": "&quot;&gt;&lt;i&gt;"}]}
