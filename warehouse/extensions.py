"""DuckDB extensions loaded from the PyPI wheels that ship them, by path, never downloaded.

The DuckDB wheel cannot download extensions here (no network at run time, by design), so each
extension comes from its own PyPI package pinned to the same DuckDB version
(``duckdb-extension-ducklake`` and friends), and is loaded from the file inside it with
autoinstall and autoload off: nothing is fetched and nothing is written to ``~/.duckdb``.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

import duckdb

#: Extension name -> the PyPI distribution that ships it.
DISTRIBUTIONS = {
    "ducklake": "duckdb-extension-ducklake",
    "sqlite_scanner": "duckdb-extension-sqlite-scanner",
    "postgres_scanner": "duckdb-extension-postgres-scanner",
    "fts": "duckdb-extension-fts",
}


class ExtensionMissing(RuntimeError):
    """An extension's package is not installed for this DuckDB version."""


@cache
def extension_path(name: str) -> str:
    """The extension file inside its installed wheel, for this very DuckDB version."""
    dist_name = DISTRIBUTIONS[name]
    want = f"v{duckdb.__version__}/{name}.duckdb_extension"
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise ExtensionMissing(f"the DuckDB extension {name} is not installed: "
                               f"pip install {dist_name}=={duckdb.__version__}") from None
    hits = [f for f in (dist.files or []) if str(f).endswith(want)]
    if len(hits) != 1:
        raise ExtensionMissing(f"{dist_name} {dist.version} ships no {want}: "
                               f"pip install {dist_name}=={duckdb.__version__}")
    return str(hits[0].locate().resolve())


def load(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        con.execute(f"LOAD '{sql_string(extension_path(name))}'")


def sql_string(text: str) -> str:
    """``text`` for inside single quotes in SQL."""
    return text.replace("'", "''")


def offline_settings() -> list[str]:
    """What a connection (or the DuckDB CLI) runs before loading anything: no download, no autoload."""
    return ["SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false"]
