"""Finding who a quote is attributed to: the cue ("said", "according to") and its source.

The rules read the text around a quote, nearest evidence first: after the closing mark
('"...," X said', '"...," said X, the Y of Z'), then before the opening mark in the same
sentence ('X said: "..."', 'X said it would be "..."', participles taking the sentence's
subject), then the subject of the quote's sentence. A quote inside reported speech is the
outer source's account, as PolNeAR annotates it: 'Israel said Clinton called on members to be
"closely coordinated"' and '"...," Sanders said, according to CNN' name Israel and CNN. The cue
lexicon and the shapes were learned from PolNeAR's training articles (annotated cue words),
never from single documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from transforms.lexicons import fold
from transforms.sentences import sentence_end

CUES: Final = [*"""
said says say saying told tells tell added adds wrote writes write declared declares warned warns
insisted insists asked asks explained explains noted notes stated argued argues claimed
claims continued continues replied replies responded responds answered answers sneered tweeted
tweets posted posts announced announces acknowledged acknowledges admitted admits recalled recalls
suggested suggests urged urges concluded concludes conceded concedes countered counters cautioned
cautions predicted predicts promised promises vowed vows boasted boasts complained complains joked
jokes quipped quips observed observes remarked emphasized emphasizes emphasised stressed
stresses threatened threatens demanded demands reported reports testified testifies shouted shouts
yelled yells whispered mused wondered acknowledged agreed agrees disagreed contended contends
maintained maintains pointed described describes called calls labeled labelled dubbed questioned
charged charges alleged alleges blasted slammed praised praises lamented laments explained adding
noting writing saying telling calling commented read reads pledged pledges issued
accused accuses accusing referred chanted chants chanting spoke arguing asking citing cited
remarking assured explaining stating declaring blamed warning interjected tweeting proclaimed
lauded condemned condemns characterized characterizes denounced denounces hailed hails asserted
asserts criticized criticizes mocked mocks dismissed dismisses quoted scolded claiming insisting
likened encouraging call reiterated reiterates recounted recounts credited
thanked thanks protested branded touted decried derided ridiculed yelling shouting screaming
exclaimed exclaims exhorted retorted retorts beamed
""".split(), "put it", "puts it"]  # "As Milbank puts it, '...'"


def _alternation(words: list[str]) -> str:
    """A regex alternation of ``words`` written as a trie: "sa(?:id|y(?:ing|s)?)".

    With ``said|says|saying|...`` the engine tries each of the 200 cues in turn at every
    position; the trie rejects a position on its first letters (4x faster over BBC
    sentences). It matches what the longest-first alternation matches: words sharing a
    prefix are tried longest first, and words that differ cannot both match at one place.
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


_CUE_ALT: Final = _alternation(sorted(set(CUES)))
CUE_ALT: Final = _CUE_ALT  # the cue words as one regex alternation
_CUE: Final = re.compile(r"\b(?:" + _alternation(sorted({*CUES, *[c.title() for c in CUES], "according to",
                                                        "According to"})) + r")\b")
# Every cue counts as speech; "called 'X'" with nothing between verb and quote is a label
# (see LABEL_BEFORE), but "called Trump a 'pathological liar'" is Cruz's words.
_SPEECH_VERBS: Final = frozenset(CUES)

PRONOUNS: Final = {"he", "she", "they", "we", "i", "it", "you"}
# A subject opened by one of these ("His chief aide said") describes its source, naming no one.
POSSESSIVE_DETERMINERS: Final = ("his", "her", "their", "its", "our", "my", "your")
PERSON_PRONOUNS: Final = {"he", "she", "i"}
# Words that make a quoted phrase a name, title or label rather than speech.
LABEL_BEFORE: Final = re.compile(
    r"(?:so-called|dubbed|nicknamed|titled|entitled|known as|called|named|the word|the term|"
    r"the phrase|the slogan|film|movie|documentary|book|memoir|song|album|show|series|podcast|novel|play|poem|"
    r"headline|hashtag)\s*[,:]?\s*$",
    re.IGNORECASE)
_NP_BREAK: Final = re.compile(
    r"(?:[,;:\"“”—–]|--|\b(?:and|but|that|which|who|while|as|when|because|after|before|"
    r"though|although|since|unless|until|whereas|what|where|how|why|"
    r"if|then|so|also|later|earlier|in an? \w+|on \w+day)\b)", re.IGNORECASE)
