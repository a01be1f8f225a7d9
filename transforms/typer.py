"""A learned typer for the capitalised spans the rules found: PER, ORG, LOC, MISC or no name.

The rules of ``transforms.mentions`` find the spans and type them from the lexicons; this
re-types each resolved mention with a multinomial logistic regression over features of the
span (its words, shape, suffix), the lexicons (given name, surname, place, common word), the
words around it, the type the rules gave it and the article (a Reuters-style sports results
page reads "Ajax Amsterdam" as a team). The weights (``typer.json``) are learned from the
CoNLL-2003 training articles by ``training/train_typer.py`` (``make train``); see
``docs/model-card.md``. Inference is plain Python: a sum of weights per class over the
features that fire, memoised by feature tuple.

A class the model is not confident of keeps the rules' type: the model overrides a rule only
where its probability margin says so (``MARGIN``).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Final

from transforms.ids import stable_id
from transforms.lexicons import Lexicons, fold
from transforms.mentions import is_shouting
from transforms.vocab import EVENT, GPE, LOC, MISC, NORP, ORG, PERSON, EntityType

#: What the typer reads of a mention (``span_context``).
SpanContextT = tuple[str, str, str, str, bool, str, tuple[str, ...]]
#: The classes of the model, in the order of its weight vectors.
CLASSES: Final = ("PER", "ORG", "LOC", "MISC", "NONE")
#: The coarse class of each fine entity type of the rules.
COARSE: Final[dict[str, str]] = {PERSON: "PER", ORG: "ORG", GPE: "LOC", LOC: "LOC", NORP: "MISC", EVENT: "MISC",
                                 MISC: "MISC"}
#: The entity type a coarse class becomes when the model changes a rule's class.
_FINE: Final[dict[str, EntityType]] = {"PER": PERSON, "ORG": ORG, "LOC": LOC, "MISC": MISC, "NONE": MISC}

_DIGIT: Final = re.compile(r"\d")
_EDGE_PUNCT: Final = "\"“”‘’'()[]"
#: Characters looked back over for the word before a span.
_PREV_CHARS: Final = 30
#: Lines of an article read to tell whether it is a table of results: many lines with figures.
_TABLE_LINES: Final = 40
_TABLE_SHARE: Final = 0.4


class TyperModel:
    """Weights of the typer: feature -> one weight per class, and the bias."""

    def __init__(self, weights: dict[str, list[float]], bias: list[float], margin: float):
        self.weights = weights
        self.bias = bias
        self.margin = margin
        self.memo: dict[tuple[str, str, bool, str, tuple[str, ...]], list[float]] = {}
        # the weights of the words around a span (``context_features``) by rules' class and word,
        # the word alone and joined with the class summed: two look-ups with the words
        # themselves, no feature string built per mention
        self.prev_w: dict[str, dict[str, list[float]]] = {}
        self.next_w: dict[str, dict[str, list[float]]] = {}
        for rule in CLASSES:
            for side, table in (("p=", self.prev_w), ("x=", self.next_w)):
                words: dict[str, list[float]] = {}
                for f, v in weights.items():
                    word = ""
                    if f.startswith(side):
                        word = f[2:]
                    elif f.startswith("t=" + rule + "&" + side):
                        word = f[len(rule) + 5:]
                    else:
                        continue
                    acc = words.setdefault(word, [0.0] * len(bias))
                    for i in range(len(acc)):
                        acc[i] += v[i]
                table[rule] = words

    def type_of(self, ctx: SpanContextT, lex: Lexicons) -> str:
        """The class of a mention from its ``span_context``.

        The scores of what the span is (its words, type, the article) are memoised: news
        repeats its names; the words around it are added on every call.
        """
        span, etype, prev, nxt, caps_line, in_other, doc = ctx
        key = (span, etype, caps_line, in_other, doc)
        base = self.memo.get(key)
        if base is None:
            if len(self.memo) >= _MEMO_SIZE:
                self.memo.clear()
            base = self.memo[key] = self.scores(span_features_own(span, etype, caps_line, in_other, doc, lex),
                                                list(self.bias))
        rule = COARSE.get(etype, "MISC")
        scores = list(base)
        n = len(scores)
        v = self.prev_w.get(rule, _NONE).get(prev)
        if v is not None:
            for i in range(n):
                scores[i] += v[i]
        v = self.next_w.get(rule, _NONE).get(nxt)
        if v is not None:
            for i in range(n):
                scores[i] += v[i]
        return self.decide(scores, rule)

    def scores(self, feats: tuple[str, ...], into: list[float]) -> list[float]:
        """``into`` plus the weights of the features, per class."""
        w = self.weights
        n = len(into)
        for f in feats:
            v = w.get(f)
            if v is not None:
                for i in range(n):
                    into[i] += v[i]
        return into

    def decide(self, scores: list[float], rule_class: str) -> str:
        """The best class; the rules' class unless the best leads it by the margin."""
        best = 0
        for i in range(1, len(scores)):
            if scores[i] > scores[best]:
                best = i
        out = CLASSES[best]
        if (out != rule_class and rule_class in CLASSES
                and scores[best] - scores[CLASSES.index(rule_class)] < self.margin):
            out = rule_class
        return out

    def classify(self, feats: tuple[str, ...], rule_class: str) -> str:
        """The class of a span from all its features (``span_features``)."""
        return self.decide(self.scores(feats, list(self.bias)), rule_class)


