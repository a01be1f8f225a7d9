"""newsetl's data-quality report: one page that says whether the latest load is fine.

Data Docs list validation results suite by suite; they do not say "is today's load fine, and if
not, what broke, where, since when". This page does, from the warehouse's own ``runs``,
``dq_results``, ``quarantine`` and ``rejected_files``: the latest verdict, the failing checks
with examples and the run their failure streak began, trend charts of the key checks over the
last runs, what was quarantined or rejected, and links into Data Docs for the details.

Self-contained (inline CSS and SVG, no script, no network) so it renders anywhere, can be
attached to a ticket, and opens from a file or from ``newsetl report --open``.
:func:`render` is pure: it turns a :class:`ReportData` into HTML. Reading that data from the
warehouse and writing the page is the orchestration layer's (``flows.report``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

import polars as pl

from expectations.trend import sparkline, verdict_strip
from transforms.vocab import ARTICLE_SET_ASIDE, COMPLETED, CRITICAL, FAILED, QUARANTINE, SPEAKER_CHECK, WARNING

#: The page runs no script and loads nothing: a value that got through unescaped still could
#: not run or fetch anything (every value is escaped; this is the second line).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
SEVERITY_ORDER = {CRITICAL: 0, QUARANTINE: 1, WARNING: 2}
VERDICT_TITLES = {"passed": "Passed", "attention": "Passed, needs attention", "failed": "Failed",
                  "running": "Unfinished"}


@dataclass(frozen=True)
class ReportData:
    db_path: str
    generated_at: dt.datetime
    runs: pl.DataFrame  # recent runs, newest first (warehouse.history.recent_runs)
    results: pl.DataFrame  # their dq_results rows
    quarantine: pl.DataFrame  # the latest run's quarantined rows
    rejected: pl.DataFrame  # the latest run's rejected files
    data_docs_href: str  # relative link from the report to the Data Docs index
    suite_pages: dict[str, str]  # suite -> relative link to its Data Docs page for the latest run


def verdict(run: dict) -> str:
    """passed, attention (warnings or quarantine), failed, or running (never finished)."""
    if run["status"] == FAILED:
        return "failed"
    if run["status"] != COMPLETED:
        return "running"
    if (run.get("dq_warnings") or 0) or (run.get("files_quarantined") or 0):
        return "attention"
    return "passed"


def idle(run: dict) -> bool:
    """A completed run that found nothing new or changed: it checked nothing (``dq_success``
    NULL), so the checks that stand are those of the last run that did."""
    return run["status"] == COMPLETED and run.get("dq_success") is None


def checked_run(runs: pl.DataFrame, results: pl.DataFrame) -> str:
    """The run whose checks the report shows: the latest, unless it was idle; then the latest
    run that evaluated checks (among ``runs``)."""
    if runs.height == 0:
        return ""
    latest = runs.row(0, named=True)
    if not idle(latest):
        return str(latest["run_id"])
    with_results = set(results["run_id"].to_list())
    return next((r for r in runs["run_id"].to_list() if r in with_results), str(latest["run_id"]))


def failing_since(results: pl.DataFrame, runs: pl.DataFrame) -> dict[tuple[str, str], tuple[str, int]]:
    """For each check failing in the latest run: when its current failure streak began.

    Returns (table, check) -> (start time of the first failing run of the streak, runs in the
    streak). Runs without a result for the check (a run stopped before validating) neither
    break nor extend the streak.
    """
    if runs.height == 0:
        return {}
    order = runs.get_column("run_id").to_list()  # newest first
    started = dict(zip(order, runs.get_column("started_at").to_list(), strict=True))
    latest = order[0]
    outcome: dict[tuple[str, str], dict[str, bool]] = {}
    for r in results.select("run_id", "table_name", "check_name", "success").iter_rows(named=True):
        outcome.setdefault((r["table_name"], r["check_name"]), {})[r["run_id"]] = r["success"]
    since = {}
    for key, by_run in outcome.items():
        if by_run.get(latest, True):
            continue
        first, streak = latest, 0
        for run_id in order:
            if run_id not in by_run:
                continue
            if by_run[run_id]:
                break
            first, streak = run_id, streak + 1
        since[key] = (_when(started[first]), streak)
    return since


def _when(t: dt.datetime | None) -> str:
    return "" if t is None else t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _examples(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        values = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(values, dict):
        return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
    return "; ".join(_clip(_example(v)) for v in values[:5])


def _clip(text: str, limit: int = 200) -> str:
    """Shorten from the middle: the ends of an example (file names) say the most."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + "…" + text[-(limit - head - 1):]


