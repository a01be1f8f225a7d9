"""One run at a time per warehouse: an advisory lock file beside the DuckDB file.

DuckDB locks its file only while a connection is open, and a run opens it briefly at the
start and again to load. Without a lock of its own, two runs could interleave. The lock file
``<db>.lock`` is held (``flock``) for the whole run and names it, so a second run waits a
bounded time and then says which run holds the warehouse; the kernel releases the lock if
the holder dies, even by SIGKILL, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.connection import WarehouseLocked, WarehouseUnavailable


def lock_path(db_path: str | Path) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".lock")


def holder(db_path: str | Path) -> dict | None:
    """Who holds (or last held) the warehouse: run id, pid and start time, when known."""
    try:
        return json.loads(lock_path(db_path).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None


def describe_holder(db_path: str | Path) -> str:
    h = holder(db_path)
    if not h:
        return "another newsetl run"
    return f"run {h.get('run_id')} (pid {h.get('pid')}, started {h.get('started_at')})"


def active_run(db_path: str | Path) -> str | None:
    """The run holding the warehouse right now, described; None when no run holds it."""
    try:
        fd = os.open(lock_path(db_path), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None  # nobody holds it exclusively
    except BlockingIOError:
        return describe_holder(db_path)
    finally:
        os.close(fd)


@contextmanager
def run_lock(db_path: str | Path, run_id: str, started_at: str, wait_seconds: float = 30.0) -> Iterator[None]:
    """Hold the warehouse for one run; wait up to ``wait_seconds`` for another run to finish."""
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WarehouseUnavailable(f"cannot write the warehouse at {db_path} (its folder or lock file): {exc}") from exc
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"the warehouse {db_path} is being loaded by {describe_holder(db_path)}; waited "
                        f"{wait_seconds:.0f} s. Try again when it has finished.") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"run_id": run_id, "pid": os.getpid(), "started_at": started_at}).encode())
        os.fsync(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
