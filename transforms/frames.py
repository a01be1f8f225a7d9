"""A chunk of raw files to the ``articles``, ``mentions``, ``quotes`` and ``rejected_files`` frames.

Pure: bytes and metadata in, Polars frames out. Each file is handled on its own, so one bad
file becomes a ``rejected_files`` row naming the step that failed while the rest of the chunk
goes on. Time spent per stage is returned so the flow can report progress.
"""

from __future__ import annotations

import datetime as dt
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from transforms.context import ExtractionContext, build_context
from transforms.decode import DEFAULT_MAX_BYTES, Rejection, decode_bytes, sha256_hex
from transforms.ids import row_id
from transforms.parse import ParsedArticle, parse_article
from transforms.quotes import Quote, extract_quotes
from transforms.resolve import Resolved, resolve_article
from transforms.schema import ARTICLES, MENTIONS, QUOTES, REJECTED_FILES
from transforms.vocab import (
    BODY,
    DUPLICATE_CONTENT,
    MENTIONS_ERROR,
    NO_BODY,
    PARSE_ERROR,
    QUOTES_ERROR,
    STANDFIRST,
    STEP_DECODE,
    STEP_DEDUPE,
    STEP_MENTIONS,
    STEP_PARSE,
    STEP_QUOTES,
    STEP_READ,
    TITLE,
    TOO_LARGE,
    UNREADABLE,
    RejectReason,
    Step,
)


@dataclass(frozen=True)
class RawFile:
    """A file as read from disk: its path and bytes, or the error that stopped the read."""

    path: str
    data: bytes | None
    error: str | None = None
    reason: RejectReason = UNREADABLE
    size_bytes: int | None = None
    #: what ``os.stat`` said before the read, as ``articles.file_stat`` keeps it (None: the
    #: file had changed too recently for its stat to vouch for these bytes)
    stat: str | None = None


@dataclass
class ChunkFrames:
    articles: pl.DataFrame
    mentions: pl.DataFrame
    quotes: pl.DataFrame
    rejected: pl.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)  # paths loaded before with these very bytes
    #: ``file_stat`` of those of them that stat otherwise than when loaded (see ``RawFile.stat``):
    #: the load records it, so the next run need not read them
    restat: dict[str, str] = field(default_factory=dict)

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
            {path: stat for p in parts for path, stat in p.restat.items()},
        )


def _reject(rows: list[dict], f: RawFile, run_id: str, now: dt.datetime, reason: RejectReason, detail: str,
            step: Step, size: int | None = None, sha: str | None = None) -> None:
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
        "run_id": run_id, "loaded_at": now, "file_stat": f.stat, "body_sha256": sha256_hex(parsed.body.encode()),
    }


class _MentionColumns:
    """The ``mentions`` frame of a chunk, built column by column.

    A chunk has tens of thousands of mentions: appending to one list per column and building
    the frame from them once costs a third of making a dict per row and a row-wise frame.
    """

    def __init__(self) -> None:
        self.cols: dict[str, list] = {name: [] for name in MENTIONS.names}

    def add(self, article_id: str, parsed: ParsedArticle, resolved: list[Resolved], run_id: str) -> None:
        if not resolved:
            return
        c = self.cols
        n = len(resolved)
        c["run_id"].extend([run_id] * n)
        fields, starts, ends, texts, types, names, entity_ids, _ = zip(*resolved, strict=True)
        c["mention_id"].extend(row_id(article_id, f, s, e) for f, s, e in zip(fields, starts, ends, strict=True))
        c["article_id"].extend([article_id] * n)
        c["entity_id"].extend(entity_ids)
        c["text"].extend(texts)
        c["entity_type"].extend(types)
        c["entity_name"].extend(names)
        c["field"].extend(fields)
        c["char_start"].extend(starts)
        c["char_end"].extend(ends)
        block_ends = [b.end for b in parsed.blocks]
        last = max(len(block_ends) - 1, 0)
        c["paragraph_index"].extend(min(bisect_right(block_ends, s), last) if f == BODY else None
                                    for f, s in zip(fields, starts, strict=True))

    def frame(self) -> pl.DataFrame:
        return MENTIONS.frame_from_columns(self.cols)


