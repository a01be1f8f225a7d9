"""Data Docs that cost the same at run 1,000 as at run 10: the GX results of the last runs only.

GX keeps every validation result as a JSON file and, each time Data Docs are built, lists the
whole store (parsing each file name's time with dateutil) and reads every result for the index
page. Measured here with the results of 1,200 runs (7,251 files): building one run's pages
took 16.6 s, against 0.2 s for a new site; GX users report minutes. The history stays in the
warehouse (``dq_results``: every check of every run, what the report's trends read); Data Docs
keep the detail of the last ``NEWSETL_DOCS_RUNS`` runs (default 50), and their index lists the
newest results only (``INDEX_RESULTS``). GX's store holds only the results the index lists;
the other kept runs' results wait beside it (``ARCHIVE``) with their pages, so a build costs
the same at run 50 as at run 10 (each build lists the store five times: 0.06 s more with 50
runs' results in it than with 10).

A run is one GX run time (the flow's validator gives every batch of a run the same one, on a
cluster too), so the runs to keep are the newest run times in the store; their pages stay, the
others' results and pages are removed before the run's own pages are built.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from expectations.paths import DATA_DOCS_SITE, ESCAPED_MARK

DEFAULT_KEEP_RUNS = 50
#: Validation results the Data Docs index lists (GX's ``validation_results_limit``): about the
#: the last few runs' suites. The pages of the other runs kept stay where they are (links to them work).
INDEX_RESULTS = 60


def keep_runs() -> int:
    """How many runs' GX results Data Docs keep (``NEWSETL_DOCS_RUNS``, at least 1)."""
    try:
        return max(1, int(os.environ.get("NEWSETL_DOCS_RUNS", DEFAULT_KEEP_RUNS)))
    except ValueError:
        return DEFAULT_KEEP_RUNS


def _run_folders(section: Path) -> list[Path]:
    """``<suite>/<run name>/<run time>`` folders of a store or site section."""
    return [p for p in section.glob("*/*/*") if p.is_dir()] if section.is_dir() else []


#: Where the validation results of kept runs that the index no longer lists wait (beside
#: GX's store, not in it) until their run goes: GX lists its whole store several times in
#: every build (each section builder and the index parse every key's run time), so a store
#: holding 50 runs' results made each build dearer with every run up to the 50th.
ARCHIVE = Path("gx") / "uncommitted" / "validations_archive"
STORE = Path("gx") / "uncommitted" / "validations"


def prune(root: Path, keep: int, listed: int = INDEX_RESULTS) -> int:
    """Remove the validation results (and their rendered pages) of all but the newest ``keep``
    runs of a warehouse's GX folder (``<warehouse>.gx``, :func:`expectations.paths.gx_root`),
    and keep in GX's store only the results of the newest runs that hold the ``listed``
    newest results (all the index lists): the other kept runs' results move to ``ARCHIVE``
    (their pages stay where they are). Returns how many runs went."""
    store, archive = root / STORE, root / ARCHIVE
    site = root / DATA_DOCS_SITE / "validations"
    folders = _run_folders(store) + _run_folders(archive) + _run_folders(site)
    times = sorted({p.name for p in folders})  # GX's run time, e.g. 20261207T024647.582725Z: sorts in time order
    kept = set(times[-keep:])
    for folder in folders:
        if folder.name not in kept:
            _remove(folder)
    if not (root / DATA_DOCS_SITE / "static" / ESCAPED_MARK).exists():
        # A site an older newsetl rendered: every stored result is escaped and rendered again
        # in this build (expectations.runner.Validator.build_docs), so all stay in the store.
        return len(times) - len(kept)
    in_store = _run_folders(store)
    results = {t: 0 for t in sorted({p.name for p in in_store}, reverse=True)}
    for folder in in_store:
        results[folder.name] += sum(1 for f in folder.iterdir() if f.suffix == ".json")
    newest, count = set(), 0
    for t, n in results.items():  # newest first, until the index's results are all in
        if count >= listed:
            break
        newest.add(t)
        count += n
    for folder in in_store:
        if folder.name not in newest:
            to = archive / folder.relative_to(store)
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(to, ignore_errors=True)
            folder.rename(to)
            _remove_empty(folder.parent)
    return len(times) - len(kept)


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    _remove_empty(folder.parent)


def _remove_empty(run_name: Path) -> None:
    """The ``<run name>`` folder of a run time just removed, if nothing else is in it."""
    if run_name.is_dir() and not any(run_name.iterdir()):
        run_name.rmdir()


def limit_index(context) -> None:
    """Have the Data Docs index list the newest ``INDEX_RESULTS`` results (saved in the GX
    project's configuration once)."""
    sites = context.variables.data_docs_sites or {}
    builder = sites.get("local_site", {}).setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
    if builder.get("validation_results_limit") != INDEX_RESULTS:
        builder["validation_results_limit"] = INDEX_RESULTS
        context.variables.data_docs_sites = sites
        context.variables.save()
