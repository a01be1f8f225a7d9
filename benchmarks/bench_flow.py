"""End-to-end benchmark: the real ``newsetl run`` over a scaled copy of the BBC corpus.

    .venv/bin/python benchmarks/bench_flow.py [--copies 10] [--workers 1 2] [--keep DIR] [--json]

Builds the scaled corpus in a temporary folder: ``--copies`` copies of ``../shared/corpus/bbc``
(2,095 articles each), every copy after the first given one extra closing line so no file is
a duplicate of another (duplicates would be rejected, not processed). Then, for each worker
count, runs ``newsetl run`` in a fresh process on an empty warehouse and reports:

* articles/s overall, excluding the fixed start-up (flow seconds as the run measures them);
* wall time including start-up, MB/s of input, peak RSS of the run's process (``wait4``:
  the largest single process) and of its whole process tree (flow, workers and the Prefect
  server it starts, sampled from /proc every 0.2 s);
* seconds per stage (extract wall; decode/parse/mentions/quotes CPU summed over workers;
  validate, load, Data Docs);
* the fixed start-up: ``newsetl run`` on the single seed article, wall minus flow time;
* CPU seconds by process (the run's own, the extraction workers, Prefect's server): where the
  machine's two cores went, the profile that says which process to make cheaper;
* a no-change rerun over the same files into the last warehouse (what a schedule mostly does).

The Prefect temporary server is part of every run's start-up (it is what a user pays). Nothing
here asserts a time: it measures and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "bbc"
NEWSETL = [sys.executable, "-m", "flows.cli"]


def build_corpus(src: Path, dest: Path, copies: int) -> tuple[int, int]:
    """Write ``copies`` copies of every ``*.txt`` of src under dest; returns (files, bytes)."""
    files = sorted(src.rglob("*.txt"))
    n = size = 0
    for k in range(copies):
        out = dest / f"copy{k:02d}"
        out.mkdir(parents=True, exist_ok=True)
        for f in files:
            data = f.read_bytes()
            if k:
                data = data.rstrip() + f"\n\nArchive copy {k}.\n".encode()
            (out / f.name).write_bytes(data)
            n += 1
            size += len(data)
    return n, size


def _tree(root: int) -> dict[int, tuple[float, float]]:
    """pid -> (resident MB, CPU seconds so far) of a process and all its descendants (the
    worker pool, the Prefect server), from /proc."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[float, float]] = {}
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(d.name))  # ppid
            # rss pages; utime + stime ticks
            stats[int(d.name)] = (int(fields[21]) * page / 2**20, (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, IndexError, ValueError):
            continue
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = stats[pid]
        todo += children.get(pid, [])
    return out


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "flow"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    return "server" if b"uvicorn" in cmd else "workers" if b"spawn_main" in cmd else "other"


class TreeSampler(threading.Thread):
    """Samples the process tree every 0.2 s: its total RSS (the peak a machine must have) and
    each process's CPU time, summed by role at the end (the run's own process, the extraction
    workers, Prefect's server). CPU time of a process that ends between two samples is counted
    up to its last sample."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.stop = pid, 0.0, threading.Event()
        self.cpu: dict[int, float] = {}
        self.roles: dict[int, str] = {}

    def run(self) -> None:
        while not self.stop.wait(0.2):
            tree = _tree(self.pid)
            self.peak_mb = max(self.peak_mb, sum(mb for mb, _ in tree.values()))
            for pid, (_, cpu) in tree.items():
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)
                if pid not in self.roles:
                    self.roles[pid] = _role(pid, self.pid)

    def cpu_by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, cpu in self.cpu.items():
            role = self.roles.get(pid, "other")
            out[role] = round(out.get(role, 0.0) + cpu, 1)
        return out


def run_flow(seeds: Path, db: Path, workers: int | None, extra: list[str] | None = None) -> dict:
    """One ``newsetl run`` in its own process: its summary, wall seconds, peak RSS of the run's
    process (``wait4``) and of its whole process tree (sampled)."""
    summary_path = db.with_suffix(".summary.json")
    cmd = [*NEWSETL, "run", "--seeds", str(seeds), "--db", str(db), "--summary-json", str(summary_path)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    cmd += extra or []
    t = time.perf_counter()
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errfile)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        sampler.stop.set()
        sampler.join()
        errfile.seek(0)
        err = errfile.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"newsetl run failed:\n{err[-3000:]}")
    summary = json.loads(summary_path.read_text())
    peak_mb = usage.ru_maxrss / 1024  # KB on Linux
    cpu = sampler.cpu_by_role()
    cpu["flow"] = round(usage.ru_utime + usage.ru_stime - sum(v for k, v in cpu.items() if k != "flow"), 1)
    return {"wall_s": wall, "flow_s": summary["seconds"], "peak_rss_mb": peak_mb,
            "peak_tree_mb": sampler.peak_mb, "cpu_s": cpu, "stages": summary["stage_seconds"],
            "loaded": summary["files_loaded"], "rejected": summary["files_rejected"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--keep", type=Path, help="build the corpus and warehouses here and keep them")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--batch-size", type=int, help="passed to newsetl run --batch-size")
    ap.add_argument("--no-seed", action="store_true", help="skip the start-up measurement on the seed article")
    args = ap.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="newsetl-bench-"))
    try:
        t = time.perf_counter()
        n, size = build_corpus(args.corpus, base / "corpus", args.copies)
        print(f"corpus: {n:,} files, {size / 1e6:.1f} MB in {base / 'corpus'} ({time.perf_counter() - t:.1f} s)",
              file=sys.stderr)
        seed = ({"wall_s": float("nan"), "flow_s": 0.0} if args.no_seed
                else run_flow(ROOT / "seeds", base / "seed.ducklake", 1))
        startup = seed["wall_s"] - seed["flow_s"]
        extra = ["--batch-size", str(args.batch_size)] if args.batch_size else []
        from transforms.native import describe  # how the runs' processes will load the transforms
        results = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                              f"Python {platform.python_version()}",
                   "transforms": describe(),
                   "articles": n, "mb": size / 1e6, "startup_s": startup, "seed_wall_s": seed["wall_s"], "runs": {}}
        for w in args.workers:
            r = run_flow(base / "corpus", base / f"w{w}.ducklake", w, extra)
            r["articles_per_s"] = r["loaded"] / r["flow_s"]
            r["mb_per_s"] = size / 1e6 / r["flow_s"]
            results["runs"][w] = r
        # A rerun over the same files: nothing changed, nothing to load (what an hourly
        # schedule mostly does).
        last = args.workers[-1]
        results["rerun"] = run_flow(base / "corpus", base / f"w{last}.ducklake", last, extra)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"machine: {results['machine']}")
    print(f"transforms: {results['transforms']}")
    print(f"input: {n:,} articles, {size / 1e6:.1f} MB ({args.copies} x {args.corpus.name})")
    if args.no_seed:
        print("fixed start-up: not measured (--no-seed)")
    else:
        print(f"fixed start-up of newsetl run (seed article: wall {seed['wall_s']:.1f} s"
              f" - flow {seed['flow_s']:.1f} s): {startup:.1f} s")
    stages = sorted({k for r in results["runs"].values() for k in r["stages"]})
    head = (f"{'workers':>7} {'articles/s':>10} {'MB/s':>6} {'flow s':>7} {'wall s':>7} {'peak RSS MB':>11} "
            f"{'tree MB':>8}  stages (s)")
    print(head)
    for w, r in results["runs"].items():
        st = ", ".join(f"{k} {r['stages'][k]:.1f}" for k in stages if k in r["stages"])
        print(f"{w:>7} {r['articles_per_s']:>10,.0f} {r['mb_per_s']:>6.2f} {r['flow_s']:>7.1f} {r['wall_s']:>7.1f} "
              f"{r['peak_rss_mb']:>11,.0f} {r['peak_tree_mb']:>8,.0f}  {st}")
    # Where the machine's time went: CPU seconds of the whole run (start-up included) by process.
    print("CPU seconds, start-up included (flow: the run's own process, with GX and the load; "
          "workers: extraction; server: Prefect's):")
    for w, r in results["runs"].items():
        cpu = r["cpu_s"]
        total = sum(cpu.values())
        parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
        print(f"{w:>7} workers: {total:.1f} s ({parts}); {total / r['wall_s'] / (os.cpu_count() or 1):.0%} "
              f"of {os.cpu_count()} cores over the wall time")
    rr = results["rerun"]
    print(f"no-change rerun ({args.workers[-1]} workers): flow {rr['flow_s']:.1f} s, wall {rr['wall_s']:.1f} s, "
          f"{rr['loaded']} loaded; stages: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(rr["stages"].items())))


if __name__ == "__main__":
    main()