def _example(v: object) -> str:
    """One failing row: its file (or article) first, then the offending values."""
    if not isinstance(v, dict):
        return str(v)
    where = v.get("source_path") or v.get("article_id") or ""
    rest = ", ".join(f"{k}={val}" for k, val in v.items()
                     if k not in ("source_path", "article_id", "mention_id", "quote_id"))
    return f"{Path(str(where)).name}: {rest}" if where else rest


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _badge(severity: str) -> str:
    return f'<span class="badge {escape(severity)}">{escape(severity)}</span>'


def _attention(data: ReportData, latest_id: str) -> str:
    checked = checked_run(data.runs, data.results)
    if checked != latest_id:
        note = (f'<p class="muted">The latest run found nothing new or changed, so it had nothing to check; '
                f'the checks that stand are those of run <code>{escape(checked)}</code>.</p>' if checked else
                '<p class="muted">The latest run found nothing new or changed, so it had nothing to check.</p>')
        return note + (_attention(data, checked) if checked else "")
    rows = data.results.filter((pl.col("run_id") == latest_id) & ~pl.col("success"))
    if rows.height == 0:
        if data.results.filter(pl.col("run_id") == latest_id).height == 0:
            return '<p class="muted">The latest run recorded no data-quality results (it stopped before them).</p>'
        return '<p class="ok-line">Every check of the latest run passed.</p>'
    since = failing_since(data.results, data.runs)
    out = []
    for r in sorted(rows.iter_rows(named=True),
                    key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["table_name"], r["check_name"])):
        start, streak = since.get((r["table_name"], r["check_name"]), ("", 0))
        link = data.suite_pages.get(r["table_name"])
        where = escape(r["table_name"]) + (f' <a href="{escape(link)}">details</a>' if link else "")
        count = r["unexpected_count"]
        out.append([_badge(r["severity"]), where, escape(r["check_name"]),
                    "" if count is None else f"{count:,}", escape(_examples(r["unexpected_examples"])),
                    f"{escape(start)} ({streak} run{'s' if streak != 1 else ''})"])
    return _table(["severity", "table", "check", "unexpected", "examples", "failing since"], out, "attention")


def _trends(runs: pl.DataFrame, results: pl.DataFrame) -> str:
    old_first = runs.reverse()
    labels = [f"{_when(t)} · {rid}" for t, rid in zip(old_first["started_at"], old_first["run_id"], strict=True)]
    speaker = results.filter((pl.col("table_name") == "quotes") & (pl.col("check_name") == SPEAKER_CHECK)
                             & (pl.col("element_count") > 0))
    share = {r["run_id"]: 100.0 * r["unexpected_count"] / r["element_count"] for r in speaker.iter_rows(named=True)}
    ids = old_first["run_id"].to_list()

    def col(name: str) -> list[float | None]:
        return [None if v is None else float(v) for v in old_first[name].to_list()]

    charts = [
        sparkline(col("dq_critical_failures"), labels, "critical failures", bad_above=0),
        sparkline(col("dq_warnings"), labels, "warnings"),
        sparkline(col("files_quarantined"), labels, "articles quarantined", bad_above=0),
        sparkline(col("files_rejected"), labels, "files rejected"),
        sparkline([share.get(i) for i in ids], labels, "quotes without speaker (%)", lambda v: f"{v:.1f} %"),
        sparkline(col("files_loaded"), labels, "articles loaded"),
    ]
    strip = verdict_strip([verdict(r) for r in old_first.iter_rows(named=True)], labels)
    return f'<div class="strip-row">{strip}<span class="muted">oldest → latest</span></div>' \
           f'<div class="charts">{"".join(charts)}</div>'


