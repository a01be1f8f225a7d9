"""Data Docs keep the GX results of the last runs only (expectations/docs_retention.py)."""

from __future__ import annotations

from pathlib import Path

from expectations.docs_retention import ARCHIVE, INDEX_RESULTS, STORE, limit_index, prune
from expectations.paths import DATA_DOCS_SITE, ESCAPED_MARK


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


def _escaped_site(root: Path) -> None:
    mark = root / DATA_DOCS_SITE / "static" / ESCAPED_MARK
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.touch()


def test_the_store_holds_the_results_the_index_lists_and_the_other_kept_runs_wait_beside_it(tmp_path):
    _escaped_site(tmp_path)
    times = [f"2026120{d}T010000.000000Z" for d in range(1, 7)]
    results, pages = {}, {}
    for t in times:  # two results a run
        r1, p1 = _run(tmp_path, "articles", f"run-{t[:8]}", t)
        r2, p2 = _run(tmp_path, "quotes", f"run-{t[:8]}", t)
        results[t], pages[t] = [r1, r2], [p1, p2]
    assert prune(tmp_path, keep=5, listed=3) == 1  # the oldest run goes; 3 results: the newest two runs
    store, archive = tmp_path / STORE, tmp_path / ARCHIVE
    for t in times:
        for r, page in zip(results[t], pages[t], strict=True):
            in_archive = archive / r.relative_to(store)
            assert r.exists() == (t in times[-2:]), t
            assert in_archive.exists() == (t in times[1:4]), t
            assert page.exists() == (t in times[1:]), t
    # a later prune removes an archived run's results with its pages, and keeps moving
    assert prune(tmp_path, keep=3, listed=3) == 2
    assert sorted(p.name for p in (archive / "articles").iterdir()) == ["run-20261204"]
    assert not (archive / "articles" / "run-20261202").exists() and not pages[times[1]][0].exists()
    assert prune(tmp_path, keep=3, listed=3) == 0


def test_results_stay_in_the_store_of_a_site_an_older_newsetl_rendered(tmp_path):
    """Such a site is rendered again from every stored result in the next build (its values
    escaped): none may have left the store before."""
    times = [f"2026120{d}T010000.000000Z" for d in range(1, 5)]
    results = [_run(tmp_path, "articles", f"run-{t[:8]}", t)[0] for t in times]
    assert prune(tmp_path, keep=3, listed=1) == 1
    assert [r.exists() for r in results] == [False, True, True, True]
    assert not (tmp_path / ARCHIVE).exists()


def test_prune_of_a_warehouse_without_data_docs_does_nothing(tmp_path):
    assert prune(tmp_path / "never.gx", keep=1) == 0


def test_the_index_lists_a_bounded_number_of_results(tmp_path):
    from expectations.runner import Validator

    v = Validator(tmp_path / "w.ducklake", "r1")
    limit_index(v.context)
    again = Validator(tmp_path / "w.ducklake", "r2")  # read back from the project's configuration
    builder = again.context.variables.data_docs_sites["local_site"]["site_index_builder"]
    assert builder["validation_results_limit"] == INDEX_RESULTS
