"""Resolving a speaker phrase to a canonical name and entity.

A name goes through the article's entities ("Kirby" -> "John Kirby"), a role phrase through
the name it stood beside ("Kerry's spokesman John Kirby", "Secretary Kerry"), a pronoun to the
last person named outside quotes before it.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left, bisect_right, insort
from typing import Final

from transforms.attribution import DETERMINER, PERSON_PRONOUNS, POSSESSIVE_DETERMINERS, PRONOUNS
from transforms.lexicons import ORG_HEADS, fold
from transforms.mentions import DATES, FUNCTION_WORDS
from transforms.quote_marks import QuoteSpan
from transforms.resolve import ArticleEntities, Resolved
from transforms.vocab import BODY, LOC, ORG, PERSON

# also a dash before a lowercase word: "B&B - which has a 22% share -" (not "LONDON (Reuters) - Trump")
_RELATIVE_OR_APPOSITIVE: Final = re.compile(r", | who\b| [-–—] (?=[a-z])")
# A person's name is a modifier, not the speaker, when a noun it describes follows inside the
# speaker phrase: after a possessive ("Grayson's spokeswoman") or after a determiner ("a Trump
# supporter", "one Clinton aide"). "Trump was ..." keeps Trump.
_POSSESSED_NOUN: Final = re.compile(r"[’']s\s+[a-z]")
_DETERMINED: Final = re.compile(r"(?i:a|an|the|one|this|that|another|some|several|two|three|many)\s")
_NOUN_AFTER: Final = re.compile(r"\s+[a-z]")
# A relative pronoun right before the speaker pronoun, after its antecedent: "Trump, whom he".
_RELATIVE_BEFORE: Final = re.compile(r",?\s+(?:whom|who|which)\s+$")
#: Characters before a speaker pronoun read for that relative pronoun.
_RELATIVE_BEFORE_CHARS: Final = 40
#: Words of an unnamed source that an organisation's head noun names, at most: "the defense
#: ministry", not a long description that happens to end in "office".
_ORG_SOURCE_MAX_WORDS: Final = 4


#: Closed classes that open sentences: function words, quantifiers, pronouns, sentence adverbs.
_SENTENCE_OPENERS: Final = FUNCTION_WORDS | frozenset("""
one another some several other others many few any all each every most none such it i there why
however meanwhile instead therefore thus also still even only now then
""".split())
#: Sorts after every (end, -index) key with the same end: bisect up to a position inclusive.
_NO_INDEX: Final = sys.maxsize

#: The sex a pronoun excludes, and the titles that tell a person's.
_OTHER_SEX: Final = {"he": "F", "she": "M"}
_TITLE_SEX: Final = {"mr": "M", "sir": "M", "lord": "M", "mrs": "F", "ms": "F", "miss": "F", "dame": "F", "lady": "F"}


class SpeakerResolver:
    """Turns speaker phrases into canonical names, remembering roles and the last person named."""

    def __init__(self, body: str, entities: ArticleEntities, quote_spans: list[QuoteSpan]):
        self.body = body
        self.entities = entities
        self.roles: dict[str, Resolved] = {}
        for r in entities.resolved:
            if r.title and r.entity_type == PERSON:
                self.roles.setdefault(fold(r.title), r)
                self.roles.setdefault(fold(r.title.split()[-1]), r)
        # people named outside quotes; the spans are in order and disjoint, so a mention is
        # inside one only if it is inside the last that opens before it
        opens = [q.open_pos for q in quote_spans]
        self.people: list[Resolved] = []
        # (end, -index) of each person, sorted: the last person before a position, ties to the
        # first named, by bisection (a scan per quote was quadratic: minutes on a quote-dense file)
        self._ends: list[tuple[int, int]] = []
        for r in entities.body_people():
            if (k := bisect_right(opens, r.start) - 1) < 0 or r.start >= quote_spans[k].end:
                self.note_speaker(r)
        self._named = [r for r in entities.resolved if r.field == BODY and r.entity_type in (PERSON, ORG)]
        starts = [r.start for r in self._named]
        ordered = all(starts[i] <= starts[i + 1] for i in range(len(starts) - 1))
        self._named_starts: list[int] | None = starts if ordered else None

    def named_in(self, start: int, end: int) -> list[Resolved]:
        """The people and organisations named in body[start:end], in order."""
        return self._mentions_in(start, end)

    def last_named_in(self, start: int, end: int) -> Resolved | None:
        """The last person or organisation named in body[start:end] (a paragraph's: without
        listing all the others before it)."""
        if self._named_starts is None:
            found = self._mentions_in(start, end)
            return found[-1] if found else None
        for i in range(bisect_left(self._named_starts, end) - 1, -1, -1):
            r = self._named[i]
            if r.start < start:
                break
            if r.end <= end:
                return r
        return None

    def _mentions_in(self, start: int, end: int) -> list[Resolved]:
        if self._named_starts is None:
            return [r for r in self._named if start <= r.start and r.end <= end]
        out = []
        for i in range(bisect_left(self._named_starts, start), len(self._named)):
            r = self._named[i]
            if r.start >= end:
                break
            if r.end <= end:
                out.append(r)
        return out

    def _people_before(self, pos: int) -> list[Resolved]:
        """The people ending at or before ``pos``, the last first (ties: the first named first)."""
        k = bisect_right(self._ends, (pos, _NO_INDEX))
        return [self.people[-i] for _, i in reversed(self._ends[:k])]

    def last_person_before(self, pos: int) -> Resolved | None:
        """The person last named outside quotes (or last quoted) before ``pos``."""
        k = bisect_right(self._ends, (pos, _NO_INDEX))
        return self.people[-self._ends[k - 1][1]] if k else None

    def resolve(self, phrase: str, start: int, end: int, learn: bool = True) -> tuple[str | None, str | None]:
        """(canonical speaker, entity id) for the phrase at body[start:end]; ``learn``: remember
        the role it was named with ("Kerry's spokesman John Kirby")."""
        # "Daryl Kimball, executive director of X", "a Mexican official who was not
        # authorized to speak": the head names the speaker, not what describes it
        full_end = end
        phrase = _RELATIVE_OR_APPOSITIVE.split(phrase, maxsplit=1)[0]
        end = start + len(phrase)
        key = fold(phrase)
        if key in PRONOUNS:
            if key not in PERSON_PRONOUNS:
                return None, None
            rel = _RELATIVE_BEFORE.search(self.body, max(0, start - _RELATIVE_BEFORE_CHARS), start)
            # "he" is not the last woman named, nor "she" the last man
            other = _OTHER_SEX.get(key)
            for p in self._people_before(start):
                if rel and p.end == rel.start():
                    continue  # "Trump, whom he called a 'con artist'": he is not Trump.
                if other is None or self._sex(p) != other:
                    return p.name, p.entity_id
            return None, None
        found = self._mentions_in(start, end)
        people = [r for r in found if r.entity_type == PERSON]
        pick = people[-1] if people else (found[-1] if found else None)
        if pick is None:
            hit = self.entities.lookup(phrase)
            if hit is not None:
                return hit.name, hit.entity_id
            role = DETERMINER.sub("", key)
            if role in self.roles:
                r = self.roles[role]
                return r.name, r.entity_id
            # An unnamed source keeps only its words as written (speaker_text): "a spokesman" is no
            # canonical speaker, but an organisation described by its head noun is ("the
            # defense ministry" -> "defense ministry").
            bare = DETERMINER.sub("", phrase)
            first = fold(bare.split()[0])
            if first in POSSESSIVE_DETERMINERS:  # "His chief aide": unnamed
                return None, None
            if fold(bare) in self.entities.lex.demonyms:
                return None, None  # "the American": a description, like "a spokesman"
            if fold(bare.split()[-1]) in ORG_HEADS:
                return bare, None
            # A capital that only opens the sentence names nobody: "One attendee", "In January
            # the MPs", "Friday".
            if bare[:1].isupper() and not self._opens_sentence_only(first, bare):
                return bare, None
            return None, None
        if pick.entity_type == PERSON and (
                _POSSESSED_NOUN.match(self.body, pick.end, end)
                or (_DETERMINED.match(self.body, start, pick.start) and _NOUN_AFTER.match(self.body, pick.end, end))):
            return self._described(phrase, end, full_end)
        role_text = self.body[start:pick.start].strip()
        if learn and role_text and pick.entity_type == PERSON:
            self.roles[DETERMINER.sub("", fold(role_text))] = pick
        return pick.name, pick.entity_id

    def _opens_sentence_only(self, first: str, phrase: str) -> bool:
        """Whether the capital of a phrase's first word is only the sentence's: a function word,
        a quantifier, a sentence adverb or a date ("In January the MPs", "One attendee",
        "However they", "Possibly", "Friday"), not a name that is also one ("May")."""
        if not (first in _SENTENCE_OPENERS or first in DATES or first.endswith("ly")):
            return False
        lex = self.entities.lex
        return not (first in lex.surnames or first in lex.given_names)

    def _sex(self, person: Resolved) -> str | None:
        """"M" or "F" when a person's title or given name tells, else None ("Kerry", "Taylor")."""
        title = fold(person.title or "").rstrip(".")
        if title in _TITLE_SEX:
            return _TITLE_SEX[title]
        lex, first = self.entities.lex, fold(person.name.split()[0])
        return "M" if first in lex.male_names else "F" if first in lex.female_names else None

    def _described(self, head: str, end: int, full_end: int) -> tuple[str | None, str | None]:
        """The speaker of a phrase whose person only describes it ("a Trump supporter",
        "Kerry's spokesman"): a name in its appositive ("Clinton's campaign chairman, John
        Podesta"), the person its role was named with before, an organisation by its head
        noun, or nobody."""
        named = [r for r in self._mentions_in(end + 2, full_end)
                 if r.entity_type == PERSON and r.start == end + 2 and self.body[end:end + 2] == ", "]
        if named:
            return named[0].name, named[0].entity_id
        role = self.roles.get(DETERMINER.sub("", fold(head)))
        if role is not None:  # "Kerry's spokesman" after "Kerry's spokesman John Kirby"
            return role.name, role.entity_id
        bare = DETERMINER.sub("", head)
        if fold(bare.split()[-1]) in ORG_HEADS and len(bare.split()) <= _ORG_SOURCE_MAX_WORDS:
            return bare, None
        return None, None

    def names_someone(self, phrase: str, start: int) -> bool:
        """A pronoun for a person, a phrase holding a person or organisation, or "the campaign"."""
        first = phrase.split()[0]
        if fold(first) in PERSON_PRONOUNS | {"they", "we"}:
            return True
        if any(r.field == BODY and start <= r.start and r.end <= start + len(phrase)
               and r.entity_type != LOC for r in self.entities.resolved):  # "Japan branded ..."
            return True
        return fold(first) in {"the", "a", "an"} and len(phrase.split()) >= 2

    def note_speaker(self, resolved: Resolved | None) -> None:
        if resolved is not None:
            self.people.append(resolved)
            insort(self._ends, (resolved.end, -(len(self.people) - 1)))