# Adverbs and auxiliaries between a speaker and the cue ("Trump has repeatedly said"). Only
# lowercase "-ly" words that are no nouns: "Megyn Kelly said", "Scott's family has called".
_LY_NOUNS: Final = r"family|rally|ally|assembly|supply|daily|weekly|monthly|quarterly|bully|anomaly|monopoly"
_ADVERB_WORD: Final = (r"(?:\b(?!(?:" + _LY_NOUNS + r")\s)[a-z]+ly\s+|"
                       r"also\s+|later\s+|then\s+|once\s+|again\s+|previously\s+|recently\s+|often\s+|"
                       r"still\s+|just\s+|even\s+|never\s+|already\s+|now\s+|always\s+|has\s+|had\s+|have\s+)")
_ADVERB: Final = _ADVERB_WORD + "?"
_APPOSITIVE: Final = re.compile(r"(?P<np>[^,;:\"“”]+),\s+(?:[a-z]+|\d+|[A-Z][\w.]*)\b[^,;:\"“”]*,$")
# Lowercase words a speaker phrase may start with ("the campaign", "officials").
_NP_STARTERS: Final = frozenset("""
the a an his her their its our one two another both many some several officials critics sources
this that these those each
""".split())
# ", the top Democrat on the committee," after a speaker's name; not ", adding that ...".
_APPOS_AFTER: Final = re.compile(r"(?:\s*\([^()]{1,20}\))?,\s+(?P<appos>(?!\w+ing\b|according|who said)"
                                 r"(?:the|a|an|who|whose|[a-z]+|\d+|[A-Z][\w.]*)\b[^;:!?\"“”]{0,300}?)"
                                 r"(?=,\s+(?!who\b)|[,.]?\s*$)")


# Patterns of the attribution rules, compiled once.
_TAIL_ATTRIBUTION: Final = re.compile(
    r"[^\"“”.;]{1,160}?,\s+(?P<np>he|she|they|(?:the|a|an|its|his|her|their)\s+[a-z]+(?:\s+[a-z]+)?|"
    r"[A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3})\s+"
    r"(?P<cue>" + _CUE_ALT + r")\b[^\"“”]{0,60}$")
# '"It seems unlikely" that Sanders can catch Clinton, said Steve Elmendorf, deputy ...'
_TAIL_INVERTED: Final = re.compile(
    r"[^\"“”.;]{1,160}?,\s+(?P<cue>" + _CUE_ALT + r")\s+(?P<np>[A-Z][^,;:!?\"“”]{0,80})")
_NAME_BEFORE_COLON: Final = re.compile(
    r"(?:^|[-–—]\s|\bfrom\s|\s)(?P<np>(?:[a-z]+\s+){0,2}(?:[A-Z][\w.’'\-]*\s+){0,4}[A-Z][\w.’'\-]*)\s*:$")
# '“...missing.” Trump said.': a short attribution after a full stop, typed as one sentence.
SHORT_SAID: Final = re.compile(
    r"\s+[A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,2}\s+(?:said|says|added|wrote|told)[.,]")
_TRAILING_PRONOUN: Final = re.compile(r"\b(he|she|they|we|I|He|She|They|We)\s*$")
FOR_SOURCE: Final = re.compile(r"For ([A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3}),\s")
NEXT_SENTENCE: Final = re.compile(r"\s+(?![―—–])[A-Z]")
_CLAUSE_WORDS: Final = frozenset("""
though although when while as if because since after before but and so then yet or to by for with
from into than unless until whether where
""".split())
# Prepositions that open no speaker when written in lowercase ("in the Guardian newspaper",
# "on Twitter before"); "At least half of voters" is one.
_LOWER_PREPOSITIONS: Final = frozenset("in on at of during using".split())
# A time phrase with no comma before the subject: "Earlier this year the college said".
_LEADING_TIME: Final = re.compile(r"(?:(?:[Ee]arlier|[Ll]ater)\s+)?(?:this|last|next|[Tt]his|[Ll]ast|[Nn]ext)\s+"
                                  r"(?:year|week|month|weekend|spring|summer|autumn|fall|winter|morning|evening)\s+")
