"""Plain-text wire copy to a structured article: title, publisher, standfirst, dateline, body.

The layout news files share (the seed is an example)::

    Title on the first line

    Publisher line            (optional, short: "Dunya News")

    Standfirst paragraph(s)   (optional, only recognisable when a dateline follows)

    WASHINGTON (AFP) - First paragraph of the body ...

    A subheading              (short line between paragraphs: kept as a heading)

``body`` is an exact slice of the (newline-normalised) file from its first block to the end,
so every offset into it is true; headings stay inside it and are listed in ``headings``.
Nothing is ever dropped: a file without a title line keeps its first paragraph in the body.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Final

# A block is a run of non-blank lines; blocks are separated by one or more blank lines.
_BLOCK: Final = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")

_MONTHS: Final = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH_RE: Final = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.?"
_CAPS_WORD: Final = r"[A-Z][A-Z'.\-]*[A-Z.]"

_DATELINE: Final = re.compile(
    rf"""
    (?P<place>{_CAPS_WORD}(?:[ ]{_CAPS_WORD})*)                 # WASHINGTON, LOS ANGELES, ST. LOUIS
    (?:,[ ](?P<region>[A-Z][a-z]+\.?(?:[ ][A-Z][a-z]+\.?)?))?   # , Calif.
    (?:,?[ ](?P<date>{_MONTH_RE}[ ]\d{{1,2}}(?:,[ ]\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}))?
    [ ]*(?:\((?P<agency>[A-Za-z][A-Za-z .&\-]{{0,30}}?)\))?
    [ ]*(?:(?P<sep>[-–—]{{1,2}})[ ]+|$)
    """,
    re.VERBOSE,
)
_TERMINAL: Final = tuple(".!?:;,\"”’')]")
_QUOTE_OPEN: Final = tuple("\"“‘'")
_HEADER_WORD: Final = re.compile(r"^[A-Z0-9][\w'’.&-]*$|^(?:of|the|and|for|&|de|la|du)$")


@dataclass(frozen=True)
class Block:
    """A paragraph or heading of the body, as offsets into ``body``."""

    start: int
    end: int
    is_heading: bool = False


@dataclass
class ParsedArticle:
    title: str | None
    publisher: str | None
    standfirst: str | None
    dateline: str | None
    agency: str | None
    published_at: dt.date | None
    body: str
    body_offset: int
    blocks: list[Block] = field(default_factory=list)

    @property
    def headings(self) -> list[str]:
        return [self.body[b.start:b.end] for b in self.blocks if b.is_heading]

    @property
    def word_count(self) -> int:
        # what len(re.findall(r"\S+", body)) counts (str.split splits at the same Unicode
        # whitespace), five times faster
        return len(self.body.split())


@dataclass(frozen=True)
class Dateline:
    place: str
    agency: str | None
    published_at: dt.date | None
    length: int  # characters of the block the dateline takes, separator included


#: Lines this long on average are paragraphs of their own, not a hard-wrapped paragraph.
PARAGRAPH_LINE_CHARS: Final = 80


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    seg = text[start:end]
    return start + len(seg) - len(seg.lstrip()), end - (len(seg) - len(seg.rstrip()))


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: runs of lines between blank lines; in files that put one paragraph on
    each line with no blank line between (common in web exports), each long line."""
    out = []
    for m in _BLOCK.finditer(text):
        start, end = _trimmed(text, m.start(), m.end())
        lines = text[start:end].split("\n")
        if len(lines) > 1 and sum(map(len, lines)) / len(lines) >= PARAGRAPH_LINE_CHARS:
            pos = start
            for line in lines:
                if line.strip():
                    out.append(_trimmed(text, pos, pos + len(line)))
                pos += len(line) + 1
        else:
            out.append((start, end))
    return out


def _is_single_line(s: str) -> bool:
    return "\n" not in s


