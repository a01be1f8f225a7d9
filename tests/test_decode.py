import codecs

import pytest

from transforms.decode import Rejection, decode_bytes


def test_utf8_plain_and_bom_decode_to_same_text():
    plain = decode_bytes("Café “quoted”\n".encode())
    bom = decode_bytes(codecs.BOM_UTF8 + "Café “quoted”\n".encode())
    assert plain.text == bom.text == "Café “quoted”\n"
    assert (plain.encoding, bom.encoding) == ("utf-8", "utf-8-sig")
    assert not plain.fallback and not bom.fallback


def test_crlf_and_cr_become_lf():
    d = decode_bytes(b"Title\r\n\r\nBody one\rBody two\r\n")
    assert d.text == "Title\n\nBody one\nBody two\n"


def test_cp1252_fallback_is_recorded_and_keeps_curly_quotes():
    d = decode_bytes("He said \u201cno\u201d \u2013 caf\u00e9".encode("cp1252"))
    assert d.encoding == "cp1252" and d.fallback
    assert "\u201cno\u201d" in d.text and "café" in d.text


def test_latin1_when_cp1252_cannot_decode():
    d = decode_bytes(b"abc \x81 caf\xe9")  # 0x81 is undefined in cp1252
    assert d.encoding == "latin-1" and d.fallback


def test_utf16_with_bom():
    d = decode_bytes("Title\n\nBody “x”".encode("utf-16"))
    assert d.encoding == "utf-16" and d.text.startswith("Title")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t\n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(1, 32)) * 10, "binary"),
    ],
)
def test_rejections(data, reason):
    with pytest.raises(Rejection) as exc:
        decode_bytes(data)
    assert exc.value.reason == reason
    assert exc.value.detail


def test_too_large():
    with pytest.raises(Rejection) as exc:
        decode_bytes(b"a" * 101, max_bytes=100)
    assert exc.value.reason == "too_large" and "101" in exc.value.detail


def test_utf8_with_a_stray_legacy_byte_keeps_its_utf8_and_reads_the_byte_as_cp1252():
    # a "£" typed on a Windows machine into a UTF-8 article: the whole file read as cp1252 or
    # latin-1 turned its curly quotes into mojibake and its quotes were lost
    text = "Title\n\nHe said “the economy is strong” for José, at ".encode() + b"\xa3" + b"5.\n"
    d = decode_bytes(text)
    assert d.text == "Title\n\nHe said “the economy is strong” for José, at £5.\n"
    assert (d.encoding, d.fallback) == ("utf-8", True)
    # a byte cp1252 leaves undefined is U+FFFD, not a C1 control character
    d = decode_bytes("x “y” “z” ".encode() + b"\x81\x8d")
    assert d.text == "x “y” “z” \ufffd\ufffd" and d.fallback
    # a UTF-8 BOM says UTF-8, however few its characters beyond ASCII
    d = decode_bytes(codecs.BOM_UTF8 + "Café costs ".encode() + b"\xa35 or \xa36.")
    assert (d.text, d.encoding) == ("Café costs £5 or £6.", "utf-8-sig")


def test_a_legacy_file_is_not_read_as_utf8_with_stray_bytes():
    # its accented letters are stray bytes to UTF-8, and none of it is UTF-8 beyond ASCII
    d = decode_bytes("Le café, la thé, l'été à Noël".encode("cp1252"))
    assert d.encoding == "cp1252" and d.text == "Le café, la thé, l'été à Noël"
    # "É" before a curly quote is a valid UTF-8 pair by chance (as "ɔ"): once is no evidence
    d = decode_bytes(b"\x93CAF\xc9\x94 said")
    assert (d.text, d.encoding) == ("“CAFÉ” said", "cp1252")


def test_html_character_references_are_the_characters_they_stand_for():
    d = decode_bytes(b"Beyonc&#233; won &#163;5m &amp; more &lt;sic&gt; at &#x41;B; AT&T and &bogus; stay.\n")
    assert d.text == "Beyoncé won £5m & more <sic> at AB; AT&T and &bogus; stay.\n"
    # a name is read whole ("&notes;" is no "&not;" + "es;"); references to line ends and to a
    # BOM are what the rest of decoding makes of them
    d = decode_bytes(b"&#65279;Title&#13;&#10;&#13;&#10;Ltd &notes; &ltd; &region; &pounds;\n")
    assert d.text == "Title\n\nLtd &notes; &ltd; &region; &pounds;\n"
