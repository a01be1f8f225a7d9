"""Quote extraction on the seed article and on the shapes news copy uses."""

import pytest

from transforms.parse import parse_article
from transforms.quotes import extract_quotes, find_spans
from transforms.resolve import resolve_article


@pytest.fixture
def quotes_of(extraction):
    """(parsed article, its quotes) of an article's text."""
    def extract(text):
        a = parse_article(text)
        ents = resolve_article({"title": a.title, "standfirst": a.standfirst, "body": a.body}, extraction)
        return a, extract_quotes(a.body, a.blocks, ents)

    return extract


def find(qs, start):
    hits = [q for q in qs if q.text.startswith(start)]
    assert hits, f"no quote starting {start!r}: {[q.text[:30] for q in qs]}"
    return hits[0]


# (start of the quote, expected speaker, expected kind)
SEED_QUOTES = [
    ("diplomatic malpractice", "John Kerry", "partial"),
    ("He informed the foreign minister", "John Kirby", "full"),
    ("we are ready to continue joint work", "defense ministry", "partial"),
    ("senseless", "Sergei Lavrov", "partial"),
    ("Unless we see something extraordinary", "John Kirby", "full"),
    ("The purpose of the call today", "John Kirby", "continuation"),
    # 'Kerry’s spokesman said the secretary warned Lavrov ... "the use of incendiary ..."': the
    # spokesman's account (the outer source, as PolNeAR annotates reported speech)
    ("the use of incendiary", "John Kirby", "partial"),
    ("really, until the past few weeks", "Mark Toner", "partial"),
    ("Finally, a real power move", "John McCain", "multi-paragraph"),
    ("There’s nothing that the secretary", "John Kirby", "full"),
    ("But as he also has said", "John Kirby", "continuation"),
    ("This is the sad, pointless diplomacy", "Fred Hof", "full"),
    ("A careful consideration of military options", "Fred Hof", "full"),
]


@pytest.mark.parametrize(("start", "speaker", "kind"), SEED_QUOTES)
def test_seed_quote_speaker_and_kind(seed_quotes, start, speaker, kind):
    q = find(seed_quotes, start)
    assert q.speaker == speaker
    assert q.kind == kind


def test_seed_offsets_slice_body(seed_parsed, seed_quotes):
    for q in seed_quotes:
        assert seed_parsed.body[q.start:q.end] == q.text


def test_seed_speaker_text_is_as_written(seed_quotes):
    assert find(seed_quotes, "This is the sad").speaker_text == "he"
    assert find(seed_quotes, "This is the sad").cue == "wrote"
    assert find(seed_quotes, "He informed").speaker_text == "Kerry’s spokesman John Kirby"
    assert find(seed_quotes, "Unless we see").speaker_text == "Kirby"


def test_seed_speaker_entity_links_to_mentions(seed_quotes, seed_entities):
    ids = {r.entity_id for r in seed_entities.resolved}
    kirby = find(seed_quotes, "Unless we see")
    assert kirby.speaker_entity_id in ids
    assert find(seed_quotes, "we are ready").speaker_entity_id is None  # not a named entity


def test_seed_multi_paragraph_quote_is_one_quote_with_nested_nickname(seed_quotes):
    q = find(seed_quotes, "Finally, a real power move")
    assert q.paragraph_count == 3
    assert "‘Not Delusional’" in q.text and q.text.endswith("dialogue with Secretary Kerry.")
    assert not any(x.text.startswith("Not Delusional") for x in seed_quotes)


def test_seed_nested_single_quote_stays_inside(seed_quotes):
    q = find(seed_quotes, "The purpose of the call")
    assert q.text.endswith("‘We haven’t seen you do the right thing.’")
    assert not any(x.text.startswith("We haven’t seen") for x in seed_quotes)


def test_split_quote_around_cue(quotes_of):
    _, qs = quotes_of('Title\n\nBob Smith met them.\n\n"First part," he said. "Second part here and more."')
    assert [q.speaker for q in qs] == ["Bob Smith", "Bob Smith"]
    assert qs[1].kind == "continuation"


def test_said_x_and_according_to(quotes_of):
    _, qs = quotes_of('T\n\n"We will win this fight for sure," said Jane Doe, the mayor.\n\n'
                      'The plan is "a total disaster for the city," according to Tom Lee.')
    assert qs[0].speaker == "Jane Doe" and qs[0].cue == "said"
    assert qs[1].speaker == "Tom Lee" and qs[1].cue == "according to"


