"""The data-quality report: built by the real flow, opened in a real headless Chromium offline.

Two real runs into one warehouse: a clean one, then one with an article long enough to need a
mention but naming nobody (a warning) and one whose extracted quotes are corrupted on the way
(a row-level critical failure: quarantined). The report must say so, render styled with the
network cut, and the Prefect UI must get the verdict as artifacts.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from expectations.assets import CDN_FILES, external_assets, localize_html
from expectations.report import failing_since, verdict
from expectations.trend import sparkline
from tests.conftest import ROOT, chromium, copy_seed, query

ARTIFACTS = ROOT / "test-artifacts"
NAMELESS = ("a quiet week\n\n" + " ".join(["the river rose and the fields were wet and the roads were closed"] * 25)
            + ".\n")
ODD = "Odd story\n\nJane Roe said \"the numbers are wrong\" on Monday in Paris.\n"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from flows import batches, pipeline

    root = tmp_path_factory.mktemp("report")
    seeds = root / "seeds"
    copy_seed(seeds)
    db = root / "wh" / "news.duckdb"
    first = pipeline.newsetl_flow(seeds_dir=str(seeds), db_path=str(db))
    (seeds / "nameless.txt").write_text(NAMELESS)
    (seeds / "odd.txt").write_text(ODD)
    real = batches.drop_duplicate_articles

    def corrupt_odd(*args, **kwargs):
        frames = real(*args, **kwargs)
        odd = frames.articles.filter(pl.col("source_path").str.ends_with("odd.txt"))["article_id"].implode()
        frames.quotes = frames.quotes.with_columns(
            pl.when(pl.col("article_id").is_in(odd)).then(pl.lit("rumour")).otherwise(pl.col("kind")).alias("kind"))
        return frames

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batches, "drop_duplicate_articles", corrupt_odd)
        second = pipeline.newsetl_flow(seeds_dir=str(seeds), db_path=str(db))
    return db, first, second


def test_second_run_quarantines_the_corrupt_article_and_warns(warehouse):
    db, first, second = warehouse
    assert first.status == second.status == "completed"
    assert second.files_quarantined == 1 and second.dq_success
    assert any("long articles name someone" in w for w in second.warning_checks)
    assert query(db, "SELECT DISTINCT check_name FROM quarantine WHERE table_name = 'quotes'") == [("kind allowed",)]
    assert query(db, "SELECT count(*) FROM articles WHERE source_path LIKE '%odd.txt'") == [(0,)]
    assert query(db, "SELECT count(*) FROM articles") == [(2,)]  # the seed and the nameless article loaded
    assert query(db, f"SELECT files_quarantined FROM runs WHERE run_id = '{second.run_id}'") == [(1,)]


def test_summary_page_says_what_broke_where_and_since_when(warehouse):
    _, _, second = warehouse
    html = Path(second.report_path).read_text(encoding="utf-8")
    assert "Latest load: Passed, needs attention" in html
    assert "long articles name someone" in html and "kind allowed" in html and "odd.txt" in html
    assert html.count("<svg") >= 7  # the verdict strip and six trend charts
    assert external_assets(html) == [] and "<script" not in html


def test_prefect_artifacts_carry_the_verdict(warehouse):
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.publish import LINK_KEY, MARKDOWN_KEY, TABLE_KEY

    db, _, second = warehouse
    flow_run_id = query(db, f"SELECT flow_run_id FROM runs WHERE run_id = '{second.run_id}'")[0][0]
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(flow_run_id)])))
    by_key = {a.key: a for a in found}
    assert set(by_key) == {TABLE_KEY, MARKDOWN_KEY, LINK_KEY}
    assert "PASSED with 1 warning(s), 1 article(s) quarantined" in by_key[MARKDOWN_KEY].data
    assert "kind allowed" in str(by_key[TABLE_KEY].data)
    assert "file://" in str(by_key[LINK_KEY].data) and "index.html" in str(by_key[LINK_KEY].data)


@pytest.fixture(scope="module")
def browser():
    with chromium("--proxy-bypass-list=<-loopback>") as b:
        yield b


def open_offline(browser, url: str, shot: str):
    """Open a page with the network off; return it and the URLs it tried to fetch from the network."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    attempted: list[str] = []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return page, attempted


def test_report_renders_styled_offline_in_chromium(warehouse, browser):
    _, _, second = warehouse
    page, attempted = open_offline(browser, Path(second.report_path).as_uri(), "report-summary.png")
    text = page.inner_text("body")
    assert "Latest load: Passed, needs attention" in text
    assert "long articles name someone" in text and "kind allowed" in text
    style = page.evaluate("() => { const s = getComputedStyle(document.querySelector('#verdict'));"
                          " return [s.borderLeftColor, s.backgroundColor, s.borderLeftWidth]; }")
    assert style == ["rgb(191, 135, 0)", "rgb(255, 248, 197)", "8px"]  # the amber "attention" card
    assert page.locator("svg.spark").count() == 6
    assert attempted == []
    page.context.close()


