"""The data-quality report page of a warehouse: read from it, rendered, written beside it, served.

``expectations.report`` renders the page from a :class:`~expectations.report.ReportData`;
this module gathers that data from the warehouse (read-only: it never waits for a run, and
takes no lock) and writes the file atomically, so a browser reloading the page never sees half
of it. :class:`ReportHandler` serves the page and the Data Docs to a browser on this machine
(``newsetl report --serve``), and nothing else of the folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import http.server
import mimetypes
import os
import secrets
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb

from expectations.paths import DATA_DOCS_SITE, data_docs_path, report_path
from expectations.report import CSP, ReportData, checked_run, render
from warehouse import history
from warehouse.connection import Location, connect, locate


def _suite_pages(db_path: str | Path, run_id: str) -> dict[str, str]:
    """Links to each suite's Data Docs validation page of this run (if built)."""
    root = report_path(db_path).parent
    validations = data_docs_path(db_path).parent / "validations"
    pages = {}
    if validations.is_dir():
        for suite_dir in validations.iterdir():
            found = sorted((suite_dir / run_id).glob("*/*.html"))
            if found:
                pages[suite_dir.name] = os.path.relpath(found[-1], root).replace(os.sep, "/")
    return pages


def collect(con: duckdb.DuckDBPyConnection, location: Location) -> ReportData:
    """Read what the report shows from the warehouse."""
    runs = history.recent_runs(con)
    latest = runs["run_id"][0] if runs.height else ""
    results = history.results_of(con, runs["run_id"].to_list())
    root = report_path(location.local).parent
    return ReportData(
        db_path=location.describe(), generated_at=dt.datetime.now(dt.UTC), runs=runs, results=results,
        quarantine=history.quarantine_of(con, latest), rejected=history.rejected_of(con, latest),
        data_docs_href=os.path.relpath(data_docs_path(location.local), root).replace(os.sep, "/"),
        suite_pages=_suite_pages(location.local, checked_run(runs, results)),
    )


class ReportUnwritable(RuntimeError):
    """The report page cannot be written where it lives (beside the warehouse): says what and
    what to do, in one line."""


def _unwritable(path: Path, exc: OSError) -> ReportUnwritable:
    folder = path.parent
    if exc.errno == errno.EROFS:
        why = "the file system is read-only; run `newsetl report` where the warehouse's folder is mounted writable"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        writable = folder if folder.is_dir() else folder.parent
        why = (f"{exc.strerror}; give this user write permission on {writable} "
               "(or run it as the user who runs `newsetl run`)")
    else:
        why = f"{exc.strerror or exc}; check that {folder} can be written"
    last = " (the last written report is still there, unchanged)" if path.is_file() else ""
    return ReportUnwritable(f"cannot write the report {path}: {why}{last}")


def write_report(location: Location | str | Path) -> Path:
    """Rebuild the report page from the warehouse (read-only) and return its path.

    Raises :class:`ReportUnwritable` when the page cannot be written (a read-only folder)."""
    location = locate(location)
    con = connect(location, read_only=True)
    try:
        html = render(collect(con, location))
    finally:
        con.close()
    path = report_path(location.local)
    # A name of its own: a run publishing its report and `newsetl report` may write at once.
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        tmp.replace(path)  # a browser reloading the page never sees half of it
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise _unwritable(path, exc) from exc
    return path


#: The names a browser on this machine calls the report server by. Any other Host header is
#: a page elsewhere reaching it through a name it resolved to 127.0.0.1 (DNS rebinding).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a request's Host header names this server: 127.0.0.1 or localhost, with no port
    or this server's port."""
    if not host:
        return False
    name, sep, given = host.strip().lower().rpartition(":")
    if not sep or not given.isdigit():
        name, given = host.strip().lower(), ""
    return name in LOOPBACK_HOSTS and (given == "" or int(given) == port)


def served_file(root: Path, target: str) -> Path | None:
    """The file a request target names, if it is one the report server serves: the report page
    (``/`` or ``/index.html``) or a file of the Data Docs site, inside ``root`` (the warehouse's
    GX folder) once links are resolved. None for anything else: the GX configuration, the
    validation store, temporary files, directories (never listed), ``..`` or dot names."""
    if not target.startswith("/"):
        return None  # absolute-form or '*': not a browser asking for a page
    raw = unquote(urlsplit(target).path)
    if "\x00" in raw or "\\" in raw:
        return None
    parts = [p for p in raw.split("/") if p]
    if any(p in (".", "..") or p.startswith(".") for p in parts):
        return None
    base = root.resolve()
    if parts in ([], ["index.html"]):
        page, within = base / "index.html", base / "index.html"
    elif tuple(parts[:len(DATA_DOCS_SITE.parts)]) == DATA_DOCS_SITE.parts:
        within = (base / DATA_DOCS_SITE).resolve()
        page = base.joinpath(*parts)
        if page.is_dir():
            page = page / "index.html"  # a folder of the site shows its index page, never a listing
    else:
        return None
    try:
        real = page.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    inside = real == within or within in real.parents
    return real if inside and real.is_file() else None


#: The report page's own policy (it runs no script, loads nothing), and no framing.
REPORT_CSP = CSP + "; frame-ancestors 'none'"


class ReportHandler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of the report page and the Data Docs (see :func:`served_file`), for a browser
    on this machine only (:func:`host_allowed`); 421 for another Host, 404 for anything else."""

    root: Path = Path(".")
    server_version = "newsetl-report"
    sys_version = ""
    timeout = 60  # a connection that sends nothing does not hold a thread for ever

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # one line per asset would drown the URL
        pass

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _plain(self, status: int, text: str, body: bool = True) -> None:
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if body:
            self.wfile.write(data)

    def _serve(self, body: bool) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            return self._plain(400, "400 Bad Request: one Host header is required", body)
        if not host_allowed(hosts[0], int(self.server.server_address[1])):  # type: ignore[index]
            return self._plain(421, "421 Misdirected Request: this server answers to 127.0.0.1 and localhost only",
                               body)
        path = served_file(self.root, self.path)
        if path is None:
            return self._plain(404, "404 Not Found", body)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
            ctype += "; charset=utf-8"
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(size))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            if path == (self.root.resolve() / "index.html"):
                self.send_header("Content-Security-Policy", REPORT_CSP)
            self.end_headers()
            if body:
                shutil.copyfileobj(fh, self.wfile)
        return None


def report_handler(root: Path) -> type[ReportHandler]:
    """A :class:`ReportHandler` serving the report folder ``root`` (``<db name>.gx``)."""
    return type("BoundReportHandler", (ReportHandler,), {"root": Path(root)})