class _QuoteColumns:
    """The ``quotes`` frame of a chunk, built column by column (see ``_MentionColumns``)."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {name: [] for name in QUOTES.names}

    def add(self, article_id: str, found: list[Quote], run_id: str) -> None:
        c = self.cols
        for q in found:
            c["quote_id"].append(row_id(article_id, q.start, q.end))
            c["article_id"].append(article_id)
            c["run_id"].append(run_id)
            c["char_start"].append(q.start)
            c["char_end"].append(q.end)
            for name in _QUOTE_ATTRIBUTES:
                c[name].append(getattr(q, name))

    def frame(self) -> pl.DataFrame:
        return QUOTES.frame_from_columns(self.cols)


#: The reject reason of an unexpected exception in a step of the extraction (``<step>_error``).
_ERROR_IN: dict[Step, RejectReason] = {STEP_PARSE: PARSE_ERROR, STEP_MENTIONS: MENTIONS_ERROR,
                                       STEP_QUOTES: QUOTES_ERROR}

# quotes columns that are the Quote attribute of the same name
_QUOTE_ATTRIBUTES = ("text", "paragraph_index", "paragraph_count", "speaker", "speaker_entity_id",
                     "speaker_text", "speaker_start", "speaker_end", "cue", "kind", "word_count")


def process_files(files: list[RawFile], run_id: str, now: dt.datetime,
                  max_bytes: int = DEFAULT_MAX_BYTES, known: dict[str, str] | None = None,
                  context: Callable[[], ExtractionContext] = build_context) -> ChunkFrames:
    """Decode, parse and extract mentions and quotes for a chunk of files.

    ``known`` maps source paths to the sha256 they were last loaded with: a file whose bytes
    hash the same is listed in ``unchanged`` and not decoded, parsed or extracted again.
    ``context`` gets the extraction's lexicons and memos, on the first file to extract: the
    flow passes its process's (``flows.lexicon_cache.context``, lexicons restored from a cache
    on disk); the default builds new ones on every call (0.5-1.5 s).
    """
    ctx: ExtractionContext | None = None  # got on the first file to extract: a rerun of unchanged files skips it
    known = known or {}
    unchanged: list[str] = []
    restat: dict[str, str] = {}
    arts: list[dict] = []
    ments = _MentionColumns()
    quotes = _QuoteColumns()
    rejected: list[dict] = []
    seconds: dict[str, float] = defaultdict(float)
    for f in files:
        if f.data is None:
            _reject(rejected, f, run_id, now, f.reason, f.error or "could not be read", STEP_READ, f.size_bytes)
            continue
        t0 = time.perf_counter()
        if f.path in known and len(f.data) <= max_bytes and known[f.path] == sha256_hex(f.data):
            unchanged.append(f.path)
            if f.stat is not None:
                restat[f.path] = f.stat
            continue
        try:
            dec = decode_bytes(f.data, max_bytes)
        except Rejection as exc:
            size = len(f.data)
            _reject(rejected, f, run_id, now, exc.reason, exc.detail, STEP_DECODE, size,
                    None if exc.reason == TOO_LARGE else sha256_hex(f.data))
            continue
        t1 = time.perf_counter()
        seconds["decode"] += t1 - t0
        step: Step = STEP_PARSE
        try:
            parsed = parse_article(dec.text)
            if not parsed.body.strip():
                raise Rejection(NO_BODY, "the file has a title line but no body text")
            t2 = time.perf_counter()
            seconds["parse"] += t2 - t1
            step = STEP_MENTIONS
            if ctx is None:
                ctx = context()
                t2 = time.perf_counter()  # its one-time making is not this article's mentions time
            ents = resolve_article({TITLE: parsed.title, STANDFIRST: parsed.standfirst, BODY: parsed.body}, ctx)
            t3 = time.perf_counter()
            seconds["mentions"] += t3 - t2
            step = STEP_QUOTES
            found = extract_quotes(parsed.body, parsed.blocks, ents)
            seconds["quotes"] += time.perf_counter() - t3
        except Rejection as exc:
            _reject(rejected, f, run_id, now, exc.reason, exc.detail, step, dec.size_bytes, dec.sha256)
            continue
        except Exception as exc:  # a bug or a pathological input must not stop the chunk
            _reject(rejected, f, run_id, now, _ERROR_IN[step], f"{type(exc).__name__}: {exc}", step,
                    dec.size_bytes, dec.sha256)
            continue

        art = article_row(parsed, f, dec.sha256, dec.size_bytes, dec.encoding, dec.fallback, run_id, now)
        arts.append(art)
        ments.add(art["article_id"], parsed, ents.resolved, run_id)
        quotes.add(art["article_id"], found, run_id)
    return ChunkFrames(ARTICLES.frame(arts), ments.frame(), quotes.frame(),
                       REJECTED_FILES.frame(rejected), dict(seconds), unchanged, restat)


def duplicate_rejections(dupes: pl.DataFrame, run_id: str, now: dt.datetime) -> pl.DataFrame:
    """``rejected_files`` rows of articles dropped as copies: ``dupes`` holds each copy's
    article row (``source_path``, ``size_bytes``, ``content_sha256``) and ``kept_path``, the
    path of the copy that stays."""
    return REJECTED_FILES.conform(dupes.select(
        pl.lit(run_id).alias("run_id"), "source_path", pl.lit(DUPLICATE_CONTENT).alias("reason"),
        (pl.lit("same bytes as ") + pl.col("kept_path")).alias("detail"), pl.lit(STEP_DEDUPE).alias("step"),
        "size_bytes", "content_sha256", pl.lit(now).alias("rejected_at"),
    ))


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
    # Only this batch's entries of ``loaded``, which holds every article of the warehouse: a
    # mapping is turned into a frame at each call, and a run calls this once per batch.
    known = {} if not loaded else {a: loaded[a] for a in first.get_column("article_id").to_list() if a in loaded}
    kept_path = pl.col("article_id").replace_strict(known, default=pl.col("source_path"), return_dtype=pl.Utf8)
    keep_map = first.select("article_id", kept_path.alias("kept_path"))
    dupes = arts.join(keep_map, on="article_id").filter(pl.col("source_path") != pl.col("kept_path"))
    if dupes.height == 0:
        return frames
    keep = arts.join(dupes.select("source_path"), on="source_path", how="anti")
    rej = duplicate_rejections(dupes, run_id, now)
    ids = keep.get_column("article_id")
    return ChunkFrames(
        keep,
        frames.mentions.unique(subset="mention_id", keep="first", maintain_order=True)
        .filter(pl.col("article_id").is_in(ids.implode())),
        frames.quotes.unique(subset="quote_id", keep="first", maintain_order=True)
        .filter(pl.col("article_id").is_in(ids.implode())),
        pl.concat([frames.rejected, rej]),
        frames.seconds,
        frames.unchanged,
    )
