import datetime as dt

from transforms.parse import match_dateline, parse_article


def test_seed_layout(seed_text, seed_parsed):
    a = seed_parsed
    assert a.title == "Unlikely US-Russia outreach on Syria all but dead"
    assert a.publisher == "Dunya News"
    assert a.standfirst.startswith("It seems unlikely President Vladimir Putin")
    assert (a.dateline, a.agency) == ("WASHINGTON", "AFP")
    assert a.body.startswith("WASHINGTON (AFP) - On Monday, John Kerry said")
    # body is an exact slice of the file, so offsets into it are true
    assert seed_text[a.body_offset:a.body_offset + len(a.body)] == a.body
    assert a.headings == ["War crimes"]
    assert a.body.rstrip().endswith("credibility of US leadership.")


def test_blocks_slice_body_and_headings_are_marked(seed_parsed):
    a = seed_parsed
    texts = [a.body[b.start:b.end] for b in a.blocks]
    assert texts[0].startswith("WASHINGTON (AFP)")
    assert all(t == t.strip() and t for t in texts)
    heading = [b for b in a.blocks if b.is_heading]
    assert len(heading) == 1 and a.body[heading[0].start:heading[0].end] == "War crimes"


def test_dateline_variants():
    upi = match_dateline("LOS ANGELES, Sept. 28 (UPI) — The actor said")
    assert (upi.place, upi.agency) == ("LOS ANGELES", "UPI")
    bare = match_dateline("LONDON - Shares fell")
    assert (bare.place, bare.agency) == ("LONDON", None)
    en_dash = match_dateline("PARIS (Reuters) – Talks resumed")
    assert (en_dash.place, en_dash.agency) == ("PARIS", "Reuters")
    dated = match_dateline("LONDON 1996-08-30")
    assert dated.published_at == dt.date(1996, 8, 30)
    full = match_dateline("SPRINGFIELD, Ill., Sept. 28, 2016 (AP) - Text")
    assert full.published_at == dt.date(2016, 9, 28) and full.place == "SPRINGFIELD, Ill."


def test_not_datelines():
    assert match_dateline("CRICKET - ENGLISH COUNTY CHAMPIONSHIP SCORES.") is None
    assert match_dateline("But - this is prose") is None
    assert match_dateline("WASHINGTON") is None
    assert match_dateline("US officials said on Monday") is None


def test_file_without_title_keeps_first_paragraph():
    long_para = "The central bank raised rates on Tuesday, " * 6 + "analysts said."
    text = f"{long_para}\n\nSecond paragraph here."
    a = parse_article(text)
    assert a.title is None
    assert a.body.startswith("The central bank raised rates")
    assert len(a.blocks) == 2


def test_single_block_file_is_body_not_title():
    a = parse_article("Just one short line")
    assert a.title is None and a.body == "Just one short line"


def test_bbc_shape_title_then_paragraphs():
    a = parse_article("Ad sales boost Time Warner profit\n\nQuarterly profits at US media giant rose.\n\nMore.\n")
    assert a.title == "Ad sales boost Time Warner profit"
    assert a.publisher is None and a.standfirst is None and a.dateline is None
    assert a.body == "Quarterly profits at US media giant rose.\n\nMore."
    assert len(a.blocks) == 2


def test_colon_line_is_not_a_heading():
    a = parse_article("Title\n\nFirst paragraph.\n\nCaddell continued:\n\n\"Quote here.\"")
    assert not any(b.is_heading for b in a.blocks)


def test_dateline_after_standfirst_without_publisher():
    a = parse_article("Headline here\n\nA short standfirst sentence.\n\nBEIRUT (AFP) - Fighting raged.\n\nMore text.")
    assert a.publisher is None
    assert a.standfirst == "A short standfirst sentence."
    assert a.dateline == "BEIRUT" and a.body.startswith("BEIRUT (AFP)")


def test_one_paragraph_per_line_without_blank_lines():
    para = "This is a long paragraph of news prose that goes on well past eighty characters in all. "
    text = f"Title line\n\nDATELINE ― {para}\n“A quote here,” said Someone Important, {para}\n{para}"
    a = parse_article(text)
    assert len(a.blocks) == 3
    assert a.body[a.blocks[1].start:a.blocks[1].end].startswith("“A quote here,”")


def test_hard_wrapped_paragraph_stays_one_block():
    text = "Title\n\nShort wrapped lines of a\nparagraph that was hard\nwrapped at a narrow width.\n\nNext."
    a = parse_article(text)
    assert len(a.blocks) == 2


def test_headline_with_subtitle_on_a_second_line():
    a = parse_article("Candidates vie for vets' support; \nTrump and Clinton point out own credentials.\n\n"
                      "Donald Trump and Hillary Clinton spoke at a forum.")
    assert a.title == "Candidates vie for vets' support; Trump and Clinton point out own credentials."
    assert a.body.startswith("Donald Trump")
