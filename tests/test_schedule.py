"""A real Prefect server, a served deployment with a cron schedule, and a run of it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_seed
from warehouse.connection import connect

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def prefect_server(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": url,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false"}
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: healthy(url) or server.poll() is not None, 120, "the Prefect server")
        assert server.poll() is None, "the Prefect server exited"
        yield url, env
    finally:
        stop(server)


def test_served_deployment_has_its_schedule_and_a_run_of_it_loads_the_warehouse(tmp_path, prefect_server):
    from prefect.client.orchestration import PrefectClient

    url, env = prefect_server
    seeds, db = tmp_path / "seeds", tmp_path / "wh" / "news.duckdb"
    copy_seed(seeds)
    serve = subprocess.Popen([str(BIN / "newsetl"), "serve", "--cron", "30 6 * * 1-5", "--timezone", "Europe/Paris",
                              "--seeds", str(seeds), "--db", str(db), "--name", "weekday-mornings"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)

    async def check() -> tuple[str, str, dict, str]:
        async with PrefectClient(api=url) as client:
            async def deployment():
                try:
                    return await client.read_deployment_by_name("newsetl/weekday-mornings")
                except Exception:
                    return None

            deadline = time.monotonic() + 120
            dep = None
            while dep is None:
                assert serve.poll() is None, serve.stdout.read().decode()[-3000:]
                assert time.monotonic() < deadline, "the deployment was never registered"
                dep = await deployment()
                if dep is None:
                    await asyncio.sleep(0.5)
            schedule = dep.schedules[0].schedule
            run = await client.create_flow_run_from_deployment(dep.id)
            deadline = time.monotonic() + 180
            while True:
                fr = await client.read_flow_run(run.id)
                if fr.state is not None and fr.state.is_final():
                    break
                assert time.monotonic() < deadline, f"the run stayed {fr.state}"
                await asyncio.sleep(1)
            return schedule.cron, schedule.timezone, dep.parameters, fr.state.type.value

    try:
        cron, tz, params, final = asyncio.run(check())
    finally:
        stop(serve)
    assert (cron, tz) == ("30 6 * * 1-5", "Europe/Paris")
    assert params == {"seeds_dir": str(seeds.resolve()), "db_path": str(db.resolve()), "data_path": None}
    assert final == "COMPLETED"
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]
    finally:
        con.close()
