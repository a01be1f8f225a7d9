"""Named-entity mentions from news prose by rules over capitalisation and package lexicons.

Why rules: the usual statistical model (spaCy) needs a download this machine cannot make, and
runs at ~15 documents/s. News prose is regular enough that capitalised-phrase detection plus
place, demonym, title and given-name lexicons reaches useful accuracy at thousands of
documents per second.

The pipeline for one text field:

1. ``candidate_spans`` finds runs of capitalised words (with name particles such as "al-",
   "de", "van der" and inner "of"), split at punctuation and after possessives.
2. ``classify`` trims sentence-initial function words, dates and titles, splits a leading
   demonym ("Russian President Vladimir Putin" -> NORP "Russian" + PERSON "Vladimir Putin")
   and types the rest from the lexicons and the organisation head nouns.
3. ``transforms.resolve`` links mentions of one article to canonical entities.
"""

from __future__ import annotations

import calendar
import re
from typing import Final, NamedTuple

from transforms.context import SPAN_MEMO_SIZE, ExtractionContext
from transforms.lexicons import (
    AGENCIES,
    EVENT_HEADS,
    LEGAL_FORMS,
    LOC_HEADS,
    NAME_CONNECTORS,
    NORP_GROUPS,
    ORG_HEADS,
    Lexicons,
    fold,
)
from transforms.vocab import EVENT, GPE, LOC, MISC, NORP, ORG, PERSON, EntityType

_DOTTED_ABBR: Final = re.compile(r"(?:[A-Za-z]\.){2,}")
_ABBREV_WITH_DOT: Final = frozenset("""
mr mrs ms dr st jr sr gen lt col sen rep gov prof rev sgt capt maj adm cmdr
""".split())
_NOT_IN_A_NAME: Final = NAME_CONNECTORS - {"de", "du"}  # "Bill de Blasio" is one person
# "St" in a run is a saint's name, not a role: "Paris St Germain", "St Helens".
_SAINTS: Final = frozenset({"st", "st.", "saint", "ste", "ste."})
# Closed-class words that never start a name, wherever they stand.
FUNCTION_WORDS: Final = frozenset("""
the a an but and or nor in on at of for to from by with as if so yet this that these those his her
its their our my your while when after before since until although though because whether both
either neither
""".split())
# Days, months and the holidays news dates things by: times, not entities.
_HOLIDAYS: Final = ("Christmas", "Easter", "Thanksgiving", "Halloween", "Ramadan", "Eid", "Diwali", "Hanukkah",
                           "Passover")
DATES: Final = frozenset(fold(x) for x in [*calendar.day_name, *calendar.month_name, *calendar.month_abbr,
                                                  *_HOLIDAYS] if x)
#: The initial of a given name: "D." in "D. Blenkiron", "J." in "J. Edgar Hoover".
_INITIAL: Final = re.compile(r"[A-Z]\.")
_COMPASS: Final = {"N.": "north", "S.": "south", "E.": "east", "W.": "west"}
_SPEECH_AFTER: Final = re.compile(r"\s+(?:said|says|told|added|wrote|asked|warned|noted|declared|insisted)\b")
_POSSESSIVE: Final = ("’s", "'s", "’", "'")
POSSESSIVE_S: Final = _POSSESSIVE[:2]  # "’s" and "'s"


class Token(NamedTuple):
    start: int
    end: int
    text: str
    key: str  # fold(text), computed once: every rule looks words up by it


class SpanContext(NamedTuple):
    """All that typing a span may know of the text around it; the rest is the span itself.

    Keeping the outside world to these flags makes ``span_mentions`` a pure function of
    (span text, context), so it is memoised: news repeats its names ("Mr Blair", "Labour").
    """

    initial: bool = False  # the span starts a sentence
    shouting: bool = False  # its line is in capitals
    speech_after: bool = False  # a speech verb follows it ("Kerry said")
    place_before: bool = False  # "in", "near", "northern" ... precede it
    possessive_after: bool = False  # "’s" follows it


class Mention(NamedTuple):
    """A typed mention as offsets into its field's text."""

    start: int
    end: int
    text: str
    entity_type: EntityType
    canonical: str | None = None  # lexicon canonical name (places, demonyms), else None
    title: str | None = None  # role words trimmed off a person's name: "Foreign Minister"