def test_data_docs_render_styled_offline_in_chromium(warehouse, browser):
    db, _, second = warehouse
    from expectations.paths import data_docs_path

    page, attempted = open_offline(browser, data_docs_path(db).as_uri(), "data-docs-index.png")
    # The index table is built by bootstrap-table's JavaScript: rows mean the scripts ran.
    page.wait_for_selector("table tbody tr td")
    text = page.inner_text("body")
    for suite in ("articles", "mentions", "quotes", "entities", "warehouse", "run"):
        assert suite in text
    assert second.run_id in text
    # Bootstrap 4's .btn-secondary grey proves the stylesheet loaded from static/vendor.
    colour = page.evaluate("() => getComputedStyle(document.querySelector('.btn-secondary')).backgroundColor")
    assert colour == "rgb(108, 117, 125)"
    assert attempted == []
    page.context.close()

    articles_page = next((data_docs_path(db).parent / "validations" / "articles" / second.run_id).glob("*/*.html"))
    page, attempted = open_offline(browser, articles_page.as_uri(), "data-docs-articles.png")
    text = page.inner_text("body")
    assert "_long_without_mentions" in text and "Failed" in text  # the failed expectation is shown
    assert attempted == []
    page.context.close()


def test_report_command_serves_the_page_on_localhost(warehouse):
    import urllib.request

    db, _, _ = warehouse
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "report", "--db", str(db), "--serve", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        path_line = proc.stdout.readline()
        url_line = proc.stdout.readline()
        assert path_line.strip().endswith("index.html")
        url = url_line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as r:
            assert "Latest load" in r.read().decode()
        with urllib.request.urlopen(url + "gx/uncommitted/data_docs/local_site/index.html", timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# Pure parts.

def test_failing_since_follows_the_streak():
    t = [dt.datetime(2026, 1, d, tzinfo=dt.UTC) for d in (4, 3, 2, 1)]
    runs = pl.DataFrame({"run_id": ["r4", "r3", "r2", "r1"], "started_at": t})
    results = pl.DataFrame({
        "run_id": ["r4", "r3", "r1", "r4", "r3"],
        "table_name": ["quotes"] * 3 + ["articles"] * 2,
        "check_name": ["kind allowed"] * 3 + ["title short"] * 2,
        "success": [False, False, True, True, False],
    })  # r2 stopped before validating: it neither breaks nor extends the streak
    since = failing_since(results, runs)
    assert since == {("quotes", "kind allowed"): ("2026-01-03 00:00 UTC", 2)}


def test_verdicts():
    assert verdict({"status": "failed"}) == "failed"
    assert verdict({"status": "running"}) == "running"
    assert verdict({"status": "completed", "dq_warnings": 0, "files_quarantined": 0}) == "passed"
    assert verdict({"status": "completed", "dq_warnings": 0, "files_quarantined": 2}) == "attention"


def test_sparkline_draws_gaps_and_limits():
    svg = sparkline([1.0, None, 3.0, 5.0], ["a", "b", "c", "d"], "x", bad_above=4)
    assert svg.count("<circle") == 3 and 'class="dot bad"' in svg and 'class="limit"' in svg
    assert "no data yet" in sparkline([None, None], ["a", "b"], "x")


def test_every_cdn_asset_of_the_installed_gx_templates_is_localised():
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    html = "\n".join(p.read_text(encoding="utf-8") for p in templates.glob("*.j2"))
    assert external_assets(localize_html(html, "")) == []
    assert all(url in html for url in CDN_FILES)  # no stale entry either
    assert 'integrity="' not in localize_html(html, "")


def test_long_examples_are_shortened_from_the_middle_so_file_names_stay():
    from expectations.report import _examples

    long = "/data/wire/" + "x" * 150 + "/first.txt repeats /data/wire/" + "y" * 150 + "/second.txt"
    shown = _examples(json.dumps([long, "short"]))
    first, second = shown.split("; ")
    assert first.startswith("/data/wire/") and first.endswith("/second.txt") and "…" in first
    assert len(first) == 200 and second == "short"


def test_after_a_run_with_nothing_to_check_the_report_shows_the_checks_that_stand():
    """A run that found nothing new checks nothing: the report's verdict, attention list and
    checks are those of the last run that checked (not "it stopped before them")."""
    import datetime as dt

    from expectations.report import ReportData, checked_run, render
    from transforms.schema import DQ_RESULTS, QUARANTINE, REJECTED_FILES, RUNS

    t = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    runs = RUNS.conform(pl.DataFrame([
        {"run_id": "idle", "status": "completed", "dq_success": None, "dq_warnings": 0, "seeds_dir": "s",
         "started_at": t + dt.timedelta(hours=1), "finished_at": t + dt.timedelta(hours=1, seconds=2)},
        {"run_id": "loaded", "status": "completed", "dq_success": True, "dq_warnings": 1, "seeds_dir": "s",
         "started_at": t, "finished_at": t + dt.timedelta(seconds=9)},
    ]))
    results = DQ_RESULTS.conform(pl.DataFrame([
        {"run_id": "loaded", "table_name": "warehouse", "check_name": "no duplicated bodies", "success": False,
         "severity": "warning", "column": "", "expectation": "x", "unexpected_count": 3,
         "unexpected_examples": "[]", "evaluated_at": t}]))
    assert checked_run(runs, results) == "loaded" and checked_run(runs.slice(1), results) == "loaded"
    assert verdict(runs.row(0, named=True)) == "passed"  # alone, the idle run would say so
    html = render(ReportData(db_path="w", generated_at=t, runs=runs, results=results, quarantine=QUARANTINE.empty(),
                             rejected=REJECTED_FILES.empty(), data_docs_href="", suite_pages={}))
    assert "nothing new or changed" in html and "no duplicated bodies" in html
    assert "stopped before them" not in html and "Passed, needs attention" in html
