"""Reading input files: transient errors are retried, lasting ones become reasons, big files are not read."""

from __future__ import annotations

import builtins
import errno
import os

import pytest

from flows import io


def test_transient_errors_are_retried_then_the_file_is_read(tmp_path, monkeypatch):
    f = tmp_path / "a.txt"
    f.write_text("Title\n\nBody.")
    calls = {"n": 0}
    real_open = builtins.open

    def flaky_open(path, *args, **kwargs):  # a network share that hiccups twice
        if str(path) == str(f) and calls["n"] < 2:
            calls["n"] += 1
            raise OSError(errno.EIO, "Input/output error")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", flaky_open)
    raw = io.read_file(str(f), backoff=0.01)
    assert raw.data == b"Title\n\nBody." and calls["n"] == 2


def test_a_file_that_keeps_failing_is_rejected_with_its_reason(tmp_path, monkeypatch):
    f = tmp_path / "a.txt"
    f.write_text("x")
    real_open = builtins.open

    def broken_open(path, *args, **kwargs):
        if str(path) == str(f):
            raise OSError(errno.EIO, "Input/output error")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", broken_open)
    raw = io.read_file(str(f), attempts=3, backoff=0.01)
    assert raw.data is None and raw.reason == "unreadable"
    assert "Input/output error" in raw.error and "3 attempt(s)" in raw.error


def test_permission_errors_are_not_retried(tmp_path, monkeypatch):
    f = tmp_path / "a.txt"
    f.write_text("x")
    calls = {"n": 0}
    real_open = builtins.open

    def denied(path, *args, **kwargs):
        if str(path) == str(f):
            calls["n"] += 1
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    raw = io.read_file(str(f), backoff=0.01)
    assert raw.data is None and calls["n"] == 1 and "1 attempt(s)" in raw.error


def test_too_large_files_are_never_read(tmp_path):
    f = tmp_path / "big.txt"
    f.write_bytes(b"a" * 2048)
    raw = io.read_file(str(f), max_bytes=1024)
    assert raw.data is None and raw.reason == "too_large" and "2048 bytes" in raw.error


def test_thousands_of_files_are_discovered_in_a_stable_order(tmp_path):
    for i in range(3000):
        sub = tmp_path / f"d{i % 30}"
        sub.mkdir(exist_ok=True)
        (sub / f"{i:05d}.txt").write_text("t")
    found = io.discover(tmp_path).paths
    assert len(found) == 3000 and found == sorted(found)


def _sys_refuses_writes() -> bool:
    try:
        with open("/sys/.newsetl-probe", "w"):
            pass
    except OSError:
        return True
    os.remove("/sys/.newsetl-probe")
    return False


@pytest.mark.skipif(not _sys_refuses_writes(), reason="needs a path the OS refuses to write")
def test_read_only_warehouse_path_gives_a_clear_error():
    from warehouse.connection import WarehouseUnavailable
    from warehouse.runlock import run_lock

    with pytest.raises(WarehouseUnavailable, match=r"cannot write the warehouse at /sys/news\.duckdb"), \
            run_lock("/sys/news.duckdb", "r", "now", 1):
        pass


def test_a_stat_vouches_for_the_bytes_only_once_the_file_has_settled(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Title\n\nBody.")
    st = os.stat(f)
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    assert io.settled_stat(st, changed + io.SETTLED_NS // 2) is None  # a write in the same tick would not show
    assert io.settled_stat(st, changed + io.SETTLED_NS + 1) == io.file_stat(st)
    assert io.file_stat(st) == f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
    assert io.read_file(str(f)).stat is None  # just written: read, and read again next run


def test_discovery_stats_the_files_it_finds(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")  # a second name: refused, not stat'ed
    found = io.discover(tmp_path)
    assert found.stats == {str(tmp_path / "a.txt"): io.file_stat(os.stat(tmp_path / "a.txt"))}
