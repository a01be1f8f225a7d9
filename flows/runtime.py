"""Process environment for Prefect and GX, and Prefect's temporary API server for one run.

Prefect writes its database and settings under ``PREFECT_HOME`` (default ``~/.prefect``);
newsetl keeps it inside the project so runs never touch the user's home and a reused home
skips the first-run migration. Telemetry of both libraries is switched off: this pipeline
runs offline. Values the user already set win.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

#: The project folder: flows/ lives directly under it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: What Prefect's own temporary server gets besides the process environment
#: (``prefect.server.api.server.SubprocessASGIServer._run_uvicorn_command``, Prefect 3.9;
#: tests/test_cli.py compares the two, so an upgrade that changes it fails a test).
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
#: Services of the temporary server that only serve what outlives a run (stored events,
#: automations, the database's own cleanup): it dies with the run, so they would only poll.
#: Measured idle: 0.5 s CPU per 20 s with them, 0.29 without. Task runs are still recorded
#: (the task-run recorder stays). A value set in the environment wins.
IDLE_SERVICES_OFF = {f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false"
                     for name in ("EVENT_PERSISTER", "EVENT_LOGGER", "TRIGGERS", "DB_VACUUM")}
#: uvicorn's exit status when its port was taken in the meantime: retry on another port.
PORT_IN_USE = 3
#: prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def configure() -> None:
    defaults = {
        "PREFECT_HOME": str(PROJECT_ROOT / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LOG_PRINTS": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> Callable[[], None] | None:
    """What the server's process runs before it starts, so that the kernel stops it when
    newsetl's process dies, even by SIGKILL or the OOM killer, where no atexit handler runs
    (``PR_SET_PDEATHSIG``, Linux only). The function is looked up here, in the parent: between
    fork and exec the child only calls it (no import there, where another thread's lock may be
    held)."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def follow_parent(parent: int, interval: float = 0.5) -> None:
    """Make this (worker) process leave when its parent is gone and ignore Ctrl-C, which its
    parent handles: a pool worker of a run killed by SIGKILL would otherwise live on, orphaned
    and blocked on a pipe, holding its memory for good. A thread watches the parent's pid
    (``PR_SET_PDEATHSIG`` fires when the parent *thread* that spawned the worker ends, and the
    pool spawns from whichever thread submits). ``parent``: the pid the parent gave, not
    ``os.getppid()`` here, which is already 1 when the parent died while this one started."""
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="newsetl-follow-parent", daemon=True).start()


def server_command(port: int) -> list[str]:
    """The command Prefect runs for its temporary server, found without importing Prefect."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("prefect is not installed: run `make setup`")
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
            "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--lifespan", "on"]


class TemporaryServer:
    """Prefect's temporary API server for one ``newsetl run``, started before Prefect is imported.

    Without ``PREFECT_API_URL`` a flow run starts a local API server in a subprocess and waits
    until it answers. Prefect does that only once it is imported and the flow starts, and the
    server's own module costs the caller 4-5 s of imports first, under the GIL the caller's
    imports need too. Launched here, before any heavy import, the server process boots on the
    second core while this one imports Prefect, Polars and Great Expectations. :meth:`adopt`
    then hands its address to Prefect, or stops it when Prefect is configured with a server.
    """

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._spawn()
        atexit.register(self.stop)

    @classmethod
    def launch(cls) -> TemporaryServer | None:
        """Start one, unless ``PREFECT_API_URL`` is set in the environment (a real server)."""
        configure()
        if os.environ.get("PREFECT_API_URL"):
            return None
        return cls()

    def _spawn(self) -> None:
        self.port = _free_port()
        # Its own session: a Ctrl-C at the terminal goes to newsetl's process group, and the run
        # needs its API server to wind down (record the run, roll back) after one; the kernel
        # still stops the server when newsetl dies (_die_with_parent), atexit when it exits.
        env = {**IDLE_SERVICES_OFF, **os.environ, **SERVER_ENV}
        self.process = subprocess.Popen(server_command(self.port), env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        preexec_fn=_die_with_parent(),
                                        start_new_session=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def adopt(self) -> str | None:
        """Once Prefect is imported: point it at this server and return the server's API URL,
        or stop the server and return None when Prefect's settings (a profile, prefect.toml)
        name a server of their own, or forbid a temporary one."""
        from prefect.context import refresh_global_settings_context
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_SERVER_EPHEMERAL_ENABLED,
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        )

        if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
            self.stop()
            return None
        self.wait(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
        os.environ["PREFECT_API_URL"] = self.api_url
        refresh_global_settings_context()  # Prefect's own call to pick up a changed environment
        print(f"newsetl: Prefect's temporary API server on {self.api_url} (a dedicated one: `make server`)",
              file=sys.stderr, flush=True)
        return self.api_url

    def healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/api/health")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def wait(self, timeout: float) -> None:
        """Until the server answers; a taken port is retried on another, other exits raise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code == PORT_IN_USE:
                self._spawn()
            elif code is not None:
                raise RuntimeError(f"Prefect's temporary API server exited with status {code} before answering "
                                   "(its error is printed above)")
            elif self.healthy():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Prefect's temporary API server did not answer within {timeout:.0f} s "
                           "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
