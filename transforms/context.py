"""All an extraction needs besides its input: the lexicons, and the memos of its rules.

The transforms keep no state of their own. A process makes one ``ExtractionContext`` and
passes it down: ``frames.process_files`` -> ``resolve.resolve_article`` ->
``mentions.extract_mentions``, and through the article's ``ArticleEntities`` to the quotes and
their speakers. The flow gets it from ``flows.lexicon_cache.context`` (lexicons restored from a
cache on disk, once per process); tests and one-off calls from :func:`build_context`.

The memos make the rules pay once for what news repeats: its names ("Mr Blair", "Labour").
Each is a plain dict, which compiled code reaches directly, emptied when it reaches its size
(the sizes below say what they hold and cost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from transforms.lexicons import Lexicons, build, name_link
from transforms.vocab import EntityType

if TYPE_CHECKING:
    from transforms.mentions import Mention
    from transforms.ranker import RankerModel
    from transforms.typer import TyperModel

# Sizes measured in one pass over 4,180 articles (the BBC corpus and the annotated ones): the
# memos end with 57,879 spans, 13,302 person names and 40,204 resolutions, about 14, 3 and 10
# new entries an article, of about 360, 330 and 270 bytes each (keys and values). Each bound
# holds the names of well over a batch of articles (5,000 files), so a worker rarely empties a
# memo, and caps what it costs, so a long run's memory stays flat.

#: Entries of the memo of typed name spans (``mentions.span_mentions``): the spans of about
#: 14,000 articles, 70 MB at most.
SPAN_MEMO_SIZE: Final = 200_000
#: Entries of the memo of person names' keys (``resolve._person_keys``): the names of about
#: 30,000 articles, 35 MB at most.
PERSON_MEMO_SIZE: Final = 100_000
#: Entries of the memo of mentions resolved without their article (``resolve._resolve_alone``):
#: those of about 20,000 articles, 55 MB at most.
RESOLUTION_MEMO_SIZE: Final = 200_000


class ExtractionContext:
    """The lexicons the rules consult and the memos they fill: one per process, passed in."""

    def __init__(self, lexicons: Lexicons) -> None:
        self.lex = lexicons
        #: The gap between two words of one name ("Bank of England", "Ludwig van Beethoven").
        self.name_link = name_link(lexicons.particles)
        #: (span, *context flags) -> the span's mentions (``mentions.span_mentions``).
        self.spans: dict[tuple, tuple[Mention, ...]] = {}
        #: person's name as written -> (full name, surname key, given-name key).
        self.person_keys: dict[str, tuple[str, str, str]] = {}
        #: (text, entity type, canonical) -> (entity type, name, entity id), or None when the
        #: mention's resolution depends on its article.
        self.resolutions: dict[tuple[str, EntityType, str | None], tuple[EntityType, str, str] | None] = {}
        #: The learned typer of mentions (``transforms.typer``); None leaves the rules' types.
        from transforms.ranker import load_ranker
        from transforms.typer import load_model  # typer -> mentions -> this module

        self.typer: TyperModel | None = load_model()
        #: The learned ranker of speaker candidates (``transforms.ranker``); None leaves the rules' pick.
        self.ranker: RankerModel | None = load_ranker()


def build_context() -> ExtractionContext:
    """A context with lexicons built from the packages (0.5-1.5 s) and empty memos."""
    return ExtractionContext(build())
