"""Fingerprints of everything newsetl produces, to prove that a refactoring changed nothing.

Two fingerprints, each a SHA-256 per table over its rows in key order, written as NDJSON:

- ``frames``: the frames ``process_files`` builds from the seed article and every devdata
  article (PolNeAR and CoNLL, dev and train), with a fixed run id and clock;
- ``warehouse``: every table of a warehouse the real flow loaded from the BBC corpus, without
  the columns that differ from run to run (run ids, timestamps) and with paths made relative.

``tests/golden.json`` holds the fingerprints of the code as it was when they were last taken;
``tests/test_outputs_unchanged.py`` compares. A change *meant* to alter outputs (a better rule)
retakes them, and says so in its commit::

    .venv/bin/python -m tests.golden --update
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
GOLDEN = Path(__file__).resolve().parent / "golden.json"
#: The article folders whose frames are fingerprinted (besides the seed), relative to shared/.
FRAME_SOURCES = ("devdata/polnear/dev/articles", "devdata/polnear/train/articles",
                 "devdata/conll/dev/articles", "devdata/conll/train/articles")
BBC = SHARED / "corpus" / "bbc"
RUN_ID = "golden"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

#: Row order of each table (its key); columns that change from run to run are left out.
KEYS = {
    "articles": ["article_id"],
    "mentions": ["mention_id"],
    "entities": ["entity_id"],
    "quotes": ["quote_id"],
    "rejected_files": ["source_path"],
    "quarantine": ["table_name", "row_key", "check_name"],
    "dq_results": ["table_name", "check_name"],
}
VOLATILE = {"run_id", "loaded_at", "rejected_at", "quarantined_at", "evaluated_at", "missing_since", "row_json",
            "details", "file_stat"}  # file_stat: the copy's inode and times


def digest(df: pl.DataFrame, key: list[str], root: str = "") -> str:
    """SHA-256 of the frame's stable columns, rows in key order, every path relative to ``root``."""
    df = df.select([c for c in df.columns if c not in VOLATILE])
    if root:  # paths appear in source_path and inside messages (e.g. "a.txt repeats b.txt")
        df = df.with_columns(pl.col(pl.String).str.replace_all(root, "", literal=True))
    df = df.sort(key)
    return f"{df.height}:" + hashlib.sha256(df.write_ndjson().encode()).hexdigest()


def frames_fingerprint() -> dict[str, str]:
    """Per table, the digest of the frames extracted from the seed and the devdata articles."""
    from transforms.frames import RawFile, process_files

    files = [RawFile(f"seeds/{p.name}", p.read_bytes()) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    for src in FRAME_SOURCES:
        files += [RawFile(f"{src}/{p.name}", p.read_bytes()) for p in sorted((SHARED / src).glob("*.txt"))]
    frames = process_files(files, RUN_ID, NOW)
    return {name: digest(getattr(frames, name), KEYS[name] if name != "rejected" else ["source_path"])
            for name in ("articles", "mentions", "quotes", "rejected")}


def warehouse_fingerprint(rows_of) -> dict[str, str]:
    """Per table, the digest of a BBC warehouse; ``rows_of(table)`` returns its rows as a frame."""
    root = str(BBC.resolve()) + "/"
    return {table: digest(rows_of(table), key, root) for table, key in KEYS.items()}


def bbc_warehouse_fingerprint(workdir: Path) -> dict[str, str]:
    """Run the real flow over the BBC corpus into a new warehouse under ``workdir``; fingerprint it."""
    from flows.pipeline import newsetl_flow
    from warehouse.connection import connect

    db = workdir / "bbc.ducklake"
    newsetl_flow(seeds_dir=str(BBC), db_path=str(db))
    con = connect(db, read_only=True)
    try:
        return warehouse_fingerprint(lambda t: con.execute(f"SELECT * FROM {t}").pl())
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help=f"write the fingerprints to {GOLDEN.name}")
    args = ap.parse_args(argv)
    from flows.runtime import configure
    from transforms.native import enable

    configure()
    enable()  # the compiled transforms, as a newsetl process runs them (NEWSETL_PURE_PYTHON=1: the source)
    with tempfile.TemporaryDirectory() as tmp:
        got = {"frames": frames_fingerprint(), "warehouse": bbc_warehouse_fingerprint(Path(tmp))}
    text = json.dumps(got, indent=2, sort_keys=True) + "\n"
    if args.update:
        GOLDEN.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
