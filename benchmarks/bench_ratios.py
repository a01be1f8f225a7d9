"""The ratios of the performance issue, from one invocation: what a run costs beyond its
extraction, how that grows with the warehouse and with time, and what a run with nothing to do
costs.

    .venv/bin/python benchmarks/bench_ratios.py [--copies 10] [--big-copies 48] [--growth-copies N]
        [--growth-repeat 3] [--soak-runs 300] [--json]

Rows (each printed with its parts, nothing asserted):

* **overhead**: CPU seconds of the whole process tree of ``newsetl run --workers 2`` over the
  BBC corpus copied ``--copies`` times, minus a seed-only run's (start-up), minus the
  extraction CPU the run reports (``cpu_decode + cpu_parse + cpu_mentions + cpu_quotes``),
  divided by that extraction CPU;
* **growth**: flow seconds to add 2,095 new articles to that warehouse (or to one of
  ``--growth-copies`` x 2,095 articles), divided by adding the same files to an empty one
  (medians of three, each into a fresh copy of the warehouse);
* **nothing to do**: wall seconds of a no-change rerun of the 2,095 BBC files from the shell,
  divided by their first run's;
* **serve**: in one long-lived process (as ``newsetl serve`` runs the flow), the second run of
  the same 2,095 files against the first;
* **soak**: ``--soak-runs`` consecutive small runs in one long-lived process (each adds 5 new
  articles), with the lake's upkeep (``newsetl compact``) after every ``--soak-compact-every``
  runs, as ``newsetl serve`` schedules it (nightly; hourly runs: every 24): the median flow
  seconds of the last ten runs against those of runs 6 to 15 (wall seconds beside them);
* **memory**: peak resident MB of the process tree at ``--big-copies`` x 2,095 articles.

Scaled corpora are written as ``bench_flow.build_corpus`` does (each copy after the first one
line longer, so no file duplicates another). ``--skip`` leaves rows out (``--skip memory soak``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_flow import DEFAULT_CORPUS, ROOT, build_corpus, run_flow

EXTRACTION = ("cpu_decode", "cpu_parse", "cpu_mentions", "cpu_quotes")
ROWS = ("overhead", "growth", "nothing", "serve", "soak", "memory")

#: Runs the flow repeatedly in one process, as ``newsetl serve`` does; prints one JSON line per run.
LONG_LIVED = r"""
import json, sys, time
from pathlib import Path

if __name__ == "__main__":
    from flows.runtime import configure
    from transforms.native import enable
    configure(); enable()
    from flows.pipeline import newsetl_flow
    seeds, db, runs, add = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    source = sorted(Path(sys.argv[5]).rglob("*.txt")) if add else []
    compact_every = int(sys.argv[6])
    for k in range(runs):
        for j in range(add):  # new articles for this run
            f = source[(k * add + j) % len(source)]
            Path(seeds, f"soak{k:04d}-{j}.txt").write_bytes(f.read_bytes().rstrip() + f"\n\nSoak {k}.{j}.\n".encode())
        t = time.perf_counter()
        s = newsetl_flow(seeds_dir=seeds, db_path=db, workers=1)
        rss_mb = int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20  # pages of 4 KiB
        print(json.dumps({"run": k + 1, "wall_s": time.perf_counter() - t, "flow_s": s.seconds,
                          "loaded": s.files_loaded, "rss_mb": round(rss_mb)}), flush=True)
        if compact_every and (k + 1) % compact_every == 0:  # the served nightly upkeep
            from flows.maintenance import compact_flow
            compact_flow(db_path=db)