def _parse_date(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return dt.date.fromisoformat(raw)
        m = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2}),\s+(\d{4})", raw)
        if m:
            name = m.group(1).lower()
            month = _MONTHS.get(name[:4] if name.startswith("sept") else name[:3])
            if month:
                return dt.date(int(m.group(3)), month, int(m.group(2)))
    except ValueError:
        return None
    return None


def match_dateline(block: str) -> Dateline | None:
    """Recognise a dateline opening ``block``: "WASHINGTON (AFP) - ", "LONDON 1996-08-30", ...

    A place in capitals must be followed by a dash separator and prose that is not itself in
    capitals (so "CRICKET - COUNTY SCORES" is not a dateline), or stand alone on its line
    with a date or agency (CoNLL's "LONDON 1996-08-30").
    """
    m = _DATELINE.match(block)
    if not m or len(m.group("place").replace(" ", "")) < 2:
        return None
    place = m.group("place")
    if m.group("region"):
        place = f"{place}, {m.group('region')}"
    rest = block[m.end():]
    if m.group("sep"):
        head = " ".join(rest.split()[:3])
        if not head or head.upper() == head:
            return None
    else:
        first_line_end = block.find("\n")
        line_len = len(block) if first_line_end < 0 else first_line_end
        if m.end() < line_len or not (m.group("date") or m.group("agency")):
            return None
    return Dateline(place=place, agency=m.group("agency"), published_at=_parse_date(m.group("date")),
                    length=m.end())


def _is_publisher(s: str) -> bool:
    words = s.split()
    return (
        _is_single_line(s)
        and 1 <= len(words) <= 5
        and len(s) <= 40
        and not s.endswith(_TERMINAL)
        and not any(ch.isdigit() for ch in s)
        and all(_HEADER_WORD.match(w) for w in words)
    )


def _is_heading(s: str) -> bool:
    words = s.split()
    return (
        _is_single_line(s)
        and 1 <= len(words) <= 8
        and len(s) <= 60
        and s[0].isupper()
        and not s.endswith(_TERMINAL)
        and not s.startswith(_QUOTE_OPEN)
        and not any(ch.isdigit() for ch in s)
    )


def _is_title(s: str) -> bool:
    """A headline: one line, or up to three when the first breaks mid-sentence ("Candidates vie
    for vets' support; \nTrump and Clinton point out ..."), and short."""
    if len(s) > 300 or len(s.split()) > 40:
        return False
    lines = s.split("\n")
    return len(lines) == 1 or (len(lines) <= 3 and not lines[0].rstrip().endswith((".", "!", "?", '"', "”")))


def parse_article(text: str) -> ParsedArticle:
    """Split a normalised article into its parts. Pure: the same text gives the same parse."""
    spans = _blocks(text)
    if not spans:
        return ParsedArticle(None, None, None, None, None, None, "", 0, [])
    seg = [text[s:e] for s, e in spans]
    i = 0
    title = publisher = standfirst = None
    if len(spans) >= 2 and _is_title(seg[0]):
        title, i = " ".join(seg[0].split()), 1
        if len(spans) - i >= 2 and _is_publisher(seg[i]) and match_dateline(seg[i]) is None:
            publisher, i = seg[i], i + 1

    dateline = None
    body_first = i
    for j in range(i, min(i + 4, len(spans))):
        found = match_dateline(seg[j])
        if found:
            dateline = found
            if j > i:
                standfirst = text[spans[i][0]:spans[j - 1][1]]
            body_first = j
            break

    body_offset = spans[body_first][0]
    body = text[body_offset:spans[-1][1]]
    blocks = []
    for k, (s, e) in enumerate(spans[body_first:]):
        is_heading = k > 0 and k < len(spans) - body_first - 1 and _is_heading(seg[body_first + k])
        blocks.append(Block(s - body_offset, e - body_offset, is_heading))
    return ParsedArticle(
        title=title,
        publisher=publisher,
        standfirst=standfirst,
        dateline=dateline.place if dateline else None,
        agency=dateline.agency if dateline else None,
        published_at=dateline.published_at if dateline else None,
        body=body,
        body_offset=body_offset,
        blocks=blocks,
    )
