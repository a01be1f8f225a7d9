"""Finding and reading input files: the only file-system reads of a run.

Reads are retried for transient errors (a network share that hiccups); a file that keeps
failing comes back with its error instead of data, so it is rejected with a reason and never
retried forever. Sizes are checked before reading, so a huge file costs nothing.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from transforms.decode import DEFAULT_MAX_BYTES
from transforms.frames import RawFile

#: errno values worth another try: the device or share may come back.
TRANSIENT = {errno.EAGAIN, errno.EINTR, errno.EIO, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE}


class SeedsNotFound(FileNotFoundError):
    """The seeds folder does not exist or is not a folder."""


def discover(seeds_dir: str | Path) -> list[str]:
    """Absolute paths of every ``*.txt`` under the folder, recursively, in a stable order."""
    root = Path(seeds_dir)
    if not root.exists():
        raise SeedsNotFound(f"seeds folder {root} does not exist")
    if not root.is_dir():
        raise SeedsNotFound(f"seeds path {root} is not a folder")
    return sorted(str(p.resolve()) for p in root.rglob("*.txt") if p.is_file())


def read_file(path: str, max_bytes: int = DEFAULT_MAX_BYTES, attempts: int = 3,
              backoff: float = 0.2) -> RawFile:
    """Read one file's bytes, retrying transient errors ``attempts`` times."""
    last: OSError | None = None
    for attempt in range(attempts):
        try:
            size = os.stat(path).st_size
            if size > max_bytes:
                # Never read it: no news article is that big.
                return RawFile(path, None, f"{size} bytes is over the limit of {max_bytes} bytes",
                               "too_large", size)
            with open(path, "rb") as fh:
                return RawFile(path, fh.read())
        except OSError as exc:
            last = exc
            if exc.errno not in TRANSIENT:
                break
            time.sleep(backoff * (2 ** attempt))
    reason = os.strerror(last.errno) if last is not None and last.errno else str(last)
    return RawFile(path, None, f"{reason} ({type(last).__name__}) after {attempt + 1} attempt(s)")


def read_files(paths: list[str], max_bytes: int = DEFAULT_MAX_BYTES) -> list[RawFile]:
    return [read_file(p, max_bytes) for p in paths]
