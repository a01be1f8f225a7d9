"""Bytes to text: decide the encoding, refuse what is not text, normalise line ends and
HTML character references.

Why a module of its own: news archives mix UTF-8 (with and without BOM) with legacy
Windows files. A silent latin-1 fallback corrupts curly quotes into mojibake that then breaks
quote extraction, so the fallback is explicit (cp1252 before latin-1) and recorded on the
article row, and anything that does not look like text is rejected with a reason instead.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import html.entities
import re
from dataclasses import dataclass
from typing import Final

from transforms.vocab import (
    BINARY,
    CP1252,
    EMPTY,
    LATIN_1,
    TOO_LARGE,
    UNDECODABLE,
    UTF_8,
    UTF_8_SIG,
    UTF_16,
    UTF_32,
    Encoding,
    RejectReason,
)

#: Files larger than this are refused unread: the longest article of the corpora here is 34 KB,
#: and the extraction's time grows faster than a text's size (a 2 MB text of back-to-back
#: quotes takes about 14 s compiled, 3 MB about 30 s), so a bigger file is no article but a
#: dump that would stall the run.
DEFAULT_MAX_BYTES: Final = 2 * 1024 * 1024

# C0 control characters other than tab, newline, carriage return and form feed.
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


class Rejection(ValueError):
    """A file that cannot become an article; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: RejectReason, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: Encoding
    fallback: bool
    sha256: str
    size_bytes: int


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF, so that offsets mean the same on every platform."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# An HTML character reference left in the text by the scraper that saved it ("Beyonc&#233;",
# "&#163;5m", "&lt;"): numeric, or a name, always with its semicolon.
_ENTITY: Final = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _entity(m: re.Match[str]) -> str:
    ref = m.group()
    if ref[1] == "#":
        return html.unescape(ref)
    # by its whole name: html.unescape also reads legacy names as prefixes ("&notes;" -> "¬es;")
    return html.entities.html5.get(ref[1:], ref)


def unescape_entities(text: str) -> str:
    """The characters that HTML character references in a plain-text article stand for: a
    name written "Beyonc&#233;" is "Beyoncé" to the mention and quote rules and to a search.
    Only references with their semicolon; an unknown name stays as written."""
    return _ENTITY.sub(_entity, text) if "&" in text else text


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:20000]
    return len(_CONTROL.findall(sample)) / len(sample)


# A byte that is no UTF-8, as ``surrogateescape`` leaves it (U+DC80-U+DCFF).
_STRAY: Final = re.compile("[" + chr(0xDC80) + "-" + chr(0xDCFF) + "]")  # (mypyc takes no surrogate literal)


def _legacy_char(m: re.Match[str]) -> str:
    """A stray byte read as cp1252 ("\\xa3" is "£"); one cp1252 leaves undefined is U+FFFD."""
    try:
        return bytes([ord(m.group()) - 0xDC00]).decode(CP1252)
    except UnicodeDecodeError:
        return "\ufffd"


def _utf8_with_stray_bytes(data: bytes) -> str | None:
    """UTF-8 text with a few bytes of a legacy encoding pasted in (a "£" typed on a Windows
    machine into a UTF-8 article): each stray byte read as cp1252 and the rest as the UTF-8 it
    is, or None when the file is no UTF-8 at all: fewer than two UTF-8 characters beyond ASCII,
    or fewer than twice as many as stray bytes (a cp1252 file's "é" is a stray byte; a valid
    UTF-8 pair occurs there by chance, as "É" before a curly quote, but seldom twice). A UTF-8
    BOM says UTF-8 whatever the count. Decoding the whole file as cp1252 or latin-1 turned every curly quote of
    such a file into mojibake ("â€œ", C1 controls) and lost its quotes."""
    text = data.decode(UTF_8_SIG, errors="surrogateescape")
    stray = len(_STRAY.findall(text))
    beyond_ascii = sum(1 for ch in text if ord(ch) > 0x7F) - stray
    if not data.startswith(codecs.BOM_UTF8) and beyond_ascii < max(2, 2 * stray):
        return None
    return _STRAY.sub(_legacy_char, text)


def decode_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Decoded:
    """Decode a file's bytes to normalised text, or raise :class:`Rejection`.

    Order: UTF-16/32 with BOM, UTF-8 (BOM stripped), UTF-8 with a few stray legacy bytes
    (read as cp1252: ``_utf8_with_stray_bytes``), then cp1252 and finally latin-1, the last
    three flagged as ``fallback``. NUL bytes without a UTF-16/32 BOM, or more than 1% of
    control characters after decoding, mean the file is binary.
    """
    size = len(data)
    if size > max_bytes:
        raise Rejection(TOO_LARGE, f"{size} bytes is over the limit of {max_bytes} bytes")
    if size == 0:
        raise Rejection(EMPTY, "the file has no bytes")

    encoding: Encoding | None = None
    text: str | None = None
    boms: tuple[tuple[bytes, Encoding], ...] = ((codecs.BOM_UTF32_LE, UTF_32), (codecs.BOM_UTF32_BE, UTF_32),
                                                (codecs.BOM_UTF16_LE, UTF_16), (codecs.BOM_UTF16_BE, UTF_16))
    for bom, codec in boms:
        if data.startswith(bom):
            try:
                text, encoding = data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise Rejection(UNDECODABLE, f"starts with a {codec} BOM but does not decode: {exc}") from exc
            break
    fallback = False
    if text is None:
        if b"\x00" in data:
            raise Rejection(BINARY, "contains NUL bytes and no UTF-16/32 byte-order mark")
        try:
            text = data.decode(UTF_8_SIG)
            encoding = UTF_8_SIG if data.startswith(codecs.BOM_UTF8) else UTF_8
        except UnicodeDecodeError:
            fallback = True
            text = _utf8_with_stray_bytes(data)
            if text is not None:
                encoding = UTF_8_SIG if data.startswith(codecs.BOM_UTF8) else UTF_8
            else:
                try:
                    text, encoding = data.decode(CP1252), CP1252
                except UnicodeDecodeError:
                    text, encoding = data.decode(LATIN_1), LATIN_1
    if _control_share(text) > 0.01:
        raise Rejection(BINARY, f"more than 1% control characters after decoding as {encoding}")
    # references first: "&#13;&#10;" is a line end like any other, "&#65279;" a BOM
    text = normalise_newlines(unescape_entities(text).lstrip("\ufeff"))
    if not text.strip():
        raise Rejection(EMPTY, "the file holds only whitespace")
    return Decoded(text=text, encoding=encoding or UTF_8, fallback=fallback,
                   sha256=sha256_hex(data), size_bytes=size)