#: Builds a named tuple (Token, Mention) without the Python frame of its generated ``__new__``.
_new_tuple: Final = tuple.__new__


def _token(start: int, end: int, text: str) -> Token:
    return _new_tuple(Token, (start, end, text, fold(text)))


def sentence_initial(text: str, pos: int) -> bool:
    """Whether ``pos`` opens a sentence, a line or a clause after a colon or a dash."""
    i = pos - 1
    while i >= 0 and text[i] in " \t\"“‘'(":
        i -= 1
    return i < 0 or text[i] in ".!?:\n—–-"


# A capitalised word, possibly with inner joiners: "O’Brien", "U.S", "Jean-Luc", "AT&T". The
# pattern opens with a character class and nothing before it, so the regex engine jumps from
# capital to capital; what stands before a word is checked in ``candidate_spans`` (5x faster
# than a look-behind and an optional prefix in the pattern, same words).
_CAP_WORD: Final = re.compile(r"[^\W\d_a-zß-öø-ÿ][\w&]*(?:[’'.\-][^\W_][\w&]*)*")
_JOINERS: Final = frozenset("’'.-")
#: Letters of a lowercase prefix a hyphen joins to a capitalised word, looked at to keep a
#: particle ("al-Assad", "ash-Sharaa") and cut anything else ("ex-England" -> "England").
_HYPHEN_PREFIX_LETTERS: Final = 4
#: Characters between two words of one name, at most, before the link regex is tried: a space,
#: up to two particles or connectors and a space (" van der ", " of the ").
_LINK_GAP_CHARS: Final = 12
WORD_CHAR: Final = re.compile(r"\w")  # one character of a word, as the regex engine sees it
_ASCII_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyz")


def candidate_spans(text: str, context: ExtractionContext) -> list[tuple[int, int]]:
    """(start, end) of the maximal runs of capitalised words separated by single spaces or by
    particles and connectors ("Bank of England", "Ludwig van Beethoven").

    Only capitalised words count. One glued to the word before it ("iPhone", "x-Ray") is
    none; a short lowercase prefix joined by a hyphen is kept when it is a particle
    ("al-Assad") and cut otherwise ("ex-England" -> "England"). "U.S." and "Mr." keep their
    dots. A run ends after a possessive ("Kerry’s spokesman"). Inside a run the words are
    exactly the run's text split at single spaces, which is what makes ``span_mentions`` a
    pure function of the run's text.
    """
    link = context.name_link
    particles = context.lex.hyphen_particles
    spans: list[tuple[int, int]] = []
    start = prev_end = -1
    pos, n = 0, len(text)
    while (m := _CAP_WORD.search(text, pos)) is not None:
        s, e = m.span()
        pos = e
        if s > 0:
            before = text[s - 1]
            if before == "-":
                k = s - 1  # back over a lowercase prefix of one to four letters
                while k > 0 and s - 1 - k < _HYPHEN_PREFIX_LETTERS and text[k - 1] in _ASCII_LOWER:
                    k -= 1
                if k == s - 1 or (k > 0 and (text[k - 1] in _JOINERS or WORD_CHAR.match(text, k - 1))):
                    pos = s + 1
                    continue
                if text[k:s - 1] in particles:
                    s = k
            elif before != " " and (before in _JOINERS or before.isalnum() or before == "_"):  # \w
                pos = s + 1
                continue
        if e < n and text[e] == ".":
            word = text[s:e]
            if len(word) == 1 or fold(word) in _ABBREV_WITH_DOT or _DOTTED_ABBR.fullmatch(word + "."):
                e += 1
        if start >= 0:
            if s != prev_end + 1 or text[prev_end] != " ":
                gap = text[prev_end:s]
                if not (len(gap) < _LINK_GAP_CHARS and link.fullmatch(gap)):
                    spans.append((start, prev_end))
                    start = s
        else:
            start = s
        prev_end = e
        if text.endswith(POSSESSIVE_S, s, e):
            spans.append((start, e))
            start = -1
    if start >= 0:
        spans.append((start, prev_end))
    return spans


def _span_tokens(span: str) -> list[Token]:
    out, pos = [], 0
    for w in span.split(" "):
        out.append(_token(pos, pos + len(w), w))
        pos += len(w) + 1
    return out


