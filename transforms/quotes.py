"""Direct quotations and their speakers.

Three passes over an article body:

1. ``find_spans`` pairs quotation marks paragraph by paragraph. Straight marks are told apart
   by what stands beside them; marks of the other kind inside an open quote, and single
   quotes, are nested and stay part of the outer quote. A paragraph that ends inside a quote
   and is followed by one that re-opens with a mark continues the same quote
   (``multi-paragraph``); an unclosed quote otherwise ends with its paragraph, so one odd mark
   never costs the article its other quotes.
2. ``attribute`` looks for the speech cue and its subject after the quote (``"...," X said``,
   ``"...," said X``, ``"...," X, the Y of Z, said``), then before it in the same sentence
   (``X said: "..."``, ``X said it would be "..."``, ``according to X``), then falls back to
   the previous quote's speaker for a quote with no cue of its own that opens a paragraph or
   follows an attributed quote in the same paragraph (``continuation``).
3. Speakers are resolved: a name through the article's entities ("Kirby" -> "John Kirby"),
   a role phrase through the name it stood beside earlier ("Kerry's spokesman"), a pronoun
   to the last person named outside quotes before it.

Short quotes with no cue anywhere in their sentence are scare quotes or titles, not speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from transforms.lexicons import ORG_HEADS, fold
from transforms.parse import Block
from transforms.resolve import ORG, PERSON, ArticleEntities, Resolved

OPENERS = {"“": "”", "«": "»", "„": "”"}
CLOSERS = {"”", "»"}
STRAIGHT = '"'
# A transcript turn: '"PENCE: Well, look, ...' opens a new quote with its own speaker.
_SPEAKER_LABEL = re.compile(r"(?P<label>[A-Z][A-Z.'\- ]{1,30}[A-Z]):\s")
_OPENING_MARK = re.compile(r'“|(?:^|(?<=\s))"(?=\S)')
_MARKS = re.compile('["“”«»„]')
# Markup that survived into the text (<tweet author="x">): its quotation marks are not speech.
_MARKUP = re.compile(r"<[^<>\n]{0,800}>")

CUES = """
said says say saying told tells tell added adds wrote writes write declared declares warned warns
insisted insists asked asks explained explains noted notes stated argued argues claimed
claims continued continues replied replies responded responds answered answers sneered tweeted
tweets posted posts announced announces acknowledged acknowledges admitted admits recalled recalls
suggested suggests urged urges concluded concludes conceded concedes countered counters cautioned
cautions predicted predicts promised promises vowed vows boasted boasts complained complains joked
jokes quipped quips observed observes remarked remarks emphasized emphasizes emphasised stressed
stresses threatened threatens demanded demands reported reports testified testifies shouted shouts
yelled yells whispered mused wondered acknowledged agreed agrees disagreed contended contends
maintained maintains pointed described describes called calls labeled labelled dubbed questioned
charged charges alleged alleges blasted slammed praised praises lamented laments explained adding
noting writing saying telling calling commented comments read reads pledged pledges issued
accused accuses accusing referred chanted chants chanting spoke arguing asking citing cited
remarking assured explaining stating declaring blamed warning interjected tweeting proclaimed
lauded condemned condemns characterized characterizes denounced denounces hailed hails asserted
asserts criticized criticizes mocked mocks dismissed dismisses quoted scolded claiming insisting
likened encouraging call reiterated reiterates recounted recounts credited
""".split()
_CUE_ALT = "|".join(sorted(set(CUES), key=len, reverse=True))
_CUE = re.compile(rf"\b(?:[Aa]ccording to|(?:{_CUE_ALT})|(?:{_CUE_ALT.title()}))\b")
# Every cue counts as speech; "called 'X'" with nothing between verb and quote is a label
# (see _LABEL_BEFORE), but "called Trump a 'pathological liar'" is Cruz's words.
_SPEECH_VERBS = frozenset(CUES)

PRONOUNS = {"he", "she", "they", "we", "i", "it", "you"}
_PERSON_PRONOUNS = {"he", "she", "i"}
# Words that make a quoted phrase a name, title or label rather than speech.
_LABEL_BEFORE = re.compile(
    r"(?:so-called|dubbed|nicknamed|titled|entitled|known as|called|named|the word|the term|"
    r"the phrase|the slogan|film|movie|book|song|album|show|series|novel|play|headline|hashtag)\s*[,:]?\s*$",
    re.IGNORECASE)
_NP_BREAK = re.compile(r"(?:[,;:\"“”—–]|--|\b(?:and|but|that|which|who|while|as|when|because|after|before|"
                       r"though|although|since|unless|until|whereas|what|where|how|why|"
                       r"if|then|so|also|later|earlier|in an? \w+|on \w+day)\b)", re.IGNORECASE)
_ADVERB = (r"(?:\w+ly\s+|also\s+|later\s+|then\s+|once\s+|again\s+|previously\s+|recently\s+|often\s+|"
           r"still\s+|just\s+|even\s+|never\s+|already\s+|now\s+|always\s+|has\s+|had\s+|have\s+)?")
_APPOSITIVE = re.compile(r"(?P<np>[^,;:\"“”]+),\s+(?:[a-z]+|\d+|[A-Z][\w.]*)\b[^,;:\"“”]*,$")
# Lowercase words a speaker phrase may start with ("the campaign", "officials").
_NP_STARTERS = frozenset("""
the a an his her their its our one two another both many some several officials critics sources
this that these those each
""".split())
_WORD_BEFORE = re.compile(r"[\w.]+$")
_ABBREVIATIONS = frozenset("""
mr mrs ms dr st jr sr rep reps sen sens gov gen lt col sgt capt maj adm cmdr prof rev hon pres del
atty amb cpl pvt
sec supt insp det corp inc ltd co no vs mt ft jan feb mar apr jun jul aug sep sept oct nov dec
""".split())
# ", the top Democrat on the committee," after a speaker's name; not ", adding that ...".
_APPOS_AFTER = re.compile(r"(?:\s*\([^()]{1,20}\))?,\s+(?P<appos>(?!\w+ing\b|according|who said)"
                          r"(?:the|a|an|who|whose|[a-z]+|\d+|[A-Z][\w.]*)\b[^;:!?\"“”]{0,300}?)"
                          r"(?=,\s+(?!who\b)|[,.]?\s*$)")
_SENT_END = re.compile(r"[.!?][\"”’)]*\s+(?=[\"“‘(]?[A-Z])")


@dataclass
class QuoteSpan:
    start: int  # offset of the first quoted character (after the opening mark)
    end: int  # offset after the last quoted character (before the closing mark, if any)
    open_pos: int
    close_pos: int | None  # position of the closing mark, None when the quote was never closed
    first_block: int
    last_block: int


@dataclass
class Quote:
    start: int
    end: int
    text: str
    paragraph_index: int
    paragraph_count: int
    kind: str
    cue: str | None = None
    speaker_text: str | None = None
    speaker_start: int | None = None
    speaker_end: int | None = None
    speaker: str | None = None
    speaker_entity_id: str | None = None
    extra: dict = field(default_factory=dict)


def _is_open_straight(text: str, i: int, lo: int, hi: int) -> bool | None:
    """True for an opening straight mark, False for a closing one, None when it cannot be told."""
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
        tags = [(m.start(), m.end()) for m in _MARKUP.finditer(body, lo, hi)] if "<" in body[lo:hi] else []
        for mark in _MARKS.finditer(body, lo, hi):
            i, ch = mark.start(), mark.group()
            if tags and any(a < i < b for a, b in tags):
                continue
            if ch in OPENERS:
                if not stack:
                    open_pos, first_block = i, bi
                stack.append(OPENERS[ch])
            elif ch in CLOSERS:
                if stack:
                    if len(stack) == 1 or ch not in stack[1:]:  # also closes a straight opener
                        stack.pop()
                    else:
                        del stack[stack.index(ch, 1):]
                    if not stack and open_pos is not None:
                        spans.append(QuoteSpan(open_pos + 1, i, open_pos, i, first_block, bi))
                        open_pos = None
            elif ch == STRAIGHT:
                role = _is_open_straight(body, i, blk.start, hi)
                # A straight mark closes the quote it matches, or, typed by mistake, an outer
                # curly one ("“Our roads are crumbling," she said.) when no curly closer follows.
                mixed_close = (role is False and len(stack) == 1 and stack[-1] != STRAIGHT
                               and _no_closer_for_this_quote(body, i, hi, stack[-1]))
                if stack and ((stack[-1] == STRAIGHT and role is not True) or mixed_close):
                    stack.pop()
                    if not stack and open_pos is not None:
                        spans.append(QuoteSpan(open_pos + 1, i, open_pos, i, first_block, bi))
                        open_pos = None
                elif role is not False and (not stack or stack[-1] != STRAIGHT):
                    if not stack:
                        open_pos, first_block = i, bi
                    stack.append(STRAIGHT)
        if stack and open_pos is not None:
            nxt = blocks[bi + 1] if bi + 1 < len(blocks) else None
            if (nxt is not None and (body[nxt.start] in OPENERS or body[nxt.start] == STRAIGHT)
                    and not _SPEAKER_LABEL.match(body, nxt.start + 1)):
                carry = (open_pos, first_block)
            else:
                spans.append(QuoteSpan(open_pos + 1, hi, open_pos, None, first_block, bi))
    return spans


def _no_closer_for_this_quote(body: str, i: int, hi: int, closer: str) -> bool:
    """True when the curly closer still expected does not belong to this quote: there is none
    left in the paragraph, or another quote opens before it ('“...kids," she said "Ultimately ...”')."""
    j = body.find(closer, i, hi)
    return j < 0 or bool(_OPENING_MARK.search(body, i + 1, j))


def _block_of(blocks: list[Block], pos: int) -> int:
    for i, b in enumerate(blocks):
        if b.start <= pos <= b.end:
            return i
    return len(blocks) - 1


def _is_boundary(body: str, m: re.Match[str]) -> bool:
    """A sentence end, not the dot of "Mr." or "Charles B." or "U.S."."""
    if body[m.start()] != ".":
        return True
    w = _WORD_BEFORE.search(body, max(0, m.start() - 12), m.start())
    word = w.group(0) if w else ""
    return not (len(word) == 1 or word.lower() in _ABBREVIATIONS or "." in word)


def _sentence_start(body: str, lo: int, pos: int) -> int:
    start = lo
    # Search a little past pos: the boundary's look-ahead must see the capital after it.
    for m in _SENT_END.finditer(body, lo, min(len(body), pos + 3)):
        if m.end() <= pos and _is_boundary(body, m):
            start = m.end()
    return start


def _sentence_end(body: str, pos: int, hi: int) -> int:
    for m in _SENT_END.finditer(body, pos, hi):
        if _is_boundary(body, m):
            return m.end()
    return hi


# Patterns of the attribution rules, compiled once.
_TAIL_ATTRIBUTION = re.compile(
    r"[^\"“”.;]{1,80}?,\s+(?P<np>he|she|they|[A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3})\s+"
    r"(?P<cue>" + _CUE_ALT + r")\b[^\"“”]{0,60}$")
# '"It seems unlikely" that Sanders can catch Clinton, said Steve Elmendorf, deputy ...'
_TAIL_INVERTED = re.compile(
    r"[^\"“”.;]{1,80}?,\s+(?P<cue>" + _CUE_ALT + r")\s+(?P<np>[A-Z][^,;:!?\"“”]{0,80})")
_NAME_BEFORE_COLON = re.compile(
    r"(?:^|[-–—]\s|\bfrom\s|\s)(?P<np>(?:[a-z]+\s+){0,2}(?:[A-Z][\w.’'\-]*\s+){0,4}[A-Z][\w.’'\-]*)\s*:$")
# '“...missing.” Trump said.': a short attribution after a full stop, typed as one sentence.
_SHORT_SAID = re.compile(r"\s+[A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,2}\s+(?:said|says|added|wrote|told)[.,]")
_TRAILING_PRONOUN = re.compile(r"\b(he|she|they|we|I|He|She|They|We)\s*$")
_FOR_SOURCE = re.compile(r"For ([A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3}),\s")
_NEXT_SENTENCE = re.compile(r"\s+(?![―—–])[A-Z]")
_CLAUSE_WORDS = frozenset("""
though although when while as if because since after before but and so then yet or to by for with
from into than unless until whether where
""".split())
_HAS_NAME = re.compile(r"\s[A-Z][a-z]")
_CUE_THEN_NP = re.compile(r"[\s,]*(" + _ADVERB + r")(?P<cue>" + _CUE_ALT + r")\s+(?P<np>[^,;:!?\"“”]+)")
_ACCORDING_TO = re.compile(r"[\s,]*according to (?P<np>[^,;:!?\"“”]+)", re.IGNORECASE)
_DASH_NAME = re.compile(r"[\s,.]*[―—–]+\s*(?P<np>[A-Z][^,;:!?\"“”\n]{1,60})")
_TRAILING_ADVERB = re.compile(_ADVERB + r"$")
_RELATIVE = re.compile(r"\s*(?:who|which)\s*")
_NP_AHEAD = re.compile(r"\s*(?P<np>[^,;:!?\"“”]+)")
_INVERTED = re.compile(r"\s+(?P<np>[A-Z][^,;:!?\"“”]{0,60}?)\s*[:,]\s*$")
_CLAUSE_JOIN = re.compile(r"(?:,|\band|\bthen)\s+$")
_WORDS = re.compile(r"\w+")
_INTRODUCED = re.compile(r"[:,]\s*$")
_DETERMINER = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
# What ends the speaker after an inverted cue: '," said Smith on Tuesday in an interview'. A
# bare "on"/"in" does not: "one Democratic source on the panel" is the source.
_NP_TAIL = re.compile(r"\s+(?:in (?:a|an|his|her|their)|on (?:\w+day|Twitter|Facebook|CNN|Fox|MSNBC|NBC|ABC|CBS|"
                      r"his|her|their|a|an)|at|during|after|before|about|of a|from|when|while|as|"
                      r"this|last|earlier|later|yesterday|today|\w+day)\b")
_NP_THEN_CUE = re.compile(r"[\s,]*(?P<np>[^,;:!?\"“”]{1,80}?)(?P<appos>,[^\"“”;]{1,120}?,)?\s+" + _ADVERB
                          + r"(?P<cue>" + _CUE_ALT + r")\b")
_NP_PAST_VERB = re.compile(r"\s*(?P<np>(?:[Tt]he\s+)?[A-Za-z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3})\s+"
                           r"(?P<cue>[a-z]{3,}ed|[a-z]{3,}[^s\W]s|sang|cried|wrote|spoke|shot back)\b")


@dataclass
class Attribution:
    cue: str
    speaker_text: str
    start: int
    end: int


def _trim_np(text: str, start: int) -> tuple[str, int] | None:
    """Clean a candidate speaker phrase; None when it cannot be a speaker."""
    raw = text
    lead = len(raw) - len(raw.lstrip(" ,"))
    raw = raw.strip(" ,")
    start += lead
    raw = raw.rstrip(".")
    # The head (before an appositive) is short; the appositive may run on.
    if not raw or len(raw.split(",")[0].split()) > 10 or any(c in raw for c in "\"“”!?;"):
        return None
    first = fold(raw.split()[0])
    if first in _CLAUSE_WORDS:  # "Though she", "to Ukraine and replacing it": not a speaker
        return None
    lowercase_start = raw[0].islower() and first not in PRONOUNS | _NP_STARTERS
    # "spokesman Mark Toner", "conservative talk radio host Rush Limbaugh" name someone
    if lowercase_start and not _HAS_NAME.search(raw.split(",")[0]):
        return None
    return raw, start


def _with_appositive(body: str, end: int, seg_end: int) -> int:
    """Extend a speaker phrase over its appositive: "Daryl Kimball, executive director of X"."""
    for _ in range(3):  # "Donna Lages, 39, a waitress at the Golden Bear, which serves ..."
        m = _APPOS_AFTER.match(body, end, seg_end)
        if not m:
            break
        end = m.end("appos")
    return end


def _attribution(cue: str, body: str, np: str, start: int, seg_end: int | None = None) -> Attribution | None:
    trimmed = _trim_np(np, start)
    if not trimmed:
        return None
    text, s = trimmed
    e = s + len(text)
    if seg_end is not None:
        e = _with_appositive(body, e, seg_end)
    return Attribution(cue, body[s:e], s, e)


def _after_attribution(body: str, close: int, hi: int) -> Attribution | None:
    """Cue and speaker right after a closing mark: '," X said' / '," said X' / '," X, the Y, said'."""
    seg_end = _sentence_end(body, close, hi)
    seg = body[close:seg_end]
    m = _CUE_THEN_NP.match(seg)
    if m and m.group("cue") in _SPEECH_VERBS:
        np = m.group("np")
        np = _NP_TAIL.split(np)[0]
        np = _NP_BREAK.split(np)[0]
        attr = _attribution(m.group("cue"), body, np, close + m.start("np"), seg_end)
        if attr:
            return attr
    m = _NP_THEN_CUE.match(seg)
    if m and m.group("cue") in _SPEECH_VERBS and not _NOT_A_CUE.search(seg, 0, m.start("cue")):
        attr = _attribution(m.group("cue"), body, m.group("np"), close + m.start("np"))
        if attr:
            if m.group("appos"):
                e = close + m.end("appos") - 1
                return Attribution(attr.cue, body[attr.start:e], attr.start, e)
            return attr
    if body[close - 2:close - 1] in (",", "!", "?"):
        # '"Mexico!" the audience screamed back': a quote ending in , ! or ? followed by a
        # subject and a past-tense verb is attributed to that subject, whatever the verb.
        m = _NP_PAST_VERB.match(seg)
        if m:
            attr = _attribution(m.group("cue"), body, m.group("np"), close + m.start("np"))
            if attr:
                return attr
    m = _TAIL_ATTRIBUTION.match(seg)
    if m and m.group("cue") in _SPEECH_VERBS:
        attr = _attribution(m.group("cue"), body, m.group("np"), close + m.start("np"))
        if attr:
            return attr
    m = _TAIL_INVERTED.match(seg)
    if m:
        np = _NP_BREAK.split(_NP_TAIL.split(m.group("np"))[0])[0]
        attr = _attribution(m.group("cue"), body, np, close + m.start("np"), seg_end)
        if attr:
            return attr
    m = _ACCORDING_TO.match(seg)
    if m:
        attr = _attribution("according to", body, m.group("np"), close + m.start("np"), seg_end)
        if attr:
            return attr
    m = _DASH_NAME.match(seg)
    if m:
        return _attribution("—", body, m.group("np"), close + m.start("np"))
    return None


def _subject_before(body: str, lo: int, cue_start: int) -> tuple[str, int] | None:
    """The noun phrase right before a cue verb, back to the nearest clause boundary."""
    left = body[lo:cue_start]
    left = _TRAILING_ADVERB.sub("", left.rstrip() + " ").rstrip()
    # "X, the Y of Z, said": the speaker is X; its appositive is part of the source as written.
    m = _APPOSITIVE.search(left)
    if m:
        head = m.group("np")
        cut = 0
        for b in _NP_BREAK.finditer(head):
            cut = b.end()
        trimmed = _trim_np(head[cut:], lo + m.start("np") + cut)
        if trimmed and not _LEAD_ADVERBIAL.match(trimmed[0] + ", "):  # not "During a speech, ..."
            end = lo + len(left.rstrip(" ,"))
            return body[trimmed[1]:end], trimmed[1]
    breaks = [(m.start(), m.end()) for m in _NP_BREAK.finditer(left)]
    breaks += [(m.start(), m.end()) for m in _CUE.finditer(left)]
    breaks.sort()
    cut = breaks[-1][1] if breaks else 0
    found = _trim_np(left[cut:], lo + cut)
    if found is None:
        # "even now at 86 she still says", "A few days ago in an interview with RT he blasted":
        # a pronoun right before the verb is its subject.
        m = _TRAILING_PRONOUN.search(left)
        if m:
            return m.group(1), lo + m.start(1)
    if found is None and breaks and _RELATIVE.fullmatch(left[breaks[-1][0]:breaks[-1][1]] + " "):
        # "a White House official who spoke anonymously said": the source is the noun phrase
        # before the relative clause, which stays part of it as written.
        prev_cut = breaks[-2][1] if len(breaks) > 1 else 0
        head = _trim_np(left[prev_cut:breaks[-1][0]], lo + prev_cut)
        if head is not None:
            end = lo + len(left.rstrip(" ,"))
            return body[head[1]:end], head[1]
    return found


def _before_attribution(body: str, lo: int, open_pos: int) -> Attribution | None:
    """The nearest cue before the quote in its sentence that has a subject: 'X said: "...'.

    Cues are tried from the quote backwards, so in 'Lavrov declared calls for a ceasefire
    "senseless"' the noun "calls" (no subject) gives way to "declared" (subject Lavrov).
    """
    text = body[lo:open_pos]
    for cue_match in reversed(list(_CUE.finditer(text))):
        cue = cue_match.group(0).lower()
        if _NOT_A_CUE.search(text, 0, cue_match.start()):
            continue  # "so-called", "to tell", "Republican claims", "those reports": not speech
        if cue.lower() == "according to":
            m = _NP_AHEAD.match(text[cue_match.end():])
            attr = m and _attribution("according to", body, m.group("np"), lo + cue_match.end() + m.start("np"))
            if attr:
                return attr
            continue
        participle = cue.endswith("ing")
        if participle:
            # "footage of Trump saying '...'": a name right before the participle speaks;
            # otherwise "Trump attacked Clinton, saying '...'": the sentence's subject does.
            m = _NAME_BEFORE_PARTICIPLE.search(text, 0, cue_match.start())
            subj = (m.group(1), lo + m.start(1)) if m else _subject_before(body, lo, lo + cue_match.start())
        else:
            subj = _subject_before(body, lo, lo + cue_match.start())
        if subj is None:
            # "said X: '...'" inversion: subject after the cue.
            m = _INVERTED.match(text[cue_match.end():])
            if m and not _DATE_WORDS.match(m.group("np")):
                subj = _trim_np(m.group("np"), lo + cue_match.end() + m.start("np"))
        if subj is None and (participle or _CLAUSE_JOIN.search(text[:cue_match.start()])):
            # "Trump attacked Clinton, saying, '...'", "Geoff Garin, a pollster with X, a PAC,
            # said": the speaker is the subject of the sentence.
            subj = _sentence_subject(body, lo, lo + cue_match.start())
        if subj is not None:
            return Attribution(cue, subj[0], subj[1], subj[1] + len(subj[0]))
    if text.rstrip().endswith(":"):
        # "Pollsters agree - Carl Bialik:", "doesn't surprise Republican pollster Daron Shaw:":
        # a name right before the colon; else the clause's subject ('Jeb Bush broke down what
        # was wrong to the Dutch paper NRC Handelsblad: "..."').
        m = _NAME_BEFORE_COLON.search(text.rstrip())
        if m:
            return Attribution(":", m.group("np"), lo + m.start("np"), lo + m.end("np"))
        subj = _sentence_subject(body, lo, lo + len(text.rstrip()))
        if subj is not None:
            return Attribution(":", subj[0], subj[1], subj[1] + len(subj[0]))
    return None


# Words before a cue word that make it no cue: a hyphen ("so-called"), an infinitive ("too
# early to tell"), a determiner or adjective making it a noun ("Republican claims", "those
# reports", "a statement calling" keeps: "calling" is no noun).
_NOT_A_CUE = re.compile(r"(?:-|\bto\s+|\b(?:the|a|an|of|his|her|their|its|our|these|those|such|my|your|whose|"
                        r"Republican|Democratic|false|new|recent|late-night)\s+)$")
_NAME_BEFORE_PARTICIPLE = re.compile(
    r"\b(?:of|by|with|shows?|showing)\s+((?:[A-Z][\w.’'\-]*\s+){0,2}[A-Z][\w.’'\-]*)\s+$")
_DATE_WORDS = re.compile(r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
                         r"April|May|June|July|August|September|October|November|December|Today|Yesterday|"
                         r"Last|This|Earlier|Later)\b")
_CONJUNCTION = re.compile(r"(?:And|But|So|Then|Yet|Or|Now)\s+")
_FUNCTION_WORDS = frozenset("the a an and but so then yet or now each every what which this that these those".split())
_LEAD_ADVERBIAL = re.compile(
    r"(?:(?:(?:In|On|At|During|After|Before|Following|Under|As|While|When|Although|Though|Last|This|Earlier|"
    r"Later|Since|Despite|With|Without|For|From|By|Meanwhile|However|But|And|Still|Yet|Also|Then|Now|So|"
    r"Once|Asked|Speaking|Back)\b|[A-Z][a-z]+ing\b|[A-Z][a-z]+ed\b)[^,;:\"“”]{0,80},\s+)+")
_VERB_AHEAD = (r"(?=\s+(?:\w+ly\s+)?(?:[a-z]+ed|says|tells|calls|claims|writes|adds|notes|argues|insists|reads|"
               r"states|reports|warns|explains|believes|thinks|wants|sees|puts|has|had|was|is|said|told|sent|"
               r"made|took|gave|went|came|"
               r"wrote|spoke|put|got|saw|began|became|brought|thought|held|kept|left|met|ran|set|stood|won|lost)\b)")
_SUBJECT = re.compile(
    r"(?P<np>(?:[Hh]e|[Ss]he|[Tt]hey|[Ww]e|I|[Ii]t)\b"
    # a description ending before its verb: "The former secretary of State began", "The
    # Democratic presidential front-runner and former secretary of state said", "Law's
    # advocacy group One Nation began"
    r"|(?:[Tt]he|[Aa]n?|(?:[A-Z][\w.\-]*\s+){0,3}[A-Z][\w.\-]*(?:’s|'s))\s+[\w’'\-]+(?:\s+[\w’'\-]+){0,9}?"
    + _VERB_AHEAD +
    # a name, with its parenthetical and appositives: "Geoff Garin, a pollster with X, a PAC,"
    r"|(?:(?:The|A|An)\s+)?[A-Z][\w.’'\-]*(?:\s+(?:(?:of|the|de|van|der|al|for)\s+)?[A-Z][\w.’'\-]*)*"
    r"(?:\s*\([^()]{1,20}\))?(?:(?:,\s[^,;:\"“”]{2,100}){1,3},)?)"
    r"\s+(?:\w+ly\s+)?[a-z]")


def _sentence_subject(body: str, lo: int, hi: int) -> tuple[str, int] | None:
    """The subject that opens the sentence at ``lo``: a name, a pronoun or "The X"."""
    while lo < hi and body[lo] in " ,;:—–-\"”’()":
        lo += 1
    m = _LEAD_ADVERBIAL.match(body, lo, hi)
    start = m.end() if m else lo
    m = _CONJUNCTION.match(body, start, hi)
    start = m.end() if m else start
    m = _SUBJECT.match(body, start, hi)
    if not m:
        return None
    np = m.group("np")
    if " " not in np and fold(np) in _FUNCTION_WORDS:  # "The snarky headline reads:" is not "The"
        return None
    return _trim_np(np, start)


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
        inside = [(q.open_pos, q.end) for q in quote_spans]
        self.people = [r for r in entities.body_people()
                       if not any(a <= r.start < b for a, b in inside)]

    def _mentions_in(self, start: int, end: int) -> list[Resolved]:
        return [r for r in self.entities.resolved
                if r.field == "body" and start <= r.start and r.end <= end and r.entity_type in (PERSON, ORG)]

    def resolve(self, phrase: str, start: int, end: int) -> tuple[str | None, str | None]:
        """(canonical speaker, entity id) for the phrase at body[start:end]."""
        if ", " in phrase:  # "Daryl Kimball, executive director of X": the name is the head
            phrase = phrase.split(", ")[0]
            end = start + len(phrase)
        key = fold(phrase)
        if key in PRONOUNS:
            if key not in _PERSON_PRONOUNS:
                return None, None
            before = [p for p in self.people if p.end <= start]
            if before:
                p = max(before, key=lambda r: r.end)
                return p.name, p.entity_id
            return None, None
        found = self._mentions_in(start, end)
        people = [r for r in found if r.entity_type == PERSON]
        pick = people[-1] if people else (found[-1] if found else None)
        if pick is None:
            hit = self.entities.lookup(phrase)
            if hit is not None:
                return hit.name, hit.entity_id
            role = _DETERMINER.sub("", key)
            if role in self.roles:
                r = self.roles[role]
                return r.name, r.entity_id
            # An unnamed source keeps only its words as written (speaker_text): "a spokesman" is no
            # canonical speaker, but an organisation described by its head noun is ("the
            # defense ministry" -> "defense ministry").
            bare = _DETERMINER.sub("", phrase)
            if fold(bare.split()[-1]) in ORG_HEADS or bare[:1].isupper():
                return bare, None
            return None, None
        role_text = self.body[start:pick.start].strip()
        if role_text and pick.entity_type == PERSON:
            self.roles[_DETERMINER.sub("", fold(role_text))] = pick
        return pick.name, pick.entity_id

    def names_someone(self, phrase: str, start: int) -> bool:
        """A pronoun for a person, a phrase holding a person or organisation, or "the campaign"."""
        first = phrase.split()[0]
        if fold(first) in _PERSON_PRONOUNS | {"they", "we"}:
            return True
        if any(r.field == "body" and start <= r.start and r.end <= start + len(phrase)
               and r.entity_type != "LOC" for r in self.entities.resolved):  # "Japan branded ..."
            return True
        return fold(first) in {"the", "a", "an"} and len(phrase.split()) >= 2

    def note_speaker(self, resolved: Resolved | None) -> None:
        if resolved is not None:
            self.people.append(resolved)


#: Quotes of this many words or fewer need more care: many are titles, names or scare quotes.
SHORT_WORDS = 4


def _title_like(text: str, words: int) -> bool:
    """A name or title in quotation marks: short and capitalised ("Not Delusional"), or
    written in title case with no sentence inside ("How the Grinch Stole Christmas")."""
    if words <= SHORT_WORDS:
        return _capitalised(text)
    return words <= 12 and _capitalised(text) and not re.search(r"[.!?]\s", text) and len(
        [w for w in text.split() if w[:1].isupper()]) >= 3


def _capitalised(text: str) -> bool:
    """Every word starts with a capital: "Face the Nation", "Morning Joe", "Not Delusional".

    Measured on PolNeAR train: unattributed short quotes written like this are attributed
    speech only 28% of the time, against 78% for the other unattributed short quotes.
    """
    words = [w for w in text.split() if w[:1].isalpha()]
    minor = {"the", "of", "a", "an", "and", "in", "on", "for", "to", "at"}
    return bool(words) and all(w[0].isupper() or w in minor for w in words) and words[0][0].isupper()


def _only_attribution_between(body: str, prev_span: QuoteSpan, prev: Quote, span: QuoteSpan) -> bool:
    """True when only the previous quote's attribution stands between it and this one.

    '"First part," he said. "Second part."' continues; '"...," Trump told a rally, saying
    Clinton would "abolish the amendment."' does not.
    """
    if prev_span.close_pos is None:
        return False
    gap = body[prev_span.close_pos + 1:span.open_pos]
    n = len(_WORDS.findall(gap))
    if prev.speaker_start is not None and prev.speaker_start > prev_span.close_pos:
        n -= len(_WORDS.findall(prev.speaker_text or "")) + len((prev.cue or "").split())
    return n <= 3


def _is_title(body: str, span: QuoteSpan, text: str, words: int) -> bool:
    """A show, book or programme name after its cue: 'told "Fox and Friends"', 'on ABC's "Good
    Morning America."'. Introduced speech ('said: "Yes, Sir"') is not a title."""
    if words < 2 or not _capitalised(text):
        return False
    before = body[max(0, span.open_pos - 3):span.open_pos]
    return not _INTRODUCED.search(before)


