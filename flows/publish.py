"""After a run: write the report page and show the verdict in the Prefect UI.

Each run publishes a table artifact (every expectation with its severity and outcome), a
markdown artifact (the verdict, what failed, where the report is) and a link artifact to the
report, all under stable keys so the UI's artifact pages show the history run after run.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

TABLE_KEY = "newsetl-data-quality"
MARKDOWN_KEY = "newsetl-data-quality-summary"
LINK_KEY = "newsetl-data-quality-report"


def verdict_line(summary) -> str:
    """One line a person can act on: PASSED / PASSED WITH WARNINGS / FAILED and the counts."""
    if summary.dq_success is None:
        return f"run {summary.status}: no data-quality verdict ({summary.error or 'stopped before the checks'})"
    extra = []
    if summary.dq_warnings:
        extra.append(f"{summary.dq_warnings} warning(s)")
    if summary.files_quarantined:
        extra.append(f"{summary.files_quarantined} article(s) quarantined")
    if not summary.dq_success:
        return f"FAILED: {summary.dq_critical_failures} critical expectation(s) failed, nothing was loaded"
    return "PASSED" + (f" with {', '.join(extra)}" if extra else f": {summary.dq_checks} expectations met")


def table_rows(dq_rows: pl.DataFrame) -> list[dict]:
    """Failures first, then by table: what the Prefect table artifact lists."""
    ordered = dq_rows.with_columns(pl.col("success").cast(pl.Int8).alias("_ok")).sort("_ok", "table_name", "check_name")
    return [{"result": "passed" if r["success"] else "FAILED", "severity": r["severity"], "table": r["table_name"],
             "check": r["check_name"], "unexpected": r["unexpected_count"] or 0,
             "examples": (r["unexpected_examples"] or "")[:200]}
            for r in ordered.iter_rows(named=True)]


def fenced(text: str) -> list[str]:
    """``text`` as a code block the text cannot close: the error may quote a file name or a
    title, and a run of backticks in it must not end the block and let the rest be read as
    markdown (or HTML) by the Prefect UI."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def markdown(summary, report: Path | None, data_docs: Path | None, failed: list[dict]) -> str:
    lines = [f"# newsetl data quality: {verdict_line(summary)}", "",
             f"Run `{summary.run_id}` · {summary.files_seen} files seen, {summary.files_loaded} loaded, "
             f"{summary.files_rejected} rejected ({summary.files_quarantined} quarantined), "
             f"{summary.files_skipped} unchanged.", ""]
    if failed:
        lines += ["| severity | table | check | unexpected |", "|---|---|---|---|"]
        lines += [f"| {r['severity']} | {r['table']} | {r['check']} | {r['unexpected']} |" for r in failed[:20]]
        lines.append("")
    if summary.error:
        lines += [*fenced(summary.error[:2000]), ""]
    if report is not None:
        db = summary.location.describe()  # without a password: Prefect stores the artifact
        lines.append(f"Report: [{report}]({report.as_uri()}) — or run `newsetl report --open --db {db}`.")
    if data_docs is not None and data_docs.exists():
        lines.append(f"Data Docs: [{data_docs}]({data_docs.as_uri()})")
    return "\n".join(lines)


def publish(summary, dq_rows: pl.DataFrame | None, log) -> None:
    """Write the report page and the Prefect artifacts (for a run that is a Prefect flow run);
    never fails the run (it logs)."""
    from expectations.paths import data_docs_path
    from flows.report import write_report

    report = None
    try:
        report = write_report(summary.location)
        summary.report_path = str(report)
    except Exception as exc:  # the report must not hide the run's own outcome
        log.warning("could not write the data-quality report: %s", exc)
    if not summary.flow_run_id:  # recorded without Prefect (flows/preflight.py): no flow run to attach to
        return
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    try:
        rows = table_rows(dq_rows) if dq_rows is not None and dq_rows.height else []
        failed = [r for r in rows if r["result"] == "FAILED"]
        if rows:
            create_table_artifact(table=rows, key=TABLE_KEY, description=verdict_line(summary))
        create_markdown_artifact(markdown=markdown(summary, report, data_docs_path(summary.location.local), failed),
                                 key=MARKDOWN_KEY, description=verdict_line(summary))
        if report is not None:
            create_link_artifact(link=report.as_uri(), link_text="data-quality report", key=LINK_KEY,
                                 description=verdict_line(summary))
    except Exception as exc:
        log.warning("could not publish the Prefect artifacts: %s", exc)