def test_appositive_between_speaker_and_cue(quotes_of):
    _, qs = quotes_of('T\n\nMichael Flynn met them.\n\n"It is over now, and we know it," Flynn, a top Trump surrogate, '
                      'said Thursday.')
    # speaker_text is the source as written, appositive included (as PolNeAR annotates it);
    # speaker is the resolved name
    assert qs[0].speaker_text == "Flynn, a top Trump surrogate" and qs[0].cue == "said"
    assert qs[0].speaker == "Michael Flynn"


def test_appositive_after_inverted_cue(quotes_of):
    _, qs = quotes_of('T\n\n"It is a clear threat to peace," said Daryl Kimball, executive director of the '
                      'Arms Control Association. "We must act."')
    assert qs[0].speaker_text == "Daryl Kimball, executive director of the Arms Control Association"
    assert qs[0].speaker == "Daryl Kimball"
    assert qs[1].speaker == "Daryl Kimball" and qs[1].kind == "continuation"


def test_abbreviations_do_not_end_the_speaker(quotes_of):
    _, qs = quotes_of('T\n\n"It was the least bad outcome," Mr. Morgan of the Sierra Club said.\n\n'
                      '"We will see," said Representative Charles B. Rangel of New York.')
    assert qs[0].speaker_text == "Mr. Morgan of the Sierra Club"
    assert qs[1].speaker_text == "Representative Charles B. Rangel of New York"


def test_participle_is_not_an_appositive(quotes_of):
    _, qs = quotes_of('T\n\nFred Hof and Bashar al-Assad.\n\n"It must be done now," wrote Hof, arguing that '
                      'Assad’s brutality must exact a price.')
    assert qs[0].speaker_text == "Hof" and qs[0].speaker == "Fred Hof"


def test_organisation_speaker(quotes_of):
    _, qs = quotes_of('T\n\nIn Moscow, the defense ministry said "we are ready to continue our joint work".')
    assert qs[0].speaker_text == "the defense ministry"


def test_unbalanced_marks_do_not_lose_other_quotes(quotes_of):
    text = ('T\n\n"This one never closes, said nobody at all here.\n\n'
            'Later, Ann Lee said: "We will keep going no matter what happens."\n\n'
            '"And this is another full sentence of speech," Lee added.')
    _, qs = quotes_of(text)
    starts = [q.text[:12] for q in qs]
    assert any(s.startswith("We will keep") for s in starts)
    assert any(s.startswith("And this is") for s in starts)


def test_scare_quotes_and_titles_are_not_quotes(quotes_of):
    _, qs = quotes_of('T\n\nThe so-called "deal" collapsed. She starred in the film "Gone Girl" last year. '
                      'He watched "Face the Nation" on Sunday.')
    assert qs == []


def test_straight_quotes_pair_like_curly():
    a = parse_article('T\n\nHe said "one two three four five" and then "six seven eight nine ten".')
    spans = find_spans(a.body, a.blocks)
    assert [a.body[s.start:s.end] for s in spans] == ["one two three four five", "six seven eight nine ten"]


def test_the_marks_of_a_tag_running_over_a_line_break_are_no_quotes(quotes_of):
    # the tag's attributes ('"@tedcruz"', '"January 19, 2016\n"') run over two paragraphs
    _, qs = quotes_of('T\n\nCruz took the news in stride.\n\n<tweet tweet-author="@tedcruz" tweet-date="January 19, '
                      '2016\n">I love @SarahPalinUSA. I will always be a fan.<tweet/>.\n\n"We will win," Cruz said.')
    assert [q.text for q in qs] == ["We will win,"]


def test_transcript_turns_are_separate_quotes_with_their_speakers(quotes_of):
    _, qs = quotes_of('T\n\nThe exchange went like this:\n\n"WALLACE: Will Gennifer Flowers be there?\n\n'
                      '"PENCE: Gennifer Flowers will not be attending the debate tomorrow night."')
    assert [(q.speaker_text, q.cue) for q in qs] == [("WALLACE", ":"), ("PENCE", ":")]


def test_curly_open_straight_close_is_one_quote(quotes_of):
    _, qs = quotes_of('T\n\n“Our roads and bridges are crumbling," she said. "Families endure blackouts."')
    assert [q.text for q in qs] == ["Our roads and bridges are crumbling,", "Families endure blackouts."]


def test_participle_cue_takes_the_sentence_subject(quotes_of):
    _, qs = quotes_of('T\n\nDuring a speech, Trump attacked Clinton over Iraq, saying, "She is trigger-happy."')
    assert qs[0].speaker_text == "Trump" and qs[0].cue == "saying"


