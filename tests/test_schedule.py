"""A real Prefect server, a served deployment with a cron schedule, and a run of it."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from tests.conftest import BIN, ROOT, SEED, copy_seed, stop
from warehouse.connection import connect
from warehouse.upkeep import data_files

pytestmark = pytest.mark.integration


def serve_once(prefect_server: tuple[str, dict], name: str, *args: str, flow: str = "newsetl"):
    """Start ``newsetl serve --name <name> ARGS`` against the Prefect server, run deployment
    ``<flow>/<name>`` once from the server, stop serving; the deployment and the run's final
    state type."""
    url, env = prefect_server
    serve = subprocess.Popen([str(BIN / "newsetl"), "serve", "--name", name, *args], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return _run_served(url, serve, f"{flow}/{name}")
    finally:
        stop(serve)


def _run_served(url: str, serve: subprocess.Popen, name: str):
    """Wait for ``serve`` to register deployment ``name`` (``flow/deployment``), run it once
    from the server, and return the deployment and the run's final state type."""
    from prefect.client.orchestration import PrefectClient

    async def check():
        async with PrefectClient(api=url) as client:
            async def deployment():
                try:
                    return await client.read_deployment_by_name(name)
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
    # the lake's upkeep was served beside it, nightly by default, in the same time zone
    from prefect.client.orchestration import PrefectClient

    async def upkeep():
        async with PrefectClient(api=prefect_server[0]) as client:
            return await client.read_deployment_by_name("newsetl-compact/weekday-mornings")

    schedule = asyncio.run(upkeep()).schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("30 3 * * *", "Europe/Paris")


def test_serve_also_serves_the_lake_s_upkeep_and_a_run_of_it_merges_the_small_files(tmp_path, prefect_server):
    """Runs leave small files that they do not merge (warehouse/upkeep.py); the nightly upkeep
    `newsetl serve` serves beside the runs merges them (flows/maintenance.py)."""
    env = prefect_server[1]
    seeds, db = tmp_path / "seeds", tmp_path / "wh" / "news.ducklake"
    copy_seed(seeds)
    for i in range(3):  # three runs, each writing small files into every table
        (seeds / f"copy{i}.txt").write_bytes(SEED.read_bytes().rstrip() + f"\n\nCopy {i}.\n".encode())
        done = subprocess.run([str(BIN / "newsetl"), "run", "--seeds", str(seeds), "--db", str(db)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]

    def files() -> tuple[int, int]:
        con = connect(db, read_only=True)
        try:
            return data_files(con)[0], con.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            con.close()

    before, articles = files()
    dep, final = serve_once(prefect_server, "nightly", "--cron", "0 * * * *", "--compact-cron", "15 2 * * *",
                            "--timezone", "Europe/Paris", "--seeds", str(seeds), "--db", str(db),
                            flow="newsetl-compact")
    schedule = dep.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("15 2 * * *", "Europe/Paris")
    assert dep.parameters == {"db_path": str(db.resolve()), "data_path": None}
    assert final == "COMPLETED"
    after, articles_after = files()
    assert after < before, (before, after)
    assert articles_after == articles == 4

