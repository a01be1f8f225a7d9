"""CPU instructions per article of the extraction, counted by valgrind: a figure that repeats.

    .venv/bin/python benchmarks/instructions.py [--articles 200] [--corpus ../shared/corpus/bbc]

Wall and process times on this virtual machine swing by about 20% between identical runs,
more than most single changes to the extraction gain or lose. The number of instructions
executed repeats within about 0.5%, so it is what a change to the hot path is judged by
(with ``bench_extract.py`` for the articles/s it stands for).

It runs a small workload twice under ``valgrind --tool=cachegrind --cache-sim=no`` (about
50 times slower than native, so a sample: every fifth BBC article, ``--articles`` of them):
once with no article, once with the sample, and prints the difference per article for

* ``mentions+quotes``: ``resolve_article`` then ``extract_quotes``, from an empty memo;
* ``transform``: ``process_files``, decode to frames.

Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "bbc"
STAGES = ("mentions+quotes", "transform")


def workload(stage: str, corpus: Path, n: int) -> None:
    """The measured work: load lexicons and files, then run ``stage`` over ``n`` articles."""
    import datetime as dt
    import gc

    from transforms.context import build_context
    from transforms.decode import decode_bytes
    from transforms.frames import RawFile, process_files
    from transforms.parse import parse_article
    from transforms.quotes import extract_quotes
    from transforms.resolve import resolve_article

    context = build_context()
    gc.freeze()  # as a worker does once it has its context (flows.lexicon_cache.context)
    paths = sorted(corpus.rglob("*.txt"))[::5][:n]
    raw = [RawFile(str(p), p.read_bytes()) for p in paths]
    if stage == "transform":
        process_files(raw, "bench", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), context=lambda: context)
        return
    articles = [parse_article(decode_bytes(f.data).text) for f in raw]
    for a in articles:
        ents = resolve_article({"title": a.title, "standfirst": a.standfirst, "body": a.body}, context)
        extract_quotes(a.body, a.blocks, ents)


def count(stage: str, corpus: Path, n: int) -> int:
    """Instructions valgrind counts for the whole process running ``workload``."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, __file__, "--run", stage, "--corpus", str(corpus), "--articles", str(n)]
    # A fixed hash seed: string hashing changes dict layouts, and with them the count.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stderr
    found = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if not found:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--articles", type=int, default=200)
    ap.add_argument("--stage", choices=STAGES, action="append", help="default: both")
    ap.add_argument("--run", choices=STAGES, help=argparse.SUPPRESS)  # the measured child process
    args = ap.parse_args(argv)
    if args.run:
        sys.path.insert(0, str(ROOT))
        from transforms.native import enable

        enable()  # the measured process runs the compiled transforms when they match the source
        workload(args.run, args.corpus, args.articles)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    if not any(args.corpus.rglob("*.txt")):
        print(f"no *.txt files under {args.corpus}", file=sys.stderr)
        return 2
    print(f"instructions per article, {args.articles} articles of {args.corpus} (every fifth)")
    for stage in args.stage or STAGES:
        per_article = (count(stage, args.corpus, args.articles) - count(stage, args.corpus, 0)) / args.articles
        print(f"{stage:<18}{per_article / 1e6:>8.2f} M")
    return 0


if __name__ == "__main__":
    sys.exit(main())