_HAS_NAME: Final = re.compile(r"\s[A-Z][a-z]")
_CUE_THEN_NP: Final = re.compile(r"[\s,]*(" + _ADVERB + r")(?P<cue>" + _CUE_ALT + r")\s+(?P<np>[^,;:!?\"“”]+)")
_ACCORDING_TO: Final = re.compile(r"[\s,]*according to (?P<np>[^,;:!?\"“”]+)", re.IGNORECASE)
_DASH_NAME: Final = re.compile(r"[\s,.]*[―—–]+\s*(?P<np>[A-Z][^,;:!?\"“”\n]{1,60})")
_TRAILING_ADVERB: Final = re.compile(_ADVERB_WORD + r"{0,3}$")
_WEEKDAYS: Final = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_TRAILING_TIME: Final = re.compile(r"(?<=\w)\s+(?:(?:later|earlier|late|early)\s+)?(?:on\s+)?(?:(?:last|this|next)\s+)?"
                                   r"(?:" + _WEEKDAYS + r"|week|weekend|month|year|"
                                   r"today|yesterday)(?:\s+(?:morning|afternoon|evening|night))?$")
_RELATIVE: Final = re.compile(r"\s*(?:who|which)\s*")
_NP_AHEAD: Final = re.compile(r"\s*(?P<np>[^,;:!?\"“”]+)")
_INVERTED: Final = re.compile(r"\s+(?P<np>[A-Z][^,;:!?\"“”]{0,60}?)\s*[:,]\s*$")
_CLAUSE_JOIN: Final = re.compile(r"(?:,|\band|\bthen)\s+$")
WORDS: Final = re.compile(r"\w+")
INTRODUCED: Final = re.compile(r"[:,]\s*$")
DETERMINER: Final = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
# What ends the speaker after an inverted cue: '," said Smith on Tuesday in an interview'. A
# bare "on"/"in" does not: "one Democratic source on the panel" is the source.
_NP_TAIL: Final = re.compile(r"\s+(?:in (?:a|an|his|her|their)|on (?:\w+day|Twitter|Facebook|CNN|Fox|MSNBC|NBC|ABC|CBS|"
                             r"his|her|their|a|an)|at|during|after|before|about|of a|from|when|while|as|"
                             r"this|last|earlier|later|yesterday|today|\w+day)\b")
_NP_THEN_CUE: Final = re.compile(r"[\s,]*(?P<np>[^,;:!?\"“”]{1,80}?)(?P<appos>,[^\"“”;]{1,120}?,)?\s+" + _ADVERB
                                 + r"(?P<cue>" + _CUE_ALT + r")\b")
_NP_PAST_VERB: Final = re.compile(r"\s*(?P<np>(?:[Tt]he\s+)?[A-Za-z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3})\s+"
                                  r"(?P<cue>[a-z]{3,}ed|[a-z]{3,}[^s\W]s|sang|cried|wrote|spoke|shot back)\b")


#: Words of a speaker phrase's head (before an appositive), at most: a longer one is a clause.
_HEAD_MAX_WORDS: Final = 10
#: Appositives followed after a speaker's name: "Donna Lages, 39, a waitress at the Golden
#: Bear, which serves ...".
_MAX_APPOSITIVES: Final = 3


@dataclass
class Attribution:
    cue: str
    speaker_text: str
    start: int
    end: int

# A dateline that opens the first paragraph: "NEW YORK - ", "JACKSON, Miss. - ".
_DATELINE_LEAD: Final = re.compile(r"(?:[A-Z][A-Z.’' ]+(?:,\s+[A-Z][A-Za-z.]+)?|[A-Z][a-z]{1,4}\.)\s+[-–—]+\s+")


def _trim_np(text: str, start: int) -> tuple[str, int] | None:
    """Clean a candidate speaker phrase; None when it cannot be a speaker."""
    raw = text
    lead = len(raw) - len(raw.lstrip(" ,"))
    raw = raw.strip(" ,")
    start += lead
    raw = raw.rstrip(".")
    dateline = _DATELINE_LEAD.match(raw)
    if dateline:  # "NEW YORK - Republican presidential candidate Donald Trump"
        raw, start = raw[dateline.end():], start + dateline.end()
    when = _LEADING_TIME.match(raw)
    if when and when.end() < len(raw):  # "Earlier this year the Royal College of Physicians said"
        raw, start = raw[when.end():], start + when.end()
    # The head (before an appositive) is short; the appositive may run on.
    if not raw or len(raw.split(",")[0].split()) > _HEAD_MAX_WORDS or any(c in raw for c in "\"“”!?;"):
        return None
    first = fold(raw.split()[0])
    if first in _CLAUSE_WORDS or (first in _LOWER_PREPOSITIONS and raw[0].islower()):
        return None  # "Though she", "to Ukraine and replacing it": not a speaker
    lowercase_start = raw[0].islower() and first not in PRONOUNS | _NP_STARTERS
    # "spokesman Mark Toner", "conservative talk radio host Rush Limbaugh" name someone
    if lowercase_start and not _HAS_NAME.search(raw.split(",")[0]):
        return None
    verb = _LEADING_SAID.match(raw)
    if verb and verb.end() < len(raw):  # "said Anthony Sebok, a professor at ...", '" adding'
        raw, start = raw[verb.end():], start + verb.end()
    aux = _TRAILING_AUXILIARY.search(raw)
    if aux and aux.start() > 0:  # "Toyota has", "He is", "Peter Sanders said": the subject alone
        raw = raw[:aux.start()]
    if _CLAUSE_INSIDE.search(raw.split(",")[0]):
        return None  # "Mr. Rubio had at last", "Cruz is the only contender here to": a clause cut
    return raw, start


