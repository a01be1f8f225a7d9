"""A real Dask cluster on loopback for tests: ``dask scheduler`` and ``dask worker`` processes
from the project's ``.venv``, in a temporary folder, stopped at the end.

    with DaskCluster(workers=2) as cluster:
        cluster.address            # tcp://127.0.0.1:PORT
        cluster.kill_worker(name)  # SIGKILL a worker and its nanny, as a machine that dies

Workers start as ``make worker`` starts them (one thread, ``flows.dask_worker`` preloaded),
each in its own session so a kill takes its whole process group and nothing else. A port is
picked by binding port 0; the scheduler reports the one it took in its log.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.pgserver import free_port

DASK = Path(sys.executable).parent / "dask"
ROOT = Path(__file__).resolve().parent.parent


class DaskCluster:
    """A scheduler and ``workers`` workers named w1, w2, ... on 127.0.0.1."""

    def __init__(self, workers: int = 2, preload: str = "flows.dask_worker"):
        self.folder = Path(tempfile.mkdtemp(prefix="newsetl-dask-"))
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.preload = preload
        self.procs: dict[str, subprocess.Popen] = {}
        self.count = workers

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen([str(DASK), *args], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_worker(self, name: str, preload: str | None = None) -> None:
        self._spawn(name, ["worker", self.address, "--name", name, "--nworkers", "1", "--nthreads", "1",
                           "--host", "127.0.0.1", "--no-dashboard", "--preload", preload or self.preload,
                           "--local-directory", str(self.folder / name)])

    def __enter__(self) -> DaskCluster:
        try:
            self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--no-dashboard", "--no-show"])
            self.wait_for_log("scheduler", r"Scheduler at:")
            for k in range(self.count):
                self.start_worker(f"w{k + 1}")
            if self.count:
                self.wait_for_workers(self.count)
        except BaseException:
            self.__exit__()  # nothing started is left running
            raise
        return self

    def log(self, name: str) -> str:
        try:
            return (self.folder / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, name: str, pattern: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.log(name)):
            if self.procs[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask {name} did not start:\n{self.log(name)[-3000:]}")
            time.sleep(0.1)

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=30)

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        with self.client() as c:
            c.wait_for_workers(n, timeout=timeout)

    def workers(self) -> dict[str, str]:
        """Worker name -> address, as the scheduler knows them."""
        with self.client() as c:
            info = c.scheduler_info(n_workers=-1)["workers"]
        return {w["name"]: addr for addr, w in info.items()}

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group (nanny and worker): the machine is gone."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=20)
        shutil.rmtree(self.folder, ignore_errors=True)
