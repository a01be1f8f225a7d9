"""Pairing double quotation marks into quote spans, paragraph by paragraph.

Straight marks are told apart by what stands beside them; marks of the other kind inside an
open quote, and single quotes, are nested and stay part of the outer quote. A paragraph that
ends inside a quote and is followed by one that re-opens with a mark continues the same quote
(multi-paragraph); an unclosed quote otherwise ends with its paragraph, so one odd mark never
costs the article its other quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from transforms.parse import Block

OPENERS: Final = {"“": "”", "«": "»", "„": "”"}
CLOSERS: Final = {"”", "»"}
STRAIGHT: Final = '"'
# A transcript turn: '"PENCE: Well, look, ...' opens a new quote with its own speaker.
SPEAKER_LABEL: Final = re.compile(r"(?P<label>[A-Z][A-Z.'\- ]{1,30}[A-Z]):\s")
_OPENING_MARK: Final = re.compile(r'“|(?:^|(?<=\s))"(?=\S)')
_MARKS: Final = re.compile('["“”«»„]')
# Markup that survived into the text (<tweet author="x">): its quotation marks are not speech.
# A tag with attributes may run over a line break, so over two paragraphs ('<tweet
# tweet-author="@tedcruz" tweet-date="January 19, 2016\n">I love ...').
_MARKUP: Final = re.compile(r"<[^<>\n]{0,800}>|<[A-Za-z][\w-]*\s+[\w-]+=[\"'][^<>]{0,800}>")


@dataclass
class QuoteSpan:
    start: int  # offset of the first quoted character (after the opening mark)
    end: int  # offset after the last quoted character (before the closing mark, if any)
    open_pos: int
    close_pos: int | None  # position of the closing mark, None when the quote was never closed
    first_block: int
    last_block: int


def _opens_here(text: str, i: int, lo: int, hi: int) -> bool | None:
    """From what stands beside it, whether the mark at ``i`` opens (True) or closes (False) a
    quote, None when that cannot be told. Straight marks are typed the same both ways, and a
    curly opening mark is sometimes typed where a closing one belongs ('“Frozen“ and ...')."""
    before = text[i - 1] if i > lo else " "
    after = text[i + 1] if i + 1 < hi else " "
    if before.isspace() or before in "([{—–-/:":
        return None if after.isspace() else True
    if after.isspace() or after in ".,;:!?)]}—–-'’":
        return False
    return None


def find_spans(body: str, blocks: list[Block]) -> list[QuoteSpan]:
    """Pair the double quotation marks of a body into quote spans (see module docstring)."""
    spans: list[QuoteSpan] = []
    carry: tuple[int, int] | None = None  # (open_pos, first_block) of a quote running on
    markup = [(m.start(), m.end()) for m in _MARKUP.finditer(body)] if "<" in body else []
    for bi, blk in enumerate(blocks):
        lo, hi = blk.start, blk.end
        stack: list[str] = []  # expected closing marks, outermost first
        open_pos = None
        first_block = bi
        if carry is not None:
            # The previous paragraph ended inside a quote: this one must re-open it.
            if body[lo] in OPENERS or body[lo] == STRAIGHT:
                open_pos, first_block = carry
                stack = [OPENERS.get(body[lo], STRAIGHT)]
                lo += 1
            carry = None
        elif _is_blockquote_marker(body, lo, hi):
            lo += 1
        tags = [(a, b) for a, b in markup if a < hi and b > lo] if markup else []
        for mark in _MARKS.finditer(body, lo, hi):
            i, ch = mark.start(), mark.group()
            if tags and any(a < i < b for a, b in tags):
                continue
            closed = False  # the mark closed something: maybe the whole quote
            if ch == "“" and stack and stack[-1] == "”" and _opens_here(body, i, blk.start, hi) is False:
                # An opening mark typed where a closing one belongs: '“Frozen“ and the books',
                # '“Mostly False.“'.
                stack.pop()
                closed = True
            elif ch in OPENERS:
                if not stack:
                    open_pos, first_block = i, bi
                stack.append(OPENERS[ch])
            elif ch in CLOSERS:
                if stack:
                    if len(stack) == 1 or ch not in stack[1:]:  # also closes a straight opener
                        stack.pop()
                    else:
                        del stack[stack.index(ch, 1):]
                    closed = True
            elif ch == STRAIGHT:
                role = _opens_here(body, i, blk.start, hi)
                # A straight mark closes the quote it matches, or, typed by mistake, an outer
                # curly one ("“Our roads are crumbling," she said.) when no curly closer follows.
                mixed_close = (role is False and len(stack) == 1 and stack[-1] != STRAIGHT
                               and _no_closer_for_this_quote(body, i, hi, stack[-1]))
                if stack and ((stack[-1] == STRAIGHT and role is not True) or mixed_close):
                    stack.pop()
                    closed = True
                elif role is not False and (not stack or stack[-1] != STRAIGHT):
                    if not stack:
                        open_pos, first_block = i, bi
                    stack.append(STRAIGHT)
            if closed and not stack and open_pos is not None:
                spans.append(QuoteSpan(open_pos + 1, i, open_pos, i, first_block, bi))
                open_pos = None
        if stack and open_pos is not None:
            nxt = blocks[bi + 1] if bi + 1 < len(blocks) else None
            if (nxt is not None and _same_style(body[open_pos], body[nxt.start])
                    and not SPEAKER_LABEL.match(body, nxt.start + 1)):
                carry = (open_pos, first_block)
            else:
                spans.append(QuoteSpan(open_pos + 1, hi, open_pos, None, first_block, bi))
    return spans


def _same_style(opener: str, reopener: str) -> bool:
    """A paragraph continues a quote when it re-opens with a mark of the quote's own kind: a
    straight quote by a straight mark, a curly one by a curly one ("“...\n\n“...")."""
    if opener == STRAIGHT or reopener == STRAIGHT:
        return opener == reopener
    return reopener in OPENERS


def _is_blockquote_marker(body: str, lo: int, hi: int) -> bool:
    """A straight mark that opens a paragraph of curly-quoted text and is never closed marks an
    excerpt (a blockquote flattened to text), not speech: '"Trump walked onto the stage,
    chanting “U-S-A! U-S-A!”'. The curly quotes inside, paired, are the quotes. A curly
    closer left over closes the straight mark ('"I know. ...,” Henry said.'), and a
    transcript turn ('"PENCE: ...') is speech."""
    if body[lo] != STRAIGHT or STRAIGHT in body[lo + 1:hi] or SPEAKER_LABEL.match(body, lo + 1):
        return False
    opens = body.count("“", lo, hi)
    return opens > 0 and body.count("”", lo, hi) == opens


def _no_closer_for_this_quote(body: str, i: int, hi: int, closer: str) -> bool:
    """True when the curly closer still expected does not belong to this quote: there is none
    left in the paragraph, or another quote opens before it ('“...kids," she said "Ultimately ...”')."""
    j = body.find(closer, i, hi)
    return j < 0 or bool(_OPENING_MARK.search(body, i + 1, j))