"""


def long_lived(seeds: Path, db: Path, runs: int, add: int = 0, source: Path = DEFAULT_CORPUS,
               compact_every: int = 0) -> list[dict]:
    """``runs`` flow runs in one Python process, the lake's upkeep flow after every
    ``compact_every`` (0: never); each run's wall and flow seconds."""
    proc = subprocess.run([sys.executable, "-c", LONG_LIVED, str(seeds), str(db), str(runs), str(add), str(source),
                           str(compact_every)],
                          cwd=ROOT, capture_output=True, text=True, env=None)
    if proc.returncode:
        raise SystemExit(f"long-lived runs failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def growth(corpus: Path, base: Path, articles: int, repeat: int = 3) -> dict:
    """Add the corpus's articles, made new (one more closing line), to the warehouse
    ``base/big.ducklake`` loaded from ``base/big``, then the same files to an empty warehouse:
    the median flow seconds of the one against the other's, ``repeat`` times each (a fresh
    copy of the big warehouse each time: one run alone swings by 5-10% here)."""
    new = base / "new"
    new.mkdir()
    for f in sorted(corpus.rglob("*.txt")):  # 2,095 articles neither warehouse has
        (new / f.name).write_bytes(f.read_bytes().rstrip() + b"\n\nGrowth copy.\n")
    # the new files join the big warehouse's seeds folder (a run adds what is new there)
    shutil.copytree(new, base / "big" / "zz_new")
    parts = [p for p in base.iterdir() if p.name.startswith("big.")]  # the lake, its files, its GX
    bigs, empties = [], []
    for k in range(repeat):
        into = base / f"growth{k}"
        into.mkdir()
        for part in parts:
            (shutil.copytree if part.is_dir() else shutil.copy2)(part, into / part.name)
        bigs.append(run_flow(base / "big", into / "big.ducklake", 2))
        empties.append(run_flow(new, into / "empty.ducklake", 2))
        shutil.rmtree(into)
    big = statistics.median(r["flow_s"] for r in bigs)
    empty = statistics.median(r["flow_s"] for r in empties)
    return {"ratio": big / empty, "warehouse_articles": articles, "repeat": repeat,
            "into_big_flow_s": [r["flow_s"] for r in bigs], "into_empty_flow_s": [r["flow_s"] for r in empties],
            "into_big_load_s": [r["stages"].get("load", 0.0) for r in bigs],
            "into_empty_load_s": [r["stages"].get("load", 0.0) for r in empties],
            "big_stages": bigs[-1]["stages"], "empty_stages": empties[-1]["stages"]}


def extraction_cpu(stages: dict) -> float:
    return sum(stages.get(k, 0.0) for k in EXTRACTION)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--big-copies", type=int, default=48, help="copies for the memory row (48: 100,560 articles)")
    ap.add_argument("--growth-copies", type=int,
                    help="copies in the warehouse the growth row adds to (default --copies; 48: 100,560 articles)")
    ap.add_argument("--growth-repeat", type=int, default=3,
                    help="runs of each kind the growth row takes the median of (one run swings by 10-20%% here)")
    ap.add_argument("--soak-runs", type=int, default=300)
    ap.add_argument("--soak-compact-every", type=int, default=24,
                    help="runs between two upkeeps in the soak (24: hourly runs, nightly upkeep; 0: never)")
    ap.add_argument("--skip", nargs="*", default=[], choices=ROWS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="newsetl-ratios-"))
    out: dict[str, dict] = {}
    try:
        seed = run_flow(ROOT / "seeds", base / "seed.ducklake", 1)
        startup_cpu = sum(seed["cpu_s"].values())
        growth_copies = args.growth_copies or args.copies
        if "overhead" not in args.skip or ("growth" not in args.skip and growth_copies == args.copies):
            n, _ = build_corpus(args.corpus, base / "big", args.copies)
            big = run_flow(base / "big", base / "big.ducklake", 2)
        if "overhead" not in args.skip:
            ext = extraction_cpu(big["stages"])
            total = sum(big["cpu_s"].values())
            out["overhead"] = {"ratio": (total - startup_cpu - ext) / ext, "tree_cpu_s": total,
                               "startup_cpu_s": startup_cpu, "extraction_cpu_s": ext, "articles": n,
                               "cpu_by_process": big["cpu_s"], "stages": big["stages"]}
        if "growth" not in args.skip:
            if growth_copies != args.copies:  # a warehouse of its own size for this row
                n, _ = build_corpus(args.corpus, base / "big", growth_copies)
                run_flow(base / "big", base / "big.ducklake", 2)
            out["growth"] = growth(args.corpus, base, n, args.growth_repeat)
        if "nothing" not in args.skip:
            first = run_flow(args.corpus, base / "bbc.ducklake", 2)
            again = run_flow(args.corpus, base / "bbc.ducklake", 2)
            out["nothing"] = {"ratio": again["wall_s"] / first["wall_s"], "first_wall_s": first["wall_s"],
                              "rerun_wall_s": again["wall_s"], "rerun_flow_s": again["flow_s"],
                              "rerun_stages": again["stages"]}
        if "serve" not in args.skip:
            runs = long_lived(args.corpus, base / "serve.ducklake", 2)
            out["serve"] = {"ratio": runs[1]["wall_s"] / runs[0]["wall_s"], "first_s": runs[0]["wall_s"],
                            "second_s": runs[1]["wall_s"],  # walls: each also waits for Prefect's heartbeat thread
                            "first_flow_s": runs[0]["flow_s"], "second_flow_s": runs[1]["flow_s"]}
        if "soak" not in args.skip and args.soak_runs >= 10:
            seeds = base / "soak"
            seeds.mkdir()
            runs = long_lived(seeds, base / "soak.ducklake", args.soak_runs, add=5, source=args.corpus,
                              compact_every=args.soak_compact_every)
            # medians of ten runs around run 10 and of the last ten: one run alone swings with
            # whatever else the machine does. Flow seconds: a served run's wall also holds
            # Prefect's wait for its heartbeat thread, which sleeps in whole seconds.
            flows = [r["flow_s"] for r in runs]
            walls = [r["wall_s"] for r in runs]
            early, late = statistics.median(flows[5:15]), statistics.median(flows[-10:])
            last = f"runs_{len(flows) - 9}_to_{len(flows)}"
            out["soak"] = {"ratio": late / early, "median_flow_runs_6_to_15_s": early,
                           f"median_flow_{last}_s": late,
                           "wall_ratio": statistics.median(walls[-10:]) / statistics.median(walls[5:15]),
                           "compact_every": args.soak_compact_every,
                           "every_50th_flow_s": [round(w, 2) for w in flows[::50]],
                           "medians_of_25_flow_s": [round(statistics.median(flows[k:k + 25]), 3)
                                                    for k in range(0, len(flows), 25)],
                           "rss_mb_run_10": runs[9]["rss_mb"], "rss_mb_last": runs[-1]["rss_mb"]}
        if "memory" not in args.skip:
            n, _ = build_corpus(args.corpus, base / "huge", args.big_copies)
            huge = run_flow(base / "huge", base / "huge.ducklake", 2)
            out["memory"] = {"peak_tree_mb": huge["peak_tree_mb"], "articles": n, "flow_s": huge["flow_s"]}
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
        return
    targets = {"overhead": "<= 0.5", "growth": "<= 1.15", "nothing": "<= 0.33", "serve": "<= 0.10",
               "soak": "<= 1.2"}
    for row, r in out.items():
        if "ratio" in r:
            print(f"{row:>9}: {r['ratio']:.2f}x (target {targets[row]})  "
                  + ", ".join(f"{k} {v:.1f}" for k, v in r.items() if isinstance(v, float) and k != "ratio"))
        else:
            print(f"{row:>9}: {r['peak_tree_mb']:,.0f} MB at {r['articles']:,} articles (target < 1,500 MB)")


if __name__ == "__main__":
    main()
