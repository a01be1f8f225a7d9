"""The mypyc build of the transforms: it runs only while it matches the source, and it gives
exactly the frames the source gives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import transforms.mentions
import transforms.quotes
from tests.conftest import ROOT, SEED, SHARED
from transforms import native

COMPILED = native.is_compiled(transforms.mentions)
needs_build = pytest.mark.skipif(not COMPILED, reason="the transforms are not compiled here "
                                 "(no build/native, a failed build, or NEWSETL_PURE_PYTHON)")


def test_a_build_that_matches_the_source_may_run():
    assert native.stale_reason(native.manifest_now()) is None


def test_a_build_is_stale_when_a_source_changed_was_added_or_removed():
    m = native.manifest_now()
    m["sources"]["mentions.py"] = "0" * 64
    assert native.stale_reason(m) == "mentions.py changed since the build"
    m = native.manifest_now()
    del m["sources"]["quotes.py"]
    m["sources"]["gone.py"] = "0" * 64
    assert native.stale_reason(m) == "gone.py, quotes.py changed since the build"


def test_a_build_for_another_interpreter_or_a_failed_build_never_runs():
    other = {**native.manifest_now(), "interpreter": "cpython-310-linux"}
    assert "built for cpython-310-linux" in native.stale_reason(other)
    assert native.stale_reason({"interpreter": native._interpreter(), "error": "no C compiler"}) == (
        "the last build failed: no C compiler")


def test_the_package_and_its_loader_are_never_compiled():
    names = {p.name for p in native.sources()}
    assert "__init__.py" not in names and "native.py" not in names and "mentions.py" in names


#: What a process that starts as newsetl's do runs first (``transforms.native.enable``).
_START = "from transforms import native; native.enable(); "


def _load_in(tree: Path, env: dict[str, str] | None = None, start: str = _START) -> subprocess.CompletedProcess:
    code = start + "import transforms.mentions as m, transforms.quotes as q; print(m.__file__); print(q.__file__)"
    return subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(tree), **(env or {})})


def test_importing_the_package_changes_nothing():
    """The package's import neither hashes sources nor edits paths: a process that does not
    call ``native.enable`` runs the source."""
    out = _load_in(ROOT, start="import sys, transforms; assert len(transforms.__path__) == 1, transforms.__path__; "
                               f"assert {str(native.BUILD)!r} not in sys.path; ")
    assert out.stdout.split() == [str(ROOT / "transforms" / n) for n in ("mentions.py", "quotes.py")]
    assert out.stderr == ""


@needs_build
def test_enable_after_a_transform_was_imported_keeps_the_source():
    """Compiled modules cannot call into a transform already running as source: all or none."""
    out = _load_in(ROOT, start="import transforms.ids; from transforms import native; "
                               "assert native.enable() is False and native.enable() is False; ")
    assert out.stdout.split() == [str(ROOT / "transforms" / n) for n in ("mentions.py", "quotes.py")]
    assert out.stderr.count("ids.py imported before transforms.native.enable()") == 1  # warned once


@needs_build
def test_an_edited_source_runs_as_source_not_as_its_stale_build(tmp_path):
    shutil.copytree(ROOT / "transforms", tmp_path / "transforms", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(native.BUILD, tmp_path / "build" / "native")
    before = _load_in(tmp_path)
    assert before.stdout.split() == [str(tmp_path / "build" / "native" / "transforms" / n) for n in (
        Path(transforms.mentions.__file__).name, Path(transforms.quotes.__file__).name)]
    assert before.stderr == ""

    with (tmp_path / "transforms" / "quotes.py").open("a", encoding="utf-8") as f:
        f.write("\n# an edit\n")
    after = _load_in(tmp_path)
    assert after.stdout.split() == [str(tmp_path / "transforms" / n) for n in ("mentions.py", "quotes.py")]
    assert "pure Python" in after.stderr and "quotes.py changed since the build" in after.stderr


@needs_build
def test_newsetl_pure_python_ignores_a_good_build(tmp_path):
    out = _load_in(ROOT, {"NEWSETL_PURE_PYTHON": "1"})
    assert out.stdout.split() == [str(ROOT / "transforms" / n) for n in ("mentions.py", "quotes.py")]


def _sample() -> list[Path]:
    """The seed and, when ../shared is here, every fifth annotated news article."""
    annotated = sorted(SHARED.glob("devdata/*/dev/articles/*.txt"))[::5]
    return [SEED, *annotated]


_WRITE_FRAMES = """
import sys, datetime as dt
from pathlib import Path
from transforms import native
native.enable()  # as a process starts; NEWSETL_PURE_PYTHON keeps the source
from transforms.frames import RawFile, process_files
import transforms.mentions
import transforms.quotes
assert not transforms.mentions.__file__.endswith(".so"), transforms.mentions.__file__
paths = [Path(p) for p in sys.argv[2:]]
fr = process_files([RawFile(str(p), p.read_bytes()) for p in paths], "r", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
for name in ("articles", "mentions", "quotes", "rejected"):
    getattr(fr, name).write_parquet(f"{sys.argv[1]}/{name}.parquet")
"""


@needs_build
def test_compiled_and_pure_python_transforms_give_the_same_frames(tmp_path):
    import datetime as dt

    from transforms.frames import RawFile, process_files

    paths = _sample()
    subprocess.run([sys.executable, "-c", _WRITE_FRAMES, str(tmp_path), *map(str, paths)], cwd=ROOT, check=True,
                   env={**os.environ, "NEWSETL_PURE_PYTHON": "1"})
    raw = [RawFile(str(p), p.read_bytes()) for p in paths]
    compiled = process_files(raw, "r", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert compiled.quotes.height > 0 and compiled.mentions.height > 0
    for name in ("articles", "mentions", "quotes", "rejected"):
        assert_frame_equal(getattr(compiled, name), pl.read_parquet(tmp_path / f"{name}.parquet"))


@needs_build
@pytest.mark.integration
def test_a_newsetl_run_runs_the_compiled_transforms_in_its_process_and_its_workers(tmp_path):
    """``newsetl run`` with two extraction workers: Python's verbose import log (every process
    inherits PYTHONVERBOSE) shows the compiled library loaded by the command's process and by
    each worker, and no compiled transform ever imported from its source."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i in range(4):  # four chunks of one file: both workers get some
        (seeds / f"{i}.txt").write_text(SEED.read_text(encoding="utf-8") + f"\n\nCopy {i}, Kirby said.\n",
                                        encoding="utf-8")
    newsetl = Path(sys.executable).parent / "newsetl"
    proc = subprocess.run([str(newsetl), "run", "--seeds", str(seeds), "--db", str(tmp_path / "w.duckdb"),
                           "--chunk-size", "1", "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONVERBOSE": "1"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert [line for line in proc.stderr.splitlines() if "pure Python" in line] == []
    library = f"# extension module '{native.GROUP}__mypyc' loaded from '{native.BUILD}/"
    assert proc.stderr.count(library) >= 3  # the command's process and the two workers
    compiled = {f"transforms.{p.stem}" for p in native.sources()}
    from_source = [line for line in proc.stderr.splitlines() if line.startswith("import 'transforms.")
                   and line.split("'")[1] in compiled and "SourceFileLoader" in line]
    assert from_source == []


def test_the_transforms_type_check(tmp_path):
    """Compiled code checks declared types at run time, so a wrong hint is a crash there."""
    from mypy import api

    out, err, status = api.run(["--cache-dir", str(tmp_path / "mypy-cache"), "--config-file",
                                str(ROOT / "pyproject.toml"), str(ROOT / "transforms")])
    assert status == 0, out + err



@pytest.mark.skipif(bool(os.environ.get("NEWSETL_PURE_PYTHON")),
                    reason="this process runs the source whatever the build (NEWSETL_PURE_PYTHON)")
def test_describe_says_how_a_process_started_now_runs_the_transforms(monkeypatch):
    monkeypatch.setenv("NEWSETL_PURE_PYTHON", "1")
    assert native.describe() == "pure Python (NEWSETL_PURE_PYTHON is set)"
    monkeypatch.delenv("NEWSETL_PURE_PYTHON")
    assert (native.describe() == "compiled with mypyc") == COMPILED
