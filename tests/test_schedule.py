"""A real Prefect server, a served deployment with a cron schedule, and a run of it."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from tests.conftest import BIN, ROOT, copy_seed, stop
from warehouse.connection import connect

pytestmark = pytest.mark.integration


def serve_once(prefect_server: tuple[str, dict], name: str, *args: str):
    """Start ``newsetl serve --name <name> ARGS`` against the Prefect server, run deployment
    ``newsetl/<name>`` once from the server, stop serving; the deployment and the run's final
    state type."""
    url, env = prefect_server
    serve = subprocess.Popen([str(BIN / "newsetl"), "serve", "--name", name, *args], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return _run_served(url, serve, name)
    finally:
        stop(serve)


def _run_served(url: str, serve: subprocess.Popen, name: str):
    """Wait for ``serve`` to register deployment ``newsetl/<name>``, run it once from the
    server, and return the deployment and the run's final state type."""
    from prefect.client.orchestration import PrefectClient

    async def check():
        async with PrefectClient(api=url) as client:
            async def deployment():
                try:
                    return await client.read_deployment_by_name(f"newsetl/{name}")
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
            run = await client.create_flow_run_from_deployment(dep.id)
            deadline = time.monotonic() + 300
            while True:
                fr = await client.read_flow_run(run.id)
                if fr.state is not None and fr.state.is_final():
                    break
                assert time.monotonic() < deadline, f"the run stayed {fr.state}"
                await asyncio.sleep(1)
            return dep, fr.state.type.value

    return asyncio.run(check())


def test_served_deployment_has_its_schedule_and_a_run_of_it_loads_the_warehouse(tmp_path, prefect_server):
    seeds, db = tmp_path / "seeds", tmp_path / "wh" / "news.duckdb"
    copy_seed(seeds)
    dep, final = serve_once(prefect_server, "weekday-mornings", "--cron", "30 6 * * 1-5", "--timezone",
                            "Europe/Paris", "--seeds", str(seeds), "--db", str(db))
    schedule = dep.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("30 6 * * 1-5", "Europe/Paris")
    assert dep.parameters == {"seeds_dir": str(seeds.resolve()), "db_path": str(db.resolve()), "data_path": None,
                              "cluster": None}
    assert final == "COMPLETED"
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]
    finally:
        con.close()