def _quarantined(q: pl.DataFrame, latest_id: str) -> str:
    if q.height == 0:
        return '<p class="muted">Nothing was quarantined by the latest run.</p>'
    per_file = (q.filter(pl.col("check_name") != ARTICLE_SET_ASIDE)
                .group_by("source_path", maintain_order=True)
                .agg(pl.len().alias("rows"), pl.col("check_name").unique().sort().str.join("; ").alias("checks")))
    rows = [[escape(r["source_path"] or ""), escape(r["checks"]), f"{r['rows']:,}"]
            for r in per_file.head(50).iter_rows(named=True)]
    sql = f"SELECT * FROM quarantine WHERE run_id = '{latest_id}'"
    return (_table(["file", "failed checks", "rows failing"], rows)
            + f'<p class="muted">Every row is kept with its JSON: <code>newsetl sql "{escape(sql)}"</code>. '
              "The files are retried by the next run.</p>")


def _rejected(rej: pl.DataFrame) -> str:
    if rej.height == 0:
        return '<p class="muted">No file was rejected by the latest run.</p>'
    counts = rej.group_by("reason").len().sort("len", descending=True)
    summary = ", ".join(f"{escape(r['reason'])}: {r['len']:,}" for r in counts.iter_rows(named=True))
    rows = [[escape(r["source_path"]), escape(r["reason"]), escape(r["detail"])]
            for r in rej.head(20).iter_rows(named=True)]
    more = f'<p class="muted">… and {rej.height - 20:,} more.</p>' if rej.height > 20 else ""
    return f"<p>{summary}</p>" + _table(["file", "reason", "detail"], rows) + more


def _all_checks(results: pl.DataFrame, latest_id: str, suite_pages: dict[str, str]) -> str:
    latest = results.filter(pl.col("run_id") == latest_id)
    out = []
    for (table,), part in latest.group_by("table_name", maintain_order=True):
        ok = int(part["success"].sum())
        link = suite_pages.get(table)
        rows = [["✔" if r["success"] else "✘", _badge(r["severity"]), escape(r["check_name"]),
                 escape(r["column"]), "" if r["unexpected_count"] is None else f"{r['unexpected_count']:,}"]
                for r in part.sort("success", "check_name").iter_rows(named=True)]
        title = f"{escape(table)}: {ok}/{part.height} passed"
        more = f' · <a href="{escape(link)}">Data Docs</a>' if link else ""
        out.append(f"<details{'' if ok == part.height else ' open'}><summary>{title}</summary>{more}"
                   + _table(["", "severity", "check", "column", "unexpected"], rows, "checks") + "</details>")
    return "".join(out) or '<p class="muted">No results.</p>'


def _runs_table(runs: pl.DataFrame) -> str:
    rows = []
    for r in runs.head(15).iter_rows(named=True):
        v = verdict(r)
        took = (r["finished_at"] - r["started_at"]).total_seconds() if r["finished_at"] else None
        rows.append([escape(_when(r["started_at"])), f'<span class="pill {v}">{escape(VERDICT_TITLES[v])}</span>',
                     f"<code>{escape(r['run_id'])}</code>", "" if took is None else f"{took:.1f} s",
                     *[f"{r[c] or 0:,}" for c in ("files_seen", "files_loaded", "files_rejected",
                                                  "files_quarantined", "dq_critical_failures", "dq_warnings")]])
    return _table(["started", "verdict", "run", "took", "seen", "loaded", "rejected", "quarantined",
                   "critical", "warnings"], rows, "runs")


