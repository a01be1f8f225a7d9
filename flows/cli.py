"""The ``newsetl`` command line.

Imports are lazy on purpose: ``newsetl sql`` and ``newsetl report`` must start fast, so they
never import Prefect or Great Expectations; only ``newsetl run`` does. And :func:`main` is where
the process starts: it enables the compiled transforms before anything imports one, so nothing
at the top of this module may import a transform (not even ``flows.settings``, which reads the
defaults of ``transforms.decode``).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import shutil
import sys
from pathlib import Path


def _print_summary(s, out=sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    ok = s.status == "completed"
    p("")
    p(f"newsetl run {s.run_id}: {s.status.upper()} in {s.seconds:.1f} s")
    p(f"  seeds:      {s.seeds_dir}")
    p(f"  warehouse:  {s.location.describe()}")  # a PostgreSQL URL without its password
    if ok:
        p(f"  files:      {s.files_seen} seen, {s.files_loaded} loaded ({s.files_new} new, {s.files_changed} changed), "
          f"{s.files_skipped} unchanged, {s.files_deleted} gone (rows kept), {s.files_rejected} rejected"
          + ("  [full refresh]" if s.full_refresh else ""))
    else:
        p(f"  files:      {s.files_seen} seen, {s.files_extracted} extracted, 0 loaded, {s.files_skipped} unchanged, "
          f"{s.files_rejected} rejected")
    for note in s.notes:
        p(f"  note:       {note}")
    for path, reason, detail in s.rejected[:10]:
        p(f"    rejected  {path}: {reason} ({detail})")
    if len(s.rejected) > 10:
        p(f"    ... and {len(s.rejected) - 10} more: SELECT * FROM rejected_files WHERE run_id = '{s.run_id}'")
    if s.table_rows:
        rows = ", ".join(f"{k} {v}" for k, v in s.table_rows.items()
                         if k in ("articles", "mentions", "entities", "quotes", "rejected_files"))
        p(f"  rows:       {rows}" + ("" if ok else "  (unchanged: nothing was loaded)"))
    if s.dq_success is not None:
        verdict = "PASSED" if s.dq_success else "FAILED"
        p(f"  data quality: {verdict} - {s.dq_checks} expectations, {s.dq_critical_failures} critical "
          f"failure(s), {s.dq_warnings} warning(s)")
        for w in s.warning_checks[:10]:
            p(f"    warning   {w}")
        for q in s.quarantine_checks[:10]:
            p(f"    quarantine {q}")
        if s.files_quarantined:
            p(f"    {s.files_quarantined} article(s) set aside, the rest loaded: "
              f"SELECT * FROM quarantine WHERE run_id = '{s.run_id}'")
    if s.report_path and (ok or Path(s.report_path).is_file()):  # a run that failed early wrote none
        p(f"  report:     {s.report_path}  (newsetl report --open{_warehouse_flags(s)})")
    if s.error:
        p(f"  error:      {s.error}")
    if ok:
        p(f"  try:        newsetl sql{_warehouse_flags(s)} \"SELECT speaker, count(*) AS quotes FROM quotes "
          "GROUP BY ALL ORDER BY quotes DESC LIMIT 10\"")


def _warehouse_flags(s) -> str:
    """What the summary's hints add to a command so that it finds this run's warehouse from any
    folder: nothing for the default one (the README's form), else ``--db`` (and ``--data-path``,
    which a PostgreSQL catalog's report needs), quoted for a shell, without a password."""
    import shlex

    from flows.settings import DEFAULT_DB

    loc = s.location
    if not loc.is_postgres and Path(s.db_path) == Path(DEFAULT_DB).resolve():
        return ""
    flags = f" --db {shlex.quote(loc.describe())}"
    return flags + (f" --data-path {shlex.quote(str(Path(s.data_path).resolve()))}" if s.data_path else "")


def cmd_run(args: argparse.Namespace) -> int:
    from flows.runtime import TemporaryServer

    if args.summary_json and not Path(args.summary_json).resolve().parent.is_dir():
        print(f"newsetl run: --summary-json {args.summary_json}: its folder does not exist", file=sys.stderr)
        return 2
    from flows.settings import seeds_problem

    problem = seeds_problem(args.seeds)  # before Prefect's server boots and a lake is made
    if problem:
        print(f"newsetl run: {problem}", file=sys.stderr)
        _write_failed_summary_json(args, problem)  # a script must not read the last run's
        return 2
    held = _wait_for_other_run(args)
    if held:
        print(f"newsetl run: {held}", file=sys.stderr)
        _write_failed_summary_json(args, held)
        return 1

    server = TemporaryServer.launch()  # boots on the other core while this process imports
    idle = _idle_run(args)  # nothing to do: recorded without Prefect (flows/preflight.py)
    if idle is not None:
        if server is not None:
            server.stop()
        return idle
    from flows.pipeline import RunFailed, newsetl_flow

    _quiet_explained_failures()
    temporary = None
    if server is not None:
        import great_expectations  # noqa: F401  (every run validates: import it while the server boots)

        try:
            temporary = server.adopt()
        except RuntimeError as exc:
            print(f"newsetl run: {exc}", file=sys.stderr)
            return 1
    try:
        with _no_heartbeats() if temporary else contextlib.nullcontext():
            summary = newsetl_flow(seeds_dir=args.seeds, db_path=args.db, chunk_size=args.chunk_size,
                                   full_refresh=args.full_refresh, lock_wait=args.wait, workers=args.workers,
                                   batch_size=args.batch_size, data_path=args.data_path,
                                   follow_symlinks=args.follow_symlinks, cluster=args.cluster)
    except RunFailed as exc:
        _print_summary(exc.summary, sys.stderr)
        _write_summary_json(exc.summary, args.summary_json)
        return 130 if exc.summary.interrupted else 1  # 130: the shell's code for "stopped by Ctrl-C"
    _print_summary(summary)
    _write_summary_json(summary, args.summary_json)
    return 0



def _wait_for_other_run(args: argparse.Namespace) -> str | None:
    """Wait up to ``--wait`` seconds while another run holds the warehouse's lock file, before
    Prefect starts; the message naming it if it still holds it then, else None.

    The flow takes the lock itself (``warehouse.runlock``) and would fail the same way, but as
    a Prefect flow run: a server booted for nothing and Prefect's traceback of the failure. This
    only looks (it takes no lock and creates no file), so a run that takes the warehouse after
    the look is still refused by the flow; the seconds waited here are taken off ``args.wait``
    so that the run waits no longer than ``--wait`` in all."""
    import time

    from warehouse.connection import WarehouseUnavailable
    from warehouse.runlock import active_run

    loc = _location(args)
    try:
        local = loc.local
    except WarehouseUnavailable:  # a PostgreSQL catalog without --data-path: the flow says so
        return None
    deadline = time.monotonic() + args.wait
    while (holder := active_run(local)) is not None:
        if time.monotonic() >= deadline:
            return (f"the warehouse {loc.describe()} is being loaded by {holder}; waited {args.wait:.0f} s. "
                    "Try again when it has finished.")
        time.sleep(0.2)
    args.wait = max(0.0, deadline - time.monotonic())
    return None


def _write_failed_summary_json(args: argparse.Namespace, error: str) -> None:
    """``--summary-json`` of a run refused before it started: a script reads ``failed`` and why,
    as it would from the flow's summary."""
    if args.summary_json:
        from flows.runbook import RunSummary

        summary = RunSummary.begin(_run_settings(args), None)
        summary.fail(error)
        _write_summary_json(summary, args.summary_json)


class _NoTracebackOfExplainedFailures(logging.Filter):
    """Drops the traceback (not the line) of a log record of a ``failed`` whose cause is one of
    ``explained`` (see :func:`_quiet_explained_failures`)."""

    def __init__(self, failed: type[BaseException], explained: tuple[type[BaseException], ...]):
        super().__init__()
        self.failed, self.explained = failed, explained

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, self.failed) and (exc.__cause__ is None or isinstance(exc.__cause__, self.explained)):
            record.exc_info, record.exc_text = None, None
        return True


