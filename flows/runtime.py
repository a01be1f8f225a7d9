"""Process environment for Prefect and GX, set before either is imported.

Prefect writes its database and settings under ``PREFECT_HOME`` (default ``~/.prefect``);
newsetl keeps it inside the project so runs never touch the user's home and a reused home
skips the first-run migration. Telemetry of both libraries is switched off: this pipeline
runs offline. Values the user already set win.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

#: The project folder: flows/ lives directly under it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def start_api_early() -> threading.Thread | None:
    """Start Prefect's temporary API server in the background; None when a server is set.

    Without ``PREFECT_API_URL`` a flow run first starts a local server and waits until it
    answers (10-15 s here, in a process of its own), and only then runs: imports done
    afterwards (Great Expectations alone takes 5-7 s) add to that wait. Started from a thread
    while the caller imports, the two overlap on the machine's two cores. The flow finds the
    server already running: Prefect keeps one per process. Any error is left for the flow's
    own start, which reports it.
    """
    configure()
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None

    def start() -> None:
        from prefect.server.api.server import SubprocessASGIServer

        with contextlib.suppress(Exception):
            SubprocessASGIServer().start()

    thread = threading.Thread(target=start, name="prefect-api-start", daemon=True)
    thread.start()
    return thread