def test_quote_without_cue_takes_a_named_sentence_subject(quotes_of):
    _, qs = quotes_of('T\n\nBernie Sanders spoke. Sanders compared the primary to "a rigged casino game".')
    assert qs[0].speaker == "Bernie Sanders" and qs[0].cue is None


def test_inverted_sentence_initial_cue(quotes_of):
    _, qs = quotes_of('T\n\nExperts disagree. Said Ellis: "I do not get the sense she cares about tax reform."')
    assert qs[0].speaker_text == "Ellis"


def test_attribution_after_a_short_tail(quotes_of):
    _, qs = quotes_of('T\n\n"The only way Wall Street will change is jail time" for bad behavior, she said.')
    assert qs[0].speaker_text == "she" and qs[0].cue == "said"


def test_quote_after_a_reported_sentence_keeps_its_source(quotes_of):
    _, qs = quotes_of('T\n\nThe administration may be slow to act, Adam Schiff said. "The other factor is the '
                      'appearance of taking sides."')
    assert qs[0].speaker == "Adam Schiff"


def test_full_stop_quote_is_not_attributed_by_the_next_sentence(quotes_of):
    _, qs = quotes_of('T\n\nJennifer Roberts said "the question is the timing." Gov. Pat McCrory said it would '
                      'be "improper" to speak.')
    assert qs[0].speaker == "Jennifer Roberts"
    assert qs[1].speaker == "Pat McCrory"


def test_past_tense_reporting_verb_after_exclamation(quotes_of):
    _, qs = quotes_of('T\n\n"Who is going to pay for it?"\n\n"Mexico!" the audience screamed back.')
    assert qs[1].speaker_text == "the audience"


def test_straight_closer_after_curly_opener_before_another_quote(quotes_of):
    _, qs = quotes_of('T\n\n“They are trying to defeat it," she said "Ultimately they say no to families.”')
    assert [q.text for q in qs] == ["They are trying to defeat it,", "Ultimately they say no to families."]
    assert qs[0].speaker_text == "she"


def test_inverted_attribution_after_a_tail(quotes_of):
    _, qs = quotes_of('T\n\n"He can assert it, but it seems unlikely" that Sanders wins, said Steve Elmendorf, '
                      'a strategist.')
    assert qs[0].speaker == "Steve Elmendorf"


def test_short_attribution_after_a_full_stop(quotes_of):
    _, qs = quotes_of('T\n\n“I hope you are able to find the emails that are missing.” Trump said.')
    assert qs[0].speaker_text == "Trump"


def test_demonstrative_speaker_phrase(quotes_of):
    _, qs = quotes_of('T\n\n“The kids do not like him at all,” this source told the Post.')
    assert qs[0].speaker_text == "this source"


def test_pronoun_right_before_the_cue_after_a_long_adverbial(quotes_of):
    _, qs = quotes_of('T\n\nA few days ago in an interview with the network RT he blasted the media for being '
                      '“unbelievably dishonest.”')
    assert qs[0].speaker_text == "he"


def test_a_country_can_be_the_source(quotes_of):
    _, qs = quotes_of('T\n\nJapan branded North Korea an "outlaw nation in the neighborhood."')
    assert qs[0].speaker_text == "Japan"


def test_cue_words_used_as_nouns_or_infinitives_are_not_cues(quotes_of):
    _, qs = quotes_of('T\n\nHillary Clinton once described the so-called partnership as “the gold standard” of deals.')
    assert qs[0].speaker_text == "Hillary Clinton"
    _, qs = quotes_of('T\n\nPolitiFact rated 32 percent of Republican claims as “false” or worse.')
    assert qs[0].speaker_text != "32 percent of Republican"


def test_name_right_before_a_participle_speaks(quotes_of):
    _, qs = quotes_of('T\n\nThe spot concludes with footage of Trump saying during the debate, “That makes me smart.”')
    assert qs[0].speaker_text == "Trump"


def test_title_case_names_of_works_are_not_quotes(quotes_of):
    _, qs = quotes_of('T\n\nHoward had roles in “How the Grinch Stole Christmas” and many other films.')
    assert qs == []


def test_for_x_marks_the_source_of_a_view(quotes_of):
    _, qs = quotes_of('T\n\nFred Hof spoke.\n\nFor Hof, the mission was a "fool’s errand" from the start.')
    assert qs[0].speaker == "Fred Hof"


def test_unnamed_source_has_no_canonical_speaker_but_keeps_its_words(quotes_of):
    _, qs = quotes_of('T\n\n"We will not comment on that matter," a spokesman said.')
    assert qs[0].speaker_text == "a spokesman" and qs[0].speaker is None


