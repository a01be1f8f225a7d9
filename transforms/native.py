"""The transforms compiled to C with mypyc, used only while they match their source.

Extraction is pure Python in a hot loop (regexes, dict lookups, small tuples for every
capitalised word); mypyc compiles those typed modules to C extensions that run the same code
about 1.4 times as fast. ``make setup`` builds them into ``build/native/`` (``build()``, with
mypy and a C compiler) whenever a source changed:

    make native                                      # rebuild now, whatever make thinks
    NEWSETL_PURE_PYTHON=1 .venv/bin/newsetl run ...  # ignore the build, run the source

The build records the SHA-256 of every source it compiled. ``enable`` puts the compiled modules
first on the package's path only when every recorded hash still matches the source and the
interpreter is the one they were built for; otherwise it warns once and the source runs. An
edited rule therefore never runs as its stale compiled self. The compiled modules call each
other directly, so it is all or none.

Importing ``transforms`` changes nothing: ``enable`` is called where a process starts, before
its first import of a transform: ``newsetl``'s ``main()``, an extraction worker
(``flows.lexicon_cache.start_worker``), the tests (``pytest_configure``) and the benchmarks. A
process that never calls it runs the source.

Compiled code checks declared types at run time: ``mypy transforms`` must pass (``make lint``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import warnings
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
BUILD = ROOT / "build" / "native"
MANIFEST = BUILD / "manifest.json"
GROUP = "newsetl_transforms"  # names the shared library: newsetl_transforms__mypyc.*.so

# Not compiled: the package, this module (it decides whether compiled code runs), and the two
# that build Polars frames: their time is in Polars, and type-checking Polars for mypyc
# would triple the build.
_SKIP = {"__init__.py", "native.py", "frames.py", "schema.py"}


def sources() -> list[Path]:
    """The modules mypyc compiles, sorted."""
    return sorted(p for p in PACKAGE.glob("*.py") if p.name not in _SKIP)


def manifest_now() -> dict:
    """The manifest a build of the current sources records: interpreter and SHA-256 per source."""
    return {"interpreter": _interpreter(),
            "sources": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources()}}


def _interpreter() -> str:
    return f"{sys.implementation.cache_tag}-{sys.platform}"


def stale_reason(manifest: dict) -> str | None:
    """Why a build recorded in ``manifest`` must not run, or None when it matches the source."""
    if manifest.get("error"):
        return f"the last build failed: {manifest['error']}"
    if manifest.get("interpreter") != _interpreter():
        return f"built for {manifest.get('interpreter')}, this is {_interpreter()}"
    built = manifest.get("sources", {})
    now = manifest_now()["sources"]
    changed = sorted(n for n in now.keys() | built.keys() if now.get(n) != built.get(n))
    if changed:
        return f"{', '.join(changed)} changed since the build"
    return None


def _build_reason() -> str | None:
    """Why the build must not run (a stale or failed build), or None when it may."""
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable manifest ({exc})"
    return stale_reason(manifest)


def describe() -> str:
    """How the transforms run in a process started now (benchmarks print it with their figures)."""
    if os.environ.get("NEWSETL_PURE_PYTHON"):
        return "pure Python (NEWSETL_PURE_PYTHON is set)"
    if not MANIFEST.is_file():
        return "pure Python (not compiled: make setup compiles them)"
    reason = _build_reason()
    return "compiled with mypyc" if reason is None else f"pure Python ({reason})"


#: What ``enable`` decided in this process (None until it is called): the process's, not a transform's.
_enabled: bool | None = None


def enable() -> bool:
    """Let this process import the compiled transforms when they match the source: put them
    ahead of it on the ``transforms`` package's path. Call it where a process starts, before
    its first import of a transform; later calls return the first one's answer."""
    global _enabled
    if _enabled is None:
        _enabled = _enable(stacklevel=3)
    return _enabled


def _enable(stacklevel: int) -> bool:
    if os.environ.get("NEWSETL_PURE_PYTHON") or not MANIFEST.is_file():
        return False
    reason = _build_reason()
    if reason is not None:
        warnings.warn(f"newsetl: running the transforms as pure Python (slower): {reason}; "
                      "`make native` rebuilds them", RuntimeWarning, stacklevel=stacklevel)
        return False
    # A transform imported already runs as source, and the compiled ones cannot call into it.
    imported = sorted(p.name for p in sources() if f"transforms.{p.stem}" in sys.modules)
    if imported:
        warnings.warn(f"newsetl: running the transforms as pure Python (slower): {', '.join(imported)} "
                      "imported before transforms.native.enable()", RuntimeWarning, stacklevel=stacklevel)
        return False
    import transforms

    _load_library()
    transforms.__path__.insert(0, str(BUILD / "transforms"))
    return True


def _load_library() -> None:
    """Import the shared library every compiled module loads, from its file.

    Not by putting ``BUILD`` on ``sys.path``: that folder also holds ``transforms/`` (the
    compiled modules, no ``__init__``), and a process spawned from this one inherits its path,
    so there ``import transforms`` would find that folder as a namespace package before the
    project's (installed editable, found by a finder after the path) and every import of a
    transform would fail.
    """
    import importlib.util

    name = f"{GROUP}__mypyc"
    if name in sys.modules:
        return
    found = sorted(BUILD.glob(f"{name}.*"))
    spec = importlib.util.spec_from_file_location(name, found[0]) if found else None
    if spec is None or spec.loader is None:
        raise ImportError(f"no {name} library in {BUILD}: `make native` rebuilds it")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def is_compiled(module: object) -> bool:
    """Whether ``module`` was loaded from a compiled extension."""
    return str(getattr(module, "__file__", "")).endswith((".so", ".pyd"))


def build() -> int:
    """Compile ``sources()`` into ``BUILD`` and write the manifest; 1 (and a manifest that
    says why) when mypyc or the C compiler fails, so the source keeps running."""
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    manifest = manifest_now()
    try:
        from mypyc.build import mypycify
        from setuptools import setup

        cwd = Path.cwd()
        os.chdir(BUILD.parent)  # away from pyproject.toml, which would make setuptools build newsetl
        try:
            # The options of [tool.mypy] in pyproject.toml, which mypy finds only from the root.
            extensions = mypycify(["--ignore-missing-imports", "--python-version", "3.11",
                                   *(str(p) for p in sources())],
                                  target_dir="native-c", group_name=GROUP)
            setup(name="newsetl-native", ext_modules=extensions,
                  script_args=["-q", "build_ext", "--build-lib", str(BUILD), "--build-temp", "native-obj"])
        finally:
            os.chdir(cwd)
    except (Exception, SystemExit) as exc:  # setuptools reports compiler errors as SystemExit
        manifest = {"interpreter": _interpreter(), "error": f"{type(exc).__name__}: {exc}"[:500]}
        print(f"newsetl: compiling the transforms failed, the source will run: {manifest['error']}",
              file=sys.stderr)
    (BUILD / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return 1 if "error" in manifest else 0

