"""Finding and reading input files: the only file-system reads of a run.

Reads are retried for transient errors (a network share that hiccups); a file that keeps
failing comes back with its error instead of data, so it is rejected with a reason and never
retried forever. Sizes are checked before reading, so a huge file costs nothing.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flows.settings import seeds_problem
from transforms.decode import DEFAULT_MAX_BYTES
from transforms.frames import RawFile
from transforms.vocab import BAD_NAME, DUPLICATE_CONTENT, OUTSIDE_SEEDS, RejectReason

#: errno values worth another try: the device or share may come back.
TRANSIENT = {errno.EAGAIN, errno.EINTR, errno.EIO, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE}
#: How long before its read a file must have last changed for its stat to vouch for the bytes
#: read: a write in the same tick of the file system's clock as the one before the read would
#: leave size and times as they were ("racy" files, as git calls them). The tick is a few ms
#: on a local disk but 2 s on FAT, and a file server's clock may run a little behind ours.
SETTLED_NS = 3_000_000_000


class SeedsNotFound(FileNotFoundError):
    """The seeds folder does not exist or is not a folder."""


@dataclass(frozen=True)
class Found:
    """What discovery found: the files to read, and the ones turned away before any read."""

    paths: list[str]  # absolute, in a stable order
    refused: list[tuple[str, RejectReason, str]] = field(default_factory=list)  # path, reason, detail
    stats: dict[str, str] = field(default_factory=dict)  # path -> file_stat() now (files that stat)


def file_stat(st: os.stat_result) -> str:
    """A file's size, modification and change times (ns) and inode, as ``articles.file_stat``
    keeps them. A write changes the times; the change time cannot be set back by hand (a copy
    that keeps the modification time still gets a new one), so equal stats mean the bytes
    loaded are the bytes there, short of a write racing the read (see :data:`SETTLED_NS`)."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def settled_stat(st: os.stat_result, now_ns: int) -> str | None:
    """:func:`file_stat` of a file about to be read at ``now_ns``, or None when it changed too
    recently for the stat to vouch for what is read (the next run reads it again)."""
    return file_stat(st) if max(st.st_mtime_ns, st.st_ctime_ns) < now_ns - SETTLED_NS else None


def printable(path: str) -> str:
    """``path`` as valid UTF-8: bytes of a file name that are not UTF-8 shown as ``\\xNN``
    (a frame, the warehouse and a terminal all need text)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def discover(seeds_dir: str | Path, follow_symlinks: bool = False) -> Found:
    """Every ``*.txt`` under the folder, recursively, in a stable order.

    Turned away before anything is read, each with its reason (they land in ``rejected_files``):
    a file name that is not UTF-8 (``bad_name``: rename it); a link that leads out of the
    folder (``outside_seeds``, unless ``follow_symlinks``: a link to ``/etc/passwd`` must not
    become a searchable article); a second name of a file already found, a link to it
    (``duplicate_content``: the file loads once, under its own name).
    """
    root = Path(seeds_dir)
    problem = seeds_problem(root)
    if problem:
        raise SeedsNotFound(problem)
    root = root.resolve()
    top = str(root)
    found = dict(_walk(top))  # as found (the folder resolved, the names as they are) -> target
    # Each file is read once: under its own name when the folder has it, else by its first link.
    claimed = {t: path for path, t in found.items() if path == t}
    paths: list[str] = []
    refused: list[tuple[str, RejectReason, str]] = []
    for path in sorted(found):
        target = found[path]
        shown = printable(path)
        if shown != path:
            refused.append((shown, BAD_NAME, "the file name is not valid UTF-8 (its odd bytes are shown as \\xNN): "
                                             "rename the file"))
        elif path == target:
            paths.append(path)
        elif not (target + os.sep).startswith(top + os.sep) and not follow_symlinks:
            refused.append((path, OUTSIDE_SEEDS, f"a link to {printable(target)}, outside the seeds folder: "
                                                 "not followed (newsetl run --follow-symlinks follows it)"))
        elif claimed.setdefault(target, path) != path:
            refused.append((path, DUPLICATE_CONTENT, f"another name of {claimed[target]}, which this run reads"))
        else:
            paths.append(path)
    return Found(paths, refused, _stats(paths))


def _stats(paths: list[str]) -> dict[str, str]:
    """:func:`file_stat` of each file (of its target, for a link): one ``stat`` each, so a run
    reads only the files that stat otherwise than when they were loaded. A file that cannot
    be stat'ed is left out: it is read, and its error reported, as before."""
    out = {}
    for path in paths:
        try:
            out[path] = file_stat(os.stat(path))
        except OSError:
            continue
    return out


def _walk(top: str) -> Iterator[tuple[str, str]]:
    """(path, target) of every ``*.txt`` file under ``top``: the target is the file a link leads
    to, else the path itself. Linked folders are not entered (their files would be second names
    of files elsewhere), unreadable ones are passed over, as ``Path.rglob`` does on Python 3.11.

    ``os.scandir`` rather than ``rglob`` + ``is_file``: the directory entries already say what
    is a file, a folder or a link, so a plain file costs no ``stat``; over 23,045 files discovery
    took 0.8 s with pathlib, which every run paid however few files were new."""
    folders = [top]
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    if entry.name.endswith(".txt") and _is_file(entry):
                        yield entry.path, os.path.realpath(entry.path) if entry.is_symlink() else entry.path
        except PermissionError:
            continue


def _is_file(entry: os.DirEntry[str]) -> bool:
    """A file, or a link to one (a dangling link, a folder, a socket are not), as ``Path.is_file``."""
    try:
        return entry.is_file()
    except OSError:
        return False


def read_file(path: str, max_bytes: int = DEFAULT_MAX_BYTES, attempts: int = 3,
              backoff: float = 0.2) -> RawFile:
    """Read one file's bytes, retrying transient errors ``attempts`` times."""
    last: OSError | None = None
    for attempt in range(attempts):
        try:
            now = time.time_ns()
            st = os.stat(path)  # before the read: a write after it leaves another stat
            size = st.st_size
            if size > max_bytes:
                # Never read it: no news article is that big.
                return RawFile(path, None, f"{size} bytes is over the limit of {max_bytes} bytes",
                               "too_large", size)
            with open(path, "rb") as fh:
                return RawFile(path, fh.read(), stat=settled_stat(st, now))
        except OSError as exc:
            last = exc
            if exc.errno not in TRANSIENT:
                break
            time.sleep(backoff * (2 ** attempt))
    reason = os.strerror(last.errno) if last is not None and last.errno else str(last)
    return RawFile(path, None, f"{reason} ({type(last).__name__}) after {attempt + 1} attempt(s)")


def read_files(paths: list[str], max_bytes: int = DEFAULT_MAX_BYTES) -> list[RawFile]:
    return [read_file(p, max_bytes) for p in paths]