def render(data: ReportData) -> str:
    """The whole page as one HTML string."""
    if data.runs.height == 0:
        body = '<section class="verdict running"><h1>No run yet</h1><p>Run <code>newsetl run</code>.</p></section>'
    else:
        latest = data.runs.row(0, named=True)
        v = verdict(latest)
        stands = data.runs.filter(pl.col("run_id") == checked_run(data.runs, data.results))
        if idle(latest) and stands.height:  # nothing changed: the verdict of the checks that stand
            v = verdict(stands.row(0, named=True))
        took = (latest["finished_at"] - latest["started_at"]).total_seconds() if latest["finished_at"] else None
        facts = (f"{latest['files_seen'] or 0:,} files seen · {latest['files_loaded'] or 0:,} loaded · "
                 f"{latest['files_skipped'] or 0:,} unchanged · {latest['files_rejected'] or 0:,} rejected · "
                 f"{latest['files_quarantined'] or 0:,} quarantined · {latest['dq_critical_failures'] or 0} critical, "
                 f"{latest['dq_warnings'] or 0} warning(s)")
        error = (f'<pre class="error">{escape(latest["error"])}</pre>' if latest["error"] else "")
        checked = checked_run(data.runs, data.results)
        checks_of = ("the latest run" if checked == latest["run_id"]
                     else f"run <code>{escape(checked)}</code> (the latest had nothing to check)")
        body = f"""
<section class="verdict {v}" id="verdict">
  <h1>Latest load: {escape(VERDICT_TITLES[v])}</h1>
  <p>Run <code>{escape(latest['run_id'])}</code> of {escape(latest['seeds_dir'] or '')}, started
  {escape(_when(latest['started_at']))}{f', took {took:.1f} s' if took is not None else ''}.</p>
  <p>{facts}</p>{error}
</section>
<section id="attention"><h2>What needs attention</h2>{_attention(data, latest['run_id'])}</section>
<section id="trend"><h2>Trend over the last {data.runs.height} run(s)</h2>{_trends(data.runs, data.results)}</section>
<section id="quarantine"><h2>Quarantined</h2>{_quarantined(data.quarantine, latest['run_id'])}</section>
<section id="rejected"><h2>Rejected files</h2>{_rejected(data.rejected)}</section>
<section id="checks"><h2>All checks of {checks_of}</h2>{_all_checks(data.results, checked,
                                                                  data.suite_pages)}</section>
<section id="runs"><h2>Recent runs</h2>{_runs_table(data.runs)}</section>"""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsetl data quality · {escape(Path(data.db_path).name)}</title>
<style>{CSS}</style></head>
<body>
<header><span class="brand">newsetl</span> data-quality report ·
<code>{escape(data.db_path)}</code> · generated {escape(_when(data.generated_at))} ·
<a href="{escape(data.data_docs_href)}">Great Expectations Data Docs</a></header>
<main>{body}</main>
<footer>Severities: <b>critical</b> blocks the load (the warehouse stays as it was), <b>quarantine</b> sets
the failing articles aside in table <code>quarantine</code> and loads the rest, <b>warning</b> loads and
reports. History: <code>newsetl sql "SELECT * FROM dq_status"</code>.</footer>
</body></html>
"""


CSS = """
:root { --ok: #1a7f37; --warn: #bf8700; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 10px 24px; font-size: 14px; }
header a { color: #9ecbff; } header code { color: #d0d7de; }
.brand { font-weight: 700; letter-spacing: .02em; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 32px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 20px; margin: 16px 0; }
h1 { font-size: 24px; margin: 4px 0 8px; } h2 { font-size: 18px; margin: 4px 0 12px; }
.verdict { border-left: 8px solid var(--muted); }
.verdict.passed { border-left-color: var(--ok); background: #dafbe1; }
.verdict.attention { border-left-color: var(--warn); background: #fff8c5; }
.verdict.failed { border-left-color: var(--bad); background: #ffebe9; }
pre.error { white-space: pre-wrap; background: #fff; border: 1px solid var(--line); padding: 8px; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
.badge.critical { background: var(--bad); } .badge.quarantine { background: #8250df; }
.badge.warning { background: var(--warn); }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; color: #fff; }
.pill.passed { background: var(--ok); } .pill.attention { background: var(--warn); }
.pill.failed { background: var(--bad); } .pill.running { background: var(--muted); }
.muted { color: var(--muted); } .ok-line { color: var(--ok); font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; }
figure.trend { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-size: 13px; font-weight: 600; }
.spark .line { fill: none; stroke: #0969da; stroke-width: 2; }
.spark .axis { stroke: var(--line); } .spark .limit { stroke: var(--bad); stroke-dasharray: 4 3; }
.spark .dot { fill: #0969da; } .spark .dot.bad { fill: var(--bad); }
.latest { font-size: 12px; color: var(--muted); }
.strip-row { display: flex; gap: 12px; align-items: center; margin-bottom: 12px; }
details { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
footer { max-width: 1180px; margin: 0 auto; padding: 0 24px 24px; color: var(--muted); font-size: 13px; }
"""
