"""Where the warehouse is, and opening it: a DuckLake lakehouse, attached as ``lake``.

The warehouse is a DuckLake: a SQL catalog (the tables, their snapshots, which Parquet files
hold which rows) plus the Parquet files. ``--db`` names the catalog:

- a path (default ``warehouse/news.ducklake``): a SQLite catalog file, embedded, no server;
  its Parquet files go in a folder beside it (``warehouse/news.files/``) unless
  ``--data-path`` says where;
- ``postgresql://USER@HOST:PORT/DBNAME``: the catalog on a PostgreSQL server, for a team;
  ``--data-path`` names storage every machine mounts. A reader needs only the URL: the data
  path is stored in the catalog.

Readers see the last committed snapshot and never wait; the one writer (a run, under the run
lock) never waits for readers. That is why the warehouse is a lake and not a DuckDB file,
which one writing process locks against every reader.

Every connection is an in-memory DuckDB with the extensions loaded by path and the lake
attached as ``lake`` and made the default catalog, so SQL says ``FROM quotes``.
"""

from __future__ import annotations

import glob
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import duckdb

from warehouse.extensions import ExtensionMissing, load, offline_settings, sql_string

#: Default warehouse catalog, relative to the directory newsetl runs from.
DEFAULT_DB = Path("warehouse") / "news.ducklake"
#: The alias the lake is attached under in every connection.
LAKE = "lake"
#: The first bytes of a DuckDB database file: a warehouse of an older newsetl.
DUCKDB_MAGIC = b"DUCK"


