"""Refactoring changes no output: the frames extracted from ~2,000 annotated articles and every
table of a warehouse loaded from the 2,095 BBC articles fingerprint exactly as recorded in
tests/golden.json (see tests/golden.py for what is fingerprinted and how to retake it)."""

from __future__ import annotations

import json

import pytest

from tests import golden

pytestmark = pytest.mark.integration

EXPECTED = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))


def _need(path):
    if not path.is_dir():
        pytest.skip(f"{path} is not here (it sits beside the project, in shared/)")


@pytest.mark.parametrize("table", sorted(EXPECTED["frames"]))
def test_frames_are_unchanged(frames_fingerprint, table):
    assert frames_fingerprint[table] == EXPECTED["frames"][table]


@pytest.mark.parametrize("table", sorted(EXPECTED["warehouse"]))
def test_warehouse_tables_are_unchanged(warehouse_fingerprint, table):
    assert warehouse_fingerprint[table] == EXPECTED["warehouse"][table]


@pytest.fixture(scope="module")
def frames_fingerprint():
    for src in golden.FRAME_SOURCES:
        _need(golden.SHARED / src)
    return golden.frames_fingerprint()


@pytest.fixture(scope="module")
def warehouse_fingerprint(tmp_path_factory):
    _need(golden.BBC)
    return golden.bbc_warehouse_fingerprint(tmp_path_factory.mktemp("golden"))


def test_a_changed_row_changes_the_fingerprint():
    """The fingerprint sees one changed value (the test above could not pass by accident)."""
    import polars as pl

    df = pl.DataFrame({"k": ["a", "b"], "v": [1, 2], "run_id": ["x", "y"]})
    same = df.with_columns(pl.Series("run_id", ["p", "q"]))  # volatile columns are left out
    assert golden.digest(df, ["k"]) == golden.digest(same, ["k"]) == golden.digest(df.reverse(), ["k"])
    assert golden.digest(df, ["k"]) != golden.digest(df.with_columns(pl.Series("v", [1, 3])), ["k"])
