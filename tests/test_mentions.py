from collections import defaultdict

import pytest

from transforms.mentions import extract_mentions
from transforms.resolve import resolve_article
from transforms.vocab import GPE, NORP, ORG, PERSON


@pytest.fixture
def types(extraction):
    """(text, type) of each mention of a text."""
    return lambda text: [(m.text, m.entity_type) for m in extract_mentions(text, extraction)]


def test_titles_are_not_part_of_names(types):
    assert ("Vladimir Putin", PERSON) in types("It seems unlikely President Vladimir Putin will back down.")
    assert ("Sergei Lavrov", PERSON) in types("He called Foreign Minister Sergei Lavrov on Monday.")


def test_possessive_is_trimmed(types):
    found = types("They met John Kerry. Later, Kerry’s spokesman spoke.")
    assert ("Kerry", "MISC") in found or ("Kerry", PERSON) in found
    assert not any(t.endswith("’s") for t, _ in found)


def test_particle_names(types):
    assert ("Bashar al-Assad", PERSON) in types("He urged Syrian leader Bashar al-Assad to stop.")
    assert ("Staffan de Mistura", PERSON) in types("The UN peace envoy Staffan de Mistura said so.")
    assert ("Jeroen van der Veer", PERSON) in types("The chief executive Jeroen van der Veer quit.")


def test_sentence_initial_words_are_not_names(types):
    found = types("But the talks failed. Washington’s Arab allies were angry.")
    assert ("But", "MISC") not in found
    assert ("Washington", GPE) in found and ("Arab", NORP) in found


def test_demonym_split_from_title_and_name(types):
    found = types("Even hawkish Republican Senator John McCain sneered.")
    assert ("Republican", NORP) in found and ("John McCain", PERSON) in found


def test_orgs_made_of_common_words_and_acronyms(types):
    found = types("He wrote on the blog of think tank the Atlantic Council, and the State Department and UN agreed.")
    assert ("Atlantic Council", ORG) in found
    assert ("State Department", ORG) in found
    assert ("UN", ORG) in found


def test_places_from_lexicons_and_compounds(types):
    found = types("A joint US-Russia cell in Aleppo, Syria.")
    assert ("US", GPE) in found and ("Russia", GPE) in found
    assert ("Aleppo", GPE) in found and ("Syria", GPE) in found


def test_all_caps_dateline_is_a_place(types):
    assert ("WASHINGTON", GPE) in types("WASHINGTON (AFP) - On Monday, officials met.")


def test_dates_are_not_entities(types):
    found = types("On Monday, the minister met in September.")
    assert not any(t in ("Monday", "On Monday", "September") for t, _ in found)


@pytest.fixture(scope="module")
def by_name(seed_entities):
    out = defaultdict(set)
    for r in seed_entities.resolved:
        out[(r.name, r.entity_type)].add(r.text)
    return out


def test_seed_resolution_surnames_to_full_names(by_name):
    assert {"John Kerry", "Kerry"} <= by_name[("John Kerry", PERSON)]
    assert {"Bashar al-Assad", "Assad"} <= by_name[("Bashar al-Assad", PERSON)]
    assert {"John Kirby", "Kirby"} <= by_name[("John Kirby", PERSON)]
    assert {"Fred Hof", "Hof"} <= by_name[("Fred Hof", PERSON)]


def test_seed_country_spellings_are_one_entity(by_name):
    assert {"US", "United States"} <= by_name[("United States", GPE)]


def test_seed_entity_ids_are_stable_and_shared_across_articles(seed_entities, extraction):
    other = resolve_article({"title": None, "standfirst": None, "body": "John Kerry met Lavrov. Kerry said no."},
                            extraction)
    kerry_seed = {r.entity_id for r in seed_entities.resolved if r.name == "John Kerry"}
    kerry_other = {r.entity_id for r in other.resolved if r.name == "John Kerry"}
    assert len(kerry_seed) == 1 and kerry_seed == kerry_other