def _quiet_explained_failures() -> None:
    """No traceback from Prefect for a run that failed for a reason newsetl explains.

    Prefect's flow engine logs whatever a flow raised with its traceback ("Encountered exception
    during execution"). A :class:`RunFailed` is newsetl's own account of a failed run: the
    runbook logged why, and :func:`cmd_run` prints its summary with the error. When that error
    is one newsetl words for the user (another run holds the warehouse, a missing or damaged
    warehouse, a seeds folder that is not there, a refused run, failed critical checks), the
    ~40 lines of Prefect's and our frames only bury it, so the record goes without them. Any
    other cause (a bug) keeps its traceback. For this process's ``newsetl run`` only: a served
    deployment logs as Prefect does."""
    from expectations.runner import DataQualityError
    from flows.io import SeedsNotFound
    from flows.runbook import RunFailed, RunRefused
    from warehouse.connection import WarehouseLocked, WarehouseUnavailable

    logger = logging.getLogger("prefect.flow_runs")  # the flow engine's logger (Prefect 3.9)
    if not any(isinstance(f, _NoTracebackOfExplainedFailures) for f in logger.filters):
        explained = (WarehouseLocked, WarehouseUnavailable, SeedsNotFound, RunRefused, DataQualityError)
        logger.addFilter(_NoTracebackOfExplainedFailures(RunFailed, explained))


