"""Direct quotations and their speakers: the orchestration of three passes over a body.

1. ``quote_marks.find_spans`` pairs the quotation marks into spans.
2. ``attribution`` finds each quote's cue and source as written (``speaker_text``); a quote
   with no cue of its own continues the previous quote's speaker when only that quote's
   attribution stands between them, else takes the named subject of its sentence.
3. ``speakers.SpeakerResolver`` turns the source into a canonical name and entity id.

Quoted titles, names and labels ("Face the Nation", "the so-called 'deal'") are not quotes;
other short quoted phrases are kept: in PolNeAR most of them are somebody's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from transforms.attribution import (
    CUE_ALT,
    FOR_SOURCE,
    INTRODUCED,
    LABEL_BEFORE,
    NEXT_SENTENCE,
    SHORT_SAID,
    WORDS,
    Attribution,
    after_attribution,
    appositive_before_verb,
    before_attribution,
    sentence_subject,
    with_appositive,
)
from transforms.parse import Block
from transforms.quote_marks import SPEAKER_LABEL, QuoteSpan, find_spans
from transforms.ranker import ArticleFacts, Candidate, agree_key, features
from transforms.resolve import ArticleEntities, Resolved
from transforms.sentences import sentence_end, sentence_start
from transforms.speakers import SpeakerResolver
from transforms.vocab import BODY, CONTINUATION, FULL, MULTI_PARAGRAPH, PARTIAL, PERSON, QuoteKind


@dataclass
class Quote:
    start: int
    end: int
    text: str
    paragraph_index: int
    paragraph_count: int
    kind: QuoteKind
    cue: str | None = None
    speaker_text: str | None = None
    speaker_start: int | None = None
    speaker_end: int | None = None
    speaker: str | None = None
    speaker_entity_id: str | None = None
    word_count: int = 0


#: Quotes of this many words or fewer need more care: many are titles, names or scare quotes.
SHORT_WORDS: Final = 4
#: A longer quote in title case is a title only up to this many words...
_TITLE_MAX_WORDS: Final = 12
#: ... and with at least this many capitalised words ("How the Grinch Stole Christmas").
_TITLE_CAPITALISED_WORDS: Final = 3
#: Words between two quotes, besides the first one's attribution, that still let the second
#: continue the first's speaker ('"First part," he said. "Second part."').
_CONTINUATION_GAP_WORDS: Final = 3
#: Characters before a quote read for what makes it a programme's or book's name (an outlet's
#: possessive, "on", "told"), and for a label ("so-called", "dubbed").
_TITLE_CONTEXT_CHARS: Final = 30
_LABEL_CONTEXT_CHARS: Final = 40
#: Characters right before a quote read for the colon or comma that introduces speech.
_INTRODUCED_CHARS: Final = 3


def _title_like(text: str, words: int) -> bool:
    """A name or title in quotation marks: short and capitalised ("Not Delusional"), or
    written in title case with no sentence inside ("How the Grinch Stole Christmas")."""
    if words <= SHORT_WORDS:
        return _capitalised(text)
    return words <= _TITLE_MAX_WORDS and _capitalised(text) and not re.search(r"[.!?]\s", text) and len(
        [w for w in text.split() if w[:1].isupper()]) >= _TITLE_CAPITALISED_WORDS


def _capitalised(text: str) -> bool:
    """Every word starts with a capital: "Face the Nation", "Morning Joe", "Not Delusional".

    Measured on PolNeAR train: unattributed short quotes written like this are attributed
    speech only 28% of the time, against 78% for the other unattributed short quotes.
    """
    words = [w for w in text.split() if w[:1].isalpha()]
    minor = {"the", "of", "a", "an", "and", "in", "on", "for", "to", "at", "with", "from", "by", "or", "as", "into",
             "over", "under", "is", "not", "vs.", "vs"}
    return bool(words) and all(w[0].isupper() or w in minor for w in words) and words[0][0].isupper()


#: A personal pronoun alone in quotation marks is the word itself being talked about ('simply
#: because "she" is a "he"'), never a quotation: it has nothing of its own to say.
_PRONOUN_WORDS: Final = frozenset("he him his she her hers it they them their we us i me you".split())


def _only_attribution_between(body: str, prev_span: QuoteSpan, prev: Quote, span: QuoteSpan) -> bool:
    """True when only the previous quote's attribution stands between it and this one.

    '"First part," he said. "Second part."' continues; '"...," Trump told a rally, saying
    Clinton would "abolish the amendment."' does not.
    """
    if prev_span.close_pos is None:
        return False
    gap = body[prev_span.close_pos + 1:span.open_pos]
    n = len(WORDS.findall(gap))
    if prev.speaker_start is not None and prev.speaker_start > prev_span.close_pos:
        n -= len(WORDS.findall(prev.speaker_text or "")) + len((prev.cue or "").split())
    return n <= _CONTINUATION_GAP_WORDS


#: What stands before a programme's or a book's name: its outlet's possessive ("ABC’s"), a
#: preposition ("on", "in", "with"), "told" ('told "Fox and Friends"') or a word for an
#: edition of a programme ('broadcast of "Fox News Sunday,"').
_TITLE_BEFORE: Final = re.compile(
    r"(?:\w[’']s|\b(?:(?:on|in|with|at|during)(?: the| an?)?|told|"
    r"(?:broadcast|episode|edition|installment) of|podcast|program|programme|show|series))\s+$")

_OUTLET_POSSESSIVE: Final = re.compile(r"\b[a-z]+[’']s\s+$")


def _is_title(body: str, span: QuoteSpan, text: str, words: int) -> bool:
    """A show, book or programme name near a quote's cue: 'said on ABC’s "Good Morning
    America."', 'told "Fox and Friends"'.

    A capitalised quote that a speaker is said to have said is otherwise their words: 'chants
    of "Feel the Bern!"', 'he called Rubio "Little Marco"'. Measured on PolNeAR train, such
    attributed capitalised quotes are gold 37 times in 47 unless an outlet's possessive or a
    preposition stands before them (then 5 in 38). Introduced speech ('said: "Yes, Sir"') is
    no title.
    """
    if not _title_like(text, words):
        return False
    before = body[max(0, span.open_pos - _TITLE_CONTEXT_CHARS):span.open_pos]
    if words < 2:  # 'star of television’s “Scandal,” thanked Obama'; not 'chants of "Bobby!"'
        return bool(_OUTLET_POSSESSIVE.search(before))
    return not INTRODUCED.search(before[-_INTRODUCED_CHARS:]) and bool(_TITLE_BEFORE.search(before))


#: A byline with its outlet's possessive right after the closing mark: '"Sam Mendes leaves
#: 'Chocolate Factory'," by Times' Michael Paulson', '"...," by the New York Post's Amy
#: Spencer'. The quoted words are an article's headline, a title. A plain "by" is not enough:
#: 'labeled "top secret" by the State Department' and '"frustrated" by the rising opposition'
#: are words someone used.
_BYLINE_AFTER: Final = re.compile(r"\s*by (?:the )?(?:[A-Z][\w.&-]* ){0,4}[A-Z][\w.&-]*(?:[’']s|s[’']) [A-Z]")


def _is_headline(body: str, span: QuoteSpan) -> bool:
    return span.close_pos is not None and _BYLINE_AFTER.match(body, span.close_pos + 1) is not None


def _is_label(body: str, span: QuoteSpan, lo: int) -> bool:
    return bool(LABEL_BEFORE.search(body[max(lo, span.open_pos - _LABEL_CONTEXT_CHARS):span.open_pos]))


def _candidates(body: str, blocks: list[Block], sp: QuoteSpan, next_open: int, sent_lo: int, sent_start: int,
                prev: Quote | None, prev_span: QuoteSpan | None, resolver: SpeakerResolver,
                known: dict[str, Attribution | None]) -> list[Candidate]:
    """What every attribution rule would name as the source of a quote (``transforms.ranker``);
    ``known``: what the rules already found ("after", "before")."""
    found: list[tuple[str, str, int, int, str]] = []
    blk_first = blocks[sp.first_block]
    if sp.close_pos is not None:
        a = known["after"] if "after" in known else after_attribution(
            body, sp.close_pos + 1, next_open, not body[sent_lo:sp.open_pos].strip())
        if a is not None:
            found.append(("after", a.speaker_text, a.start, a.end, a.cue))
            if a.cue in body[sp.close_pos + 1:a.start]:
                # '," said Steven Brill, author of "America's Bitter Pill," a history of ...':
                # the source as written runs to the end of the sentence
                full_end = sentence_end(body, a.end, blocks[sp.last_block].end)
                rest = body[a.end:full_end].rstrip().rstrip(".")
                if (rest[:1] in ",(" and len(rest) > 2 and not _CUE_WORD.search(rest)
                        and not _PARTICIPLE_CLAUSE.match(rest)):
                    found.append(("afterlong", body[a.start:a.end + len(rest)], a.start, a.end + len(rest), a.cue))
        else:
            m = _LOWER_NP_CUE.match(body, sp.close_pos + 1, next_open)
            if m is not None:  # '"...," federal prosecutors wrote in seeking ...'
                found.append(("afternp", m.group("np"), m.start("np"), m.end("np"), m.group("cue")))
    b = known["before"] if "before" in known else before_attribution(body, sent_lo, sp.open_pos, sent_start)
    if b is not None:
        found.append(("before", b.speaker_text, b.start, b.end, b.cue))
    if sent_start < sent_lo:
        b = before_attribution(body, sent_start, sp.open_pos)
        if b is not None:
            found.append(("beforesent", b.speaker_text, b.start, b.end, b.cue))
    subj = sentence_subject(body, sent_lo, sp.open_pos)
    if subj is not None:
        found.append(("subject", subj[0], subj[1], subj[1] + len(subj[0]), ""))
    if sent_start > blk_first.start:
        prev_lo = sentence_start(body, blk_first.start, sent_start - 2)
        b = before_attribution(body, prev_lo, sent_start)
        if b is not None:
            found.append(("prevsent", b.speaker_text, b.start, b.end, b.cue))
        subj = sentence_subject(body, prev_lo, sent_start)
        if subj is not None:
            found.append(("prevsubj", subj[0], subj[1], subj[1] + len(subj[0]), ""))
        last_named = resolver.last_named_in(blk_first.start, sent_start)
        if last_named is not None:
            found.append(("parnamed", last_named.text, last_named.start, last_named.end, ""))
    elif sp.first_block > 0:
        pb = blocks[sp.first_block - 1]
        if body[pb.start:pb.end].rstrip().endswith(":"):
            b = before_attribution(body, sentence_start(body, pb.start, pb.end - 1), pb.end)
            if b is not None:
                found.append(("prevcolon", b.speaker_text, b.start, b.end, b.cue))
    if (prev is not None and prev_span is not None and prev.speaker_text is not None
            and prev.speaker_start is not None and prev_span.last_block >= sp.first_block - 1):
        found.append(("prevquote", prev.speaker_text, prev.speaker_start,
                      prev.speaker_end if prev.speaker_end is not None else prev.speaker_start, prev.cue or ""))
    last = resolver.last_person_before(sp.open_pos)
    if last is not None:
        found.append(("lastperson", last.text, last.start, last.end, ""))
    # the words PolNeAR annotates as sources as written: a relative or possessive pronoun, a
    # personal pronoun of the quote's sentence, the names of its sentence
    m = _last(_WHO_CUE, body, sent_lo, sp.open_pos)
    if m is not None:
        found.append(("who", m.group(1), m.start(1), m.end(1), m.group("cue")))
    m = _last(_RELATIVE_PRONOUN, body, sent_lo, sp.open_pos)
    if m is not None:
        found.append(("rel", m.group(1), m.start(1), m.end(1), ""))
    m = _POSSESSIVE_BEFORE.search(body, max(sent_lo, sp.open_pos - _POSSESSIVE_CHARS), sp.open_pos)
    if m is not None:
        found.append(("poss", m.group(1), m.start(1), m.end(1), ""))
    lo = max(sent_lo, sp.open_pos - _POSSESSIVE_CHARS)
    m = (_NAME_POSSESSIVE_BEFORE.search(body, lo, sp.open_pos)
         if body.find("s ", lo, sp.open_pos) >= 0 else None)
    if m is not None:  # 'Mitt Romney’s "47 percent" comment'
        found.append(("nameposs", m.group(1), m.start(1), m.end(1), ""))
    if (sp.close_pos is not None and sp.last_block + 1 < len(blocks)
            and not body[sp.close_pos + 1:blocks[sp.last_block].end].strip(" .,")):
        # a quote standing alone, signed in the next paragraph: '"..." / - Bernie Sanders.'
        nb = blocks[sp.last_block + 1]
        m = _DASH_SIGNATURE.match(body, nb.start, nb.end)
        if m is not None:
            found.append(("signed", m.group("np"), m.start("np"), m.end("np"), "—"))
    m = _last(_PRONOUN, body, sent_lo, sp.open_pos)
    if m is not None:
        found.append(("pronbefore", m.group(1), m.start(1), m.end(1), ""))
    if sp.close_pos is not None:
        seg_end = sentence_end(body, sp.close_pos + 1, next_open)
        m = _PRONOUN.search(body, sp.close_pos + 1, seg_end)
        if m is not None:
            found.append(("pronafter", m.group(1), m.start(1), m.end(1), ""))
        named = resolver.named_in(sp.close_pos + 1, seg_end)
        if named:
            n0 = named[0]
            found.append(("nextnamed", n0.text, n0.start, n0.end, ""))
            e2 = with_appositive(body, n0.end, seg_end)
            if e2 > n0.end:
                found.append(("nextnamedapp", body[n0.start:e2], n0.start, e2, ""))
    if sp.close_pos is not None:
        # the attribution that ends the quote's sentence, past other words and quotes: 'Trump
        # is "..." in his approach, he said.', '... "...," according to officials with ...'
        full_end = sentence_end(body, sp.close_pos + 1, blocks[sp.last_block].end)
        tail = body[sp.close_pos + 1:full_end]
        m = _last(_ACCORDING_ANYWHERE, tail, 0, len(tail)) if "according to" in tail else None
        if m is None and "," in tail:
            m = _SENTENCE_TAIL.search(tail)
        if m is not None:
            g = "inp" if m.re is _SENTENCE_TAIL and m.group("np") is None else "np"
            np = m.group(g).rstrip(" .")
            cue = "according to" if m.re is _ACCORDING_ANYWHERE else m.group("icue" if g == "inp" else "cue")
            if np:
                np_start = sp.close_pos + 1 + m.start(g)
                found.append(("tail", np, np_start, np_start + len(np), cue))
    named = resolver.named_in(sent_start, sp.open_pos)
    if named:
        found.append(("firstnamed", named[0].text, named[0].start, named[0].end, ""))
        found.append(("lastnamed", named[-1].text, named[-1].start, named[-1].end, ""))
    for src, _text, st, en, cue in list(found):
        m = _PARTY_STATE.match(body, en) if body.startswith(" (", en) else None
        if m is not None:  # "Sen. Chuck Grassley (R-Iowa)": the party and state are part of it
            found.append(("paren", body[st:m.end()], st, m.end(), cue))
        if src in ("subject", "before") and en < sp.open_pos:
            m = _NOUNS_BEFORE_VERB.match(body, en, sp.open_pos)
            if m is not None:  # "Legal observers", "The Sanders campaign", "Band member Flea"
                found.append((src + "np", body[st:m.end()], st, m.end(), cue))
    out: list[Candidate] = []
    seen: set[tuple[int, int]] = set()
    for src, text, s, e, cue in found:
        if (s, e) in seen or not text.strip():
            continue
        seen.add((s, e))
        if src in ("who", "rel"):
            # "Beck, who has described Trump as '...'": who is the name before it
            ante = resolver.last_named_in(sent_start, s)
            speaker, eid = ((ante.name, ante.entity_id) if ante is not None and ante.end >= s - _ANTECEDENT_GAP
                            else (None, None))
        else:
            speaker, eid = resolver.resolve(text, s, e, learn=False)
        out.append((src, text, s, e, cue, speaker, eid))
    return out


#: The rules whose pick the ranker leaves alone: a speaker's label ("RAMOS: ...") and "For
#: Hof, the mission was a 'fool's errand'" (too rare in PolNeAR train to learn from).
_RULES_FINAL: Final = frozenset({"label", "for"})
def _all_agree(cands: list[Candidate]) -> bool:
    """Every candidate names the same source (``ranker.agree_key``)."""
    first = agree_key(cands[0])
    return all(agree_key(c) == first for c in cands[1:])


#: Characters before a quote read for a possessive pronoun ('his promise to be "neutral"').
_POSSESSIVE_CHARS: Final = 60
_WHO_CUE: Final = re.compile(r"\b(who|which)\s+(?:\w+ly\s+|has\s+|had\s+|have\s+)?(?P<cue>" + CUE_ALT + r")\b")
_PARTY_STATE: Final = re.compile(r"\s*\([A-Z]-[^()\n]{1,20}\)")
#: The rest of a noun phrase a rule cut at its first lowercase word, up to a verb: "The
#: Sanders| campaign projects that", "Corporate| lobbyists describe".
_NOUNS_BEFORE_VERB: Final = re.compile(
    r"(?:\s+(?!(?:" + CUE_ALT + r"|and|or|but|who|which|that|is|are|was|were|has|have|had|will|would|can|could|"
    r"may|might|should|does|did|do)\b)[\w’'\-]+){1,3}?(?=\s+(?:\w+ly\s+)?(?:" + CUE_ALT + r"|[a-z]{2,}ed|is|are|was|"
    r"were|has|have|had|will|would|can|could|may|might|should|does|did|[a-z]{3,}s(?=\s+(?:that\b|[“\"])))\b)")
_PARTICIPLE_CLAUSE: Final = re.compile(r",\s+\w+ing\b")
#: A noun phrase in lowercase right after a quote and before its cue: '"...," federal
#: prosecutors wrote'.
_LOWER_NP_CUE: Final = re.compile(r"[\s,]*(?P<np>[a-z][\w’'\-]*(?:\s+[\w’'\-]+){0,5}?)\s+(?:\w+ly\s+)?(?P<cue>"
                                  + CUE_ALT + r")\b")
#: An attribution at the end of a sentence: ", he said.", ", Smith wrote in a memo.", ", said
#: Smith, a lawyer." (its noun phrase up to the next comma), "according to X".
_SENTENCE_TAIL: Final = re.compile(
    r",[”\"’]?\s+(?:(?P<np>he|she|they|I|we|(?:the|a|an|its|his|her|their)\s+[\w-]+(?:\s+[\w-]+){0,3}|"
    r"[A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3})\s+(?:\w+ly\s+)?(?P<cue>" + CUE_ALT + r")\b[^\"“”,;]{0,60}"
    r"|(?P<icue>said|says|wrote|writes|added|adds)\s+(?P<inp>[A-Z][^,;:!?\"“”]{0,60}))[.,;]?\s*$")
_ACCORDING_ANYWHERE: Final = re.compile(r"\baccording to (?P<np>[^,;:!?\"“”]{2,80})")
#: A relative pronoun of the quote's sentence ("Franklin Graham, who has vowed not to ...
#: because of its '...'"), and the characters between it and the name it stands for.
_RELATIVE_PRONOUN: Final = re.compile(r"\b(who|which)\b")
_ANTECEDENT_GAP: Final = 3
_NAME_POSSESSIVE_BEFORE: Final = re.compile(r"\b([A-Z][\w.\-]*(?:\s+[A-Z][\w.\-]*){0,3}[’']s)\s+(?:[\w-]+\s+){0,4}?"
                                            r"(?:of|for|about|to be|as|on|that)?\s*$")
_DASH_SIGNATURE: Final = re.compile(r"\s*[-–—]+\s*(?P<np>[A-Z][^,.;:!?\"“”\n]{1,60}?)\s*[,.]?\s*(?:,[^\n]{0,40})?$")
_POSSESSIVE_BEFORE: Final = re.compile(r"\b([Hh]is|[Hh]er|[Tt]heir)\s+(?:\w+\s+){0,4}?[\w-]+\s+"
                                       r"(?:of|for|about|to be|as|on|that)?\s*$")


def _last(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> re.Match[str] | None:
    """The last match of ``pattern`` in text[lo:hi]."""
    found = None
    for found in pattern.finditer(text, lo, hi):  # noqa: B007 - the loop keeps the last
        pass
    return found
_PRONOUN: Final = re.compile(r"\b([Hh]e|[Ss]he|[Tt]hey|I|[Ww]e)\b")


#: A speech verb, and a word opening a clause: before a candidate in its sentence, its words
#: are reported by someone else ('Lewandowski quashed rumors by tweeting that "..."').
_CUE_WORD: Final = re.compile(r"\b(?:" + CUE_ALT + r"|according to)\b")
_SUBORDINATE: Final = re.compile(r"\b(?:that|by|when|after|because|while|if|whether|of)\s")


def _embedding(c: Candidate, sent_start: int, open_pos: int, par_start: int, cues: list[tuple[int, int]],
               subordinate_end: int) -> list[str]:
    """Whether a candidate before the quote in its sentence stands after a speech verb or a
    subordinating word of that sentence (``cues``: the speech verbs of the sentence before the
    quote; ``subordinate_end``: where its first subordinating word ends), whether a speech verb
    follows it before the quote; else whether it is in an earlier paragraph."""
    if not sent_start <= c[2] < open_pos:
        return ["otherpar"] if c[2] < par_start else []
    out = []
    if cues and cues[0][1] <= c[2]:
        out.append("cuebefore")
    if subordinate_end <= c[2]:
        out.append("subordbefore")
    if c[3] <= open_pos and cues and cues[-1][0] >= c[3]:
        out.append("cueafter")
    return out


def _with_appositive_before_verb(body: str, q: Quote, sp: QuoteSpan, blocks: list[Block]) -> None:
    """The speaker phrase as written when an appositive stands between it and its verb:
    "Mike Huckabee, the former Arkansas governor, proposed ...". Whichever rule or the ranker
    named the source, the appositive is part of it (PolNeAR annotates it so); the speaker
    (canonical) and its entity stay those of the name."""
    if q.speaker_start is None or q.speaker_end is None:
        return
    end = q.speaker_end
    if end <= sp.open_pos:
        hi = sp.open_pos  # a source before the quote: its verb comes before the quote opens
    elif sp.close_pos is not None and end > sp.close_pos:
        hi = sentence_end(body, end, blocks[sp.last_block].end)
    else:
        return
    grown = appositive_before_verb(body, end, hi)
    if grown > end:
        q.speaker_end = grown
        q.speaker_text = body[q.speaker_start:grown]


def _article_facts(quotes: list[Quote]) -> ArticleFacts:
    """The speakers of the quotes so far."""
    facts = ArticleFacts()
    for q in quotes:
        if q.speaker_text is not None:
            key = agree_key(("", q.speaker_text, 0, 0, "", q.speaker, None))
            facts.quoted[key] = facts.quoted.get(key, 0) + 1
    return facts


def extract_quotes(body: str, blocks: list[Block], entities: ArticleEntities,
                   collect: list[tuple[Quote, list[Candidate], list[list[str]]]] | None = None) -> list[Quote]:
    """All direct quotations of a body, attributed and resolved (see module docstring).

    With the article's ranker (``entities.ranker``), each quote's speaker is the best of the
    rules' candidates (``transforms.ranker``). ``collect`` receives every quote with its
    candidates and their features (training, ``training/train_ranker.py``).
    """
    ranker = entities.ranker
    spans = find_spans(body, blocks)
    if not spans:
        return []
    resolver = SpeakerResolver(body, entities, spans)
    quotes: list[Quote] = []
    prev: Quote | None = None
    prev_span: QuoteSpan | None = None
    first_by_id: dict[str, Resolved] | None = None  # entity id -> its first mention, built when needed
    facts: ArticleFacts | None = None  # for the ranker, built when needed
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
        sent_start = sentence_start(body, blk_first.start, sp.open_pos)  # of the quote's sentence
        sent_lo = max(prev_close, sent_start)

        attr = None
        how = ""
        known: dict[str, Attribution | None] = {}
        label = SPEAKER_LABEL.match(body, start)
        if label:
            attr = Attribution(":", label.group("label"), start, label.end("label"))
            how = "label"
        elif sp.close_pos is not None and not (stripped.endswith(".") and NEXT_SENTENCE.match(body, sp.close_pos + 1)
                                               and not SHORT_SAID.match(body, sp.close_pos + 1)):
            # A quote ending with a full stop ends its sentence: what follows a capital is a new
            # sentence, not an attribution ('"...timing." Gov. Pat McCrory said it would be').
            attr = known["after"] = after_attribution(body, sp.close_pos + 1, next_open,
                                                      not body[sent_lo:sp.open_pos].strip())
            how = "after"
        if attr is None and not label:
            attr = known["before"] = before_attribution(body, sent_lo, sp.open_pos, sent_start)
            how = "before"
        if attr is None and sp.open_pos == blk_first.start and sp.first_block > 0:
            # A quote opening its paragraph after one that ends with "X said:".
            pb = blocks[sp.first_block - 1]
            if body[pb.start:pb.end].rstrip().endswith(":"):
                last_lo = sentence_start(body, pb.start, pb.end - 1)
                attr = before_attribution(body, last_lo, pb.end)
                how = "prevcolon"

        if _is_headline(body, sp):
            continue
        words = len(stripped.split())
        if attr is None and words == 1 and stripped.rstrip(".,!?;:").lower() in _PRONOUN_WORDS:
            continue  # 'because "she" is a "he"': a word talked about, not said
        kind: QuoteKind | None = MULTI_PARAGRAPH if sp.last_block > sp.first_block else None
        q = Quote(start, end, stripped, sp.first_block, sp.last_block - sp.first_block + 1, kind or FULL)
        if attr is not None:
            q.cue, q.speaker_text = attr.cue, attr.speaker_text
            q.speaker_start, q.speaker_end = attr.start, attr.end
            q.speaker, q.speaker_entity_id = resolver.resolve(attr.speaker_text, attr.start, attr.end)
        else:
            opens_paragraph = sp.open_pos == blk_first.start
            same_paragraph = after_quote_paragraph = tight = False
            if prev is not None and prev_span is not None:
                same_paragraph = prev_span.last_block == sp.first_block
                after_quote_paragraph = opens_paragraph and prev_span.last_block == sp.first_block - 1
                tight = same_paragraph and _only_attribution_between(body, prev_span, prev, sp)
            subject = None
            if not (after_quote_paragraph or tight):
                if _is_label(body, sp, blk_first.start) or _title_like(stripped, words):
                    continue  # a title, name or nickname in quotation marks: no one said it
                # No cue: the subject of the quote's sentence is its source ("Sanders credited
                # Clinton's victory to '...'"), when it names someone.
                for_source = FOR_SOURCE.match(body, sent_lo, sp.open_pos)
                if for_source:
                    # "For Hof, Kerry's mission was a 'fool's errand'": the view is Hof's.
                    subject = (for_source.group(1), for_source.start(1))
                    how = "for"
                elif not (same_paragraph and prev_close > sent_start):
                    subject = sentence_subject(body, sent_lo, sp.open_pos)
                    how = "subject"
                    if subject is not None and not resolver.names_someone(*subject):
                        subject = None
                if subject is None and sent_lo == sp.open_pos and sp.open_pos > blk_first.start:
                    # A quote opening its sentence after "..., Schiff said." or "X called him a
                    # master. '...'": the previous sentence's source goes on speaking.
                    prev_lo = max(prev_close, sentence_start(body, blk_first.start, sent_lo - 2))
                    carried = before_attribution(body, prev_lo, sent_lo)
                    if carried is not None:
                        subject = (carried.speaker_text, carried.start)
                        how = "carried"
            if subject is not None:
                q.speaker_text, q.speaker_start = subject
                q.speaker_end = q.speaker_start + len(subject[0])
                q.speaker, q.speaker_entity_id = resolver.resolve(subject[0], q.speaker_start, q.speaker_end)
            elif prev is not None and (after_quote_paragraph or same_paragraph):
                q.speaker_text, q.speaker = prev.speaker_text, prev.speaker
                q.speaker_entity_id = prev.speaker_entity_id
                q.speaker_start, q.speaker_end = prev.speaker_start, prev.speaker_end
                kind = kind or CONTINUATION
                how = "continued"
        if attr is not None and _is_title(body, sp, stripped, words):
            # An attributed label is kept: 'the massacre, which he called "an evil, hateful
            # act."' (PolNeAR train: gold 22 times in 25).
            continue
        if kind is None:
            before = body[blk_first.start:sp.open_pos].rstrip(" \t")
            sentence_opening = not before or before[-1] in ".!?:\n" or before.endswith(("—", "--"))
            kind = FULL if sentence_opening and stripped[0].isupper() else PARTIAL
        q.kind = kind
        q.word_count = words
        if collect is not None or (ranker is not None and how not in _RULES_FINAL):
            cands = _candidates(body, blocks, sp, next_open, sent_lo, sent_start, prev, prev_span, resolver, known)
            chosen = -1
            if q.speaker_text is not None and q.speaker_start is not None:
                chosen = next((i for i, c in enumerate(cands) if c[2] == q.speaker_start
                               and c[3] == q.speaker_end), -1)
                if chosen < 0:
                    cands.append((how, q.speaker_text, q.speaker_start,
                                  q.speaker_end if q.speaker_end is not None else q.speaker_start,
                                  q.cue or "", q.speaker, q.speaker_entity_id))
                    chosen = len(cands) - 1
            best = chosen
            if collect is not None or not (chosen >= 0 and _all_agree(cands)):  # else: all name one source
                if collect is None and chosen < 0 and len(cands) == 1:
                    best = 0  # the one candidate
                elif cands:
                    qf = ["how=" + how if chosen >= 0 else "how=none", "kind=" + kind,
                          "short" if words <= SHORT_WORDS else "long",
                          "opens" if sp.open_pos == blk_first.start else "inside"]
                    if facts is None:
                        facts = _article_facts(quotes)
                    cue_spans = [(m.start(), m.end()) for m in _CUE_WORD.finditer(body, sent_start, sp.open_pos)]
                    sub = _SUBORDINATE.search(body, sent_start, sp.open_pos)
                    sub_end = sub.end() if sub is not None else sp.open_pos + 1
                    feats = features(cands, chosen, sp.open_pos,
                                     sp.close_pos if sp.close_pos is not None else sp.end, qf, facts,
                                     [_embedding(c, sent_start, sp.open_pos, blk_first.start, cue_spans, sub_end)
                                      for c in cands])
                    if collect is not None:
                        collect.append((q, cands, feats))
                    if ranker is not None and how not in _RULES_FINAL:
                        best = max(range(len(cands)), key=lambda i: ranker.score(feats[i]))
                elif collect is not None:
                    collect.append((q, cands, []))
            if best != chosen:
                c = cands[best]
                q.speaker_text, q.speaker_start, q.speaker_end = c[1], c[2], c[3]
                q.speaker, q.speaker_entity_id = c[5], c[6]
                if c[4] and q.cue is None:
                    q.cue = c[4]
        if q.speaker_text is not None:
            _with_appositive_before_verb(body, q, sp, blocks)
        quotes.append(q)
        prev, prev_span = q, sp
        if facts is not None and q.speaker_text is not None:
            key = agree_key(("", q.speaker_text, 0, 0, "", q.speaker, None))
            facts.quoted[key] = facts.quoted.get(key, 0) + 1
        if q.speaker_entity_id:
            if first_by_id is None:
                first_by_id = {}
                for r in entities.resolved:
                    first_by_id.setdefault(r.entity_id, r)
            hit = first_by_id.get(q.speaker_entity_id)
            if hit is not None and hit.entity_type == PERSON:
                resolver.note_speaker(Resolved(BODY, sp.open_pos, sp.open_pos, hit.text, hit.entity_type,
                                               hit.name, hit.entity_id))
    return quotes
