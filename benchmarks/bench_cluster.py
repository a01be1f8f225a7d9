"""The flow on a Dask cluster of 1, then 2 workers: what scales and what does not.

    .venv/bin/python benchmarks/bench_cluster.py [--copies 1] [--workers 1 2] [--batch-size 200] [--json]

Each run is a real ``newsetl run --cluster local:N`` over the BBC corpus (copied ``--copies``
times, as bench_flow.py does) into a new warehouse. Printed per N (nothing asserted):

* articles/s over the whole run, and over its distributed phase alone (every batch extracted,
  checked and staged on the workers: ``stage_seconds["batches"]``);
* the workers' CPU seconds per article (extraction, frame checks and staging, from the
  per-batch lines of ``--summary-json``), and the extraction's share of it;
* the committer's serial seconds (run-level checks, the load with its warehouse checks, Data
  Docs, upkeep), per article and in total, and the run's fixed start-up (flow seconds minus both);
* the scaling of the distributed phase from 1 to N workers.

These are the inputs of the model in docs/scaling.md (Amdahl's law: the workers' share
divides by N, the committer's does not). This machine has 2 cores: 2 workers is its ceiling,
and the flow's own process shares those cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_flow import DEFAULT_CORPUS, build_corpus, run_flow

EXTRACTION = ("cpu_decode", "cpu_parse", "cpu_mentions", "cpu_quotes")
COMMITTER = ("gate", "load", "docs", "upkeep")


def measure(seeds: Path, db: Path, workers: int, batch_size: int) -> dict:
    """One cluster run of ``workers`` local workers, and what it says about the cost model."""
    chunk = str(max(1, min(batch_size, 50)))  # batches are made of whole chunks: keep them the size asked
    r = run_flow(seeds, db, None, ["--cluster", f"local:{workers}", "--batch-size", str(batch_size),
                                   "--chunk-size", chunk])
    summary = json.loads(db.with_suffix(".summary.json").read_text())
    batches = summary["batches"]
    articles = sum(b["articles"] for b in batches) or 1
    stages = summary["stage_seconds"]
    worker_cpu = sum(b["cpu_seconds"] for b in batches)
    extraction_cpu = sum(stages.get(k, 0.0) for k in EXTRACTION)
    serial = sum(stages.get(k, 0.0) for k in COMMITTER)
    distributed = stages.get("batches", 0.0)
    return {
        "workers": workers, "articles": articles, "batches": len(batches),
        "used_workers": len({b["worker"] for b in batches}),
        "wall_s": round(r["wall_s"], 2), "flow_s": summary["seconds"],
        "articles_per_s": round(articles / r["wall_s"], 1),
        "distributed_s": distributed, "distributed_articles_per_s": round(articles / max(distributed, 1e-9), 1),
        "worker_cpu_ms_per_article": round(1000 * worker_cpu / articles, 3),
        "extraction_cpu_ms_per_article": round(1000 * extraction_cpu / articles, 3),
        "committer_s": round(serial, 2), "committer_ms_per_article": round(1000 * serial / articles, 3),
        "fixed_s": round(summary["seconds"] - distributed - serial, 2),
        "peak_tree_mb": round(r["peak_tree_mb"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch-size", type=int, default=200, help="files per batch (a Dask task each)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--predict", type=int, nargs="+", default=[1, 2, 4, 16, 64],
                    help="worker counts the model predicts for (default %(default)s)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsetl-bench-cluster-"))
    try:
        files, size = build_corpus(args.corpus, work / "seeds", args.copies)
        print(f"corpus: {files} files, {size / 1e6:.1f} MB; batches of {args.batch_size} files", file=sys.stderr)
        rows = [measure(work / "seeds", work / f"w{n}.ducklake", n, args.batch_size) for n in args.workers]
        base = rows[0]["distributed_s"]
        for row in rows:
            row["distributed_speedup"] = round(base / max(row["distributed_s"], 1e-9), 2)
        model = predict(rows[0], args.predict)
        if args.json:
            print(json.dumps({"runs": rows, "model": model}, indent=1))
            return
        for row in rows:
            print(f"{row['workers']} worker(s): {row['articles']} articles in {row['batches']} batches "
                  f"(on {row['used_workers']} worker(s)); {row['articles_per_s']} articles/s over the run "
                  f"({row['wall_s']} s wall)")
            print(f"  distributed phase {row['distributed_s']} s = {row['distributed_articles_per_s']} articles/s, "
                  f"x{row['distributed_speedup']} against {rows[0]['workers']} worker(s)")
            print(f"  workers' CPU {row['worker_cpu_ms_per_article']} ms/article (extraction "
                  f"{row['extraction_cpu_ms_per_article']}); committer {row['committer_s']} s = "
                  f"{row['committer_ms_per_article']} ms/article; fixed {row['fixed_s']} s; "
                  f"peak {row['peak_tree_mb']} MB")
        print(f"model (Amdahl, from the {rows[0]['workers']}-worker run): w = {model['w_ms']} ms of worker CPU per "
              f"article, s = {model['s_ms']} ms of committer per article, F = {model['F_s']} s per run")
        for n, per_s in model["articles_per_s"].items():
            print(f"  {n:>3} workers: {per_s} articles/s for a run of {model['run_articles']:,} articles")
        print(f"  ceiling (the committer alone): {model['ceiling_articles_per_s']} articles/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def predict(base: dict, workers: list[int], run_articles: int = 100_000) -> dict:
    """Articles/s of a run of ``run_articles`` on N workers: T(N) = F + A*s + A*w/N, with w the
    workers' CPU per article, s the committer's serial seconds per article and F the fixed
    seconds per run, all measured by the run ``base`` (docs/scaling.md)."""
    w = base["worker_cpu_ms_per_article"] / 1000
    s = base["committer_ms_per_article"] / 1000
    f = base["fixed_s"]
    a = run_articles
    return {"w_ms": round(w * 1000, 3), "s_ms": round(s * 1000, 3), "F_s": f, "run_articles": a,
            "articles_per_s": {n: round(a / (f + a * s + a * w / n)) for n in workers},
            "ceiling_articles_per_s": round(1 / s) if s else None}


if __name__ == "__main__":
    main()
