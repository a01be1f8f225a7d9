"""The ``newsetl`` command line.

Imports are lazy on purpose: ``newsetl sql`` and ``newsetl report`` must start fast, so they
never import Prefect or Great Expectations; only ``newsetl run`` does.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

DEFAULT_DB = str(Path("warehouse") / "news.duckdb")


def _print_summary(s, out=sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    ok = s.status == "completed"
    p("")
    p(f"newsetl run {s.run_id}: {s.status.upper()} in {s.seconds:.1f} s")
    p(f"  seeds:      {s.seeds_dir}")
    p(f"  warehouse:  {s.db_path}")
    p(f"  files:      {s.files_seen} seen, {s.files_loaded} loaded, {s.files_rejected} rejected")
    for note in s.notes:
        p(f"  note:       {note}")
    for path, reason, detail in s.rejected[:10]:
        p(f"    rejected  {path}: {reason} ({detail})")
    if len(s.rejected) > 10:
        p(f"    ... and {len(s.rejected) - 10} more: SELECT * FROM rejected_files WHERE run_id = '{s.run_id}'")
    if s.table_rows:
        rows = ", ".join(f"{k} {v}" for k, v in s.table_rows.items()
                         if k in ("articles", "mentions", "entities", "quotes", "rejected_files"))
        p(f"  rows:       {rows}" + ("" if ok else "  (unchanged: nothing was loaded)"))
    if s.dq_success is not None:
        verdict = "PASSED" if s.dq_success else "FAILED"
        p(f"  data quality: {verdict} - {s.dq_checks} expectations, {s.dq_critical_failures} critical "
          f"failure(s), {len(s.dq_warnings)} warning(s)")
        for w in s.dq_warnings[:10]:
            p(f"    warning   {w}")
    if s.report_path:
        p(f"  report:     {s.report_path}")
    if s.error:
        p(f"  error:      {s.error}")
    if ok:
        db = "" if Path(s.db_path) == Path(DEFAULT_DB).resolve() else f" --db {s.db_path}"
        p(f"  try:        newsetl sql{db} \"SELECT speaker, count(*) AS quotes FROM quotes "
          "GROUP BY ALL ORDER BY quotes DESC LIMIT 10\"")


def cmd_run(args: argparse.Namespace) -> int:
    from flows.pipeline import RunFailed, newsetl_flow

    try:
        summary = newsetl_flow(seeds_dir=args.seeds, db_path=args.db, chunk_size=args.chunk_size)
    except RunFailed as exc:
        _print_summary(exc.summary, sys.stderr)
        return 1
    _print_summary(summary)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.connection import WarehouseLocked, WarehouseUnavailable, connect

    try:
        con = connect(args.db, read_only=True, wait_seconds=args.wait)
    except (WarehouseLocked, WarehouseUnavailable) as exc:
        print(f"newsetl sql: {exc}", file=sys.stderr)
        return 2
    try:
        rel = con.sql(args.query)
        if rel is None:
            return 0
        width = shutil.get_terminal_size((120, 40)).columns
        rel.show(max_width=width, max_rows=args.max_rows)
    except duckdb.Error as exc:
        print(f"newsetl sql: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from expectations.paths import report_path

    path = report_path(args.db)
    if not path.exists():
        print(f"no report yet at {path}: run `newsetl run --db {args.db}` first", file=sys.stderr)
        return 1
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="newsetl", description="Batch ETL for news text into DuckDB.")
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the pipeline over a seeds folder")
    run.add_argument("--seeds", default="seeds", help="folder of *.txt articles, searched recursively")
    run.add_argument("--db", default=DEFAULT_DB, help="DuckDB warehouse file (default %(default)s)")
    run.add_argument("--chunk-size", type=int, default=500, help="files per task (default %(default)s)")
    run.set_defaults(func=cmd_run)

    sql = sub.add_parser("sql", help="run a SQL query against the warehouse (read-only)")
    sql.add_argument("query")
    sql.add_argument("--db", default=DEFAULT_DB)
    sql.add_argument("--max-rows", type=int, default=40)
    sql.add_argument("--wait", type=float, default=5.0, help="seconds to wait for a run holding the file")
    sql.set_defaults(func=cmd_sql)

    rep = sub.add_parser("report", help="print the path of the data-quality report")
    rep.add_argument("--db", default=DEFAULT_DB)
    rep.set_defaults(func=cmd_report)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
