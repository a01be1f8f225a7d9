"""A chunk of raw files to the ``articles``, ``mentions``, ``quotes`` and ``rejected_files`` frames.

Pure: bytes and metadata in, Polars frames out. Each file is handled on its own, so one bad
file becomes a ``rejected_files`` row naming the step that failed while the rest of the chunk
goes on. Time spent per stage is returned so the flow can report progress.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

import polars as pl

from transforms.decode import DEFAULT_MAX_BYTES, Rejection, decode_bytes, sha256_hex
from transforms.ids import stable_id
from transforms.lexicons import load
from transforms.parse import ParsedArticle, parse_article
from transforms.quotes import extract_quotes
from transforms.resolve import resolve_article
from transforms.schema import ARTICLES, MENTIONS, QUOTES, REJECTED_FILES


@dataclass(frozen=True)
class RawFile:
    """A file as read from disk: its path and bytes, or the error that stopped the read."""

    path: str
    data: bytes | None
    error: str | None = None
    reason: str = "unreadable"
    size_bytes: int | None = None


@dataclass
class ChunkFrames:
    articles: pl.DataFrame
    mentions: pl.DataFrame
    quotes: pl.DataFrame
    rejected: pl.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)  # paths loaded before with these very bytes

    @staticmethod
    def concat(parts: list[ChunkFrames]) -> ChunkFrames:
        def cat(frames: list[pl.DataFrame], empty: pl.DataFrame) -> pl.DataFrame:
            frames = [f for f in frames if f.height]
            return pl.concat(frames, how="vertical") if frames else empty

        seconds: dict[str, float] = defaultdict(float)
        for p in parts:
            for k, v in p.seconds.items():
                seconds[k] += v
        return ChunkFrames(
            cat([p.articles for p in parts], ARTICLES.empty()),
            cat([p.mentions for p in parts], MENTIONS.empty()),
            cat([p.quotes for p in parts], QUOTES.empty()),
            cat([p.rejected for p in parts], REJECTED_FILES.empty()),
            dict(seconds),
            [path for p in parts for path in p.unchanged],
        )


def _reject(rows: list[dict], f: RawFile, run_id: str, now: dt.datetime, reason: str, detail: str,
            step: str, size: int | None = None, sha: str | None = None) -> None:
    rows.append({"run_id": run_id, "source_path": f.path, "reason": reason, "detail": detail, "step": step,
                 "size_bytes": size, "content_sha256": sha, "rejected_at": now})


def article_row(parsed: ParsedArticle, f: RawFile, sha: str, size: int, encoding: str, fallback: bool,
                run_id: str, now: dt.datetime) -> dict:
    return {
        "article_id": sha[:16], "source_path": f.path, "content_sha256": sha, "size_bytes": size,
        "encoding": encoding, "encoding_fallback": fallback, "title": parsed.title,
        "publisher": parsed.publisher, "agency": parsed.agency, "dateline": parsed.dateline,
        "standfirst": parsed.standfirst, "body": parsed.body, "body_offset": parsed.body_offset,
        "headings": parsed.headings, "published_at": parsed.published_at,
        "word_count": parsed.word_count, "paragraph_count": len(parsed.blocks),
        "run_id": run_id, "loaded_at": now,
    }


def _paragraph_of(parsed: ParsedArticle, pos: int) -> int:
    for i, b in enumerate(parsed.blocks):
        if pos < b.end or i == len(parsed.blocks) - 1:
            return i
    return 0


def process_files(files: list[RawFile], run_id: str, now: dt.datetime,
                  max_bytes: int = DEFAULT_MAX_BYTES, known: dict[str, str] | None = None) -> ChunkFrames:
    """Decode, parse and extract mentions and quotes for a chunk of files.

    ``known`` maps source paths to the sha256 they were last loaded with: a file whose bytes
    hash the same is listed in ``unchanged`` and not decoded, parsed or extracted again.
    """
    lex = load()
    known = known or {}
    unchanged: list[str] = []
    arts: list[dict] = []
    ments: list[dict] = []
    quotes: list[dict] = []
    rejected: list[dict] = []
    seconds: dict[str, float] = defaultdict(float)
    for f in files:
        if f.data is None:
            _reject(rejected, f, run_id, now, f.reason, f.error or "could not be read", "read", f.size_bytes)
            continue
        t0 = time.perf_counter()
        if f.path in known and len(f.data) <= max_bytes and known[f.path] == sha256_hex(f.data):
            unchanged.append(f.path)
            continue
        try:
            dec = decode_bytes(f.data, max_bytes)
        except Rejection as exc:
            size = len(f.data)
            _reject(rejected, f, run_id, now, exc.reason, exc.detail, "decode", size,
                    None if exc.reason == "too_large" else sha256_hex(f.data))
            continue
        t1 = time.perf_counter()
        seconds["decode"] += t1 - t0
        step = "parse"
        try:
            parsed = parse_article(dec.text)
            if not parsed.body.strip():
                raise Rejection("no_body", "the file has a title line but no body text")
            t2 = time.perf_counter()
            seconds["parse"] += t2 - t1
            step = "mentions"
            ents = resolve_article({"title": parsed.title, "standfirst": parsed.standfirst,
                                    "body": parsed.body}, lex)
            t3 = time.perf_counter()
            seconds["mentions"] += t3 - t2
            step = "quotes"
            found = extract_quotes(parsed.body, parsed.blocks, ents)
            seconds["quotes"] += time.perf_counter() - t3
        except Rejection as exc:
            _reject(rejected, f, run_id, now, exc.reason, exc.detail, step, dec.size_bytes, dec.sha256)
            continue
        except Exception as exc:  # a bug or a pathological input must not stop the chunk
            _reject(rejected, f, run_id, now, f"{step}_error", f"{type(exc).__name__}: {exc}", step,
                    dec.size_bytes, dec.sha256)
            continue

        art = article_row(parsed, f, dec.sha256, dec.size_bytes, dec.encoding, dec.fallback, run_id, now)
        aid = art["article_id"]
        arts.append(art)
        for r in ents.resolved:
            ments.append({
                "mention_id": stable_id(aid, r.field, r.start, r.end), "article_id": aid,
                "entity_id": r.entity_id, "text": r.text, "entity_type": r.entity_type,
                "entity_name": r.name, "field": r.field, "char_start": r.start, "char_end": r.end,
                "paragraph_index": _paragraph_of(parsed, r.start) if r.field == "body" else None,
            })
        for q in found:
            quotes.append({
                "quote_id": stable_id(aid, q.start, q.end), "article_id": aid, "text": q.text,
                "char_start": q.start, "char_end": q.end, "paragraph_index": q.paragraph_index,
                "paragraph_count": q.paragraph_count, "speaker": q.speaker,
                "speaker_entity_id": q.speaker_entity_id, "speaker_text": q.speaker_text,
                "speaker_start": q.speaker_start, "speaker_end": q.speaker_end, "cue": q.cue,
                "kind": q.kind, "word_count": q.word_count,
            })
    return ChunkFrames(ARTICLES.frame(arts), MENTIONS.frame(ments), QUOTES.frame(quotes),
                       REJECTED_FILES.frame(rejected), dict(seconds), unchanged)


def drop_duplicate_articles(frames: ChunkFrames, run_id: str, now: dt.datetime,
                            loaded: dict[str, str] | None = None) -> ChunkFrames:
    """Keep one article per content hash; later copies become ``duplicate_content`` rejections.

    Two paths with byte-identical content are one article: loading both would duplicate every
    mention and quote. The first path in sorted order wins, so reruns choose the same one; an
    article already loaded from another path that still exists (``loaded``: article_id ->
    path) keeps that path.
    """
    arts = frames.articles.sort("source_path")
    first = arts.unique(subset="article_id", keep="first", maintain_order=True)
    kept_path = pl.col("article_id").replace_strict(loaded or {}, default=pl.col("source_path"),
                                                    return_dtype=pl.Utf8)
    keep_map = first.select("article_id", kept_path.alias("kept_path"))
    dupes = arts.join(keep_map, on="article_id").filter(pl.col("source_path") != pl.col("kept_path"))
    if dupes.height == 0:
        return frames
    keep = arts.join(dupes.select("source_path"), on="source_path", how="anti")
    rej = dupes.select(
        pl.lit(run_id).alias("run_id"), "source_path", pl.lit("duplicate_content").alias("reason"),
        (pl.lit("same bytes as ") + pl.col("kept_path")).alias("detail"), pl.lit("dedupe").alias("step"),
        "size_bytes", "content_sha256", pl.lit(now).alias("rejected_at"),
    )
    ids = keep.get_column("article_id")
    return ChunkFrames(
        keep,
        frames.mentions.unique(subset="mention_id", keep="first", maintain_order=True)
        .filter(pl.col("article_id").is_in(ids.implode())),
        frames.quotes.unique(subset="quote_id", keep="first", maintain_order=True)
        .filter(pl.col("article_id").is_in(ids.implode())),
        pl.concat([frames.rejected, REJECTED_FILES.conform(rej)]),
        frames.seconds,
        frames.unchanged,
    )
