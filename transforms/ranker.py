"""A learned choice among the speaker candidates of a quote.

The attribution rules (``transforms.attribution``) stop at the first rule that finds a
source. ``transforms.quotes`` also asks the other rules what they would say (the source after
the closing mark, before the opening one, the sentence's subject, the previous sentence's
source, the previous quote's speaker, the person last named) and this module scores each
candidate with a logistic regression over features the rules already compute: which rule
found it, whether it is the rules' own pick, how many rules agree on it, its cue, its shape
(pronoun, description, name resolved to an entity) and its distance from the quote. The
candidate with the highest score is the speaker. Weights (``ranker.json``) are learned from
PolNeAR's training articles by ``training/train_ranker.py`` (``make train``); see
``docs/model-card.md``. Only the speaker changes: which quotes are found does not.
"""

from __future__ import annotations

from typing import Final

from transforms.lexicons import ORG_HEADS, fold
from transforms.typer import committed_weights

#: A candidate speaker: (rule that found it, speaker phrase as written, start, end, cue,
#: canonical speaker, entity id).
Candidate = tuple[str, str, int, int, str, str | None, str | None]

_PRONOUNS: Final = frozenset("he she they we i it you".split())
#: Words a noun phrase does not end with: a rule's pick that ends so is cut ("a book by").
_DANGLING: Final = frozenset("by of to for with from in on at as and or but that which who he she they it the a an "
                             "his her their its".split())
#: Nouns that head a description of a source: "a campaign spokesman", "the report".
_SOURCE_NOUNS: Final = ORG_HEADS | frozenset("""
spokesman spokeswoman spokesperson official officials source sources aide aides adviser advisers advisor
strategist strategists analyst analysts expert experts lawmaker lawmakers leader leaders president
director chairman chairwoman senator governor candidate nominee secretary minister member members
campaign statement report poll survey ad letter memo email tweet post video editorial study
supporters critics voters people residents protesters crowd audience group
""".split())
_DETERMINERS: Final = frozenset("the a an his her their its our one".split())
#: Upper bounds (characters between a candidate and its quote) of the distance buckets.
_DISTANCES: Final = (0, 20, 60, 150, 400, 1000)


class RankerModel:
    """Weights of the ranker: feature -> weight, and the bias."""

    def __init__(self, weights: dict[str, float], bias: float):
        self.weights = weights
        self.bias = bias

    def score(self, feats: list[str]) -> float:
        s = self.bias
        w = self.weights
        for f in feats:
            v = w.get(f)
            if v is not None:
                s += v
        return s


class ArticleFacts:
    """What an article tells of speaker candidates: ``agree_key`` -> how many of its quotes so
    far were given to that speaker."""

    def __init__(self) -> None:
        self.quoted: dict[str, int] = {}


def load_ranker(name: str = "ranker.json") -> RankerModel | None:
    """The committed weights, or None when there are none (then the rules' pick stands)."""
    data = committed_weights(name)
    if data is None:
        return None
    return RankerModel({k: float(v) for k, v in data["weights"].items()}, float(data["bias"]))


def agree_key(c: Candidate) -> str:
    """What two candidates agree on: their canonical speaker, else the last word as written."""
    if c[5]:
        return "s:" + fold(c[5])
    words = c[1].split()
    return "w:" + fold(words[-1]) if words else ""


def _gap(c: Candidate, open_pos: int, close_pos: int) -> int:
    """Characters between a candidate and its quote."""
    return max(open_pos - c[3] if c[3] <= open_pos else c[2] - close_pos, 0)


def _bucket(d: int) -> str:
    for i, hi in enumerate(_DISTANCES):
        if d <= hi:
            return str(i)
    return str(len(_DISTANCES))