# A finite verb inside a phrase, with no relative word before it to open a clause of its own
# ("the man who was there" is a speaker): the phrase is a clause cut out of a sentence.
_CLAUSE_INSIDE: Final = re.compile(r"^(?!.*\b(?:who|whom|whose|which|that)\b.*\b(?:is|are|was|were|had|has|have)\s)"
                                   r"\S.*?\s(?:is|are|was|were|had|has|have)\s")


# Auxiliaries (or the speech verb itself) left after a subject: "Toyota has (led)", "He is
# (quoted)", "Peter Sanders said (...), adding".
_TRAILING_AUXILIARY: Final = re.compile(r"\s+(?:has|have|had|is|are|was|were|will|would|could|should|may|might|must|"
                                        r"can|did|does|do|said|says|told)(?:\s+(?:been|being|not|also|already|now))*$")
_LEADING_SAID: Final = re.compile(r"(?:said|says|told)\s+(?=[A-Z])")

# A restrictive relative clause after a speaker belongs to it as written.
_RESTRICTIVE_AFTER: Final = re.compile(r"\s+(?P<rel>who\s+(?!said\b|says\b)[^,;:!?\"“”]{1,150}?)(?=[,.]?\s*$|,)")


def _with_appositive(body: str, end: int, seg_end: int) -> int:
    """Extend a speaker phrase over its appositive: "Daryl Kimball, executive director of X"."""
    m = _RESTRICTIVE_AFTER.match(body, end, seg_end)
    if m:  # "said a Mexican official who was not authorized to speak publicly"
        end = m.end("rel")
    for _ in range(_MAX_APPOSITIVES):
        m = _APPOS_AFTER.match(body, end, seg_end)
        if not m:
            break
        end = m.end("appos")
    return end


def with_appositive(body: str, end: int, seg_end: int) -> int:
    """Where a speaker phrase ending at ``end`` ends with its appositives (``_with_appositive``)."""
    return _with_appositive(body, end, seg_end)


# A verb right after a source and its appositive: a cue, a past tense or participle, an
# auxiliary, a present tense ("..., the former Arkansas governor, proposed", ", 34, writing").
_VERB_NEXT: Final = (r"(?=\s+(?:\w+ly\s+)?(?:" + _CUE_ALT + r"|[a-z]{2,}ed|[a-z]{3,}ing|is|are|was|were|has|have|"
                     r"had|will|would|can|could|may|might|should|does|did|[a-z]{3,}[^s\W]s)\b)")
# What may open an appositive set off between a source and its verb: a determiner, a relative
# pronoun, an age, or a role "of" something; not an aside (", however,", ", for his part,"). It
# runs to no ", and": "John Smith, the mayor, and Mary Jones, the governor, said" are two.
_APPOS_OPENER: Final = (r"(?:(?:the|a|an|his|her|their|its|one|another|who|whose|which)\s|\d+\b|"
                        r"(?:[a-z][\w\-]*\s+){1,3}of\s)")
_APPOS_BEFORE_VERB: Final = re.compile(
    r"(?:\s*\([^()\n]{1,40}\))?(?:"
    r",\s{1,3}(?P<comma>" + _APPOS_OPENER + r"(?:(?!,\s+(?:and|or|but|nor)\b)[^;:!?\n—–()]){0,200}?"
    r"(?:,[”\"]|[”\"]?(?=,))),?"
    r"|\s{1,3}(?P<dash>[—–]|--)\s{0,3}(?P<dashed>" + _APPOS_OPENER + r"[^;:!?\n—–]{0,200}?)\s{0,3}(?P=dash))"
    + _VERB_NEXT)


_FINITE_VERB: Final = re.compile(r"\b(?:is|are|was|were|has|have|had|will|would|said|says|told|did|does)\b")


