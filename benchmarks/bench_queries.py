"""The example queries of docs/querying.md on the lake, against the same data in one DuckDB file.

    .venv/bin/python benchmarks/bench_flow.py --copies 10 --workers 2 --keep /tmp/bench   # a 21k lake
    .venv/bin/python benchmarks/bench_queries.py --db /tmp/bench/w2.ducklake [--repeat 5]

Exports the lake's current snapshot to a DuckDB file (``newsetl export``), then times every
```sql block of "Asking questions" on both: a warm-up, then the median of ``--repeat`` runs,
each on its own connection opened read-only beforehand (opening is timed apart). Prints the
seconds and the lake / file ratio per query, and the sizes on disk. Asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.admin import export  # noqa: E402
from warehouse.connection import connect, locate  # noqa: E402


def doc_queries() -> list[str]:
    text = (ROOT / "docs" / "querying.md").read_text(encoding="utf-8")
    section = text[text.index("## Asking questions"):]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def timed(open_con, sql: str, repeat: int) -> float:
    con = open_con()
    try:
        con.execute(sql).fetchall()  # warm-up: the files in the OS cache, the catalog read
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            runs.append(time.perf_counter() - t)
        return statistics.median(runs)
    finally:
        con.close()


def size_of(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="the lake's catalog (a path or postgresql:// URL)")
    ap.add_argument("--data-path")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    loc = locate(str(Path(args.db).resolve()) if "://" not in args.db else args.db, args.data_path)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "news.duckdb"
        t = time.perf_counter()
        export(loc, file)
        print(f"exported to one DuckDB file in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        connect(loc, read_only=True).close()
        print(f"opening the lake: {time.perf_counter() - t:.2f} s (extensions loaded, catalog attached)")
        lake_mb = (size_of(loc.catalog) + size_of(Path(loc.files or ""))) / 1e6 if not loc.is_postgres else None
        print(f"on disk: lake {lake_mb:.0f} MB (catalog + Parquet), DuckDB file {size_of(file) / 1e6:.0f} MB")
        print(f"{'query':<6} {'lake s':>8} {'file s':>8} {'lake/file':>9}")
        ratios = []
        for k, sql in enumerate(doc_queries(), 1):
            lake = timed(lambda: connect(loc, read_only=True), sql, args.repeat)
            one = timed(lambda f=file: duckdb.connect(str(f), read_only=True), sql, args.repeat)
            ratios.append(lake / one)
            print(f"{k:<6} {lake:>8.3f} {one:>8.3f} {lake / one:>9.2f}")
        print(f"median lake/file ratio {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")


if __name__ == "__main__":
    main()