def _no_heartbeats():
    """Prefect settings without flow-run heartbeats, for a run on its own temporary server.

    Heartbeats let a server that outlives a run mark it crashed when they stop; a temporary
    server dies with the run, so nobody reads them. Their thread sleeps in 1 s steps and the
    flow waits for it to wake before it returns: on average half a second of every run."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


def _idle_run(args: argparse.Namespace) -> int | None:
    """The exit status of a run found to have nothing to do, recorded; None: run the flow."""
    from flows import preflight
    from flows.runbook import RunFailed

    cfg = _run_settings(args)
    try:
        plan = preflight.idle_plan(cfg)
    except Exception:  # any doubt: the flow runs, and reports what is wrong in its own words
        return None
    if plan is None:
        return None
    try:
        summary = preflight.record_idle(cfg, plan)
    except RunFailed as exc:
        _print_summary(exc.summary, sys.stderr)
        _write_summary_json(exc.summary, args.summary_json)
        return 1
    _print_summary(summary)
    _write_summary_json(summary, args.summary_json)
    return 0


def _run_settings(args: argparse.Namespace):
    """The :class:`flows.settings.RunSettings` of ``newsetl run``'s arguments."""
    from flows.settings import RunSettings

    return RunSettings(args.seeds, args.db, args.chunk_size, args.batch_size, full_refresh=args.full_refresh,
                       lock_wait=args.wait, workers=args.workers, data_path=args.data_path,
                       follow_symlinks=args.follow_symlinks)


def _write_summary_json(summary, path: str | None) -> None:
    """The run summary as JSON, for scripts and benchmarks (``--summary-json``)."""
    if path:
        import dataclasses
        import json

        record = dataclasses.asdict(summary)
        record["db_path"] = summary.location.describe()  # a file scripts pass around: no password
        try:
            Path(path).write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
        except OSError as exc:  # the run's outcome stands; a script sees the missing file
            print(f"newsetl run: could not write the summary to {path}: {exc.strerror or exc}", file=sys.stderr)


def _location(args: argparse.Namespace):
    from warehouse.connection import Location

    db = args.db if "://" in args.db else str(Path(args.db).resolve())
    return Location(db, getattr(args, "data_path", None))


def _open_read_only(args: argparse.Namespace, command: str):
    """The warehouse as its last committed snapshot (or the one ``--as-of`` names): readers
    never wait for a run, and a run never waits for them. Locked down: the connection reads the
    lake's files and nothing else, and writes nothing (``warehouse.connection.lock_down``)."""
    import duckdb

    from warehouse.connection import WarehouseUnavailable, connect, lock_down
    from warehouse.snapshots import UnknownRun, snapshot_after

    loc = _location(args)
    try:
        con = connect(loc, read_only=True)
        as_of = getattr(args, "as_of", None)
        if as_of:
            try:
                snapshot = snapshot_after(con, as_of)
            finally:
                con.close()
            con = connect(loc, snapshot=snapshot)
    except (WarehouseUnavailable, UnknownRun) as exc:
        print(f"newsetl {command}: {exc}", file=sys.stderr)
        return None
    try:
        lock_down(con, loc)
    except duckdb.Error as exc:
        con.close()
        print(f"newsetl {command}: cannot open the warehouse read-only: {exc}", file=sys.stderr)
        return None
    return con