def appositive_before_verb(body: str, end: int, hi: int) -> int:
    """Where a source phrase ending at ``end`` ends as written when an appositive, set off by
    commas or dashes, stands between it and its verb (before ``hi``): "Mike Huckabee| , the
    former Arkansas governor,| proposed", "Jason Sims| — a teacher from Mount Pleasant —| says".
    The appositive names the same source, so only the phrase grows; ``end`` when none."""
    m = _APPOS_BEFORE_VERB.match(body, end, hi)
    if m is None:
        return end
    appos = m.group("comma") or m.group("dashed")
    if not appos.startswith(("who ", "which ", "whose ")) and _FINITE_VERB.search(appos):
        return end  # a clause, not a description: ', his salespersons were told, "..."'
    # a comma that closes the appositive is no part of it, as after a name ("Michael Tyler, a
    # spokesman for the campaign"); a closing dash is
    return m.end("comma") if m.group("comma") else m.end()


def _attribution(cue: str, body: str, np: str, start: int, seg_end: int | None = None) -> Attribution | None:
    trimmed = _trim_np(np, start)
    if not trimmed:
        return None
    text, s = trimmed
    e = s + len(text)
    if seg_end is not None:
        e = _with_appositive(body, e, seg_end)
    return Attribution(cue, body[s:e], s, e)


def after_attribution(body: str, close: int, hi: int, opens_sentence: bool = True) -> Attribution | None:
    """Cue and speaker right after a closing mark: '," X said' / '," said X' / '," X, the Y, said'.

    '"...," Sanders said, according to CNN.' is CNN's account: PolNeAR's source is the outer one.
    ``opens_sentence``: the quote starts its sentence (then any past-tense verb after it can
    be its cue: '"Mexico!" the audience screamed back').
    """
    seg_end = sentence_end(body, close, hi)
    attr = _after_attribution(body, close, seg_end, opens_sentence)
    if attr is not None and attr.cue != "according to":
        m = _ACCORDING_AFTER.match(body, attr.end, seg_end)
        if m:
            outer = _attribution("according to", body, m.group("np"), m.start("np"))
            if outer is not None:
                return outer
    return attr


_ACCORDING_AFTER: Final = re.compile(r"[^\"“”.;:!?]{0,60}?,?\s+according to (?P<np>[^,;:!?\"“”]+)")


def _after_attribution(body: str, close: int, seg_end: int, opens_sentence: bool) -> Attribution | None:
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
    if (m and m.group("cue") in _SPEECH_VERBS and not _not_a_cue(seg, m.start("cue"), m.group("cue"))
            and not m.group("np").endswith(" and")):
        np, np_start = m.group("np"), m.start("np")
        if np.startswith("as ") and (np[3:4].isupper() or np.split()[1:2] in (["he"], ["she"], ["they"])):
            np, np_start = np[3:], np_start + 3  # '"is a dead heat right now," as Cruz said on Monday'
        attr = _attribution(m.group("cue"), body, np, close + np_start)
        if attr:
            if m.group("appos"):
                e = close + m.end("appos") - 1
                return Attribution(attr.cue, body[attr.start:e], attr.start, e)
            return attr
    if opens_sentence and body[close - 2:close - 1] in (",", "!", "?"):
        # '"Mexico!" the audience screamed back': a quote ending in , ! or ? followed by a
        # subject and a past-tense verb is attributed to that subject, whatever the verb. Not
        # a phrase inside a sentence: 'chanting "Feel the Bern!" Their voices drowned out'.
        m = _NP_PAST_VERB.match(seg)
        if m and m.group("np").lower() not in ("the", "a", "an"):  # not '"...," the bespectacled
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
    # adverbs and times between the subject and its verb: "Trump has repeatedly said",
    # "Priebus later Thursday told"
    left = _TRAILING_ADVERB.sub("", left.rstrip() + " ").rstrip()
    left = _TRAILING_ADVERB.sub("", _TRAILING_TIME.sub("", left) + " ").rstrip()
    # "X, the Y of Z, said": the speaker is X; its appositive is part of the source as written.
    # (the pattern ends with a comma: without one, spare the engine its try at every start)
    m = _APPOSITIVE.search(left) if left.endswith(",") else None
    if m:
        head = m.group("np")
        cuts = [0] + [b.end() for b in _NP_BREAK.finditer(head)]
        trimmed = _trim_np(head[cuts[-1]:], lo + m.start("np") + cuts[-1])
        if trimmed is None and len(cuts) >= 2 and head[:cuts[-1]].lower().endswith(" and"):
            # "The influential delegate and conservative activist, who backs Cruz, warned"
            trimmed = _trim_np(head[cuts[-2]:], lo + m.start("np") + cuts[-2])
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