_NONE: Final[dict[str, list[float]]] = {}
#: Entries of the memo of classified feature tuples.
_MEMO_SIZE: Final = 100_000


def committed_weights(name: str) -> dict | None:
    """A model's committed weights (a JSON file of the package), or None when there are none."""
    try:
        text = resources.files("transforms").joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    data: dict = json.loads(text)
    return data


def load_model(name: str = "typer.json") -> TyperModel | None:
    """The committed weights, or None when there are none (then the rules' types stand)."""
    data = committed_weights(name)
    if data is None:
        return None
    return TyperModel({k: [float(x) for x in v] for k, v in data["weights"].items()},
                      [float(x) for x in data["bias"]], float(data.get("margin", 0.0)))


def _word_class(tok: str) -> str:
    if _DIGIT.search(tok):
        return "<num>"
    return fold(tok.strip(_EDGE_PUNCT)) or tok[:1]


def article_features(title: str, body: str) -> tuple[str, ...]:
    """Features of the whole article: its headline's first word when the headline shouts
    ("SOCCER - ..."), and whether it reads as a table of results."""
    out = []
    head = title.split(" - ", 1)
    if len(head) == 2 and head[0].isupper() and len(head[0]) > 2:
        out.append("doc=" + fold(head[0]))
    lines = [ln for ln in body.split("\n") if ln.strip()][:_TABLE_LINES]
    if lines and sum(1 for ln in lines if _DIGIT.search(ln)) >= _TABLE_SHARE * len(lines):
        out.append("doc:table")
    return tuple(out)


def _prev_token(text: str, start: int) -> str:
    """The word class of the token before ``start`` ("<s>" after a sentence's end)."""
    i = start
    lo = max(0, start - _PREV_CHARS)
    while i > lo and text[i - 1].isspace():
        i -= 1
    j = i
    while j > lo and not text[j - 1].isspace():
        j -= 1
    if j == i:
        return "<s>"
    tok = text[j:i]
    cls = _word_class(tok)
    if tok[-1] in ".!?:" and cls not in _DOTTED_WORDS:
        return "<s>"
    return cls


_DOTTED_WORDS: Final = frozenset({"u.s.", "mr.", "dr.", "st.", "mrs.", "u.n.", "u.k."})


