"""Data Docs that cost the same at run 1,000 as at run 10: the GX results of the last runs only.

GX keeps every validation result as a JSON file and, each time Data Docs are built, lists the
whole store (parsing each file name's time with dateutil) and reads every result for the index
page. Measured here with the results of 1,200 runs (7,251 files): building one run's pages
took 16.6 s, against 0.2 s for a new site; GX users report minutes. The history stays in the
warehouse (``dq_results``: every check of every run, what the report's trends read); Data Docs
keep the detail of the last ``NEWSETL_DOCS_RUNS`` runs (default 50), and their index lists the
newest results only (``INDEX_RESULTS``).

A run is one GX run time (the flow's validator gives every batch of a run the same one, on a
cluster too), so the runs to keep are the newest run times in the store; their pages stay, the
others' results and pages are removed before the run's own pages are built.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from expectations.paths import DATA_DOCS_SITE

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


def prune(root: Path, keep: int) -> int:
    """Remove the validation results (and their rendered pages) of all but the newest ``keep``
    runs of a warehouse's GX folder (``<warehouse>.gx``, :func:`expectations.paths.gx_root`);
    returns how many runs went."""
    store = root / "gx" / "uncommitted" / "validations"
    site = root / DATA_DOCS_SITE / "validations"
    folders = _run_folders(store) + _run_folders(site)
    times = sorted({p.name for p in folders})  # GX's run time, e.g. 20261207T024647.582725Z: sorts in time order
    kept = set(times[-keep:])
    for folder in folders:
        if folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
            run_name = folder.parent
            if run_name.is_dir() and not any(run_name.iterdir()):
                run_name.rmdir()
    return len(times) - len(kept)


def limit_index(context) -> None:
    """Have the Data Docs index list the newest ``INDEX_RESULTS`` results (saved in the GX
    project's configuration once)."""
    sites = context.variables.data_docs_sites or {}
    builder = sites.get("local_site", {}).setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
    if builder.get("validation_results_limit") != INDEX_RESULTS:
        builder["validation_results_limit"] = INDEX_RESULTS
        context.variables.data_docs_sites = sites
        context.variables.save()