def test_seed_offsets_slice_fields(seed_parsed, seed_entities):
    fields = {"title": seed_parsed.title, "standfirst": seed_parsed.standfirst, "body": seed_parsed.body}
    for r in seed_entities.resolved:
        assert fields[r.field][r.start:r.end] == r.text


# One test per typing rule of transforms/mentions.py and lexicon source of transforms/lexicons.py.

def test_international_given_names_from_gender_guesser(types):
    assert ("Jesper Parnevik", PERSON) in types("The golfer Jesper Parnevik finished third.")


def test_lone_surname_before_speech_verb_is_a_person(types):
    assert ("Clinton", PERSON) in types("On the trail, Clinton said the plan was sound.")


def test_lone_census_surname_mid_sentence_is_a_person(types):
    assert ("Dole", PERSON) in types("Supporters of Dole gathered outside.")


def test_unknown_word_after_in_is_a_place(types):
    assert ("Tavildara", "LOC") in types("Fighting continued in Tavildara on Friday.")


def test_org_head_anywhere_and_of_constructions(types):
    found = types("Traders at the Chicago Board of Trade and the Bank of England watched.")
    assert ("Chicago Board of Trade", ORG) in found and ("Bank of England", ORG) in found


def test_place_heads_make_locations(types):
    found = types("Ships crossed the Red Sea while Wall Street fell.")
    assert ("Red Sea", "LOC") in found and ("Wall Street", "LOC") in found


def test_event_heads(types):
    assert ("World Cup", "EVENT") in types("He scored twice at the World Cup final.")


def test_wire_agencies_are_organisations(types):
    assert ("Reuters", ORG) in types("The minister told Reuters on Monday.")


def test_place_plus_other_words_is_an_organisation(types):
    assert ("Dynamo Moscow", ORG) in types("The striker joined Dynamo Moscow last year.")


def test_subdivisions_and_short_country_names(types):
    found = types("Fans in England, Ontario and Britain celebrated.")
    assert ("England", GPE) in found and ("Ontario", GPE) in found and ("Britain", GPE) in found


def test_capitals_line_trusts_only_lexicons(types):
    found = types("SOCCER - ENGLAND BEAT MOLDOVA IN WORLD QUALIFIER")
    assert ("ENGLAND", GPE) in found
    assert not any(t in ("SOCCER", "BEAT", "WORLD QUALIFIER") for t, _ in found)


def test_acronym_resolves_to_its_expansion_in_the_article(extraction):
    ents = resolve_article({"title": None, "standfirst": None,
                            "body": "The World Health Organization warned. Later the WHO said more."}, extraction)
    names = {(r.text, r.name) for r in ents.resolved}
    assert ("WHO", "World Health Organization") in names


def test_title_is_kept_as_role_for_speaker_resolution(extraction):
    ents = resolve_article({"title": None, "standfirst": None, "body": "Foreign Minister Sergei Lavrov spoke."},
                           extraction)
    lavrov = next(r for r in ents.resolved if r.name == "Sergei Lavrov")
    assert lavrov.title == "Foreign Minister"


def test_place_followed_by_a_score_is_a_team(types):
    found = types("Leicestershire 22 points, Somerset 4.")
    assert ("Leicestershire", ORG) in found and ("Somerset", ORG) in found
    assert ("Paris", GPE) in types("Talks in Paris 3 days ago failed.")


def test_context_typed_word_yields_to_a_person_named_in_full(seed_entities):
    putin = [r for r in seed_entities.resolved if r.text == "Putin"]
    assert putin and all(r.entity_type == PERSON and r.name == "Vladimir Putin" for r in putin)


def test_sentence_initial_adverbs_are_not_entities(seed_entities):
    assert not {"Finally", "Tougher"} & {r.text for r in seed_entities.resolved}


def test_holidays_are_dates_not_people(types):
    assert not any(t == "Christmas" for t, _ in types("Sales rose before Christmas, Smith said."))


def test_a_lone_word_the_article_writes_after_the_is_no_person(extraction):
    ents = resolve_article({"title": None, "standfirst": None,
                            "body": "Oscar said nothing. The Oscar ceremony is on Sunday."}, extraction)
    assert not any(r.text == "Oscar" and r.entity_type == PERSON for r in ents.resolved)


