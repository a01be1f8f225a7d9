"""Where a warehouse's GX project and data-quality report live (cheap to import)."""

from __future__ import annotations

from pathlib import Path

#: Where GX's Data Docs site sits inside a warehouse's GX folder (:func:`gx_root`).
DATA_DOCS_SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"


def gx_root(db_path: str | Path) -> Path:
    """The GX file context of a warehouse: ``<db folder>/<db name>.gx``."""
    p = Path(db_path)
    return p.parent / f"{p.stem}.gx"


def report_path(db_path: str | Path) -> Path:
    """The data-quality report of this warehouse (newsetl's summary page, linking to Data
    Docs); stable across runs, so a bookmark keeps working."""
    return gx_root(db_path) / "index.html"


def data_docs_path(db_path: str | Path) -> Path:
    """The GX Data Docs index of this warehouse."""
    return gx_root(db_path) / DATA_DOCS_SITE / "index.html"