def cmd_sql(args: argparse.Namespace) -> int:
    if not args.query:
        return cmd_shell(args)
    import duckdb

    from warehouse.query import QueryError, format_for, run_query

    try:
        fmt = format_for(args.output, args.format)
    except QueryError as exc:
        print(f"newsetl sql: {exc}", file=sys.stderr)
        return 2
    if args.output and _location(args).owns(args.output):
        print(f"newsetl sql: {args.output} is one of the warehouse's own files: --output must name another file",
              file=sys.stderr)
        return 2
    con = _open_read_only(args, "sql")
    if con is None:
        return 2
    try:
        n = run_query(con, args.query, fmt, args.output, args.max_rows)
        if args.output:
            print(f"{n} row(s) written to {args.output} ({fmt})", file=sys.stderr)
    except QueryError as exc:
        print(f"newsetl sql: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"newsetl sql: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def shell_commands(loc) -> str:
    """What the DuckDB CLI runs first: no download, the extensions by path, the lake read-only,
    then the same lock-down as ``newsetl sql`` (no file but the lake's, no setting changed)."""
    from warehouse.connection import LAKE, LOCK, attach_options, lock_down_settings, relocated
    from warehouse.extensions import extension_path, offline_settings, sql_string

    exts = ["ducklake", "postgres_scanner" if loc.is_postgres else "sqlite_scanner", "fts"]
    moved = relocated(loc)
    lines = [*offline_settings(), *(f"LOAD '{sql_string(extension_path(e))}'" for e in exts),
             f"ATTACH '{sql_string(loc.attach_target())}' AS {LAKE}{attach_options(loc, True, False, moved=moved)}",
             f"USE {LAKE}", *(s for s in lock_down_settings(loc.files if moved else None) if s != LOCK)]
    return "; ".join(lines) + ";"


#: The DuckDB CLI's safe mode, run after :func:`shell_commands`: no dot command that writes or
#: reads a file or runs a program (.output, .once, .log, .read, .open, .import, .shell, .system,
#: .cd), and it locks the configuration itself (a SET of it beforehand makes it print errors).
SHELL_SAFE_MODE = ".safe_mode"


def _password_to_env(loc):
    """A PostgreSQL password moved from the URL to PGPASSWORD (libpq reads it), so that it does
    not show in the DuckDB CLI's command line, which every user of the machine can list."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    from warehouse.connection import Location

    env = dict(os.environ)
    if not loc.is_postgres:
        return env, loc
    u = urlsplit(loc.db)
    if not u.password:
        return env, loc
    env["PGPASSWORD"] = u.password
    netloc = f"{u.username}@{u.hostname}" + (f":{u.port}" if u.port else "")
    return env, Location(urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment)), loc.data_path)


def cmd_shell(args: argparse.Namespace) -> int:
    """Replace this process with the DuckDB CLI on the warehouse: the lake attached read-only,
    the search macros loaded."""
    import os

    loc = _location(args)
    if not loc.exists():
        print(f"newsetl shell: no warehouse at {loc.describe()}: run `newsetl run --db {args.db}` first",
              file=sys.stderr)
        return 2
    beside = Path(sys.executable).parent / "duckdb"
    cli = str(beside) if beside.exists() else shutil.which("duckdb")
    if not cli:
        print("newsetl shell: the DuckDB CLI is not installed (pip install duckdb-cli)", file=sys.stderr)
        return 2
    from warehouse.extensions import ExtensionMissing

    env, loc = _password_to_env(loc)
    try:
        commands = shell_commands(loc)
    except ExtensionMissing as exc:
        print(f"newsetl shell: {exc}", file=sys.stderr)
        return 2
    from flows.sandbox import forbid_writes

    if not loc.is_postgres:
        # A SQLite catalog in WAL mode is read through its -wal and -shm files, which a reader
        # must find in place once it may create no file: a connection opened here makes them,
        # and exec leaves them there (SQLite removes them at the last clean close).
        import sqlite3

        sqlite3.connect(loc.db).execute("SELECT count(*) FROM sqlite_master").fetchall()
    why = forbid_writes()  # the kernel's guard: the CLI may write no file at all (flows/sandbox.py)
    if why:
        print(f"newsetl shell: {why}: the shell is read-only by DuckDB's settings only "
              "(a COPY onto the lake's own files would not be stopped)", file=sys.stderr)
    sys.stdout.flush()
    os.execve(cli, [cli, "-cmd", commands, "-cmd", SHELL_SAFE_MODE], env)
    return 0  # not reached


def cmd_search(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.search import SearchUnavailable, search

    con = _open_read_only(args, "search")
    if con is None:
        return 2
    try:
        hits = search(con, args.query, args.limit)
    except (SearchUnavailable, duckdb.Error) as exc:
        print(f"newsetl search: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    if not hits:
        print(f"no quote or article matches {args.query!r}")
        return 0
    width = shutil.get_terminal_size((120, 40)).columns
    for h in hits:
        who = f"{h.speaker}: " if h.speaker else ""
        text = " ".join(h.text.split())
        snippet = f"{who}\u201c{text}\u201d" if h.kind == "quote" else text
        print(f"[{h.kind} {h.score:.2f}] {h.title or '(no title)'}")
        print(f"    {snippet[: max(40, width - 6)]}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Register the flow as a deployment with a cron schedule and serve it until stopped."""
    import os

    from flows.runtime import configure

    configure()
    if not os.environ.get("PREFECT_API_URL"):
        print("newsetl serve: schedules need a Prefect server; Prefect's temporary server never runs them.\n"
              "Start one first (see README, 'Scheduled runs'):\n"
              "  PREFECT_HOME=$PWD/.prefect .venv/bin/prefect server start --host 127.0.0.1 --port 4200 &\n"
              "  PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/newsetl serve --cron \"0 * * * *\"",
              file=sys.stderr)
        return 2
    from flows.settings import seeds_problem

    problem = seeds_problem(args.seeds)  # else every scheduled run would fail on it
    if problem:
        print(f"newsetl serve: {problem}", file=sys.stderr)
        return 2
    import asyncio

    from prefect.runner import Runner
    from prefect.schedules import Cron

    from flows.maintenance import compact_flow
    from flows.pipeline import newsetl_flow

    unreachable = _unreachable_api(os.environ["PREFECT_API_URL"])
    if unreachable:
        print(f"newsetl serve: {unreachable}", file=sys.stderr)
        return 2
    loc = _location(args)
    params = {"seeds_dir": str(Path(args.seeds).resolve()), "db_path": loc.db, "data_path": args.data_path,
              "cluster": args.cluster}
    on = f", batches on the Dask cluster {args.cluster}" if args.cluster else ""
    print(f"serving deployment newsetl/{args.name}: cron {args.cron!r} ({args.timezone}), "
          f"seeds {params['seeds_dir']} -> {loc.describe()}{on}", flush=True)
    # One runner holding the flows themselves, as ``Flow.serve`` does: a run executes the
    # imported flow (flows.pipeline), whose tasks a Dask worker can unpickle; a deployment
    # loaded from its file would name the module "pipeline", which no worker can import.
    runner = Runner(name=args.name)
    runner.add_flow(newsetl_flow, name=args.name, schedule=Cron(args.cron, timezone=args.timezone),
                    parameters=params, description="newsetl: seeds folder -> checked DuckDB warehouse",
                    tags=["newsetl"])
    if args.compact_cron:
        # The lake's upkeep, scheduled: without a merge now and then, every run's queries open
        # more small files (flows/maintenance.py).
        print(f"serving deployment newsetl-compact/{args.name}: cron {args.compact_cron!r} ({args.timezone}), "
              f"merges {loc.describe()}'s small files", flush=True)
        runner.add_flow(compact_flow, name=args.name, schedule=Cron(args.compact_cron, timezone=args.timezone),
                        parameters={"db_path": loc.db, "data_path": args.data_path},
                        description="newsetl compact: merge the lake's small files, expire old snapshots",
                        tags=["newsetl"])
    from prefect.exceptions import TerminationSignal

    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        print("newsetl serve: stopped", file=sys.stderr)
    return 0


def _unreachable_api(url: str) -> str | None:
    """What is wrong with the Prefect API at ``url``, said with what to do; None when it answers.

    Asked before serving: registering the deployments is the first call to the API, and a
    server that is not there made it end in a long httpx traceback after "serving deployment"
    was already printed. Prefect's own client asks, with its settings (API key, TLS, timeout)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        exc = client.api_healthcheck()
    if exc is None:
        return None
    why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"cannot reach the Prefect API at {url} ({why}): start the server first (`make server`) or set "
            "PREFECT_API_URL to a running server's API")


def _refresh_report(loc) -> None:
    """Rebuild the report page from the warehouse's last snapshot (keep the page if it cannot)."""
    from flows.report import write_report
    from warehouse.connection import WarehouseUnavailable

    try:
        write_report(loc)
    except WarehouseUnavailable as exc:
        print(f"(showing the last written report: {exc})", file=sys.stderr)


def _has_display() -> bool:
    import os

    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class PortUnavailable(OSError):
    """The report's port cannot be listened on; the message says which and what to do."""


def serve_folder(root: Path, port: int, ready=None) -> None:
    """Serve the report folder ``root`` on 127.0.0.1 only: the report page and the Data Docs,
    never a listing, the GX configuration or the warehouse; only to a Host of 127.0.0.1 or
    localhost (a page elsewhere cannot reach it by DNS rebinding). ``flows.report.ReportHandler``."""
    import http.server

    from flows.report import report_handler

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), report_handler(root))
    except OSError as exc:  # the port taken (EADDRINUSE), or below 1024 without the right to it (EACCES)
        raise PortUnavailable(f"cannot serve the report on 127.0.0.1:{port}: {exc.strerror or exc} "
                              "(another --port, or --port 0 for any free one)") from None
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"serving the data-quality report at {url}  (Ctrl-C to stop)", flush=True)
    if ready is not None:
        ready(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def cmd_report(args: argparse.Namespace) -> int:
    """Refresh the report (read-only on the warehouse: it never waits for a run) and show it."""
    from expectations.paths import report_path
    from flows.report import ReportUnwritable
    from warehouse.connection import WarehouseUnavailable

    loc = _location(args)
    try:
        path = report_path(loc.local)
        if loc.exists():
            _refresh_report(loc)
    except (ReportUnwritable, WarehouseUnavailable) as exc:
        return _fail("report", exc)
    if not path.exists():
        print(f"no report yet at {path}: run `newsetl run --db {args.db}` first", file=sys.stderr)
        return 1
    print(path)
    if not (args.open or args.serve):
        return 0
    if args.open and not args.serve and _has_display():
        import webbrowser

        if webbrowser.open(path.resolve().as_uri()):
            return 0
    # No screen here (a server, a container, ssh): serve it for a browser elsewhere.
    try:
        serve_folder(path.parent, args.port)
    except PortUnavailable as exc:
        return _fail("report", exc)
    return 0


def seconds(text: str) -> float:
    """A number of seconds for ``--wait``: finite and not negative (``nan`` would wait forever)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds (0 or more)")
    return value


def count(text: str) -> int:
    """A count (``--limit``, ``--workers``, sizes): a whole number from 1 to a billion."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 10**9:
        raise argparse.ArgumentTypeError(f"{text} is out of range (1 to 1,000,000,000)")
    return value


def port(text: str) -> int:
    """A TCP port for ``--port``: 1 to 65535, or 0 for any free one (a larger number gave a raw
    OverflowError from ``bind``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is out of range (1 to 65535, or 0 for any free port)")
    return value


def cluster(text: str) -> str:
    """A Dask cluster for ``--cluster``: ``tcp://HOST:PORT`` or ``local:N``."""
    from flows.settings import ClusterSpec

    try:
        return str(ClusterSpec.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _warehouse_args(p: argparse.ArgumentParser, default_db: str) -> None:
    """--db and --data-path, the same on every command that touches the warehouse."""
    p.add_argument("--db", default=default_db,
                   help="the warehouse's catalog: a path (a SQLite file; default %(default)s) or "
                        "postgresql://USER@HOST:PORT/DBNAME")
    p.add_argument("--data-path", metavar="DIR",
                   help="where the lake's Parquet files are (default: a folder beside a SQLite catalog; "
                        "a PostgreSQL catalog stores its own once created)")


def _lake_commands(sub, default_db: str, lock_wait: float) -> None:
    """The lake's own commands: history, rollback, compact, migrate, export."""
    hist = sub.add_parser("history", help="the last runs, each with the snapshot it left (for --as-of, rollback)")
    _warehouse_args(hist, default_db)
    hist.add_argument("--limit", type=count, default=20)
    hist.set_defaults(func=cmd_history)

    back = sub.add_parser("rollback", help="make the data as it stood after RUN_ID current again (a new snapshot)")
    back.add_argument("run_id", metavar="RUN_ID")
    _warehouse_args(back, default_db)
    back.add_argument("--wait", type=seconds, default=lock_wait,
                      help="seconds to wait for a run writing the warehouse (default %(default)s)")
    back.set_defaults(func=cmd_rollback)

    comp = sub.add_parser("compact", help="merge small files, expire old snapshots, remove files nothing needs")
    _warehouse_args(comp, default_db)
    comp.add_argument("--wait", type=seconds, default=lock_wait)
    comp.set_defaults(func=cmd_compact)

    mig = sub.add_parser("migrate", help="import a DuckDB-file warehouse of an older newsetl into a new lake")
    mig.add_argument("old", metavar="OLD.duckdb")
    _warehouse_args(mig, default_db)
    mig.add_argument("--wait", type=seconds, default=lock_wait)
    mig.set_defaults(func=cmd_migrate)

    exp = sub.add_parser("export", help="write the current snapshot to one self-contained DuckDB file")
    exp.add_argument("out", metavar="OUT.duckdb")
    _warehouse_args(exp, default_db)
    exp.set_defaults(func=cmd_export)


def build_parser() -> argparse.ArgumentParser:
    from flows import settings

    default_db = str(settings.DEFAULT_DB)  # the one default of every --db
    ap = argparse.ArgumentParser(prog="newsetl", description="Batch ETL for news text into a DuckLake warehouse.")
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the pipeline over a seeds folder")
    run.add_argument("--seeds", default=settings.DEFAULT_SEEDS, help="folder of *.txt articles, searched recursively")
    _warehouse_args(run, default_db)
    run.add_argument("--chunk-size", type=count, default=settings.DEFAULT_CHUNK,
                     help="files handed to a worker at a time (default %(default)s)")
    run.add_argument("--batch-size", type=count, default=settings.DEFAULT_BATCH,
                     help="files extracted, checked and staged before the next batch: bounds memory "
                          "(default %(default)s)")
    run.add_argument("--full-refresh", action="store_true",
                     help="re-extract every file and rebuild the warehouse's data from this folder")
    run.add_argument("--wait", type=seconds, default=settings.DEFAULT_LOCK_WAIT,
                     help="seconds to wait for another run writing the warehouse (default %(default)s); "
                          "readers never make a run wait")
    run.add_argument("--workers", type=count, default=None,
                     help="processes extracting chunks in parallel (default: one per core; 1: in the flow's process)")
    run.add_argument("--follow-symlinks", action="store_true",
                     help="read links that lead out of the seeds folder (by default rejected: outside_seeds)")
    run.add_argument("--cluster", type=cluster, default=settings.default_cluster(), metavar="tcp://HOST:PORT|local:N",
                     help="run the batches on a Dask cluster: a running scheduler's address, or local:N worker "
                          "processes (default: $NEWSETL_CLUSTER, else this process's pool; docs/cluster.md)")
    run.add_argument("--summary-json", metavar="FILE", help="also write the run summary to FILE as JSON")
    run.set_defaults(func=cmd_run)

    sql = sub.add_parser("sql", help="run a SQL query against the warehouse (read-only); no query opens the shell")
    sql.add_argument("query", nargs="?", help="SQL to run; leave it out to open the DuckDB CLI")
    _warehouse_args(sql, default_db)
    sql.add_argument("--as-of", metavar="RUN_ID", help="answer as the warehouse stood after that run (time travel)")
    sql.add_argument("--format", choices=["table", "csv", "json", "parquet"],
                     help="output format (default: table, or the --output file's extension)")
    sql.add_argument("--output", help="write the result to this file instead of the screen")
    sql.add_argument("--max-rows", type=count, default=40, help="rows shown in a table (default %(default)s)")
    sql.add_argument("--wait", type=seconds, default=settings.DEFAULT_READ_WAIT,
                     help="accepted for scripts written for older versions: a query never waits now")
    sql.set_defaults(func=cmd_sql)

    shell = sub.add_parser("shell", help="open the DuckDB CLI on the warehouse, read-only")
    _warehouse_args(shell, default_db)
    shell.set_defaults(func=cmd_shell)

    srch = sub.add_parser("search", help="full-text search over quotes and articles")
    srch.add_argument("query", help="words to look for (stemmed, ranked by BM25)")
    _warehouse_args(srch, default_db)
    srch.add_argument("--limit", type=count, default=10)
    srch.add_argument("--wait", type=seconds, default=settings.DEFAULT_READ_WAIT,
                      help="accepted for scripts written for older versions: a search never waits now")
    srch.set_defaults(func=cmd_search)

    _lake_commands(sub, default_db, settings.DEFAULT_LOCK_WAIT)

    serve = sub.add_parser("serve", help="serve the flow on a cron schedule (needs a Prefect server)")
    serve.add_argument("--cron", default="0 * * * *", help="cron schedule (default: hourly, %(default)r)")
    serve.add_argument("--timezone", default="UTC", help="time zone of the schedule (default %(default)s)")
    serve.add_argument("--seeds", default=settings.DEFAULT_SEEDS)
    _warehouse_args(serve, default_db)
    serve.add_argument("--name", default="scheduled", help="deployment name (default %(default)s)")
    serve.add_argument("--compact-cron", default=settings.DEFAULT_COMPACT_CRON, metavar="CRON",
                       help="also serve the lake's upkeep (newsetl compact) on this schedule, in --timezone "
                            "(default: nightly, %(default)r; '' serves none)")
    serve.add_argument("--cluster", type=cluster, default=None, metavar="tcp://HOST:PORT|local:N",
                       help="run each scheduled run's batches on this Dask cluster (default: $NEWSETL_CLUSTER "
                            "when the run starts, else the serving process's pool)")
    serve.set_defaults(func=cmd_serve)

    rep = sub.add_parser("report", help="refresh the data-quality report and print its path (--open shows it)",
                         description="Refresh the data-quality report beside the warehouse and print its path. "
                                     "It reads the last committed snapshot: it never waits for a run (no --wait).")
    _warehouse_args(rep, default_db)
    rep.add_argument("--open", action="store_true",
                     help="open it in a browser, or serve it on 127.0.0.1 when this machine has no display")
    rep.add_argument("--serve", action="store_true", help="serve it on 127.0.0.1 for a browser (Ctrl-C stops)")
    rep.add_argument("--port", type=port, default=8765,
                     help="port for --serve/--open (0: any free port; default %(default)s)")
    rep.set_defaults(func=cmd_report)
    return ap


def _fail(command: str, exc: BaseException) -> int:
    print(f"newsetl {command}: {exc}", file=sys.stderr)
    return 1


def cmd_history(args: argparse.Namespace) -> int:
    from flows.admin import history
    from warehouse.connection import WarehouseUnavailable

    try:
        runs = history(_location(args), args.limit)
    except WarehouseUnavailable as exc:
        return _fail("history", exc)
    print(f"{'run':<32} {'started (UTC)':<20} {'status':<10} {'snapshot':>8} {'articles':>9} {'quotes':>8}  seeds")
    for r in runs:
        started = r["started_at"].strftime("%Y-%m-%d %H:%M:%S") if r["started_at"] else ""
        snap = "" if r["snapshot"] is None else str(r["snapshot"])
        print(f"{r['run_id']:<32} {started:<20} {r['status']:<10} {snap:>8} {r['articles_rows'] or '':>9} "
              f"{r['quotes_rows'] or '':>8}  {r['seeds_dir']}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from flows.admin import rollback
    from warehouse.connection import WarehouseLocked, WarehouseUnavailable
    from warehouse.snapshots import UnknownRun

    try:
        record, _ = rollback(_location(args), args.run_id, args.wait)
    except (WarehouseLocked, WarehouseUnavailable, UnknownRun) as exc:
        return _fail("rollback", exc)
    print(f"rolled back to the data after run {args.run_id}: {record.articles_rows} articles, "
          f"{record.mentions_rows} mentions, {record.quotes_rows} quotes, {record.entities_rows} entities "
          f"(recorded as run {record.run_id}; the runs and data-quality history is kept)")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from flows.admin import compact
    from warehouse.connection import WarehouseLocked, WarehouseUnavailable

    try:
        done = compact(_location(args), args.wait)
    except (WarehouseLocked, WarehouseUnavailable) as exc:
        return _fail("compact", exc)
    print(f"compacted: {done.merged} small file(s) merged, {done.expired} snapshot(s) expired, {done.deleted} "
          f"file(s) removed; {done.files} data file(s), {done.bytes / 1e6:.1f} MB")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from flows.admin import migrate
    from warehouse.connection import WarehouseLocked, WarehouseUnavailable

    try:
        counts = migrate(Path(args.old), _location(args), args.wait)
    except (WarehouseLocked, WarehouseUnavailable) as exc:
        return _fail("migrate", exc)
    print(f"imported {args.old} into {args.db}: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from flows.admin import export
    from warehouse.connection import WarehouseUnavailable

    try:
        counts = export(_location(args), Path(args.out))
    except (WarehouseUnavailable, FileExistsError) as exc:
        return _fail("export", exc)
    print(f"exported the current snapshot of {args.db} to {args.out}: "
          + ", ".join(f"{t} {n}" for t, n in counts.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    from transforms.native import enable

    enable()  # the process starts here: the compiled transforms, if they match the source, before any import of one
    _standard_streams()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `newsetl sql ... | head -1`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141  # 128 + SIGPIPE, as a shell reports a process stopped by it
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
            raise
        print(f"newsetl: cannot write the output: {exc.strerror}", file=sys.stderr)
        return 1


def _standard_streams() -> None:
    """A daemon or a cron job may start newsetl with stdout or stderr closed (``>&-``): what it
    prints then goes nowhere instead of failing (Python leaves ``sys.stdout`` None; Prefect's
    server and loggers would crash on it)."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            setattr(sys, name, open(fd, "w", closefd=False))  # noqa: SIM115  (lives as long as the process)


if __name__ == "__main__":
    sys.exit(main())