def _strip_possessive(tok: Token) -> Token:
    for suf in POSSESSIVE_S:
        if tok.text.endswith(suf) and len(tok.text) > len(suf):
            return _token(tok.start, tok.end - len(suf), tok.text[: -len(suf)])
    return tok


#: Letters of a word in capitals read as an organisation's initials ("UN", "NATO", "U.N."):
#: at least two ("I" is no acronym), at most six (longer words in capitals are shouting).
_ACRONYM_MIN_LETTERS: Final = 2
_ACRONYM_MAX_LETTERS: Final = 6


def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "")
    return _ACRONYM_MIN_LETTERS <= len(letters) <= _ACRONYM_MAX_LETTERS and letters.isalpha() and letters.isupper()


def _is_role(key: str, lex: Lexicons) -> bool:
    """A title or role word, by its folded key: "president", "sen.", "spokesman"."""
    return key.rstrip(".") in lex.titles


def _mention(text: str, toks: list[Token], etype: EntityType, canonical: str | None = None,
             title: str | None = None) -> Mention:
    s, e = toks[0].start, toks[-1].end
    return _new_tuple(Mention, (s, e, text[s:e], etype, canonical, title))


def _speech_after(text: str, pos: int, ctx: SpanContext) -> bool:
    return ctx.speech_after if pos == len(text) else bool(_SPEECH_AFTER.match(text, pos))