def test_attributed_names_and_labels_are_the_speakers_words(quotes_of):
    # PolNeAR train: an attributed capitalised quote is somebody's words (37 of 47) unless an
    # outlet's possessive or a preposition names a programme before it.
    _, qs = quotes_of("T\n\nTrump has repeatedly called Rubio “Little Marco” at rallies.")
    assert [(q.text, q.speaker_text) for q in qs] == [("Little Marco", "Trump")]
    _, qs = quotes_of("T\n\nHe condemned the shooting, which he called “an evil, hateful act.”")
    # "He" of the sentence or "he" of "which he called": the same source (the ranker may pick either)
    assert [(q.text, q.speaker_text.lower()) for q in qs] == [("an evil, hateful act.", "he")]


@pytest.mark.parametrize("where", ["on NBC’s “Meet the Press.”", "on this weekend’s broadcast of “Fox News Sunday.”",
                                   "in an interview with “Fox and Friends.”"])
def test_programme_named_after_the_cue_is_not_a_quote(where, quotes_of):
    _, qs = quotes_of(f"T\n\n“We will win,” Sanders said {where}")
    assert [q.text for q in qs] == ["We will win,"]


def test_surname_ending_in_ly_is_not_an_adverb(quotes_of):
    _, qs = quotes_of("T\n\nMegyn Kelly said: “We will win the war on this.”\n\n"
                      "Scott's family has called for the release of the videos \"as a matter of transparency.\"")
    assert [q.speaker_text for q in qs] == ["Megyn Kelly", "Scott's family"]


def test_role_description_before_a_name_is_the_speaker(quotes_of):
    _, qs = quotes_of("T\n\nDemocratic candidate Hillary Clinton wants large corporations to pay \"their fair "
                      "share\" of taxes.\n\nHundreds of pro-Sanders demonstrators marched on Monday, chanting "
                      "\"Bernie or Jill, No Hill,\" and waving signs.")
    assert [q.speaker_text for q in qs] == ["Democratic candidate Hillary Clinton",
                                            "Hundreds of pro-Sanders demonstrators"]


def test_a_possessive_makes_a_cue_word_a_noun(quotes_of):
    # "Trump's remarks" are no cue: the source is the subject of "said".
    _, qs = quotes_of("T\n\nThe lawmaker said Trump's remarks \"have caused widespread dismay\" at home.")
    assert [q.speaker_text for q in qs] == ["The lawmaker"]


def test_straight_mark_opening_an_excerpt_of_curly_quotes_is_no_quote(quotes_of):
    # A blockquote flattened to text: the straight mark marks the excerpt, the curly quotes
    # inside are the quotes. A curly closer left over still closes it, and transcript turns speak.
    _, qs = quotes_of('T\n\nMcCrummen reports:\n\n"Trump walked onto the stage, chanting “U-S-A!”\n\n'
                      '“That’s right, Donald,” Melanie said.\n\n"I know. I know,” Henry said.')
    assert [(q.text, q.speaker_text) for q in qs] == [("U-S-A!", "Trump"), ("That’s right, Donald,", "Melanie"),
                                                      ("I know. I know,", "Henry")]


def test_one_word_show_title_after_a_possessive_is_not_a_quote(quotes_of):
    _, qs = quotes_of("T\n\nWashington, star of television’s “Scandal,” thanked Obama for “taking these steps.”")
    assert [q.text for q in qs] == ["taking these steps."]


def test_headline_with_a_byline_is_a_title_not_a_quote(quotes_of):
    _, qs = quotes_of('T\n\nFAREWELL—"The Living Room to close at the end of December," by Times\' Ben Sisario: '
                      '"The club will close," the owner said.\n\n—"Posthumous books could come with a lot of dollar '
                      'signs," by the Boston Globe\'s Joseph P. Kahn.\n\nThe files were labeled "top secret" by the '
                      'State Department.')
    assert [q.text for q in qs] == ["The club will close,", "top secret"]


def test_restrictive_relative_clause_is_part_of_the_source_as_written(quotes_of):
    _, qs = quotes_of('T\n\n"This set off our fear," said a Mexican official who was not authorized to speak '
                      'publicly on this issue.')
    assert qs[0].speaker_text == "a Mexican official who was not authorized to speak publicly on this issue"
    assert qs[0].speaker_entity_id is None