class WarehouseLocked(RuntimeError):
    """Another run holds the warehouse."""


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be opened (missing, damaged, unreachable), with what to do."""


@dataclass(frozen=True)
class Location:
    """A warehouse: its catalog (a path or a ``postgresql://`` URL) and its data path."""

    db: str
    data_path: str | None = None

    @property
    def is_postgres(self) -> bool:
        return self.db.startswith(("postgresql://", "postgres://"))

    @property
    def catalog(self) -> Path:
        """The SQLite catalog file (an embedded warehouse)."""
        if self.is_postgres:
            raise ValueError("a PostgreSQL catalog is not a file")
        return Path(self.db).resolve()

    @property
    def files(self) -> str | None:
        """The folder of the Parquet files, ending in ``/``: as given, or beside a SQLite catalog
        (a PostgreSQL catalog knows its own once created)."""
        if self.data_path:
            return str(Path(self.data_path).resolve()) + "/"
        if self.is_postgres:
            return None
        return str(self.catalog.with_suffix(".files")) + "/"

    @property
    def local(self) -> Path:
        """A path the warehouse's local companions are named after: the run lock
        (``<local>.lock``), the staging folder, the data-quality report (``<stem>.gx/``).
        The catalog file itself, or for PostgreSQL the data path (beside it, not in it: the
        lake's upkeep would take anything in it for a leftover)."""
        if not self.is_postgres:
            return self.catalog
        if not self.data_path:
            raise WarehouseUnavailable(f"{self.describe()}: give --data-path too (where its Parquet files are)")
        return Path(self.data_path.rstrip("/")).resolve()

    def attach_target(self) -> str:
        kind = "postgres:" if self.is_postgres else "sqlite:"
        return f"ducklake:{kind}{self.db if self.is_postgres else self.catalog}"

    def describe(self) -> str:
        """The warehouse for a message (without a password)."""
        if not self.is_postgres:
            return str(self.db)
        # the URL as given but for the password: host-less (a socket in ?host=), IPv6 and
        # multi-host URLs and their query stay as written
        u = urlsplit(self.db)
        query = "&".join(p for p in u.query.split("&") if p and not p.lower().startswith("password="))
        netloc = u.netloc
        if "@" in netloc:
            userinfo, hosts = netloc.rsplit("@", 1)
            netloc = f"{userinfo.split(':', 1)[0]}@{hosts}"
        tail = (f"?{query}" if query else "") + (f"#{u.fragment}" if u.fragment else "")
        return f"{u.scheme}://{netloc}{u.path}{tail}"

    def owns(self, path: str | Path) -> bool:
        """Whether ``path`` is one of the warehouse's own files: the catalog and its SQLite
        companions (``-wal``, ``-shm``, ``-journal``), the run lock, anything under the data
        path, the staging folders or the report folder. What no query result may be written over."""
        p = Path(path).resolve()
        local = self.local
        if not self.is_postgres and p.exists() and local.exists() and p.samefile(local):
            return True  # a hard link to the catalog
        if p.parent == local.parent and (p.name == local.name or p.name.startswith(local.name + "-")
                                         or p.name.startswith(local.name + ".")
                                         or p.name.startswith("." + local.name + ".staging")):
            return True
        inside = [Path(self.files)] if self.files else []
        inside.append(local.with_name(local.stem + ".gx"))
        return any(p == d or d in p.parents for d in inside)

    def exists(self) -> bool:
        """Whether the catalog is there (PostgreSQL: not known without connecting, so yes)."""
        return self.is_postgres or self.catalog.exists()


def locate(db: str | Path | Location, data_path: str | None = None) -> Location:
    if isinstance(db, Location):
        return db
    return Location(str(db), data_path)


def _create_sqlite_catalog(path: Path) -> None:
    """An empty SQLite catalog in WAL mode, which it keeps: readers then never block the
    writer's commit (in SQLite's default journal mode a reader's open transaction made it fail
    after 5 s with "database is locked", measured here)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def _holds_data(loc: Location) -> bool:
    files = Path(loc.files or "")
    return bool(loc.files) and files.is_dir() and any(files.rglob("*.parquet"))


def _refuse_orphaned_data(loc: Location) -> None:
    """A new catalog over a data folder that holds files would orphan them, and the lake's
    upkeep deletes orphans: the catalog was lost, and making a new one must not be the answer."""
    if _holds_data(loc):
        raise WarehouseUnavailable(
            f"no catalog at {loc.describe()}, but its data folder {loc.files} holds Parquet files: restore the "
            "catalog, or give another --db / --data-path for a new warehouse")


def scrub(text: str, loc: Location) -> str:
    """``text`` without the catalog's password (DuckDB's errors repeat the connection string)."""
    password = urlsplit(loc.db).password if loc.is_postgres else None
    return text.replace(password, "***") if password else text


def _refuse_old_file(loc: Location) -> None:
    with loc.catalog.open("rb") as fh:
        head = fh.read(16)
    if head[8:12] == DUCKDB_MAGIC:
        raise WarehouseUnavailable(
            f"{loc.db} is a DuckDB-file warehouse of an older newsetl: import it into a lake with "
            f"`newsetl migrate {loc.db} --db NEW.ducklake`")


#: DuckDB's memory cap for the pipeline's loads. Its default (80% of RAM) lets one big load
#: take gigabytes; capped, it spills to ``<db>.tmp`` instead and a run's memory stays flat.
#: Measured loading 105,000 staged articles (3.6 million mentions) in one transaction, with
#: ``preserve_insertion_order`` off: 850 MB peak RSS under 512MB, 990 MB under 768MB; under
#: 384MB the join of the quote-offset invariant runs out of memory. DuckDB overshoots its cap
#: by ~50% outside the buffer manager.
LOAD_MEMORY_LIMIT = "512MB"


def connect_for_load(db: str | Path | Location) -> duckdb.DuckDBPyConnection:
    """The writer of a pipeline load: :func:`connect` with the load's memory cap, insertion
    order off (rows have keys; keeping order costs memory in big inserts) and **one thread**.

    A load is hundreds of statements, nearly all of which run no faster on two threads than
    on one but burn more CPU doing it (scheduling, merging partial hash tables). Measured
    loading 20,950 BBC articles into an empty lake (every statement timed): 10.5 CPU s and
    6.8 s on two threads, 8.2 CPU s and 8.1 s on one, and 1.3 of the 1.4 s of wall time lost
    were the search index's word split, which runs on every core (:func:`every_core`).
    2,095 articles: 2.0 CPU s / 1.7 s on two threads, 1.6 / 1.6 on one."""
    con = connect(db, memory_limit=LOAD_MEMORY_LIMIT)
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET threads = 1")
    return con


@contextmanager
def every_core(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The statements within on DuckDB's default thread count (one per core), then the
    connection's own again: for the few statements of a :func:`connect_for_load` connection
    that scale with cores (a regex over every new body)."""
    (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
    con.execute("RESET threads")
    try:
        yield
    except BaseException:
        # A statement that failed inside a transaction aborted it, and the aborted transaction
        # refuses the SET too: the statement's own error is the one to report. (A SET is not
        # undone by ROLLBACK; the load's connection is closed after a failed load anyway.)
        with suppress(duckdb.Error):
            con.execute(f"SET threads = {int(threads)}")
        raise
    con.execute(f"SET threads = {int(threads)}")


def open_duckdb(memory_limit: str | None = None, temp_directory: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that downloads and autoloads nothing.

    Its extensions are loaded by path from their PyPI wheels in this environment
    (``warehouse.extensions``), so DuckDB's signature check is off: it hashes each file on
    every load, 0.1-0.2 s for the 36 MB ducklake one, 0.3-0.7 s per connection, several
    connections per run and one per ``newsetl sql``. It proves nothing here: whoever can
    replace a file in the environment can replace its Python code too. No user SQL can load
    another file: readers refuse ``LOAD`` and lock their configuration (``lock_down``)."""
    config: dict[str, str | bool] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                     "allow_unsigned_extensions": True}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    con = duckdb.connect(":memory:", config=config)
    for sql in offline_settings():
        con.execute(sql)
    return con


def stored_data_path(loc: Location) -> str | None:
    """The data path an embedded lake's catalog recorded when it was made (None: PostgreSQL,
    no catalog yet, or not a lake)."""
    if loc.is_postgres or not loc.catalog.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{quote(str(loc.catalog))}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM ducklake_metadata WHERE key = 'data_path'").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _recorded_folder_is_its_own(loc: Location) -> bool:
    """Whether a writer may use the data path an embedded lake's catalog recorded without being
    told it: the folder is there, and it is no other catalog's default folder. A catalog copied
    on its own (``cp news.ducklake copy.ducklake``, a backup restored elsewhere) records the
    original's ``news.files/``, whose files the copy's upkeep would delete as orphans; and a
    recorded share that is not mounted would be made anew on the local disk. Both are refused
    (the default folder is named, which does not match) as before."""
    stored = stored_data_path(loc)
    if stored is None:
        return False
    folder = Path(stored.rstrip("/"))
    if not folder.is_dir():
        return False
    if folder == loc.catalog.with_suffix(".files"):
        return True
    if folder.suffix == ".files":  # the default folder of a catalog beside it?
        return not any(p.is_file() for p in folder.parent.glob(glob.escape(folder.stem) + ".*"))
    return True


def relocated(loc: Location) -> bool:
    """Whether an embedded lake's files are to be read from ``loc.files`` rather than from the
    path its catalog recorded: the lake was moved or copied (``mv``, ``cp -r``) with its data
    folder beside it, or ``--data-path`` names where its files are now. DuckLake records an
    absolute data path, so a moved lake failed with "DATA_PATH parameter does not match", and a
    copy silently read the original's files until their upkeep removed them."""
    stored = stored_data_path(loc)
    files = loc.files
    if stored is None or files is None or stored.rstrip("/") == files.rstrip("/"):
        return False
    return Path(files).is_dir()


def attach_options(loc: Location, read_only: bool, create: bool, snapshot: int | None = None,
                   moved: bool = False) -> str:
    opts = []
    # A writer names the data path when it makes the lake, when one is given (--data-path), or
    # when the lake moved; otherwise DuckLake uses the one its catalog recorded, so a lake made
    # with --data-path elsewhere is written to without repeating it (naming the default folder
    # beside the catalog failed: "DATA_PATH parameter ... does not match", as readers never did)
    names = moved or (not read_only and (bool(loc.data_path) or not _recorded_folder_is_its_own(loc)))
    if loc.files and names:
        opts.append(f"DATA_PATH '{sql_string(loc.files)}'")
    if moved:
        opts.append("OVERRIDE_DATA_PATH true")
    if read_only or snapshot is not None:
        opts.append("READ_ONLY")
    if not create:
        # A lost catalog file would otherwise come back as a new, empty lake, silently.
        opts.append("CREATE_IF_NOT_EXISTS false")
    if snapshot is not None:
        opts.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    return f" ({', '.join(opts)})" if opts else ""


def attach(con: duckdb.DuckDBPyConnection, loc: Location, alias: str = LAKE, read_only: bool = False,
           create: bool = False, snapshot: int | None = None) -> None:
    """Attach the lake to a connection that has the extensions loaded."""
    target = sql_string(loc.attach_target())
    options = attach_options(loc, read_only, create, snapshot, moved=relocated(loc))
    try:
        con.execute(f"ATTACH '{target}' AS {alias}{options}")
    except duckdb.Error as exc:
        if "creating a new DuckLake is explicitly disabled" in str(exc) and _holds_data(loc):
            _refuse_orphaned_data(loc)
        raise WarehouseUnavailable(
            f"cannot open the warehouse {loc.describe()}: {scrub(_first_line(exc), loc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect(db: str | Path | Location, read_only: bool = False, create: bool = True,
            memory_limit: str | None = None, snapshot: int | None = None,
            data_path: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse: an in-memory DuckDB with the lake attached as ``lake`` and used.

    ``read_only``: a reader (the last committed snapshot; no write is accepted). ``create``: a
    writer may make a new warehouse where there is none. ``snapshot``: the lake as it stood at
    that snapshot (read-only).
    """
    loc = locate(db, data_path)
    read_only = read_only or snapshot is not None
    if not loc.is_postgres:
        if not loc.exists():
            if read_only or not create:
                raise WarehouseUnavailable(f"no warehouse at {loc.db}: run `newsetl run --db {loc.db}` first")
            _refuse_orphaned_data(loc)
            try:
                _create_sqlite_catalog(loc.catalog)
            except OSError as exc:
                raise WarehouseUnavailable(f"cannot create the warehouse {loc.db}: {exc}") from exc
        elif not loc.catalog.is_file():
            kind = "a folder" if loc.catalog.is_dir() else "not a regular file"
            raise WarehouseUnavailable(f"{loc.db} is {kind}, not a warehouse catalog: give --db the catalog file "
                                       "(default warehouse/news.ducklake)")
        elif loc.catalog.stat().st_size == 0:
            # DuckLake would take an empty file for a new lake and forget every snapshot.
            raise WarehouseUnavailable(f"the catalog {loc.db} is empty (truncated?): restore it from a backup; "
                                       "newsetl will not make a new warehouse over it")
        else:
            _refuse_old_file(loc)
    temp = None if read_only else loc.local.with_name(loc.local.name + ".tmp")
    con = open_duckdb(memory_limit, temp)
    try:
        # fts too: the search index's macros (match_bm25) call its stem(), in any query.
        load(con, "ducklake", "postgres_scanner" if loc.is_postgres else "sqlite_scanner", "fts")
        # A PostgreSQL catalog that is missing (a dropped or mistyped database) while its data
        # path holds files must not become a new, empty lake over them.
        may_create = create and not read_only and not (loc.is_postgres and _holds_data(loc))
        attach(con, loc, read_only=read_only, create=may_create, snapshot=snapshot)
        con.execute(f"USE {LAKE}")
    except ExtensionMissing as exc:
        con.close()
        raise WarehouseUnavailable(str(exc)) from exc
    except BaseException:
        con.close()
        raise
    return con


#: The session variable that carries the lake's data path into ``allowed_directories``.
_DATA_PATH_VAR = "newsetl_data_path"
#: The last step of the lock-down: no setting changes after it.
LOCK = "SET lock_configuration = true"


def lock_down_settings(files: str | None = None) -> list[str]:
    """What makes a reader's connection (``newsetl sql``, ``search``, ``shell``) read no file
    but the lake's and load nothing, run once the extensions are loaded and the lake is attached
    as ``lake`` and used (in that order: afterwards no file can be opened, no setting changed).

    - ``allowed_directories``: the lake's data path, read from the lake itself (a reader may
      not know it): DuckLake reads its Parquet files through DuckDB's file system, which
      refuses every other path once external access is off;
    - ``temp_directory`` off: nothing is spilled to disk (a query bigger than memory fails);
    - no community extensions, no download, no autoloading;
    - ``enable_external_access`` off: no read_text/read_csv/read_parquet of another file, no
      COPY or EXPORT elsewhere, no ATTACH of a DuckDB file, no INSTALL or LOAD;
    - ``lock_configuration`` last: no SET or PRAGMA changes any of it back (nor starts a query
      log or a profile written to a file).

    DuckDB still lets a query write where it may read (the data path, and the catalog file,
    which it allows by itself when external access goes off), and the SQLite and PostgreSQL
    extensions open files and servers on their own terms: ``warehouse.query.refuse_writes``
    turns those statements away before they run.
    """
    data_path = (f"SELECT coalesce(list(CASE WHEN value LIKE '%/' THEN value ELSE value || '/' END), []) "
                 f"FROM {LAKE}.options() WHERE option_name = 'data_path' AND coalesce(value, '') <> ''")
    if files:  # a moved lake (:func:`relocated`): its files are here, not where its catalog says
        data_path = f"SELECT ['{sql_string(files)}']"
    return [f"SET VARIABLE {_DATA_PATH_VAR} = ({data_path})",
            f"SET allowed_directories = getvariable('{_DATA_PATH_VAR}')", f"RESET VARIABLE {_DATA_PATH_VAR}",
            "SET temp_directory = ''", "SET allow_community_extensions = false", *offline_settings(),
            "SET enable_external_access = false", LOCK]


def lock_down(con: duckdb.DuckDBPyConnection, loc: Location | None = None) -> None:
    """Make a read-only connection read only the lake (:func:`lock_down_settings`); Python's
    replacement scans (a query naming a variable of this process) go too."""
    con.execute("SET python_enable_replacements = false")
    for sql in lock_down_settings(loc.files if loc is not None and relocated(loc) else None):
        con.execute(sql)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, data: object) -> Iterator[str]:
    """Expose a frame or Arrow table to SQL as ``name`` for the duration of the block.

    Registering writes nothing to the database, so it works on read-only connections too.
    """
    con.register(name, data)
    try:
        yield name
    finally:
        con.unregister(name)