def classify(text: str, toks: list[Token], lex: Lexicons, ctx: SpanContext) -> list[Mention]:
    """Type one candidate span, trimming what is not part of a name; may yield several mentions.

    ``text`` is the span's own text: what lies outside it is known only through ``ctx``.
    """
    initial, shouting = ctx.initial, ctx.shouting
    toks = [*toks[:-1], _strip_possessive(toks[-1])]
    # A sentence-initial common word ("But", "Last", "Under") is not part of a name; neither
    # are function words or dates at either end ("On Monday", "In Moscow").
    if (initial and toks and toks[0].key in lex.stopwords and not toks[0].text.isupper()
            and not _opens_a_place(text, toks, lex)):  # "New York is big": "New" stays
        toks = toks[1:]
    while toks and (toks[0].key in FUNCTION_WORDS or toks[0].key in DATES):
        toks = toks[1:]
    while toks and (toks[-1].key in DATES or toks[-1].key in NAME_CONNECTORS
                    or toks[-1].key in lex.particles):
        toks = toks[:-1]
    if not toks:
        return []
    span = text[toks[0].start:toks[-1].end]
    key = fold(span)

    place = lex.places.get(key)
    if place:
        return [_mention(text, toks, place[1], place[0])]
    if len(toks) == 1 and "-" in span:
        # "US-Russia": a compound of places is one mention per place.
        parts, pos = [], toks[0].start
        for piece in span.split("-"):
            parts.append(_token(pos, pos + len(piece), piece))
            pos += len(piece) + 1
        if all(p.key in lex.places for p in parts):
            return [_mention(text, [p], lex.places[p.key][1], lex.places[p.key][0]) for p in parts]
    if key in lex.demonyms:
        return [_mention(text, toks, NORP, lex.demonyms[key])]
    if span in NORP_GROUPS:
        return [_mention(text, toks, NORP)]
    if span in AGENCIES:
        return [_mention(text, toks, ORG)]
    if shouting:
        # All-capitals text (headlines, tables): only lexicon hits are trusted, longest first.
        return _lexicon_hits(text, toks, lex)
    folded = [t.key for t in toks]
    first, last = folded[0], folded[-1]
    if len(toks) >= 2 and last in LOC_HEADS:
        return [_mention(text, toks, LOC)]
    if len(toks) >= 2 and last in EVENT_HEADS:
        return [_mention(text, toks, EVENT)]
    # An organisation head noun anywhere but first ("State Department", "Chicago Board of
    # Trade"), or first before "of" ("Bank of England"); a company's legal form last ("Pirelli
    # SpA"); names joined by "&" ("Douglas & Lomason", "Standard & Poor").
    if len(toks) >= 2 and (any(w in ORG_HEADS for w in folded[1:])
                           or (first in ORG_HEADS and folded[1] in ("of", "for"))
                           or (((last in LEGAL_FORMS and toks[-1].text[0].isupper()) or "&" in folded)
                               and "of" not in folded and "for" not in folded)):  # "Shares of X Co": cut below
        return [_mention(text, toks, ORG)]
    if len(toks) == 1 and _is_acronym(toks[0].text):
        return [_mention(text, toks, ORG)]
    # A leading demonym or group name is a mention of its own.
    if len(toks) >= 2 and (first in lex.demonyms or toks[0].text in NORP_GROUPS):
        head = [_mention(text, toks[:1], NORP, lex.demonyms.get(first))]
        return head + classify(text, toks[1:], lex, ctx._replace(initial=False, shouting=False))
    # A role inside the run: "Agriculture Secretary Dan Glickman", "U.N. Ambassador Albright",
    # "Judicial Watch President Tom Fitton" (tried before the titles at its start: "Judicial" is
    # one). The person is what follows the last role word; what precedes it is kept only when
    # it is a place or an acronym ("U.N.", "Hong Kong"), else it is part of the role.
    role = next((i for i in range(len(toks) - 2, 0, -1) if _is_role(toks[i].key, lex)
                 and toks[i].key not in _SAINTS), None)
    if role is not None and not any(t.key in _NOT_IN_A_NAME for t in toks[role + 1:]) and (
            toks[role + 1].key in lex.given_names or (len(toks) - role == 2 and toks[role + 1].key in lex.surnames)
    ) and fold(text[toks[role + 1].start:toks[-1].end]) not in lex.places:  # not "BBC Radio Wales"
        first_role = role  # back over the role words: "Conservative MP Sir Teddy Taylor"
        while first_role > 0 and _is_role(toks[first_role - 1].key, lex):
            first_role -= 1
        head = [m for m in classify(text, toks[:first_role], lex, ctx._replace(shouting=False))
                if m.entity_type in (GPE, LOC, NORP) or (m.entity_type == ORG and _is_acronym(m.text))
                ] if first_role else []
        title = text[(head[-1].end if head else toks[0].start):toks[role].end].strip()
        return [*head, _mention(text, toks[role + 1:], PERSON, title=title)]
    # Titles and roles before a name are not part of it: "President Vladimir Putin".
    title_start = toks[0].start
    titled = of_what = False
    while len(toks) >= 2 and (_is_role(toks[0].key, lex) or toks[0].key in NAME_CONNECTORS):
        of_what = of_what or toks[0].key in NAME_CONNECTORS
        toks, titled = toks[1:], True
    if titled:
        if _is_role(toks[0].key, lex) and len(toks) == 1:
            return []
        if toks[0].key not in lex.given_names:
            # More of the title, then who holds it: "Minister of Foreign Affairs Sergei Lavrov",
            # "Miss Universe Alicia Machado". What a role is of names nobody: "MP for
            # Birkenhead", "the Prince of Wales".
            given = next((i for i in range(1, len(toks) - 1) if toks[i].key in lex.given_names), None)
            if given is not None and all(_no_name_word(t, lex) for t in toks[:given]):  # not "Luiz Inacio Lula"
                toks = toks[given:]
            elif of_what:
                return classify(text, toks, lex, ctx._replace(initial=False, shouting=False))
        return [_mention(text, toks, PERSON, title=text[title_start:toks[0].start].strip())]
    if len(toks) == 1:
        return [_single(text, toks[0], lex, ctx)]
    # "Jesper Parnevik of Sweden", "John Casesa of Schroder Wertheim & Co": a person of a place
    # or a firm is two mentions ("Maria Full of Grace" and "Archbishop of Westminster" are not).
    if first in lex.given_names and "of" in folded[2:]:
        cut = folded.index("of", 2)
        tail = classify(text, toks[cut + 1:], lex, ctx._replace(initial=False, shouting=False))
        if not _is_role(toks[cut - 1].key, lex) and tail and all(
                m.entity_type in (GPE, LOC, ORG) for m in tail):
            return classify(text, toks[:cut], lex, ctx._replace(shouting=False)) + tail
    if first in lex.given_names or _speech_after(text, toks[-1].end, ctx) or _initial_and_name(toks, lex):
        return [_mention(text, toks, PERSON)]
    # A place with words that are not places is a team or a company: "Dynamo Moscow".
    if any(w in lex.places for w in folded) and not all(w in lex.places for w in folded):
        return [_mention(text, toks, ORG)]
    # "Supporters of Dole": a connector that made no organisation or place joins nothing.
    joint = next((i for i, t in enumerate(toks) if t.key in NAME_CONNECTORS and i > 0), None)
    if joint is not None:
        return (classify(text, toks[:joint], lex, ctx._replace(shouting=False))
                + classify(text, toks[joint + 1:], lex, ctx._replace(initial=False, shouting=False)))
    if last in lex.surnames or _foreign_name(toks, lex):
        return [_mention(text, toks, PERSON)]
    return [_mention(text, toks, MISC)]


