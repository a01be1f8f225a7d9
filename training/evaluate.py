"""In-process scoring of the extraction against the shared gold data, and k-fold splits.

Runs ``transforms.frames.process_files`` over an ``articles/`` folder and scores the frames
with the very functions of ``../shared/tools/score.py`` (imported, not copied), so numbers
match ``score.py`` on a warehouse loaded from the same folder.

    .venv/bin/python -m training.evaluate polnear dev          # quotes and speakers
    .venv/bin/python -m training.evaluate conll dev            # mentions
    .venv/bin/python -m training.evaluate polnear train --cv   # per fold of the 5-fold split
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEVDATA = SHARED / "devdata"
SCORE_PY = SHARED / "tools" / "score.py"
#: Folds of the cross-validation: by article, fixed by this seed (see ``folds``).
FOLDS = 5
SEED = "newsetl-cv-1"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def score_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("newsetl_score", SCORE_PY)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{SCORE_PY} not found: the shared tools are needed to score")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fold_of(name: str, k: int = FOLDS, seed: str = SEED) -> int:
    """The fold of an article: a hash of seed and file name, so splits never move."""
    return int(hashlib.sha256(f"{seed}:{name}".encode()).hexdigest(), 16) % k


def articles(corpus: str, split: str) -> list[Path]:
    return sorted((DEVDATA / corpus / split / "articles").glob("*.txt"))


def load_gold(corpus: str, split: str) -> dict[str, dict]:
    with open(DEVDATA / corpus / split / "gold.jsonl", encoding="utf-8") as fh:
        return {g["file"]: g for g in map(json.loads, fh)}


class Rows:
    """Stands in for score.py's Warehouse: ``rows(sql)`` answers the two queries it makes."""

    def __init__(self, quotes: list[dict], mentions: list[dict]):
        self.quotes, self.mentions = quotes, mentions

    def rows(self, sql: str) -> list[dict]:
        return self.quotes if "FROM quotes" in sql else self.mentions


def extract(paths: list[Path]) -> Rows:
    """Run the extraction over files; the rows score.py reads from a warehouse."""
    from transforms.frames import RawFile, drop_duplicate_articles, process_files

    # as the flow loads them: a file with the same bytes as one before it (sorted) is dropped
    frames = drop_duplicate_articles(process_files([RawFile(str(p), p.read_bytes()) for p in paths], "eval", NOW),
                                     "eval", NOW)
    src = dict(zip(frames.articles["article_id"], frames.articles["source_path"], strict=True))
    quotes = [{"source_path": src[r["article_id"]], **r} for r in
              frames.quotes.select("article_id", "text", "speaker", "speaker_text").iter_rows(named=True)]
    mentions = [{"source_path": src[r["article_id"]], **r} for r in
                frames.mentions.select("article_id", "text", "entity_type").iter_rows(named=True)]
    return Rows(quotes, mentions)


def score(corpus: str, rows: Rows, gold: dict[str, dict]) -> dict:
    sc = score_module()
    if corpus == "polnear":
        return sc.score_quotes(rows, gold)
    return sc.score_mentions(rows, gold, False)


def evaluate(corpus: str, split: str, cv: bool = False) -> list[dict]:
    paths = articles(corpus, split)
    gold = load_gold(corpus, split)
    rows = extract(paths)
    if not cv:
        return [score(corpus, rows, gold)]
    out = []
    for k in range(FOLDS):
        g = {n: v for n, v in gold.items() if fold_of(n) == k}
        out.append(score(corpus, rows, g))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", choices=["polnear", "conll"])
    ap.add_argument("split", choices=["dev", "train"])
    ap.add_argument("--cv", action="store_true", help="score each of the 5 folds of the split")
    a = ap.parse_args(argv)
    res = evaluate(a.corpus, a.split, a.cv)
    for r in res:
        print(r["summary"])
    if a.cv:
        key = ("speaker_accuracy", "f1", "precision") if a.corpus == "polnear" else ()
        if key:
            print("mean " + ", ".join(f"{k} {sum(r[k] for r in res) / len(res):.4f}" for k in key))
        else:
            for t in ("PER+ORG+LOC", "ORG"):
                print(f"mean {t} F1 {sum(r[t]['f1'] for r in res) / len(res):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