@pytest.mark.parametrize("first, second", [("Tony", "Euan"), ("Euan", "Tony")])
def test_surname_shared_by_two_full_names_goes_to_the_first_named(first, second, extraction):
    # Equal-length full names: the tie must not depend on how Python hashes strings that run.
    text = f"{first} Blair met {second} Blair on Monday. Mr Blair said it went well."
    ents = resolve_article({"body": text}, extraction)
    lone = [r for r in ents.resolved if r.text == "Blair"]
    assert [r.name for r in lone] == [f"{first} Blair"]


def test_typing_a_span_depends_only_on_the_span_and_its_context_flags(extraction):
    # span_mentions is memoised on (span, context): the same name in different sentences
    # must still be typed from its own surroundings.
    mentions = extract_mentions("Crowds gathered in Kalmar on Friday. Kalmar said he would stay.", extraction)
    assert [(m.text, m.entity_type) for m in mentions if m.text == "Kalmar"] == [("Kalmar", "LOC"),
                                                                                 ("Kalmar", PERSON)]


def test_words_skipped_before_typing_make_no_mention_in_any_context(extraction):
    # extract_mentions skips these lone words before working out their context: that is only
    # right if typing them gives nothing whatever the context flags say.
    from itertools import product

    from transforms.mentions import _NEVER_A_NAME, SpanContext, span_mentions

    contexts = [SpanContext(*flags) for flags in product((False, True), repeat=5)]
    assert {"The", "But", "December", "MAY"} <= _NEVER_A_NAME
    assert [w for w in sorted(_NEVER_A_NAME) for ctx in contexts if span_mentions(w, ctx, extraction)] == []


def test_place_before_looks_back_as_the_windowed_regex_does():
    # _place_before replaced an end-anchored regex searched over the 20 characters before a
    # name; the look-back must find exactly what the regex found.
    import random
    import re

    from transforms.mentions import _LOC_BEFORE_WORDS, _place_before

    words = "|".join(sorted(_LOC_BEFORE_WORDS))
    regex = re.compile(rf"(?:\b(?:{words})\s+(?:the\s+)?)$")
    rng = random.Random(0)
    pieces = ["in", "the", "near", "north", "northern", " ", "  ", "\n", "x", "-", "_", "é", "In", "within", "1"]
    texts = ["Troops massed in  the\nHague and near Moscow, north of northern Mali."]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 14))) for _ in range(20_000)]
    for text in texts:
        for pos in range(len(text) + 1):
            assert _place_before(text, pos) == (regex.search(text, max(0, pos - 20), pos) is not None), (text, pos)


def test_a_company_legal_form_or_an_ampersand_makes_an_organisation(types):
    found = types("Shares of Douglas & Lomason Co rose, and Pirelli SpA, LM Ericsson AB, Cofinec S.A. and "
                  "Marks & Spencer fell.")
    assert ("Douglas & Lomason Co", ORG) in found
    companies = {"Pirelli SpA", "LM Ericsson AB", "Cofinec S.A.", "Marks & Spencer"}
    assert {(name, ORG) for name in companies} <= set(found)


def test_a_word_that_is_also_a_legal_form_elsewhere_is_no_company(types):
    # cleanco also lists "AS" (Norway), "VAT" (Uzbekistan) and "P.C." (professional corporations)
    for text in ("Prices of a Windows PC rose.", "The Reduced Rate VAT was cut.", "Fans of Gordon Brown As such."):
        assert not any(t == ORG for _, t in types(text)), text


@pytest.mark.parametrize(("text", "etype"), [
    ("They live in Zorblax now.", "LOC"), ("They live in  Zorblax now.", "LOC"), ("They live in\nZorblax.", "LOC"),
    ("They live in the Zorblax now.", "LOC"), ("in Zorblax", "LOC"), ("They live within Zorblax now.", "MISC"),
    ("They went to the Zorblax now.", "MISC"), ("xin Zorblax", "MISC"), ("Zorblax", "MISC")])