@pytest.mark.parametrize(("phrase", "speaker"), [
    ("a Trump supporter", None), ("one Clinton aide", None), ("Grayson's spokeswoman", None),
    ("Clinton's campaign chairman, John Podesta", "John Podesta"), ("Donald Trump", "Donald Trump")])
def test_a_name_describing_the_speaker_is_not_the_speaker(phrase, speaker, quotes_of):
    _, qs = quotes_of(f'T\n\nDonald Trump and Hillary Clinton met Alan Grayson.\n\n"We will see," said {phrase}.')
    assert qs[0].speaker == speaker


def test_determiner_before_a_past_participle_is_no_speaker(quotes_of):
    _, qs = quotes_of("T\n\n\"From Day One, I made climate the top priority,\" the bespectacled, 71-year-old "
                      "diplomat said.")
    assert qs[0].speaker_text != "the"


def test_a_paragraph_reopening_with_another_kind_of_mark_starts_a_new_quote(quotes_of):
    # A straight-quoted excerpt is not continued by a curly-quoted paragraph.
    _, qs = quotes_of('T\n\n"Melanie thought the whole thing was outrageous.\n\n'
                      '“It never crossed my mind,” she said.')
    assert [q.text for q in qs][-1] == "It never crossed my mind,"
    assert all(q.kind != "multi-paragraph" for q in qs)


def test_titles_with_lowercase_prepositions_are_not_quotes(quotes_of):
    _, qs = quotes_of("T\n\nGingrich included it in his 1994 “Contract with America.” The director made the "
                      "documentary “13th.”")
    assert qs == []


# (text, speaker as written): the attribution shapes learned on PolNeAR train.
SPEAKERS_AS_WRITTEN = [
    # PolNeAR's source of a quote inside reported speech is the outer source
    pytest.param("Rep. Steve Israel said Clinton called on members to be “closely coordinated.”",
                 "Rep. Steve Israel", id="reported-clause-is-the-reporters-account"),
    pytest.param("According to White House pool reports, Obama said “there is love” in Orlando.",
                 "White House pool reports", id="according-to-first-names-the-outer-source"),
    pytest.param("“I ask you not to protest on the floor,” Sanders said, according to CNN.",
                 "CNN", id="according-to-after-the-cue-names-the-outer-source"),
    pytest.param("Amid growing calls for a list, The Blaze’s Matt Walsh wrote a defence of it, saying it "
                 "is necessary to “identify the traitors.”", "The Blaze’s Matt Walsh",
                 id="leading-adverbial-is-not-the-subject"),
    pytest.param("Sunday morning, Clinton slammed the shift and accused Sanders of a \"flip-flop.\"", "Clinton",
                 id="leading-weekday-is-not-the-subject"),
    pytest.param("Eight years ago, Clinton slammed the shift and accused Sanders of a \"flip-flop.\"", "Clinton",
                 id="leading-time-ago-is-not-the-subject"),
    pytest.param("The influential delegate and conservative activist, who backs Cruz, warned of a "
                 "“ferocious” battle ahead.", "The influential delegate and conservative activist, who backs Cruz",
                 id="coordinated-description-with-a-relative-clause"),
    pytest.param("Priebus later Thursday told Fox News: “Both of them are meeting next week.”", "Priebus",
                 id="time-words-between-subject-and-cue"),
    pytest.param("NEW YORK - Republican presidential candidate Donald Trump called Clinton the "
                 "“most corrupt candidate ever!”", "Republican presidential candidate Donald Trump",
                 id="dateline-is-not-part-of-the-speaker"),
    pytest.param("Black Lives Matter issued a statement saying it withdrew \"because of the unsafe "
                 "conditions\" at the parade.", "Black Lives Matter", id="issuer-of-a-statement-speaks"),
    pytest.param('Sanders supporters are crying "fraud" over delegate selection.', "Sanders supporters",
                 id="group-named-by-a-capitalised-modifier"),
    pytest.param("Supporters punched a protester, with Trump reportedly yelling: “Get him out of here!”", "Trump",
                 id="name-before-an-adverb-and-a-participle"),
    pytest.param("He says no one in the race is “on pace to get 1,237 delegates,” the number needed to win.",
                 "He", id="past-participle-after-a-phrase-is-no-cue"),
    pytest.param('The state must stop policies that have a "dramatic and disparate impact" on minorities, who '
                 "are more likely to vote Democratic, the lawsuit says.", "the lawsuit",
                 id="source-at-the-end-of-the-sentence"),
    pytest.param('That would create a "summer of agony" for Clinton leading up to the convention, forcing her '
                 "to fend off both Trump and Sanders, said Brad Bannon, a Democratic pollster.",
                 "Brad Bannon, a Democratic pollster", id="inverted-source-at-the-end-of-a-long-sentence"),
    pytest.param("Still, the fact that the race “is a dead heat right now,” as Cruz said on Monday, matters.",
                 "Cruz", id="as-x-said-after-the-quote"),
    pytest.param("As The Post’s Dana Milbank puts it, “Senate Republicans are unmoved.”",
                 "The Post’s Dana Milbank", id="as-x-puts-it"),
    pytest.param("“This is fantastic!” beamed Donald Hartley, a delegate from Alabama.",
                 "Donald Hartley, a delegate from Alabama", id="beamed-after-the-quote"),
    pytest.param("“Oh, my God,” a young woman exclaimed upon seeing him.", "a young woman",
                 id="exclaimed-after-the-quote"),
]


