"""Many small incremental runs: does the lake stay small? (file count and bytes over time)

    .venv/bin/python benchmarks/bench_upkeep.py [--runs 200] [--retention '7 days'] [--grace 600]

Runs the real flow ``--runs`` times in this process on one lake, each run adding one new BBC
article to the seeds folder (the shape of an hourly schedule on a quiet wire), with the lake's
upkeep as every run does it (warehouse/upkeep.py) and ``newsetl compact`` every
``--compact-every`` runs (as a nightly job would). Every 20 runs it prints: the data files a
kept snapshot needs, the Parquet files and bytes on disk, the catalog's bytes, the snapshots
kept, and the flow's seconds for the last run. ``--retention`` / ``--grace`` set
NEWSETL_SNAPSHOT_RETENTION / NEWSETL_FILE_GRACE_SECONDS (default: the product's defaults).
Asserts nothing: it measures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "bbc"


def disk(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*.parquet") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--retention", help="NEWSETL_SNAPSHOT_RETENTION, e.g. '7 days' or '1 minute'")
    ap.add_argument("--grace", type=float, help="NEWSETL_FILE_GRACE_SECONDS")
    ap.add_argument("--every", type=int, default=20)
    ap.add_argument("--compact-every", type=int, default=20,
                    help="run `newsetl compact` every N runs, as a nightly job would (0: never)")
    args = ap.parse_args()
    if args.retention:
        os.environ["NEWSETL_SNAPSHOT_RETENTION"] = args.retention
    if args.grace is not None:
        os.environ["NEWSETL_FILE_GRACE_SECONDS"] = str(args.grace)
    sys.path.insert(0, str(ROOT))
    from flows.runtime import configure
    from transforms.native import enable

    configure()
    enable()
    from flows.admin import compact
    from flows.pipeline import newsetl_flow
    from warehouse.connection import connect, locate
    from warehouse.upkeep import data_files

    articles = sorted(CORPUS.rglob("*.txt"))[: args.runs]
    base = Path(tempfile.mkdtemp(prefix="newsetl-upkeep-"))
    seeds, db = base / "seeds", base / "news.ducklake"
    seeds.mkdir()
    policy = (os.environ.get("NEWSETL_SNAPSHOT_RETENTION", "default"),
              os.environ.get("NEWSETL_FILE_GRACE_SECONDS", "default"))
    print(f"{args.runs} runs of one new article each; retention {policy[0]}, grace {policy[1]} s")
    print(f"{'run':>4} {'live files':>10} {'parquet on disk':>15} {'MB on disk':>10} {'catalog MB':>10} "
          f"{'snapshots':>9} {'flow s':>7}")
    try:
        for k, src in enumerate(articles, 1):
            shutil.copyfile(src, seeds / src.name)
            t = time.perf_counter()
            newsetl_flow(seeds_dir=str(seeds), db_path=str(db), workers=1)
            took = time.perf_counter() - t
            if args.compact_every and k % args.compact_every == 0:
                compact(locate(str(db)), wait=30)
            if k % args.every == 0 or k == 1:
                con = connect(db, read_only=True)
                try:
                    live, _ = data_files(con)
                    snaps = con.execute("SELECT count(*) FROM lake.snapshots()").fetchone()[0]
                finally:
                    con.close()
                n, size = disk(db.with_suffix(".files"))
                print(f"{k:>4} {live:>10} {n:>15} {size / 1e6:>10.2f} {db.stat().st_size / 1e6:>10.2f} {snaps:>9} "
                      f"{took:>7.2f}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
