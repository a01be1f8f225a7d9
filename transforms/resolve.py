"""Resolve the mentions of one article to canonical entities.

Inside an article, news names a person in full once and by surname afterwards ("John Kerry",
"Kerry", "Secretary Kerry"), a country by several spellings ("US", "U.S.", "United States")
and an organisation by its initials after its name. The canonical name is the longest form the
article uses; ``entity_id`` is a hash of type and canonical name, so the same person in two
articles gets the same id and reruns keep ids stable.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from transforms.context import PERSON_MEMO_SIZE, RESOLUTION_MEMO_SIZE, ExtractionContext
from transforms.ids import stable_id
from transforms.lexicons import LEGAL_FORMS, Lexicons, fold
from transforms.mentions import POSSESSIVE_S, WORD_CHAR, Mention, sentence_initial
from transforms.typer import COARSE, SpanContextT, article_features, entity_type_for, span_context
from transforms.vocab import BODY, GPE, LOC, MISC, NORP, ORG, PERSON, TITLE, EntityType, Field

_ORG_STOP: Final = {"of", "the", "and", "for", "&", "on"}
# "he X" scans five times faster than "\b[Tt]he X": a literal prefix lets the engine skip ahead.
_AFTER_HE: Final = re.compile(r"he ([A-Z][a-z]+)\b")
#: Endings of adjectives made from names of places and peoples: "European", "Islamic", "Kurdish".
_PROPER_ADJECTIVE: Final = re.compile(r"(?:ans?|ic|ish|ese)$|-[a-z]")  # also "Oscar-nominated"
_ADVERB_LIKE: Final = re.compile(r"^[A-Z][a-z]+(?:ly|er|est|ing)$")
#: Letters of a place or people's name in capitals kept as written ("USA", "UAE"); a longer one
#: is title-cased ("FRANCE" -> "France").
_CAPITALS_KEPT: Final = 3


class Resolved(NamedTuple):
    """A mention linked to its entity (a tuple: tens of thousands are made per second)."""

    field: Field
    start: int
    end: int
    text: str
    entity_type: EntityType
    name: str
    entity_id: str
    title: str | None = None


def entity_id(entity_type: EntityType, name: str) -> str:
    """Hash of type and folded canonical name: the same entity gets the same id everywhere."""
    return stable_id(entity_type, fold(name))


def _surname_key(name: str, lex: Lexicons) -> str:
    last = name.split()[-1]
    head, sep, tail = last.partition("-")
    if sep and fold(head) in lex.hyphen_particles:
        last = tail
    return fold(last)


def _words_after_the(text: str) -> set[str]:
    """Capitalised words written right after a whole-word "the" or "The"."""
    out = set()
    for m in _AFTER_HE.finditer(text):
        s = m.start()
        if s >= 1 and text[s - 1] in "Tt" and (s < 2 or not WORD_CHAR.match(text, s - 2)):
            out.add(m.group(1))
    return out


def _org_name(text: str) -> str:
    words = text.split()
    if words and fold(words[0]) == "the":
        words = words[1:]
    return " ".join(words)


_new_tuple: Final = tuple.__new__  # builds a Resolved without the Python frame of its generated __new__


def _person_keys(text: str, context: ExtractionContext) -> tuple[str, str, str]:
    """(full name, surname key, given-name key) of a person's name of two words or more,
    memoised in ``context.person_keys``."""
    memo = context.person_keys
    hit = memo.get(text)
    if hit is None:
        if len(memo) >= PERSON_MEMO_SIZE:
            memo.clear()
        full = " ".join(text.split())
        hit = memo[text] = (full, _surname_key(full, context.lex), fold(full.split()[0]))
    return hit


def _needs_article(text: str, entity_type: EntityType, canonical: str | None) -> bool:
    """A lone word typed from context may be a surname the article names in full."""
    return (entity_type in (PERSON, MISC) or (entity_type == LOC and canonical is None)) and len(text.split()) == 1


def _resolve_alone(text: str, entity_type: EntityType, canonical: str | None,
                   context: ExtractionContext) -> tuple[EntityType, str, str] | None:
    """(entity type, canonical name, entity id) of a mention whose resolution does not depend
    on the article it is in; None when it does (a lone word, an organisation's initials).

    Memoised in ``context.resolutions``: the mentions of news repeat."""
    memo = context.resolutions
    key = (text, entity_type, canonical)
    hit = memo.get(key)
    if hit is None and key not in memo:
        if len(memo) >= RESOLUTION_MEMO_SIZE:
            memo.clear()
        hit = memo[key] = _resolve_alone_uncached(text, entity_type, canonical)
    return hit


def _resolve_alone_uncached(text: str, entity_type: EntityType,
                            canonical: str | None) -> tuple[EntityType, str, str] | None:
    if _needs_article(text, entity_type, canonical):
        return None
    name = canonical or " ".join(text.split())
    if entity_type == ORG:
        name = _org_name(name)
        if name.replace(".", "").isupper():
            return None
    elif entity_type in (GPE, LOC, NORP) and name.isupper() and len(name) > _CAPITALS_KEPT:
        name = name.title()
    return entity_type, name, entity_id(entity_type, name)


def _legal_form_only(org: str) -> bool:
    """Whether a company's name is its first word and legal forms: "Pirelli SpA" is "Pirelli",
    "Google News" is not "Google"."""
    return all(fold(w).rstrip(",") in LEGAL_FORMS for w in org.split()[1:])


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.replace("-", " ").split() if fold(w) not in _ORG_STOP).upper()


class ArticleEntities:
    """The entities of one article, built from its mentions; also resolves speaker names."""

    def __init__(self, mentions: list[tuple[Field, Mention]], context: ExtractionContext,
                 text: str = "", not_names: frozenset[str] = frozenset()):
        self.lex = context.lex
        self.ranker = context.ranker  # the speaker ranker the quotes of this article use
        self._not_names = not_names  # lone words the article capitalises only by position
        # Capitalised words the article writes after "the" ("the Oscar", "the Apple iPod"): a
        # person is never "the X", so such a lone word is no person.
        self.after_the = _words_after_the(text)
        # surname key / given-name key -> full names, in order of first use (dicts, not sets:
        # a tie between two full names must not depend on the interpreter's string hashing)
        self._full_names: dict[str, dict[str, None]] = {}
        self._given: dict[str, dict[str, None]] = {}
        self._in_body: dict[str, int] = {}  # full name -> rank of its first use in the body
        self._orgs: dict[str, str] = {}  # initials -> full org name
        # first word -> the one org name it opens (None when several do)
        self._org_words: dict[str, str | None] = {}
        self._titled: set[str] = set()  # lone names with a person's title somewhere in the article
        for field, m in mentions:
            if m.entity_type == PERSON and len(m.text.split()) >= 2:
                full, surname, given = _person_keys(m.text, context)
                self._full_names.setdefault(surname, {})[full] = None
                self._given.setdefault(given, {})[full] = None
                if field == BODY:
                    self._in_body.setdefault(full, len(self._in_body))
            elif m.entity_type == PERSON and m.title:
                self._titled.add(fold(m.text))  # "President Obama": "Obama" is no "Obama Administration"
            elif m.entity_type == ORG and len(m.text.split()) >= 2:
                full = _org_name(m.text)
                self._orgs.setdefault(_initials(full), full)
                first = fold(full.split()[0])
                if first not in self._org_words:
                    self._org_words[first] = full
                elif self._org_words[first] != full:
                    self._org_words[first] = None  # "Obama White House", "Obama Administration"
        self.resolved: list[Resolved] = []
        # News repeats its names: a mention whose resolution depends on the article (a lone
        # surname, initials) is resolved once per article; any other once per process.
        seen: dict[tuple[str, EntityType, str | None], tuple[EntityType, str, str] | None] = {}
        resolved = self.resolved
        for field, m in mentions:
            start, end, text, etype, canonical, title = m
            hit = _resolve_alone(text, etype, canonical, context)
            if hit is None:
                key = (text, etype, canonical)
                if key in seen:
                    hit = seen[key]
                else:
                    hit = seen[key] = self._resolve_mention(m)
                if hit is None:
                    continue
            resolved.append(_new_tuple(Resolved, (field, start, end, text, *hit, title)))
        self._by_name = {fold(r.name): r for r in self.resolved}

    def person(self, text: str) -> str | None:
        """Canonical full name for a person written as ``text`` ("Kerry" -> "John Kerry")."""
        words = text.split()
        if not words:
            return None
        if len(words) >= 2:
            return " ".join(words)
        fulls = self._full_names.get(_surname_key(text, self.lex)) or self._given.get(fold(text))
        if fulls and len(fulls) == 1:
            return next(iter(fulls))
        if fulls and len({_surname_key(f, self.lex) for f in fulls}) == 1:
            longest = max(fulls, key=len)
            longest_words = set(longest.split())
            if all(set(f.split()) <= longest_words for f in fulls):  # "Ted Cruz", "Rafael Edward Ted Cruz"
                return longest
            # Two people of one name ("Ted Cruz" and his father "Rafael Cruz"): one whose first
            # word is a given name (not "Crooked Hillary Clinton", "Team Trump": a headline's
            # capitals glue words to names), the first the body names (a story introduces its
            # subject first).
            named = [f for f in fulls if fold(f.split()[0]) in self.lex.given_names] or list(fulls)
            return min(named, key=lambda f: self._in_body.get(f, len(self._in_body)))
        return None

    def _resolve_mention(self, m: Mention) -> tuple[EntityType, str, str] | None:
        """(entity type, canonical name, entity id) of a mention ``_resolve_alone`` leaves to
        the article (a lone word, an organisation's initials), or None when it is no name."""
        etype: EntityType = m.entity_type
        name = m.canonical or " ".join(m.text.split())
        if _needs_article(m.text, etype, m.canonical):
            # A lone word typed from context yields to a person the article names in full.
            full = self.person(m.text)
            if full:
                etype, name = PERSON, full
            elif org := self._company(m.text, etype):  # a company named in full, then by its first word
                etype, name = ORG, org if _legal_form_only(org) else m.text
            elif etype == PERSON and m.text in self.after_the:
                etype = MISC
            elif etype == MISC and (fold(m.text) in self.lex.stopwords or len(m.text) == 1 or m.text in self._not_names
                                    or (_ADVERB_LIKE.search(m.text) and fold(m.text) not in self.lex.surnames)):
                return None  # "Finally", "Tougher", "Analysts": a sentence-initial word, not a name
        else:  # initials: the organisation the article names in full, if any ("NHS")
            name = _org_name(name)
            name = self._orgs.get(name.replace(".", ""), name)
        return etype, name, entity_id(etype, name)

    def _company(self, word: str, etype: EntityType) -> str | None:
        """The organisation a lone word stands for when the article names it in full first:
        "Pirelli" after "Pirelli SpA", "Mercantile" after "Mercantile Bancorp Inc.".

        Not a common word ("Bank" of "Bank of England", "Senate"), an adjective of a place or
        people ("European", "Islamic") or a given name: those open names of every kind.
        """
        key = fold(word)
        org = self._org_words.get(key)
        if org is None or etype not in (PERSON, MISC) or _PROPER_ADJECTIVE.search(key):
            return None
        lex = self.lex
        if (lex.is_common_word(key) or key in lex.places or key in lex.demonyms or key in lex.given_names
                or key in self._titled):
            return None
        return org

    def lookup(self, text: str) -> Resolved | None:
        """The entity a name written as ``text`` refers to in this article, if any."""
        key = fold(" ".join(text.split()))
        if key in self._by_name:
            return self._by_name[key]
        full = self.person(text)
        if full and fold(full) in self._by_name:
            return self._by_name[fold(full)]
        place = self.lex.places.get(key)
        if place and fold(place[0]) in self._by_name:
            return self._by_name[fold(place[0])]
        return None

    def body_people(self) -> list[Resolved]:
        return [r for r in self.resolved if r.field == BODY and r.entity_type == PERSON]


def resolve_article(fields: dict[Field, str | None], context: ExtractionContext) -> ArticleEntities:
    """Extract and resolve the mentions of every field of one article."""
    from transforms.mentions import extract_mentions

    mentions: list[tuple[Field, Mention]] = []
    for field, text in fields.items():
        if text:
            mentions.extend((field, m) for m in extract_mentions(text, context))
    ents = ArticleEntities(mentions, context, " ".join(t for t in fields.values() if t),
                           _only_at_sentence_starts(mentions, fields, context.lex))
    if context.typer is not None:
        retype(ents, fields, context)
    return ents


def typer_contexts(ents: ArticleEntities, fields: dict[Field, str | None]) -> list[SpanContextT]:
    """What the typer reads of each resolved mention of an article (``typer.span_context``)."""
    doc = article_features(fields.get(TITLE) or "", fields.get(BODY) or "")
    others: dict[str, str] = {}
    for r in ents.resolved:
        if " " in r.text:
            for w in r.text.split():
                others.setdefault(fold(w), COARSE[r.entity_type])
    return [span_context(fields[r.field] or "", r.start, r.end, r.entity_type, doc, others) for r in ents.resolved]


def retype(ents: ArticleEntities, fields: dict[Field, str | None], context: ExtractionContext) -> None:
    """Re-type the article's mentions with the learned typer (``transforms.typer``)."""
    model = context.typer
    if model is None or not ents.resolved:
        return
    out: list[Resolved] = []
    changed = False
    lex = context.lex
    for r, ctx in zip(ents.resolved, typer_contexts(ents, fields), strict=True):
        etype = entity_type_for(model.type_of(ctx, lex), r.entity_type, r.text in ents.after_the)
        if etype != r.entity_type:
            name = _org_name(r.name) if etype == ORG else r.name
            r = r._replace(entity_type=etype, name=name, entity_id=entity_id(etype, name))
            changed = True
        out.append(r)
    if changed:
        ents.resolved = out
        ents._by_name = {fold(r.name): r for r in out}


def _only_at_sentence_starts(mentions: list[tuple[Field, Mention]], fields: dict[Field, str | None],
                             lex: Lexicons) -> frozenset[str]:
    """Common words typed MISC that the article capitalises only where a sentence or a line
    starts: "Attendance: 12,000", "Analysts said", "Police arrested": capitals of position, not
    names. One written with a capital inside a sentence ("the Senate", "beat Arsenal") is a name."""
    starts: set[str] = set()
    inside: set[str] = set()
    for field, m in mentions:
        if m.entity_type == MISC and " " not in m.text:
            text = fields[field] or ""
            if not sentence_initial(text, m.start) or text.startswith(POSSESSIVE_S, m.end):  # "Apple's"
                inside.add(m.text)
            elif m.text not in starts:
                key = fold(m.text)
                if lex.is_common_word(key) and key not in lex.surnames and key not in lex.given_names:  # "Fox", "Ray"
                    starts.add(m.text)
    return frozenset(starts - inside)


__all__ = ["ArticleEntities", "Resolved", "entity_id", "resolve_article"]
