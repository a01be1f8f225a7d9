"""Sentence boundaries inside a paragraph, aware of the dots of "Mr.", "Charles B." and "U.S.".

Attribution looks for its cue and speaker within the quote's sentence; a boundary at every
full stop would cut "Rep. Elijah Cummings" in two.
"""

from __future__ import annotations

import re
from typing import Final

_ABBREVIATIONS: Final = frozenset("""
mr mrs ms dr st jr sr rep reps sen sens gov gen lt col sgt capt maj adm cmdr prof rev hon pres del
atty amb cpl pvt
sec supt insp det corp inc ltd co no vs mt ft jan feb mar apr jun jul aug sep sept oct nov dec
""".split())
_SENT_END: Final = re.compile(r"[.!?][\"”’)]*\s+(?=[\"“‘(]?[A-Z])")


def is_boundary(body: str, m: re.Match[str]) -> bool:
    """A sentence end, not the dot of "Mr." or "Charles B." or "U.S."."""
    if body[m.start()] != ".":
        return True
    # the run of word characters and dots before the dot (at most 12), what "[\w.]+$" would
    # find in that window without the regex engine trying every start position
    end = i = m.start()
    lo = max(0, end - 12)
    while i > lo and (body[i - 1].isalnum() or body[i - 1] in "._"):
        i -= 1
    word = body[i:end]
    # a number ends its sentence ("in 30.26. Butler said"); "U.S." and "Charles B." do not
    return not (len(word) == 1 or word.lower() in _ABBREVIATIONS or ("." in word and not word[-1].isdigit()))


def sentence_start(body: str, lo: int, pos: int) -> int:
    """Start of the sentence that ``pos`` is in, within ``body[lo:]``: after the last boundary
    before it. The full stops, "!" and "?" are tried from the nearest back, so a call looks
    at a few candidates instead of scanning the paragraph from its start; matches of
    ``_SENT_END`` cannot overlap, so each candidate is matched where it stands."""
    hi = min(len(body), pos + 3)  # a little past pos: the look-ahead must see the capital after it
    i = pos
    while True:
        i = max(body.rfind(".", lo, i), body.rfind("!", lo, i), body.rfind("?", lo, i))
        if i < 0:
            return lo
        m = _SENT_END.match(body, i, hi)
        if m is not None and m.end() <= pos and is_boundary(body, m):
            return m.end()


def sentence_end(body: str, pos: int, hi: int) -> int:
    for m in _SENT_END.finditer(body, pos, hi):
        if is_boundary(body, m):
            return m.end()
    return hi