@pytest.mark.parametrize(("text", "speaker_text"), SPEAKERS_AS_WRITTEN)
def test_speaker_as_written(text, speaker_text, quotes_of):
    _, qs = quotes_of(f"T\n\n{text}")
    assert qs[0].speaker_text == speaker_text


def test_pronoun_in_a_relative_clause_is_not_its_antecedent(quotes_of):
    # binding: in "Trump, whom he called ...", he is someone else (here the sentence's subject)
    _, qs = quotes_of("T\n\nMarco Rubio said he has begun to unmask Donald Trump, whom he called a “con artist.”")
    assert qs[0].speaker_text == "he" and qs[0].speaker == "Marco Rubio"


def test_opening_mark_typed_as_a_closing_one_closes_the_quote(quotes_of):
    _, qs = quotes_of("T\n\nChuck Todd was shocked. “Do you want to be associated with a fascist?“ he asked.\n\n"
                      "“No, I want to be associated with interesting quotes,” Trump insisted.")
    assert [q.text for q in qs] == ["Do you want to be associated with a fascist?",
                                    "No, I want to be associated with interesting quotes,"]
    assert qs[0].cue == "asked" and qs[1].speaker == "Trump"


def test_a_source_opened_by_a_possessive_is_described_not_named(quotes_of):
    _, qs = quotes_of("T\n\nSanders’ campaign was ready to return fire. His chief aide doubled down on attacks, "
                      "saying she is experienced “on paper” but not enough.")
    assert qs[0].speaker_text == "His chief aide" and qs[0].speaker is None


def test_cue_trie_matches_what_the_longest_first_alternation_matched():
    import re

    from transforms.attribution import _CUE, CUES, _alternation

    words = sorted(set(CUES), key=len, reverse=True)
    plain = "|".join(words)
    old = re.compile(rf"\b(?:[Aa]ccording to|(?:{plain})|(?:{plain.title()}))\b")
    text = " ".join(f"{w} {w.title()} {w}x re{w} {w[:-1]} {w}, said" for w in words) + " According to according to"
    assert [m.span() for m in _CUE.finditer(text)] == [m.span() for m in old.finditer(text)]
    # longest first where words share a prefix, as the sorted alternation did
    assert re.match(_alternation(["call", "called", "calling"]), "calling").group(0) == "calling"


def test_a_pronoun_alone_in_quotation_marks_is_a_word_talked_about(quotes_of):
    _, qs = quotes_of('T\n\nWhy vote for him, unless because "she" is a "he"? A loud, white "he." Not "us" either.\n\n'
                      '"No," she said.')
    assert [q.text for q in qs] == ["No,"]


def test_a_name_after_during_the_is_a_title_even_with_a_speaker(quotes_of):
    _, qs = quotes_of('T\n\nClinton stressed her record during a "Commander-in-Chief Forum" sponsored by NBC News '
                      'and said she has "steadiness."')
    assert [(q.text, q.speaker_text) for q in qs] == [("steadiness.", "Clinton")]


def test_a_phrase_ending_in_and_is_no_subject_of_the_cue_after_it(quotes_of):
    _, qs = quotes_of('T\n\nKasich mocked "the best in the state" - and said more.\n\n'
                      'Smith and Jones said "yes" and "no" at once.\n\n"Fine," Smith and Jones said.')
    assert qs[0].speaker_text == "Kasich"
    assert qs[-1].speaker_text == "Smith and Jones"