def _is_label(body: str, span: QuoteSpan, lo: int) -> bool:
    return bool(_LABEL_BEFORE.search(body[max(lo, span.open_pos - 40):span.open_pos]))


def extract_quotes(body: str, blocks: list[Block], entities: ArticleEntities) -> list[Quote]:
    """All direct quotations of a body, attributed and resolved (see module docstring)."""
    spans = find_spans(body, blocks)
    resolver = SpeakerResolver(body, entities, spans)
    quotes: list[Quote] = []
    prev: Quote | None = None
    prev_span: QuoteSpan | None = None
    for k, sp in enumerate(spans):
        text = body[sp.start:sp.end]
        stripped = text.strip()
        if not stripped:
            continue
        lead = len(text) - len(text.lstrip())
        start, end = sp.start + lead, sp.start + lead + len(stripped)
        blk_first, blk_last = blocks[sp.first_block], blocks[sp.last_block]
        next_open = spans[k + 1].open_pos if k + 1 < len(spans) and spans[k + 1].first_block == sp.last_block \
            else blk_last.end
        prev_close = (prev_span.close_pos + 1 if prev_span and prev_span.last_block == sp.first_block
                      and prev_span.close_pos is not None else blk_first.start)
        sent_lo = max(prev_close, _sentence_start(body, blk_first.start, sp.open_pos))

        attr = None
        label = _SPEAKER_LABEL.match(body, start)
        if label:
            attr = Attribution(":", label.group("label"), start, label.end("label"))
        elif sp.close_pos is not None and not (stripped.endswith(".") and _NEXT_SENTENCE.match(body, sp.close_pos + 1)
                                               and not _SHORT_SAID.match(body, sp.close_pos + 1)):
            # A quote ending with a full stop ends its sentence: what follows a capital is a new
            # sentence, not an attribution ('"...timing." Gov. Pat McCrory said it would be').
            attr = _after_attribution(body, sp.close_pos + 1, next_open)
        if attr is None and not label:
            attr = _before_attribution(body, sent_lo, sp.open_pos)
        if attr is None and sp.open_pos == blk_first.start and sp.first_block > 0:
            # A quote opening its paragraph after one that ends with "X said:".
            pb = blocks[sp.first_block - 1]
            if body[pb.start:pb.end].rstrip().endswith(":"):
                last_lo = _sentence_start(body, pb.start, pb.end - 1)
                attr = _before_attribution(body, last_lo, pb.end)

        words = len(stripped.split())
        kind = "multi-paragraph" if sp.last_block > sp.first_block else None
        q = Quote(start, end, stripped, sp.first_block, sp.last_block - sp.first_block + 1, kind or "full")
        if attr is not None:
            q.cue, q.speaker_text = attr.cue, attr.speaker_text
            q.speaker_start, q.speaker_end = attr.start, attr.end
            q.speaker, q.speaker_entity_id = resolver.resolve(attr.speaker_text, attr.start, attr.end)
        else:
            opens_paragraph = sp.open_pos == blk_first.start
            same_paragraph = prev is not None and prev_span.last_block == sp.first_block
            after_quote_paragraph = (prev is not None and opens_paragraph
                                     and prev_span.last_block == sp.first_block - 1)
            tight = same_paragraph and _only_attribution_between(body, prev_span, prev, sp)
            subject = None
            if not (after_quote_paragraph or tight):
                if _is_label(body, sp, blk_first.start) or _title_like(stripped, words):
                    continue  # a title, name or nickname in quotation marks: no one said it
                # No cue: the subject of the quote's sentence is its source ("Sanders credited
                # Clinton's victory to '...'"), when it names someone.
                for_source = _FOR_SOURCE.match(body, sent_lo, sp.open_pos)
                if for_source:
                    # "For Hof, Kerry's mission was a 'fool's errand'": the view is Hof's.
                    subject = (for_source.group(1), for_source.start(1))
                elif not (same_paragraph and prev_close > _sentence_start(body, blk_first.start, sp.open_pos)):
                    subject = _sentence_subject(body, sent_lo, sp.open_pos)
                    if subject is not None and not resolver.names_someone(*subject):
                        subject = None
                if subject is None and sent_lo == sp.open_pos and sp.open_pos > blk_first.start:
                    # A quote opening its sentence after "..., Schiff said." or "X called him a
                    # master. '...'": the previous sentence's source goes on speaking.
                    prev_lo = max(prev_close, _sentence_start(body, blk_first.start, sent_lo - 2))
                    carried = _before_attribution(body, prev_lo, sent_lo)
                    if carried is not None:
                        subject = (carried.speaker_text, carried.start)
            if subject is not None:
                q.speaker_text, q.speaker_start = subject
                q.speaker_end = q.speaker_start + len(subject[0])
                q.speaker, q.speaker_entity_id = resolver.resolve(subject[0], q.speaker_start, q.speaker_end)
            elif prev is not None and (after_quote_paragraph or same_paragraph):
                q.speaker_text, q.speaker = prev.speaker_text, prev.speaker
                q.speaker_entity_id = prev.speaker_entity_id
                q.speaker_start, q.speaker_end = prev.speaker_start, prev.speaker_end
                kind = kind or "continuation"
        if attr is not None and words <= SHORT_WORDS and (
                _is_label(body, sp, blk_first.start) or _is_title(body, sp, stripped, words)):
            continue
        if kind is None:
            before = body[blk_first.start:sp.open_pos].rstrip(" \t")
            sentence_opening = not before or before[-1] in ".!?:\n" or before.endswith(("—", "--"))
            kind = "full" if sentence_opening and stripped[0].isupper() else "partial"
        q.kind = kind
        q.extra["words"] = words
        quotes.append(q)
        prev, prev_span = q, sp
        if q.speaker_entity_id:
            hit = next((r for r in entities.resolved if r.entity_id == q.speaker_entity_id), None)
            if hit is not None and hit.entity_type == PERSON:
                resolver.note_speaker(Resolved("body", sp.open_pos, sp.open_pos, hit.text, hit.entity_type,
                                               hit.name, hit.entity_id))
    return quotes
