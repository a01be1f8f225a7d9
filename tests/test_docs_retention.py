"""Data Docs keep the GX results of the last runs only (expectations/docs_retention.py)."""

from __future__ import annotations

from pathlib import Path

from expectations.docs_retention import INDEX_RESULTS, limit_index, prune
from expectations.paths import DATA_DOCS_SITE


def _run(root: Path, suite: str, name: str, when: str) -> tuple[Path, Path]:
    result = root / "gx" / "uncommitted" / "validations" / suite / name / when / "newsetl-x.json"
    page = root / DATA_DOCS_SITE / "validations" / suite / name / when / "newsetl-x.html"
    for f in (result, page):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("{}")
    return result, page


def test_prune_keeps_the_newest_runs_results_and_pages_and_nothing_of_the_others(tmp_path):
    times = [f"2026120{d}T010000.000000Z" for d in range(1, 6)]
    files = {t: [*_run(tmp_path, "articles", f"run-{t[:8]}", t),
                 *_run(tmp_path, "quotes", f"run-{t[:8]} batch 2 of 2", t)] for t in times}
    assert prune(tmp_path, keep=2) == 3
    for t, paths in files.items():
        assert all(p.exists() == (t in times[-2:]) for p in paths), t
    # no empty folder of a removed run is left behind
    assert sorted(p.name for p in (tmp_path / "gx" / "uncommitted" / "validations" / "articles").iterdir()) == \
        ["run-20261204", "run-20261205"]
    assert prune(tmp_path, keep=2) == 0  # nothing more to do


def test_prune_of_a_warehouse_without_data_docs_does_nothing(tmp_path):
    assert prune(tmp_path / "never.gx", keep=1) == 0


def test_the_index_lists_a_bounded_number_of_results(tmp_path):
    from expectations.runner import Validator

    v = Validator(tmp_path / "w.ducklake", "r1")
    limit_index(v.context)
    again = Validator(tmp_path / "w.ducklake", "r2")  # read back from the project's configuration
    builder = again.context.variables.data_docs_sites["local_site"]["site_index_builder"]
    assert builder["validation_results_limit"] == INDEX_RESULTS