def before_attribution(body: str, lo: int, open_pos: int, sentence_lo: int | None = None) -> Attribution | None:
    """The nearest cue before the quote in its sentence that has a subject: 'X said: "...'.

    Cues are tried from the quote backwards, so in 'Lavrov declared calls for a ceasefire
    "senseless"' the noun "calls" (no subject) gives way to "declared" (subject Lavrov).
    """
    text = body[lo:open_pos]
    for cue_match in reversed(list(_CUE.finditer(text))):
        cue = cue_match.group(0).lower()
        if _not_a_cue(text, cue_match.start(), cue):
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
            if subj is not None and _DOCUMENT.fullmatch(subj[0]):
                # "Black Lives Matter issued a statement saying '...'": the issuer speaks
                subj = sentence_subject(body, lo, lo + cue_match.start()) or subj
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
            subj = sentence_subject(body, lo, lo + cue_match.start())
            if subj is None and sentence_lo is not None and sentence_lo < lo and not participle \
                    and _JOINED_VERB.fullmatch(text, 0, cue_match.start()):
                # '..." and concluded his comments were "...': a verb joined to the one before
                # the last quote shares its subject: that verb's, else the sentence's.
                joined = before_attribution(body, sentence_lo, lo)
                subj = ((joined.speaker_text, joined.start) if joined is not None
                        else sentence_subject(body, sentence_lo, lo + cue_match.start()))
        if subj is not None:
            outer = _outer_source(body, lo, subj[1])
            if outer is not None:
                subj = outer
            return Attribution(cue, subj[0], subj[1], subj[1] + len(subj[0]))
    if text.rstrip().endswith(":"):
        # "Pollsters agree - Carl Bialik:", "doesn't surprise Republican pollster Daron Shaw:":
        # a name right before the colon; else the clause's subject ('Jeb Bush broke down what
        # was wrong to the Dutch paper NRC Handelsblad: "..."').
        m = _NAME_BEFORE_COLON.search(text.rstrip())
        if m:
            return Attribution(":", m.group("np"), lo + m.start("np"), lo + m.end("np"))
        subj = sentence_subject(body, lo, lo + len(text.rstrip()))
        if subj is not None:
            return Attribution(":", subj[0], subj[1], subj[1] + len(subj[0]))
    return None


# Words before a cue word that make it no cue: a hyphen ("so-called"), an infinitive ("too
# early to tell"), a determiner or adjective making it a noun ("Republican claims", "those
# reports", "a statement calling" keeps: "calling" is no noun).
_NOT_A_CUE: Final = re.compile(r"(?:-|\bto\s+|\b(?:the|a|an|of|his|her|their|its|our|these|those|such|my|your|whose|"
                               r"Republican|Democratic|false|new|recent|late-night)\s+|\w[’']s\s+)$")
# A cue in -s after a participle is its object, a noun: "began taking calls", "making claims".
# (Not a cue in -ed: in "a source familiar with Cruz’s thinking said" the -ing word is the noun.)
_AFTER_PARTICIPLE: Final = re.compile(r"\b[a-z]{2,}ing\s+$")
# What joins a verb to the one before the last quote: '"..." and concluded', '", then said'.
_JOINED_VERB: Final = re.compile(r"[\s,”\"’]*(?:and|but|then|and then)\s+(?:[a-z]+ly\s+)?")


def _not_a_cue(text: str, cue_start: int, cue: str) -> bool:
    """The cue word at ``cue_start`` is no speech verb here (see ``_NOT_A_CUE``)."""
    return bool(_NOT_A_CUE.search(text, 0, cue_start)
                or (cue.endswith("s") and _AFTER_PARTICIPLE.search(text, 0, cue_start)))


_DOCUMENT: Final = re.compile(r"(?:an?|the|its|his|her|their)\s+(?:\w+\s+)?(?:statement|e-?mail|letter|memo|tweet|"
                              r"release|post|video|ad|message|note)", re.IGNORECASE)
_NAME_BEFORE_PARTICIPLE: Final = re.compile(
    r"\b(?:of|by|with|shows?|showing)\s+((?:[A-Z][\w.’'\-]*\s+){0,2}[A-Z][\w.’'\-]*)\s+(?:[a-z]+ly\s+)?$")
_DATE_WORDS: Final = re.compile(r"(?:" + _WEEKDAYS + r"|January|February|March|"
                                r"April|May|June|July|August|September|October|November|December|Today|Yesterday|"
                                r"Last|This|Earlier|Later)\b")
