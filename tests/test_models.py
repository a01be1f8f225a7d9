"""The learned parts of the extraction: the mention typer and the speaker ranker.

Their weights (``transforms/typer.json``, ``transforms/ranker.json``) are learned by ``make
train`` from the shared training splits and committed; these tests need no shared data.
"""

from __future__ import annotations

import pytest

from transforms.context import ExtractionContext, build_context
from transforms.quotes import extract_quotes
from transforms.ranker import load_ranker
from transforms.resolve import resolve_article
from transforms.typer import load_model
from transforms.vocab import GPE, ORG, PERSON

_RESULTS = ("SOCCER - AJAX BEAT PSV IN DUTCH LEAGUE.",
            "AMSTERDAM 1996-08-30\n\nAjax Amsterdam beat PSV Eindhoven 2-1 on Saturday.\n\n"
            "Ajax Amsterdam 2 PSV Eindhoven 1\n\nFeyenoord Rotterdam 3 Roda JC Kerkrade 0")


def test_the_committed_weights_load_and_a_missing_file_leaves_the_rules():
    ctx = build_context()
    assert ctx.typer is not None and ctx.ranker is not None
    assert load_model("no-such-weights.json") is None
    assert load_ranker("no-such-weights.json") is None


def test_the_typer_makes_teams_of_a_results_page_organisations(extraction):
    title, body = _RESULTS
    ents = resolve_article({"title": title, "standfirst": None, "body": body}, extraction)
    found = {(r.text, r.entity_type) for r in ents.resolved}
    assert ("Ajax Amsterdam", ORG) in found and ("Ajax Amsterdam", PERSON) not in found
    assert ("AMSTERDAM", GPE) in found  # the dateline stays a place


def test_without_the_typer_the_rules_types_stand(extraction):
    rules = ExtractionContext(extraction.lex)  # new memos; the committed weights
    rules.typer = None
    title, body = _RESULTS
    ents = resolve_article({"title": title, "standfirst": None, "body": body}, rules)
    assert ("Ajax Amsterdam", PERSON) in {(r.text, r.entity_type) for r in ents.resolved}


def test_the_ranker_changes_speakers_only_never_which_quotes_are_found(extraction, seed_parsed):
    rules = ExtractionContext(extraction.lex)  # new memos; the committed weights
    rules.ranker = None
    fields = {"title": seed_parsed.title, "standfirst": seed_parsed.standfirst, "body": seed_parsed.body}
    ranked = extract_quotes(seed_parsed.body, seed_parsed.blocks, resolve_article(fields, extraction))
    plain = extract_quotes(seed_parsed.body, seed_parsed.blocks, resolve_article(fields, rules))
    assert [(q.start, q.end, q.kind) for q in ranked] == [(q.start, q.end, q.kind) for q in plain]


def test_the_ranker_picks_the_source_the_rules_agree_on(extraction):
    from transforms.parse import parse_article

    a = parse_article('T\n\nBernie Sanders spoke.\n\n"We will win," Sanders said on Tuesday.')
    qs = extract_quotes(a.body, a.blocks, resolve_article({"title": a.title, "standfirst": None, "body": a.body},
                                                          extraction))
    assert [(q.speaker_text, q.cue) for q in qs] == [("Sanders", "said")]


def test_cross_validation_folds_are_fixed_by_the_seed():
    from training.evaluate import fold_of

    assert [fold_of(n) for n in ("a.txt", "b.txt", "conll_train_000.txt")] == [4, 0, 0]


@pytest.mark.parametrize(("text", "src", "speaker_text", "speaker"), [
    # a quote signed in the next paragraph
    ('T\n\nThe claims were checked.\n\n"Boeing and GE pay zero taxes."\n\n- Bernie Sanders.',
     "signed", "Bernie Sanders", "Bernie Sanders"),
    # a name's possessive before the quote
    ('T\n\nMitt Romney spoke in May. Mitt Romney’s "47 percent" comment was dismissive.',
     "nameposs", "Mitt Romney’s", "Mitt Romney"),
    # a relative pronoun of the sentence stands for the name before it
    ('T\n\nGlenn Beck, who has postured as the "law and order candidate," spoke in Iowa.',
     "rel", "who", "Glenn Beck"),
    # the party and state after a name are part of the source as written
    ('T\n\nSen. Chuck Grassley (R-Iowa) said the nomination was "dead on arrival."',
     "paren", "Chuck Grassley (R-Iowa)", "Chuck Grassley"),
])
def test_the_ranker_is_offered_the_sources_the_rules_cut_or_miss(extraction, text, src, speaker_text, speaker):
    from transforms.parse import parse_article

    a = parse_article(text)
    got: list = []
    extract_quotes(a.body, a.blocks, resolve_article({"title": a.title, "standfirst": None, "body": a.body},
                                                     extraction), got)
    offered = {(c[0], c[1], c[5]) for _, cands, _ in got for c in cands}
    assert (src, speaker_text, speaker) in offered, offered
