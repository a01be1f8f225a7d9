"""Sentence boundaries: numbers, initials and abbreviations, and sentence_start against its definition."""

import random

from transforms.sentences import _SENT_END, is_boundary, sentence_start


def _last_boundary_before(body: str, lo: int, pos: int) -> int:
    """The definition: the end of the last boundary found by scanning from ``lo``."""
    start = lo
    for m in _SENT_END.finditer(body, lo, min(len(body), pos + 3)):
        if m.end() <= pos and is_boundary(body, m):
            start = m.end()
    return start


def test_sentence_start_agrees_with_a_scan_from_the_paragraph_start():
    rng = random.Random(2)
    parts = ["Mr. ", "U.S. ", "He said. ", "Yes! ", "No? ", "“Go.” ", "(A.) ", "x ", "The ", "end.", "...", " ",
             "\n", "3.5 ", "B. ", "?!” ", "it", "'", "in 30.26. "]
    for _ in range(800):
        body = "".join(rng.choice(parts) for _ in range(rng.randint(1, 15)))
        for lo in range(0, len(body) + 1, 3):
            for pos in range(lo, len(body) + 1):
                assert sentence_start(body, lo, pos) == _last_boundary_before(body, lo, pos), (body, lo, pos)


def test_a_number_ends_its_sentence_but_an_initial_does_not():
    body = "Kathy Butler won in 30.26. Butler said it was easy. Rep. Charles B. Rangel said no."
    assert body[sentence_start(body, 0, body.index("it was")):].startswith("Butler said")
    assert sentence_start(body, 0, body.index("said no")) == body.index("Rep.")
