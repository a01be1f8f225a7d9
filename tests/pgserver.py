"""A real, throwaway PostgreSQL server for the tests, on loopback in a temporary folder.

The house rule: where a part is a server, the test starts the real one and stops it, no mocks.
``PostgresServer`` runs the installed PostgreSQL (Debian's ``postgresql`` package, which
``.ci/run`` installs) in a fresh temporary cluster::

    with PostgresServer() as pg:                  # initdb, start on a free port, CREATE DATABASE news
        url = pg.url()                            # postgresql://postgres@127.0.0.1:PORT/news
        pg.create_database("other")               # -> postgresql://postgres@127.0.0.1:PORT/other
        pg.stop()                                 # or pg.kill(): the server goes away mid-test ...
        pg.start()                                # ... and comes back on the same port and data
    # leaving the block stops the server and deletes its folder

The cluster:

- lives in ``tempfile.mkdtemp()`` under ``/tmp`` (or ``base_dir``); as root, the folder belongs to
  the ``postgres`` user and every PostgreSQL program runs as that user, because PostgreSQL refuses
  to run as root. Otherwise it runs as the current user.
- listens on ``127.0.0.1`` only, on a port free at start (picked by binding port 0; if someone
  takes it before PostgreSQL binds it, a new port is tried once), and on a Unix socket in its
  folder, never in ``/var/run/postgresql``. The restarted server keeps its port, so URLs stay valid.
- trusts every local connection (``initdb -A trust``) for the superuser ``postgres``: no password.
- trades durability for speed (``fsync=off``): a killed server loses no commit and recovers, a
  crashed machine could lose some, which does not matter for a test.

Nothing outlives the test process: ``close()`` runs from the context manager or the pytest fixture,
again from ``atexit``, and a watchdog process stops the server and deletes its folder if the test
process dies without either (killed by a CI timeout, say).

``PostgresNotInstalled`` says what to install when the programs are missing; ``start_for_pytest()``
turns it into a skip on a developer's machine and into a failure under CI, which must install them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: Where Debian (and Ubuntu) install each PostgreSQL version: /usr/lib/postgresql/<version>/bin.
DEBIAN_LIB = Path("/usr/lib/postgresql")
#: The programs used, all from the same bin directory.
PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql")
HOST = "127.0.0.1"
SUPERUSER = "postgres"
#: Server settings for a test cluster: loopback only, fast rather than durable, quiet.
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    # Written to the OS at each commit but never forced to disk: a killed server loses no
    # commit, a crashed machine could (synchronous_commit stays on for that first promise).
    "fsync": "off",
    "full_page_writes": "off",
}
INSTALL_HINT = "install it: apt-get install postgresql (Debian/Ubuntu; .ci/run does this in CI)"


class PostgresNotInstalled(RuntimeError):
    """The PostgreSQL server programs (initdb, pg_ctl, postgres, psql) were not found."""


class PostgresError(RuntimeError):
    """The server could not be set up, started, stopped or queried; the message has its log's end."""