def features(cands: list[Candidate], chosen: int, open_pos: int, close_pos: int,
             quote_feats: list[str], article: ArticleFacts | None = None,
             extra: list[list[str]] | None = None) -> list[list[str]]:
    """The features of each candidate of one quote; ``chosen`` is the index of the rules'
    pick (-1: none); ``article``: what the article tells of each candidate (its quotes so
    far); ``extra``: more features of each candidate, each also joined with its rule."""
    keys = [agree_key(c) for c in cands]
    counts: dict[str, int] = {}
    srcs: dict[str, set[str]] = {}
    for c, k in zip(cands, keys, strict=True):
        srcs.setdefault(k, set()).add(c[0])
    for k, s in srcs.items():
        counts[k] = len(s)
    chosen_key = keys[chosen] if chosen >= 0 else ""
    dists = [_gap(c, open_pos, close_pos) for c in cands]
    before = [d for c, d in zip(cands, dists, strict=True) if c[3] <= open_pos]
    after = [d for c, d in zip(cands, dists, strict=True) if c[3] > open_pos]
    nearest_before = min(before) if before else -1
    nearest_after = min(after) if after else -1
    order = sorted(range(len(cands)), key=dists.__getitem__)
    rank = [0] * len(cands)
    for r, i in enumerate(order):
        rank[i] = min(r, 3)
    group_nearest: dict[str, int] = {}
    for k, d in zip(keys, dists, strict=True):
        if d < group_nearest.get(k, d + 1):
            group_nearest[k] = d
    chosen_cue = "chosencue=" + fold(cands[chosen][4]) + "&src=" if chosen >= 0 and cands[chosen][4] else ""
    out = []
    for i, c in enumerate(cands):
        src, text = c[0], c[1]
        sfx = "&src=" + src
        words = text.split()
        first = fold(words[0]) if words else ""
        shape = ("pron=" + first if first in _PRONOUNS and len(words) == 1 else
                 "det" if first in _DETERMINERS else "cap" if text[:1].isupper() else "lower")
        agree = min(counts.get(keys[i], 1), 4)
        dist = _bucket(dists[i])
        f = ["src=" + src, "shape=" + shape, "n=" + str(min(len(words), 6)), "agree=" + str(agree),
             "src=" + src + "&shape=" + shape, "dist=" + dist, "src=" + src + "&dist=" + dist,
             "resolved" if c[5] else "unresolved", "entity" if c[6] else "no-entity"]
        f.append("rank=" + str(rank[i]) + sfx)
        if chosen_cue:
            f.append(chosen_cue + src)
        if c[4]:
            f.append("cue=" + fold(c[4]))
            f.append("cue=" + fold(c[4]) + sfx)
        for other in sorted(srcs.get(keys[i], set())):
            if other != src:
                f.append("with=" + other)
        if dists[i] == (nearest_before if c[3] <= open_pos else nearest_after):
            f.append("nearest&src=" + src)
        if i == chosen:
            f.append("chosen")
            f.append("chosen&src=" + src)
        elif chosen_key and keys[i] == chosen_key:
            f.append("same-as-chosen")
        elif chosen >= 0:
            f.append(("closer&shape=" if dists[i] < dists[chosen] else "farther&shape=") + shape)
        if chosen < 0:
            f.append("nochoice&src=" + src)
        if len(words) > 1 and fold(words[-1]) in _DANGLING:
            f.append("dangling&src=" + src)
        if words and len(words) > 1 and words[-1].islower():
            f.append("srcnoun&src=" + src if fold(words[-1]) in _SOURCE_NOUNS else "othernoun&src=" + src)
        if dists[i] == group_nearest[keys[i]]:
            f.append("groupnearest&src=" + src)
        if article is not None:
            n = article.quoted.get(keys[i], 0)
            f.append("quoted=" + str(min(n, 3)) + sfx)
        for q in quote_feats:
            f.append(q + sfx)
        if extra is not None:
            for x in extra[i]:
                f.append(x)
                f.append(x + sfx)
        out.append(f)
    return out
