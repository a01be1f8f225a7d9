"""Impatient operators: Ctrl-C stops a run promptly and cleanly, SIGKILL leaves no process behind.

At 3492ce5 (issue 25) Ctrl-C killed Prefect's temporary API server first (it was in the run's
process group), and the run then retried the dead API for minutes; SIGKILL of the run left
its two extraction workers and the ``resource_tracker`` alive for good, orphaned. Real
processes, real signals, on the BBC corpus (a run long enough to be caught mid-extraction).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import NEWSETL, ROOT, copy_seed, counts, newsetl, query

pytestmark = pytest.mark.integration
BBC = ROOT.parent / "shared" / "corpus" / "bbc"


def _children(pid: int) -> dict[int, str]:
    """pid -> command line of the processes whose parent is ``pid``."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out[int(entry.name)] = cmd
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _run_until_workers(seeds: Path, db: Path) -> tuple[subprocess.Popen, dict[int, str]]:
    """A run in its own session (as a shell's job), caught once its extraction workers are up."""
    proc = subprocess.Popen([str(NEWSETL), "run", "--seeds", str(seeds), "--db", str(db), "--workers", "2",
                             "--chunk-size", "50", "--batch-size", "300"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 150
    while True:
        kids = _children(proc.pid)
        if sum("spawn_main" in c for c in kids.values()) >= 2:
            return proc, kids
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the run never started its extraction workers"
        time.sleep(0.1)


@pytest.fixture
def bbc_lake(tmp_path):
    if not BBC.is_dir():
        pytest.skip(f"{BBC} is not here (it sits beside the project, in shared/)")
    seeds, db = tmp_path / "seeds", tmp_path / "w.ducklake"
    copy_seed(seeds)
    assert newsetl("run", "--seeds", str(seeds), "--db", str(db), "--workers", "1").returncode == 0
    return db


def test_ctrl_c_stops_a_run_rolls_back_and_says_so(bbc_lake):
    before = counts(bbc_lake)
    proc, kids = _run_until_workers(BBC, bbc_lake)
    time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at the terminal does: the whole foreground group
    out, _ = proc.communicate(timeout=90)  # at 3492ce5 still running after 200 s
    text = out.decode()
    assert proc.returncode == 130, text[-3000:]
    assert "interrupted (Ctrl-C) before the load committed: nothing was loaded" in text
    assert "0 loaded" in text
    assert counts(bbc_lake) == before
    assert query(bbc_lake, "SELECT status, files_loaded FROM runs ORDER BY started_at DESC LIMIT 1") == [("failed", 0)]
    _gone(kids)
    again = newsetl("run", "--seeds", str(BBC), "--db", str(bbc_lake), "--workers", "2")
    assert again.returncode == 0, again.stdout + again.stderr


def test_sigkill_of_a_run_leaves_no_process_behind(bbc_lake):
    proc, kids = _run_until_workers(BBC, bbc_lake)
    proc.kill()  # the run's process alone, as the OOM killer would: not its process group
    proc.wait(timeout=30)
    _gone(kids)


def _gone(kids: dict[int, str], limit: float = 30) -> None:
    """The run's workers, resource tracker and API server all end (they were orphans for good)."""
    deadline = time.monotonic() + limit
    while any(_alive(pid) for pid in kids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [cmd[:120] for pid, cmd in kids.items() if _alive(pid)]


def test_ctrl_c_during_a_long_extraction_in_the_run_s_own_process_ends_it(tmp_path):
    """With one worker the extraction runs in a task thread of the run's process, which no signal
    stops, and Prefect waits for it: the run was recorded as interrupted but the process went on
    for minutes. It now ends soon after it is recorded (flows/runbook.py, EXIT_GRACE)."""
    seeds, db = tmp_path / "seeds", tmp_path / "w.ducklake"
    seeds.mkdir()
    dense = b'Tony Blair said "hello there friends" today. '
    for i in range(3):  # quote-dense files just under the 2 MB limit: seconds of extraction each
        (seeds / f"dense{i}.txt").write_bytes(b"Big Title\n\nWASHINGTON (AFP) - " + dense * (2_000_000 // len(dense))
                                              + f"\nFile {i}.\n".encode())
    proc = subprocess.Popen([str(NEWSETL), "run", "--seeds", str(seeds), "--db", str(db), "--workers", "1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    out = b""
    while b"extract: 3 files" not in out:  # the extraction has started
        line = proc.stdout.readline()
        assert line, out.decode()[-3000:]
        out += line
    time.sleep(2)
    os.killpg(proc.pid, signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    text = (out + rest).decode()
    assert proc.returncode == 130, text[-3000:]
    assert "interrupted (Ctrl-C) before the load committed" in text
    assert query(db, "SELECT status FROM runs") == [("failed",)]
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]