def find_bindir(lib_root: Path = DEBIAN_LIB, path: str | None = None) -> Path:
    """The directory of the PostgreSQL server programs.

    In order: the newest ``<lib_root>/<version>/bin`` (Debian's layout), ``pg_config --bindir``,
    then the directory of ``initdb`` on ``path`` (default ``$PATH``), symlinks resolved.
    """
    candidates: list[Path] = sorted(
        (d for d in lib_root.glob("*/bin") if (d / "initdb").exists()),
        key=lambda d: [int(n) for n in re.findall(r"\d+", d.parent.name)],
        reverse=True,
    )
    pg_config = shutil.which("pg_config", path=path)
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
    initdb = shutil.which("initdb", path=path)
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all((bindir / p).is_file() and os.access(bindir / p, os.X_OK) for p in PROGRAMS):
            return bindir
    searched = ", ".join(map(str, candidates)) or f"{lib_root}/*/bin, pg_config, PATH"
    raise PostgresNotInstalled(f"PostgreSQL's server programs ({', '.join(PROGRAMS)}) were not found "
                               f"(searched {searched}): {INSTALL_HINT}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def under_ci() -> bool:
    """Whether this runs in CI (the ``CI`` variable that CI services set; ``.ci/run`` runs there)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


class PostgresServer:
    """A PostgreSQL cluster of its own, on 127.0.0.1, for one test session (see the module's docstring).

    ``start()`` sets it up the first time (initdb, port, ``CREATE DATABASE <database>``) and
    restarts it later; ``stop()`` / ``kill()`` stop it and keep its data; ``close()`` stops it
    for good and deletes its folder. Attributes once started: ``port``, ``root`` (its temporary
    folder), ``data_dir``, ``log_file``, ``bindir``.
    """

    def __init__(self, database: str = "news", *, base_dir: str | Path | None = None,
                 bindir: str | Path | None = None) -> None:
        self.database = _identifier(database)
        self.base_dir = Path(base_dir) if base_dir is not None else Path(tempfile.gettempdir())
        self._bindir = Path(bindir) if bindir is not None else None
        self.bindir: Path | None = None
        self.port: int | None = None
        self.root: Path | None = None
        self._closed = False
        self.initdb_seconds: float | None = None
        self._watchdog: subprocess.Popen | None = None
        # As root, run PostgreSQL as the postgres user (it refuses root); else as ourselves.
        self._as: dict = {}
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresNotInstalled(f"running as root, but there is no '{SUPERUSER}' user to run "
                                           f"PostgreSQL as: {INSTALL_HINT}") from None
            self._as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    # -- the public API ------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._root() / "data"

    @property
    def log_file(self) -> Path:
        return self._root() / "server.log"

    @property
    def running(self) -> bool:
        """Whether the postmaster runs (``pg_ctl status``)."""
        if self.root is None or not self.data_dir.exists():
            return False
        return self._pg_ctl("status", check=False).returncode == 0

    def url(self, dbname: str | None = None) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/DBNAME``, the server's own database by default."""
        if self.port is None:
            raise PostgresError("the server was never started: call start() first")
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{_identifier(dbname or self.database)}"

    def start(self) -> PostgresServer:
        """Start the server and wait until it accepts connections.

        The first call makes the cluster, picks the port and creates the database; later calls
        (after ``stop()`` or ``kill()``) restart the same cluster on the same port. No-op if running.
        """
        if self._closed:
            raise PostgresError("this server was closed; make a new PostgresServer")
        if self.root is None:
            self._set_up()
            self.create_database(self.database)
        elif not self.running:
            t0 = time.monotonic()
            result = self._pg_ctl("start", "-w", "-t", "30", "-l", str(self.log_file), check=False)
            if result.returncode != 0:
                raise PostgresError(f"PostgreSQL did not restart on port {self.port} "
                                    f"({time.monotonic() - t0:.1f} s){self._tail(result)}")
        return self

    def stop(self) -> None:
        """Stop the server, keeping its data: a fast shutdown (sessions are ended, pending work
        is rolled back), an immediate one if that fails, SIGKILL as the last resort."""
        if not self.running:
            return
        for mode in ("fast", "immediate"):
            if self._pg_ctl("stop", "-m", mode, "-w", "-t", "15", check=False).returncode == 0:
                return
        self._sigkill()

    def kill(self) -> None:
        """Stop the server as a crash would: immediate shutdown, no checkpoint, so the next
        ``start()`` runs crash recovery. Committed data survives (it is in the WAL)."""
        if not self.running:
            return
        if self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "15", check=False).returncode != 0:
            self._sigkill()

    def close(self) -> None:
        """Stop the server for good and delete its folder. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            if self.root is not None:
                self.stop()
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
            if self._watchdog is not None:  # tell it all is done, then let it go
                with contextlib.suppress(OSError, ValueError):
                    assert self._watchdog.stdin is not None
                    self._watchdog.stdin.write(b"done\n")
                    self._watchdog.stdin.close()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._watchdog.wait(timeout=10)

    def create_database(self, name: str) -> str:
        """``CREATE DATABASE name`` and its URL."""
        self.psql(f'CREATE DATABASE "{_identifier(name)}"')
        return self.url(name)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with ``psql`` as the superuser; its output (unaligned, tuples only)."""
        if self.bindir is None or self.port is None:
            raise PostgresError("the server was never started: call start() first")
        cmd = [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-h", HOST, "-p", str(self.port), "-U", SUPERUSER, "-d", dbname, "-c", sql]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=_env(PGCONNECT_TIMEOUT="5"),
                                cwd=self._root())
        if result.returncode != 0:
            raise PostgresError(f"psql failed on {dbname}: {sql!r}: {result.stderr.strip()}")
        return result.stdout

    def log(self) -> str:
        """The server's log so far."""
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresServer({self.url() if self.port else 'not started'}, root={self.root})"

    # -- the work ------------------------------------------------------------------------------

    def _set_up(self) -> None:
        self.bindir = find_bindir() if self._bindir is None else self._bindir
        missing = [p for p in PROGRAMS if not (self.bindir / p).is_file()]
        if missing:
            raise PostgresNotInstalled(f"{self.bindir} lacks {', '.join(missing)}: {INSTALL_HINT}")
        self.root = Path(tempfile.mkdtemp(prefix="newsetl-pg-", dir=self.base_dir))
        atexit.register(self.close)  # the safety net, if nobody calls close()
        if self._as:
            os.chown(self.root, self._as["user"], self._as["group"])
            if self._run(["test", "-w", str(self.root), "-a", "-x", str(self.root)], check=False).returncode != 0:
                raise PostgresError(f"the '{SUPERUSER}' user cannot reach {self.root}: use a base_dir "
                                    f"whose parent folders it may enter (default: {tempfile.gettempdir()})")
        self._start_watchdog()

        t0 = time.monotonic()
        self._run([str(self.bindir / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", SUPERUSER,
                   "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"])
        self.initdb_seconds = time.monotonic() - t0
        for attempt in (1, 2):
            self.port = free_port()
            self._write_settings()
            result = self._pg_ctl("start", "-w", "-t", "30", "-l", str(self.log_file), check=False)
            if result.returncode == 0:
                return
            log = self.log()
            taken = "could not bind" in log or "could not create any TCP/IP sockets" in log
            if not (taken and attempt == 1):  # retry only a port someone took in the meantime
                raise PostgresError(f"PostgreSQL did not start on port {self.port}{self._tail(result)}")
            self.log_file.unlink(missing_ok=True)

    def _write_settings(self) -> None:
        """The cluster's settings, in postgresql.auto.conf, so a bare ``pg_ctl start`` uses them."""
        settings = {**SETTINGS, "port": str(self.port), "unix_socket_directories": f"'{self._root()}'"}
        conf = self.data_dir / "postgresql.auto.conf"
        conf.write_text("# Written by tests/pgserver.py\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
        if self._as:
            os.chown(conf, self._as["user"], self._as["group"])

    def _start_watchdog(self) -> None:
        """A process that outlives us only to clean up: it waits on a pipe from this process;
        ``close()`` writes ``done`` to it, and if it sees the end of the pipe without ``done``,
        this process died, so it stops the server and deletes the folder. It runs as the server's
        user, in its own session (a Ctrl-C on the terminal does not reach it)."""
        script = ('read -r line; [ "$line" = done ] && exit 0; '
                  '"$1" stop -D "$2" -m immediate -w -t 15 >/dev/null 2>&1; rm -rf "$3"')
        self._watchdog = subprocess.Popen(
            ["sh", "-c", script, "pgserver-watchdog", str(self._bindir_() / "pg_ctl"), str(self.data_dir),
             str(self._root())],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=self._root(), start_new_session=True, **self._as)

    def _sigkill(self) -> None:
        """SIGKILL the postmaster and its children, when pg_ctl could not stop them."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        children = [c for c in _processes() if _parent(c) == pid]  # before they are orphaned
        for p in (pid, *children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([str(self._bindir_() / "pg_ctl"), "-D", str(self.data_dir), *args], check=check)

    def _run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        """Run a program as the server's user, in the server's folder, without our PG* variables."""
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=_env(), cwd=self._root(),
                                stdin=subprocess.DEVNULL, **self._as)
        if check and result.returncode != 0:
            raise PostgresError(f"{Path(cmd[0]).name} failed ({result.returncode}){self._tail(result)}")
        return result

    def _tail(self, result: subprocess.CompletedProcess) -> str:
        out = "\n".join(s.strip() for s in (result.stdout, result.stderr) if s and s.strip())
        log = "\n".join(self.log().splitlines()[-20:])
        return "".join(f"\n--- {name}:\n{text}" for name, text in (("output", out), ("server log", log)) if text)

    def _root(self) -> Path:
        if self.root is None:
            raise PostgresError("the server was never started: call start() first")
        return self.root

    def _bindir_(self) -> Path:
        if self.bindir is None:
            raise PostgresError("the server was never started: call start() first")
        return self.bindir


def start_for_pytest(**kwargs) -> PostgresServer:
    """A started ``PostgresServer`` for a fixture. Without PostgreSQL the test is skipped on a
    developer's machine and fails under CI (``CI`` set), since CI must install it (``.ci/run``)."""
    import pytest

    try:
        return PostgresServer(**kwargs).__enter__()
    except PostgresNotInstalled as e:
        if under_ci():
            pytest.fail(f"CI must provide PostgreSQL: {e}", pytrace=False)
        pytest.skip(str(e))


def _identifier(name: str) -> str:
    """A database name that needs no quoting tricks (letters, digits, _, -)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


def _processes() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def _parent(pid: int) -> int | None:
    """A process's parent id, from /proc (None once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _env(**extra: str) -> dict[str, str]:
    """Our environment without the libpq/PostgreSQL variables that could redirect a program."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", **extra)
    return env