def test_a_verb_joined_after_a_quote_shares_the_subject_of_the_verb_before_it(quotes_of):
    _, qs = quotes_of('T\n\nPolitiFact claimed "Trump exaggerates" the level through a "misleading use," and '
                      'concluded his comments were "Mostly False."\n\nTory chairman Liam Fox accused Labour of '
                      '"a downright lie" and said the "smear" tactics were desperate.')
    assert [(q.text, q.speaker_text) for q in qs] == [
        ("Trump exaggerates", "PolitiFact"), ("misleading use,", "PolitiFact"), ("Mostly False.", "PolitiFact"),
        ("a downright lie", "Tory chairman Liam Fox"), ("smear", "Tory chairman Liam Fox")]


def test_a_cue_word_after_a_participle_is_its_object(quotes_of):
    _, qs = quotes_of('T\n\nThe Rev. Al Sharpton began taking calls to his "Keepin\' It Real" radio program.\n\n'
                      'A source familiar with Cruz\'s thinking said "he will try."')
    assert [(q.text, q.speaker_text) for q in qs] == [("he will try.", "A source familiar with Cruz's thinking")]


def test_a_time_phrase_without_its_comma_is_no_part_of_the_speaker(quotes_of):
    _, qs = quotes_of('T\n\nEarlier this year the Royal College of Physicians said there was an "epidemic".')
    assert qs[0].speaker_text == "the Royal College of Physicians"


def test_a_lowercase_preposition_opens_no_speaker(quotes_of):
    _, qs = quotes_of('T\n\nDonald Trump spoke.\n\nMr Kruger was quoted in the Guardian newspaper saying: "We will '
                      'win."\n\nTrump weighed in on Twitter before he said it had "kept us safe".')
    assert [q.speaker_text for q in qs] == ["Mr Kruger", "he"]


def test_an_auxiliary_after_the_subject_is_no_part_of_the_speaker(quotes_of):
    # the subject of the sentence speaks, with no cue: "has" is no part of it
    _, qs = quotes_of('T\n\nToyota has led the market with its "green" cars since 1997.')
    assert [(q.speaker_text, q.speaker) for q in qs] == [("Toyota", "Toyota")]


def test_the_speech_verb_is_no_part_of_the_speaker(quotes_of):
    # a typo of the copy ('said X said') and a participle after an inverted cue ('said X, ..., explaining')
    _, qs = quotes_of('T\n\n"We do not underestimate it," said Stop Stansted Expansion chairman Peter Sanders said.'
                      '\n\n"Russ is running," said Michael Tyler, a spokesman for the campaign, explaining why he '
                      'stays. "You are more likely to find him here."')
    assert [q.speaker_text for q in qs] == ["Stop Stansted Expansion chairman Peter Sanders"] + [
        "Michael Tyler, a spokesman for the campaign"] * 2


def test_he_and_she_go_to_the_last_man_and_woman_named(quotes_of):
    _, qs = quotes_of("Title\n\nDonald Trump debated Hillary Clinton on Monday.\n\n"
                      "\"I will win,\" she said. \"You will not,\" he replied.\n\n"
                      "Kim Lee met Jordan Smith. \"Fine,\" she said.\n")
    assert [(q.speaker_text, q.speaker) for q in qs] == [
        ("she", "Hillary Clinton"), ("he", "Donald Trump"), ("she", "Kim Lee")]  # not the man named after her


def test_a_nationality_is_no_speaker_and_a_dashed_aside_is_not_part_of_one(quotes_of):
    _, qs = quotes_of("Title\n\nAndy Roddick lost. \"I played badly,\" the American said.\n\n"
                      "B&B - which has a 22% share of the market - said: \"Demand is strong.\"\n")
    assert [(q.speaker_text, q.speaker) for q in qs] == [
        ("the American", None), ("B&B - which has a 22% share of the market -", "B&B")]


def test_a_capital_that_only_opens_the_sentence_names_no_speaker(quotes_of):
    _, qs = quotes_of("Title\n\n\"It was chaos,\" one attendee said.\n\n"
                      "One attendee said: \"It was chaos.\"\n\n\"We are ready,\" Microsoft said.\n")
    assert [q.speaker for q in qs] == [None, None, "Microsoft"]


def test_an_appositive_between_the_source_and_its_verb_is_part_of_the_source(quotes_of):
    # PolNeAR writes the source with its appositive; the canonical speaker stays the name's
    _, qs = quotes_of("Title\n\nMike Huckabee, the former Arkansas governor, proposed a \"fair tax\" on Monday.\n\n"
                      "Jason Sims — a teacher from Mount Pleasant — says the plan is \"a start.\"\n\n"
                      "Ann Lee, 34, is promising \"a gift.\"\n")
    assert [(q.speaker_text, q.speaker) for q in qs] == [
        ("Mike Huckabee, the former Arkansas governor", "Mike Huckabee"),
        ("Jason Sims — a teacher from Mount Pleasant —", "Jason Sims"),
        ("Ann Lee, 34", "Ann Lee")]