def _next_token(text: str, end: int) -> str:
    """The word class of the token after ``end``, or its first character when that is no letter."""
    n = len(text)
    i = end
    while i < n and text[i].isspace():
        i += 1
    if i == n:
        return "</s>"
    j = i
    while j < n and not text[j].isspace():
        j += 1
    tok = text[i:j]
    if not tok[0].isalnum():
        return tok[0]
    return _word_class(tok)


def _caps_line(text: str, start: int, end: int) -> bool:
    """The line holding text[start:end] is written in capitals."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return is_shouting(text[line_start:min(line_end if line_end >= 0 else len(text), line_start + _LINE_CHARS)])


#: Characters of a line read to tell whether it is in capitals (as ``transforms.mentions`` does).
_LINE_CHARS: Final = 240


def span_context(text: str, start: int, end: int, etype: str, doc: tuple[str, ...],
                 others: dict[str, str]) -> SpanContextT:
    """All the typer reads of a mention at text[start:end] that the rules typed ``etype``: the
    span, its type, the tokens around it, whether its line is in capitals, the type of a
    longer mention of the article holding it as a word ("Honda" beside "Honda Motor Co"), and
    the article's features (``article_features``)."""
    span = text[start:end]
    caps = span.isupper() and len(span) > 1 and _caps_line(text, start, end)
    in_other = others.get(fold(span), "") if " " not in span else ""
    return span, etype, _prev_token(text, start), _next_token(text, end), caps, in_other, doc


def span_features(ctx: SpanContextT, lex: Lexicons) -> tuple[str, ...]:
    """All the features of one mention from its ``span_context``."""
    span, etype, prev, nxt, caps_line, in_other, doc = ctx
    return (span_features_own(span, etype, caps_line, in_other, doc, lex)
            + context_features(COARSE.get(etype, "MISC"), prev, nxt))


def context_features(rule: str, prev: str, nxt: str) -> tuple[str, ...]:
    """Features of the words around a mention, alone and with the rules' class."""
    return ("p=" + prev, "x=" + nxt, "t=" + rule + "&x=" + nxt, "t=" + rule + "&p=" + prev)


def span_features_own(span: str, etype: str, caps_line: bool, in_other: str, doc: tuple[str, ...],
                      lex: Lexicons) -> tuple[str, ...]:
    """Features of a mention's own words, its rules' type, and its article."""
    key = fold(span)
    words = span.split()
    first, last = fold(words[0]), fold(words[-1])
    rule = COARSE.get(etype, "MISC")
    n = len(words)
    feats = ["t=" + etype, "w=" + key, "n=" + str(min(n, 4)), "s3=" + last[-3:]]
    if n > 1:
        feats.append("f=" + first)
        feats.append("l=" + last)
    if span.isupper() and len(span) > 1:
        feats.append("caps")
        if caps_line:
            feats.append("line:caps")
    if "." in span:
        feats.append("dot")
    if "-" in span:
        feats.append("hyphen")
    if _DIGIT.search(span):
        feats.append("digit")
    if first in lex.given_names:
        feats.append("lex:given")
    if last in lex.surnames:
        feats.append("lex:surname")
    place = lex.places.get(key)
    if place is not None:
        feats.append("lex:place=" + place[1])
    if n == 1 and lex.is_common_word(key):
        feats.append("lex:common")
    if key in lex.demonyms:
        feats.append("lex:demonym")
    if in_other:
        feats.append("in=" + in_other)
    for d in doc:
        feats.append(d)
        feats.append(d + "&t=" + rule)
    return tuple(feats)


def entity_type_for(cls: str, etype: EntityType, after_the: bool = False) -> EntityType:
    """The entity type of a mention the model classed ``cls`` that the rules typed ``etype``.

    ``after_the``: the article writes the word after "the" ("the Oscar ceremony"): a person
    is never "the X", so the model makes no person of it.
    """
    if COARSE.get(etype) == cls or (after_the and cls == "PER"):
        return etype
    return _FINE[cls]


def retype_id(etype: EntityType, name: str) -> str:
    return stable_id(etype, fold(name))