def _initial_and_name(toks: list[Token], lex: Lexicons) -> bool:
    """An initial and a name: "D. Blenkiron". Not a compass point before a place ("S. Korea",
    "N. Korean") and not "I." (the pronoun or a numeral ending a sentence: "part I. This")."""
    if _INITIAL.fullmatch(toks[0].text) is None or toks[0].text == "I.":
        return False
    place = f"{_COMPASS.get(toks[0].text, '')} {toks[1].key}".strip()
    return place not in lex.places and place not in lex.demonyms


def _no_name_word(tok: Token, lex: Lexicons) -> bool:
    """A word of a title, never of a name: a common word ("Universe", "Constable"), a role, an
    acronym ("SEAL", "DJ") or a people's ("Jewish")."""
    return (lex.is_common_word(tok.key) or _is_role(tok.key, lex) or tok.key in lex.demonyms
            or (tok.text.isupper() and len(tok.text) > 1))


_PEOPLE_ADJECTIVE: Final = re.compile(r"(?:ian|ean|ese|ish)$")  # "European", "Bosnian": not names
_NAME_SHAPED: Final = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+|['’][A-Z][a-z]+)?")
#: Words of a name that no lexicon knows but is shaped like one: two or three.
_FOREIGN_NAME_MIN_WORDS: Final = 2
_FOREIGN_NAME_MAX_WORDS: Final = 3
#: Letters of its longest word, at least: "Noureddine Morceli" is a name, "Lib Dems" is not.
_FOREIGN_NAME_LONGEST: Final = 5


def _foreign_name(toks: list[Token], lex: Lexicons) -> bool:
    """Two or three words shaped like names, none an English word or a people's ("Noureddine
    Morceli", "Rustu Recber", "Jean-Michel Monin"): a person whose names the census lists lack.
    (Places, organisation heads and the lexicons' names were tried before.)"""
    return _FOREIGN_NAME_MIN_WORDS <= len(toks) <= _FOREIGN_NAME_MAX_WORDS and any(
        len(t.text) >= _FOREIGN_NAME_LONGEST for t in toks) and all(
        _NAME_SHAPED.fullmatch(t.text) and not lex.is_common_word(t.key) and t.key not in lex.demonyms
        and t.text not in NORP_GROUPS and not _PEOPLE_ADJECTIVE.search(t.key) for t in toks)


#: Words of the longest place or demonym looked up inside a run: "Bosnia and Herzegovina",
#: "New South Wales".
_PLACE_WORDS: Final = 4


def _opens_a_place(text: str, toks: list[Token], lex: Lexicons) -> bool:
    """The run's first two to four words are a place or a demonym ("New York", "New South
    Wales", "New Zealander"): its first word is part of the name, even a common one."""
    for j in range(2, min(len(toks), _PLACE_WORDS) + 1):
        key = fold(text[toks[0].start:toks[j - 1].end])
        if key in lex.places or key in lex.demonyms:
            return True
    return False


def _lexicon_hits(text: str, toks: list[Token], lex: Lexicons) -> list[Mention]:
    """Places, demonyms and agencies inside a run of words, longest match first."""
    out, i = [], 0
    while i < len(toks):
        for j in range(min(len(toks), i + _PLACE_WORDS), i, -1):
            key = fold(text[toks[i].start:toks[j - 1].end])
            place = lex.places.get(key)
            if place:
                out.append(_mention(text, toks[i:j], place[1], place[0]))
                break
            if key in lex.demonyms:
                out.append(_mention(text, toks[i:j], NORP, lex.demonyms[key]))
                break
        else:
            j = i + 1
        i = j
    return out


_SCORE_AFTER: Final = re.compile(r"\s+\d+(?:-\d+)?(?:[\s,.;)]|$)"
                                 r"(?!\s*(?:percent|per cent|%|people|km|miles|years|days|dollars|million|billion))")
_PLACE_BEFORE: Final = re.compile(r"\b(?:in|at|from|to|of|near|into|on)\s+$")
#: Words that put a place after them: "in Moscow", "northern Mali", "near the Hague".
_LOC_BEFORE_WORDS: Final = frozenset("""
in near outside across into northern southern eastern western central north south east west
""".split())


#: Characters before a name looked back over for those words (and "the"): "northern ", "in the ".
_PLACE_WORD_CHARS: Final = 20
#: The last two letters of those words and of "the": a cheap test of the word before a name.
_LOC_BEFORE_ENDINGS: Final = frozenset(w[-2:] for w in (*_LOC_BEFORE_WORDS, "the"))


def _word_before(text: str, pos: int, lo: int, whole: bool = False) -> tuple[str, int] | None:
    """The word that ends right before the whitespace before ``pos`` (within ``text[lo:pos]``)
    and its start: what the regex ``(\\w+)\\s+$`` finds, 3.6x faster than the engine trying
    every start position of the window. ``whole``: only a word that a boundary opens inside
    the window, as ``\\b\\w+\\s+$`` would find it (None when it runs on before ``lo``)."""
    i = pos
    while i > lo and text[i - 1].isspace():
        i -= 1
    if i == pos:
        return None
    j = i
    while j > lo and (text[j - 1].isalnum() or text[j - 1] == "_"):
        j -= 1
    if j == i or (whole and j == lo and lo > 0 and (text[lo - 1].isalnum() or text[lo - 1] == "_")):
        return None
    return text[j:i], j


def _place_before(text: str, pos: int) -> bool:
    """ "in", "near", "northern" ... (and "the") right before ``pos``: "in Moscow", "in the Hague".

    What ``re.compile(r"\\b(?:in|near|...)\\s+(?:the\\s+)?$").search(text, pos - 20, pos)``
    finds (a test checks it on many positions), by looking back from ``pos`` instead of trying
    every start position of the window.
    """
    # One space after a word (most names): only a word ending like "in", "near" or "the" can
    # be a place word, and most words before names do not ("and", "said", "of").
    if (pos >= 3 and text[pos - 1] == " " and not text[pos - 2].isspace()
            and text[pos - 3:pos - 1] not in _LOC_BEFORE_ENDINGS):
        return False
    lo = max(0, pos - _PLACE_WORD_CHARS)
    found = _word_before(text, pos, lo, whole=True)
    if found is None:
        return False
    word, start = found
    if word == "the":
        found = _word_before(text, start, lo, whole=True)
        if found is None:
            return False
        word = found[0]
    return word in _LOC_BEFORE_WORDS


def _single(text: str, tok: Token, lex: Lexicons, ctx: SpanContext) -> Mention:
    """Type a lone capitalised word that no lexicon knows, from the words around it."""
    key, initial = tok.key, ctx.initial
    if _is_role(key, lex):
        return _new_tuple(Mention, (tok.start, tok.end, tok.text, MISC, None, None))
    if _speech_after(text, tok.end, ctx) and (not initial or key in lex.surnames or key in lex.given_names):
        return _new_tuple(Mention, (tok.start, tok.end, tok.text, PERSON, None, None))
    place_before = ctx.place_before if tok.start == 0 else _place_before(text, tok.start)
    if place_before and not (ctx.possessive_after if tok.end == len(text)
                             else text.startswith(POSSESSIVE_S, tok.end)):
        return _new_tuple(Mention, (tok.start, tok.end, tok.text, LOC, None, None))
    if key in lex.surnames and not initial:
        return _new_tuple(Mention, (tok.start, tok.end, tok.text, PERSON, None, None))
    return _new_tuple(Mention, (tok.start, tok.end, tok.text, MISC, None, None))


_ASCII_UPPER_BYTES: Final = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LOWER_BYTES: Final = bytes(range(ord("a"), ord("z") + 1))
#: A line is in capitals when it has at least this many capitals...
_SHOUTING_CAPITALS: Final = 8
#: ... and more than this many per lowercase letter (capitals are more than 60% of its letters).
_SHOUTING_CAPITALS_PER_LOWERCASE: Final = 1.5
#: Characters of a line read to tell whether it is in capitals.
_SHOUTING_SAMPLE_CHARS: Final = 240
#: Characters before a lone word looked back over for a title in lowercase ("said spokesman Kirby").
_TITLE_BEFORE_CHARS: Final = 30
#: Characters before a place followed by a score looked back over for a preposition ("in Paris 3
#: days ago" is a place, "Somerset 4" a team).
_PLACE_BEFORE_SCORE_CHARS: Final = 12


def is_shouting(text: str) -> bool:
    """Mostly capitals (a headline or table line in capitals): more than 60% of its letters."""
    # counts of [A-Z] and [a-z] by deleting them from the ASCII bytes (C loops, no match objects)
    data = text.encode("ascii", "ignore")
    upper = len(data) - len(data.translate(None, _ASCII_UPPER_BYTES))
    return upper >= _SHOUTING_CAPITALS and upper > _SHOUTING_CAPITALS_PER_LOWERCASE * (
        len(data) - len(data.translate(None, _ASCII_LOWER_BYTES)))


def _preceded_by_title(text: str, start: int, lex: Lexicons) -> bool:
    found = _word_before(text, start, max(0, start - _TITLE_BEFORE_CHARS))
    return found is not None and found[0].islower() and fold(found[0]) in lex.titles


def span_mentions(span: str, ctx: SpanContext, context: ExtractionContext) -> tuple[Mention, ...]:
    """The mentions of one candidate span, offsets relative to the span; memoised in
    ``context.spans`` under (span, *context flags). The key is a flat tuple:
    ``extract_mentions`` looks up about 50 spans an article and builds a ``SpanContext`` only
    for the few it has not seen."""
    memo = context.spans
    key = (span, *ctx)
    hit = memo.get(key)
    if hit is None:
        if len(memo) >= SPAN_MEMO_SIZE:
            memo.clear()
        hit = memo[key] = tuple(classify(span, _span_tokens(span), context.lex, ctx))
    return hit


#: Lone words that never start or make a name in any context ("The", "But", "December"): a
#: seventh of all candidate spans in news copy, skipped before their context is worked out.
_NEVER_A_NAME: Final = frozenset(v for w in FUNCTION_WORDS | DATES for v in (w.capitalize(), w.upper()))


def extract_mentions(text: str, context: ExtractionContext) -> list[Mention]:
    """All typed mentions of one field's text, in order of position."""
    lex = context.lex
    memo = context.spans
    out: list[Mention] = []
    shouting_lines: dict[int, bool] = {}
    for s0, e0 in candidate_spans(text, context):
        span = text[s0:e0]
        if span in _NEVER_A_NAME:
            continue
        shouting = False
        first = span.partition(" ")[0]
        if len(first) > 1 and first.isupper():  # only then can the line be in capitals
            line_start = text.rfind("\n", 0, s0) + 1
            if line_start not in shouting_lines:
                line_end = text.find("\n", s0)
                line_end = len(text) if line_end < 0 else line_end
                shouting_lines[line_start] = is_shouting(
                    text[line_start:min(line_end, line_start + _SHOUTING_SAMPLE_CHARS)])
            shouting = shouting_lines[line_start]
        flags = (sentence_initial(text, s0), shouting, _SPEECH_AFTER.match(text, e0) is not None,
                 _place_before(text, s0), text.startswith(POSSESSIVE_S, e0))
        rels = memo.get((span, *flags))
        if rels is None:
            rels = span_mentions(span, SpanContext(*flags), context)
        for start, end, mtext, etype, canonical, title in rels:
            start += s0
            end += s0
            if etype == MISC and _preceded_by_title(text, start, lex):
                etype, canonical, title = PERSON, None, None
            elif etype in (GPE, MISC) and _SCORE_AFTER.match(text, end) and not _PLACE_BEFORE.search(
                    text, max(0, start - _PLACE_BEFORE_SCORE_CHARS), start):
                # "Leicestershire 22 points, Somerset 4": a place followed by a score is a team.
                etype, canonical, title = ORG, None, None
            out.append(_new_tuple(Mention, (start, end, mtext, etype, canonical, title)))
    return out