def test_an_aside_or_a_clause_after_the_source_is_no_appositive():
    from transforms.attribution import appositive_before_verb

    def grown(text: str, name: str) -> str:
        return text[:appositive_before_verb(text, len(name), len(text))]

    assert grown("Clinton, however, said", "Clinton") == "Clinton"  # an aside
    assert grown("Clinton, for her part, said", "Clinton") == "Clinton"
    assert grown("Obama, Clinton, and Sanders said", "Obama") == "Obama"  # a list
    assert grown("John Smith, the mayor, and Mary Jones, the governor, said", "John Smith") == "John Smith"
    # a clause that reports something else
    assert grown('the playbook, his salespersons were told, "You sell," said', "the playbook") == "the playbook"
    assert grown("Trump, who backs it, was", "Trump") == "Trump, who backs it"  # a relative clause is one
    assert grown("Smith, executive director of the group, said", "Smith") == "Smith, executive director of the group"
    quoted = 'Hemsley, the co-author of "Going Viral," said'
    assert grown(quoted, "Hemsley") == 'Hemsley, the co-author of "Going Viral,"'


@pytest.mark.parametrize(("sentence", "subject"), [
    # an organisation's role before a name
    ("Clinton campaign spokesman Brian Fallon responded on Twitter, calling it “pathetic”",
     "Clinton campaign spokesman Brian Fallon"),
    ("Lib Dem foreign affairs spokesman Menzies Campbell said a win was “vital”",
     "Lib Dem foreign affairs spokesman Menzies Campbell"),
    # a role adjective before a name, with an appositive
    ("Democratic front-runner Hillary Clinton, also campaigning in Wisconsin, accused him of “inciting”",
     "Democratic front-runner Hillary Clinton, also campaigning in Wisconsin,"),
    # a description whose verb is a plural present or an -s speech verb off the old list
    ("Legal observers note the White House wouldn’t truly “close” the prison", "Legal observers"),
    ("Corporate lobbyists describe the bill as “a giveaway”", "Corporate lobbyists"),
    ("The Rove ad accuses Clinton of taking “54 times more money”", "The Rove ad"),
    # not a role: the lowercase words are a verb and its object
    ("Trump told reporters Monday that it was “rigged”", "Trump"),
    # "his" is no plural head: "had his say" is not a group that says
    ("Mourinho had his say on that game, complaining: “Five", "Mourinho"),
    # found by a review: a verb, "to", an adverb or a date is no part of the subject
    ("The Tories want to see “real change”", "The Tories"),
    ("Wenger believes Arsenal are “good enough” to win", "Wenger"),
    ("Mr Smith says analysts expect “a rise”", "Mr Smith"),
    ("Mr Blair last May said the plan was “vital”", "Mr Blair"),
    ("Mr Brown yesterday met Mr Blair was “relaxed”", "Mr Brown"),
    ("Mr Blair always accuses them of “spin”", "Mr Blair"),
])
def test_sentence_subject_reaches_the_whole_source(sentence, subject):
    from transforms.attribution import sentence_subject

    found = sentence_subject(sentence, 0, sentence.index("“"))
    assert found is not None and found[0].rstrip(",") == subject.rstrip(","), found


@pytest.mark.parametrize("sentence", ["The first call was made “in haste”", "On Saturday night I pulled “a muscle”"])
def test_sentence_subject_is_no_cut_phrase(sentence):
    """A noun that is also a cue ("call") ends no subject; a preposition opens no
    organisation's name."""
    from transforms.attribution import sentence_subject

    found = sentence_subject(sentence, 0, sentence.index("“"))
    assert found is None or found[0] not in ("The first", "On Saturday night I"), found


@pytest.mark.parametrize("phrase", ["Mr. Rubio had at last", "Cruz is the only top-tier contender here to",
                                    "The US government has faced pressure from exporter organisations which"])
def test_a_clause_cut_out_of_a_sentence_is_no_speaker(phrase):
    from transforms.attribution import _trim_np

    assert _trim_np(phrase, 0) is None


@pytest.mark.parametrize("phrase", ["the man who was there", "Another Muslim who worshiped here and who was not named",
                                    "Bob Smith", "Toyota has"])
def test_a_speaker_phrase_with_a_relative_clause_or_an_auxiliary_stays(phrase):
    from transforms.attribution import _trim_np

    assert _trim_np(phrase, 0) is not None