_CONJUNCTION: Final = re.compile(r"(?:And|But|So|Then|Yet|Or|Now)\s+")
_FUNCTION_WORDS: Final = frozenset(
    "the a an and but so then yet or now each every what which this that these those".split())
_LEAD_ADVERBIAL: Final = re.compile(
    r"(?:(?:(?:In|On|At|During|After|Before|Following|Under|As|While|When|Although|Though|Last|This|Earlier|"
    r"Later|Since|Despite|With|Without|For|From|By|Meanwhile|However|But|And|Still|Yet|Also|Then|Now|So|"
    r"Once|Asked|Speaking|Back|Amid|Amidst|Among|Against|Because|Given|Like|Unlike|Through|Throughout|Upon|"
    r"Over|Across|Ahead|Inside|Outside|Beyond|Besides|Until|Toward|Towards|Via|If|Instead|"
    r"Indeed|Moreover|Furthermore|Nevertheless|Nonetheless|Thus|Hence|Plus|Regardless|Today|Yesterday|"
    r"Tonight|Tomorrow|Overall|Recently|Separately|Similarly|Likewise|Specifically|Ultimately|Finally|"
    r"Initially|Eventually|Additionally|Notably|Ironically|Unfortunately|Fortunately|Clearly|Apparently|"
    + _WEEKDAYS + r")\b"
    r"|(?:\w+\s+){1,2}(?:years?|months?|weeks?|days?|hours?|minutes?)\s+(?:ago|later|earlier)\b"
    r"|[A-Z][a-z]+ing\b|[A-Z][a-z]+ed\b)[^,;:\"“”]{0,80},\s+)+")
#: Cues that are as often nouns ("The first call was made", "The list of charges includes").
_NOUN_LIKE_CUES: Final = frozenset("""call calls read reads posts charges thanks promises tweets answers demands
counters chants quips jokes vows notes reports claims""".split())
_VERB_AHEAD: Final = (
    r"(?=\s+(?:\w+ly\s+)?(?:[a-z]+ed|says|tells|calls|claims|writes|adds|notes|argues|insists|reads|"
    r"states|reports|warns|explains|believes|thinks|wants|sees|puts|has|had|have|was|were|is|are|said|told|sent|"
    r"made|took|gave|went|came|"
    r"wrote|spoke|put|got|saw|began|became|brought|thought|held|kept|left|met|ran|set|stood|won|lost|"
    # a speech verb that is rarely a noun, and the plural present of the commonest ("Legal
    # observers note"); not after "to" ("The Tories want to see" is no subject)
    + _alternation(sorted(set(CUES) - _NOUN_LIKE_CUES)) + r"|note|argue|describe|warn|insist|believe|think|"
    r"agree|contend|predict|suggest|acknowledge|expect|accuse|say|tell|write|see)\b)(?<!\bto)(?<!n't)")
# Lowercase words that are not part of a role ("Trump told reporters Monday" is no role).
_NOT_ROLE_WORD: Final = (r"(?:[a-z]+ed|[a-z]+ing|" + _CUE_ALT + r"|and|or|but|of|the|a|an|to|in|on|at|for|with|by|from|"
                         r"that|who|which|as|is|are|was|were|has|have|had|will|would|can|could|may|might|not|"
                         r"also|then|now|just|still|only|last|next|this|yesterday|today|tonight|later|earlier|"
                         r"again|already|never|always|once|here|there|even|ever|after|before|since|until|while|"
                         r"when|where|if|because|so|than|met|gave|made|took|got|saw|won|lost|put|set|ran|let|hit|"
                         r"cut|left|led|sent|held|kept|paid|knew|thought|felt|found|became|began|came|went|"
                         r"[a-z]+n't)\b")
#: What opens a sentence but no organisation's name: a preposition, a number ("On Saturday
#: night I pulled", "Three years after Argentina").
_NOT_ORG_OPENER: Final = (r"(?:On|In|At|For|By|With|After|Before|During|Since|Until|From|Under|Over|As|When|While|If|"
                          r"One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Moments|Hours|Days|Weeks|Months|"
                          r"Years|Minutes)\b")
# Capitalised words that open a role description rather than a name.
_ROLE_ADJECTIVE: Final = (r"Democratic|Republican|GOP|Former|Independent|Libertarian|Conservative|Liberal|Progressive|"
                          r"Veteran|Longtime|Senior|Top|Prominent|Outgoing|Incoming|Acting|Deputy")
