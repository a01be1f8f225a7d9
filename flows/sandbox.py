"""An operating-system guard for ``newsetl shell``: the DuckDB CLI may write no file at all.

``newsetl sql`` refuses writing statements before DuckDB sees them (``warehouse.query``), but
the DuckDB CLI runs whatever is typed, and DuckDB's own settings leave two ways to write: a
``COPY`` onto the lake's catalog or data folder (DuckDB allows the files it has attached), and
the SQLite extension, which ignores ``enable_external_access`` (``ATTACH … (TYPE sqlite)`` on a
hard link to the catalog, read-write). So the shell's process is sandboxed by the kernel
before it becomes the CLI: Linux Landlock (5.13+, unprivileged) takes away the right to open a
file for writing, to create, remove, rename or truncate one, anywhere; output already open
(the terminal, a pipe) still works. Where Landlock is missing, the shell says so and runs
with DuckDB's guard alone.
"""

from __future__ import annotations

import ctypes
import os
import platform

#: Syscall numbers, the same on x86_64 and aarch64 (asm-generic).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# LANDLOCK_ACCESS_FS_* (include/uapi/linux/landlock.h)
WRITE_FILE = 1 << 1
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3

#: Devices a program may still open for writing: they store nothing.
HARMLESS = ("/dev/null", "/dev/tty")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def forbid_writes() -> str | None:
    """Forbid this process (and what it ``exec``s) every file write, for good. Returns None
    when done, else why it could not be (the caller decides whether to go on)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return "Landlock needs Linux on x86_64 or aarch64"
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    if abi < 1:
        return f"Landlock is not enabled in this kernel ({os.strerror(ctypes.get_errno())})"
    handled = (WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO
               | MAKE_BLOCK | MAKE_SYM | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0))
    attr = _RulesetAttr(handled)
    fd = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0))
    if fd < 0:
        return f"Landlock refused the rules ({os.strerror(ctypes.get_errno())})"
    try:
        for device in HARMLESS:
            try:
                dev_fd = os.open(device, os.O_PATH)
            except OSError:
                continue
            try:
                rule = _PathBeneathAttr(WRITE_FILE | (TRUNCATE if abi >= 3 else 0), dev_fd)
                libc.syscall(_ADD_RULE, fd, ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(dev_fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"could not set no_new_privs ({os.strerror(ctypes.get_errno())})"
        if libc.syscall(_RESTRICT_SELF, fd, ctypes.c_uint32(0)) != 0:
            return f"Landlock could not restrict the process ({os.strerror(ctypes.get_errno())})"
    finally:
        os.close(fd)
    return None
