"""Throughput of the extraction transforms on one core: mentions, quotes, and the whole chunk.

    .venv/bin/python benchmarks/bench_extract.py [--corpus ../shared/corpus/bbc] [--repeat 3] [--json]

Reads every ``*.txt`` of the corpus once into memory (I/O is not what this measures), then
times, in this single process and best of ``--repeat`` rounds:

* ``mentions``: ``resolve_article`` (find, type and resolve the mentions of title, standfirst, body);
* ``quotes``: ``extract_quotes`` given those mentions;
* ``mentions+quotes``: both, the figure the mention and quote issues ask for;
* ``transform``: ``process_files`` - decode, parse, mentions, quotes and building the frames;
* ``mentions+quotes warm``: the same as ``mentions+quotes`` once the memo of typed name spans
  (``ExtractionContext.spans``, see ``transforms.mentions.span_mentions``) has seen the corpus,
  as in a worker deep into a long run.

Every other round starts with that memo empty, as a fresh worker process does, so the figures
are what the first pass over a corpus costs.

Lexicon loading is a fixed start-up cost and is reported on its own. As in a worker
(``flows.lexicon_cache.context``), the objects made by then are frozen out of the cyclic
garbage collector's reach. Peak RSS is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "bbc"


def best_of(repeat: int, fn, spans: dict, cold: bool = True) -> float:
    """The best time of ``repeat`` calls of ``fn``; ``cold``: each after emptying ``spans``."""
    best = float("inf")
    for _ in range(repeat):
        if cold:
            spans.clear()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    from transforms.native import enable

    enable()  # this process runs the compiled transforms when they match the source, as newsetl's do

    paths = sorted(args.corpus.rglob("*.txt")) if args.corpus.is_dir() else []
    if not paths:
        print(f"no *.txt files under {args.corpus}: the benchmark needs ../shared/corpus/bbc "
              "(or --corpus DIR)", file=sys.stderr)
        return 2

    t = time.perf_counter()
    from transforms.context import build_context
    from transforms.native import describe

    context = build_context()
    gc.freeze()
    lexicon_s = time.perf_counter() - t

    from transforms.decode import decode_bytes
    from transforms.frames import RawFile, process_files
    from transforms.parse import parse_article
    from transforms.quotes import extract_quotes
    from transforms.resolve import resolve_article

    raw = [RawFile(str(p), p.read_bytes()) for p in paths]
    articles = [parse_article(decode_bytes(f.data).text) for f in raw]
    n = len(articles)
    mb = sum(len(f.data) for f in raw) / 1e6
    fields = [{"title": a.title, "standfirst": a.standfirst, "body": a.body} for a in articles]

    def mentions() -> None:
        for f in fields:
            resolve_article(f, context)

    def both() -> None:
        for a, f in zip(articles, fields, strict=True):
            extract_quotes(a.body, a.blocks, resolve_article(f, context))

    now = dt.datetime.now(dt.UTC)

    def transform() -> None:
        process_files(raw, "bench", now, context=lambda: context)

    timings = {name: best_of(args.repeat, fn, context.spans) for name, fn in
               (("mentions", mentions), ("mentions+quotes", both), ("transform", transform))}
    both()
    timings["mentions+quotes warm"] = best_of(args.repeat, both, context.spans, cold=False)
    # Quotes alone need every article's entities at hand. Made last: held during the other
    # stages, their millions of objects would slow every collection of Python's cyclic garbage
    # collector there, a cost no worker pays (it holds one chunk).
    resolved = [resolve_article(f, context) for f in fields]

    def quotes() -> None:
        for a, e in zip(articles, resolved, strict=True):
            extract_quotes(a.body, a.blocks, e)

    timings["quotes"] = best_of(args.repeat, quotes, context.spans)
    timings = {k: timings[k] for k in ("mentions", "quotes", "mentions+quotes", "transform", "mentions+quotes warm")}
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
        "transforms": describe(),
        "corpus": str(args.corpus), "articles": n, "megabytes": round(mb, 2),
        "lexicon_load_s": round(lexicon_s, 3),
        "articles_per_s": {k: round(n / v) for k, v in timings.items()},
        "mb_per_s": {k: round(mb / v, 2) for k, v in timings.items()},
        "ms_per_article": {k: round(v / n * 1000, 3) for k, v in timings.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{n} articles, {mb:.1f} MB from {args.corpus} (one core, best of {args.repeat})")
    print(f"transforms: {result['transforms']}")
    print(f"lexicons loaded once in {lexicon_s:.2f} s")
    print(f"{'stage':<22}{'articles/s':>12}{'MB/s':>8}{'ms/article':>12}")
    for k in timings:
        print(f"{k:<22}{result['articles_per_s'][k]:>12}{result['mb_per_s'][k]:>8}{result['ms_per_article'][k]:>12}")
    print(f"peak RSS {result['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