_SUBJECT: Final = re.compile(
    r"(?P<np>(?:[Hh]e|[Ss]he|[Tt]hey|[Ww]e|I|[Ii]t)\b"
    # a description ending before its verb: "The former secretary of State began", "The
    # Democratic presidential front-runner and former secretary of state said", "Law's
    # advocacy group One Nation began"
    r"|(?:[Tt]he|[Aa]n?|" + "|".join(w.title() for w in POSSESSIVE_DETERMINERS) + "|"
    r"(?:Hundreds|Dozens|Thousands|Millions|Scores|Many|Some|Most|Several) of|"
    r"(?:[A-Z][\w.\-]*\s+){0,3}[A-Z][\w.\-]*(?:’s|'s))\s+[\w’'\-]+(?:\s+[\w’'\-]+){0,9}?"
    + _VERB_AHEAD +
    # a role before a name: "Democratic presidential candidate Bernie Sanders", "Former
    # prosecutor and New York City Mayor Rudy Giuliani"
    r"|(?:" + _ROLE_ADJECTIVE + r")\s+(?:[a-z][\w\-]*\s+){1,4}(?:[A-Z][\w.’'\-]*\s+){0,5}[A-Z][\w.’'\-]*"
    r"(?:\s*\([^()]{1,20}\))?(?:(?:,\s[^,;:\"“”]{2,100}){1,3},)?"
    # an organisation's role before a name: "Clinton campaign spokesman Brian Fallon", "Justice
    # Department senior trial counsel Caroline Lewis Wolverton" (the lowercase words no verb)
    # The head of the role is singular ("Wenger believes Arsenal" is no role)
    r"|(?!" + _NOT_ORG_OPENER + r")(?:[A-Z][\w.’'\-]*\s+){1,3}(?:(?!" + _NOT_ROLE_WORD + r")[a-z][\w\-]*\s+){0,3}"
    r"(?!" + _NOT_ROLE_WORD + r")[a-z][\w\-]*[^s\W\d]\s+"
    r"(?!(?:" + _WEEKDAYS + r"|I)\b)(?:[A-Z][\w.’'\-]*\s+){0,3}[A-Z][\w.’'\-]*(?:\s*\([^()]{1,20}\))?" + _VERB_AHEAD +
    # a group named by its capitalised modifier and a plural head: "Sanders supporters are",
    # "Nuclear proliferation experts have"
    r"|(?:[A-Z][\w.’'\-]*\s+){1,3}(?:(?!" + _NOT_ROLE_WORD + r")[a-z][\w\-]*\s+)?"
    r"(?!(?:his|this|its|was|has|does|thus|us)\b)(?!" + _NOT_ROLE_WORD + r")[a-z][\w\-]*[^s\W]s"
    + _VERB_AHEAD +
    # a name, with its parenthetical and appositives: "Geoff Garin, a pollster with X, a PAC,"
    r"|(?:(?:The|A|An)\s+)?[A-Z][\w.’'\-]*(?:\s+(?:(?:of|the|de|van|der|al|for)\s+)?[A-Z][\w.’'\-]*)*"
    r"(?:\s*\([^()]{1,20}\))?(?:(?:,\s[^,;:\"“”]{2,100}){1,3},)?)"
    r"\s+(?:\w+ly\s+)?[a-z]")


# "Trump said Fox executives were calling “every 15 minutes”": the cue of a reported clause.
_REPORTED_BY: Final = re.compile(
    r"\b(?P<cue>said|says|told\s+(?:\w+\s+){0,2}?|wrote|writes|added|argued|argues|claimed|"
    r"claims|insisted|insists|noted|notes|believes|thinks|thought)\s*(?:that\s+)?$")

_ACCORDING_FIRST: Final = re.compile(r"\s*According to (?P<np>[^,;:!?\"“”]+),\s")


def _outer_source(body: str, lo: int, subj_start: int) -> tuple[str, int] | None:
    """The source of a report that the quote's own attribution sits in: 'Rep. Steve Israel
    said Clinton called on members to be "closely coordinated"' is Israel's account."""
    m = _ACCORDING_FIRST.match(body, lo, subj_start)
    if m:
        return _trim_np(m.group("np"), m.start("np"))
    m = _REPORTED_BY.search(body, lo, subj_start)
    if not m:
        return None
    subj = _subject_before(body, lo, m.start())
    if subj is None:
        subj = sentence_subject(body, lo, m.start())
    return subj


def sentence_subject(body: str, lo: int, hi: int) -> tuple[str, int] | None:
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