def test_a_place_word_before_an_unknown_word_makes_it_a_place_whatever_the_spacing(text, etype, types):
    # the one-space fast path and the general look-back must agree
    assert types(text) == [("Zorblax", etype)]


def test_a_role_inside_a_run_of_names_is_trimmed_from_the_person(extraction):
    found = [(m.text, m.entity_type, m.title) for m in extract_mentions(
        "He met Agriculture Secretary Dan Glickman and U.N. Ambassador Albright, then told BBC Radio Wales.",
        extraction)]
    assert ("Dan Glickman", PERSON, "Agriculture Secretary") in found
    assert ("U.N.", ORG, None) in found and ("Albright", PERSON, "Ambassador") in found
    assert not any(t == "Wales" and e == PERSON for t, e, _ in found)  # a place is nobody


def test_a_person_of_a_place_or_firm_is_two_mentions_but_a_title_of_x_is_one(types):
    assert types("Jesper Parnevik of Sweden beat John Casesa of Schroder Wertheim & Co.") == [
        ("Jesper Parnevik", PERSON), ("Sweden", GPE), ("John Casesa", PERSON), ("Schroder Wertheim & Co", ORG)]
    assert all(t != "Grace" for t, _ in types("The film Maria Full of Grace won."))
    assert all(t != "Westminster" for t, _ in types("The Roman Catholic Archbishop of Westminster spoke."))


def test_a_common_word_that_opens_a_place_stays_at_the_start_of_a_sentence(types):
    assert types("New York is big.") == [("New York", GPE)]
    assert types("New Zealand won. But Obama said so.") == [("New Zealand", GPE), ("Obama", "MISC")]
    assert ("Americans", NORP) in types("Many Americans agree.")


def test_senators_and_mayors_lose_their_title_and_keep_their_particles(extraction):
    found = [(m.text, m.entity_type, m.title) for m in extract_mentions(
        "New York Mayor Bill de Blasio met Sen. Bernie Sanders.", extraction)]
    assert found == [("New York", GPE, None), ("Bill de Blasio", PERSON, "Mayor"), ("Bernie Sanders", PERSON, "Sen.")]


def test_a_surname_shared_by_two_people_goes_to_the_one_the_body_names_first(extraction):
    ents = resolve_article({"title": "Crooked Hillary Clinton Attacks", "standfirst": None,
                            "body": "Ted Cruz spoke after Hillary Clinton. His father, Rafael Cruz, and Bill "
                                    "Clinton listened. Cruz said Clinton was wrong."}, extraction)
    lone = {r.text: r.name for r in ents.resolved if r.text in ("Cruz", "Clinton")}
    assert lone == {"Cruz": "Ted Cruz", "Clinton": "Hillary Clinton"}


def test_variants_of_one_name_resolve_to_the_longest(extraction):
    ents = resolve_article({"title": None, "standfirst": None,
                            "body": "Donald Trump met Donald J. Trump Jr. aides. Donald J. Trump spoke. Trump left."},
                           extraction)
    assert [r.name for r in ents.resolved if r.text == "Trump"] == ["Donald J. Trump"]


def test_an_initial_before_a_name_makes_a_person_but_not_before_a_place(types):
    # cricket scorecards name players by initial and surname, the surname in no lexicon
    found = types("Glamorgan 259 (D. Blenkiron 4-43), and then S. Korea and N. Korean troops met.")
    assert ("D. Blenkiron", PERSON) in found
    assert not any(t == PERSON for _, t in types("Troops of S. Korea and N. Korean troops met."))
    assert not any(t == PERSON for _, t in types("That was part I. This is part II."))


