"""Process environment for Prefect and GX, set before either is imported.

Prefect writes its database and settings under ``PREFECT_HOME`` (default ``~/.prefect``);
newsetl keeps it inside the project so runs never touch the user's home and a reused home
skips the first-run migration. Telemetry of both libraries is switched off: this pipeline
runs offline. Values the user already set win.
"""

from __future__ import annotations

import os
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