def test_a_company_named_in_full_is_a_company_by_its_first_word_alone(extraction):
    ents = resolve_article({"title": None, "standfirst": None, "body": (
        "Shares of Pirelli SpA fell and Google News grew. Analysts expect Pirelli to cut jobs. Google said "
        "so. The European Union agreed with European leaders, and the Bank of England with the Bank.")}, extraction)
    found = {(r.text, r.entity_type, r.name) for r in ents.resolved}
    assert ("Pirelli", ORG, "Pirelli SpA") in found  # the same company, its legal form dropped
    assert ("Google", ORG, "Google") in found  # a company, but not its news service
    # an adjective of a place and a common word open names of every kind
    assert not any(text == "European" and etype == ORG for text, etype, _ in found)
    assert not any(text == "Bank" and name == "Bank of England" for text, _, name in found)


def test_common_words_come_with_their_regular_inflections(extraction):
    is_common_word = extraction.lex.is_common_word
    assert all(map(is_common_word, ("bank", "rules", "creditors", "addressing", "treasuries", "voted")))
    assert not any(map(is_common_word, ("pirelli", "quinnipiac", "european", "centerview")))


def test_a_role_inside_the_run_wins_over_a_word_that_is_also_a_title(extraction):
    # "Judicial" is a title of nameparser's; the role that names the person is "President"
    found = [(m.text, m.entity_type, m.title) for m in extract_mentions(
        "On Tuesday, Judicial Watch President Tom Fitton and Tory MP Michael Mates spoke.", extraction)]
    assert ("Tom Fitton", PERSON, "Judicial Watch President") in found
    assert ("Michael Mates", PERSON, "MP") in found
    assert not any(t == "MP" for t, _, _ in found)


def test_what_a_role_is_of_is_nobody(types, extraction):
    found = types("The MP for Birkenhead met the Prince of Wales and the Archbishop of Canterbury.")
    assert not any(t == PERSON for _, t in found), found
    assert ("Birkenhead", GPE) in found
    found = [(m.text, m.entity_type, m.title) for m in extract_mentions(
        "He met the Minister of Foreign Affairs Sergei Lavrov.", extraction)]
    assert found == [("Sergei Lavrov", PERSON, "Minister of Foreign Affairs")]


def test_a_common_word_capitalised_only_where_sentences_start_is_no_name(extraction):
    ents = resolve_article({"title": None, "standfirst": None, "body": (
        "Analysts expect a vote.\nAttendance: 12,000.\nSenate leaders met. The Senate voted.\n"
        "Apple's shares rose.")}, extraction)
    texts = {r.text for r in ents.resolved}
    assert not texts & {"Analysts", "Attendance"}
    assert {"Senate", "Apple"} <= texts  # a capital inside a sentence, a possessive: names


def test_a_country_named_x_and_y_goes_by_x(types):
    assert ("Bosnia", GPE) in types("Troops left Bosnia on Monday.")
    assert ("Turks", GPE) not in types("Many Turks voted.")  # a people, not the Turks and Caicos Islands


def test_a_name_in_no_lexicon_and_no_dictionary_is_a_person(types):
    found = types("Noureddine Morceli (Algeria) beat Rustu Recber and Jean-Michel Monin, as Latin American "
                  "and Lib Dems fans cheered.")
    assert {("Noureddine Morceli", PERSON), ("Rustu Recber", PERSON), ("Jean-Michel Monin", PERSON)} <= set(found)
    assert not any(t in ("Latin American", "Lib Dems") and e == PERSON for t, e in found)


def test_more_title_words_before_a_given_name_stay_in_the_title(extraction):
    found = [(m.text, m.entity_type, m.title) for m in extract_mentions(
        "He met Miss Universe Alicia Machado and President Luiz Inacio Lula da Silva.", extraction)]
    assert ("Alicia Machado", PERSON, "Miss Universe") in found
    assert ("Luiz Inacio Lula da Silva", PERSON, "President") in found  # names, not title words


def test_saint_st_and_st_dot_name_one_place(extraction, types):
    assert ("St Louis", GPE) in types("They flew to St Louis on Monday.")
    ents = resolve_article({"title": None, "standfirst": None,
                            "body": "He left St Petersburg. Saint Petersburg is cold."}, extraction)
    assert {r.name for r in ents.resolved} == {"Saint Petersburg"}
