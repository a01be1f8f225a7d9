"""A run with nothing to do, found out before Prefect starts.

Most scheduled runs find every file as it was loaded. Inside the flow such a run checks and
loads nothing (``flows.pipeline``), but from the shell it would still pay for Prefect's
temporary API server, the imports of Prefect and Great Expectations and a flow run: about ten
seconds to learn that nothing changed. ``newsetl run`` asks here first: the files are found,
stat'ed and (those that stat otherwise than when loaded) hashed as the flow would, and compared
with what the warehouse holds, read-only. When
every file is loaded with these very bytes (or set aside with them by this extractor) and none
is gone, back or turned away, the run is recorded in the warehouse as the flow records an idle
run (its ``runs`` row, under the run lock, with upkeep and the report) but without a Prefect
flow run; ``runs.flow_run_id`` stays NULL. Anything else, or any doubt (an error here), and
the real flow runs and says what is wrong.
"""

from __future__ import annotations

import logging

from flows import io
from flows.batches import RunPlan, plan_run
from flows.extract import extractor_version
from flows.runbook import RunBook, RunSummary
from flows.settings import RunSettings
from transforms.decode import sha256_hex
from transforms.schema import REJECTED_FILES
from warehouse.connection import connect
from warehouse.loader import held_files, known_state
from warehouse.staging import remove_stale

log = logging.getLogger("newsetl.run")


def idle_plan(cfg: RunSettings) -> RunPlan | None:
    """The run's plan if it has nothing to do, else None."""
    if cfg.full_refresh or not cfg.location.exists():
        return None
    found = io.discover(cfg.seeds_dir, cfg.follow_symlinks)
    if found.refused or not found.paths:
        return None  # rejections to record, or an empty folder to warn about: the flow does that
    con = connect(cfg.location, read_only=True)
    try:
        if "articles" not in {t for (t,) in con.execute("SHOW TABLES").fetchall()}:
            return None
        known = known_state(con)
        plan = plan_run(cfg, found.paths, known.sha, held_files(con, extractor_version()), known.flagged,
                        found.stats, known.stats)
    finally:
        con.close()
    if not plan.quiet:
        return None
    known = plan.known
    if not known.keys() >= set(found.paths):
        return None  # a new file: no need to read the others to know the run has work
    unread = set(plan.unread)  # stat as when loaded: the bytes are the ones loaded
    for path in found.paths:
        if path in unread:
            continue
        raw = io.read_file(path, cfg.max_bytes)
        if raw.data is None or known.get(path) != sha256_hex(raw.data):
            return None
    return plan


def record_idle(cfg: RunSettings, plan: RunPlan) -> RunSummary:
    """Record the run as the flow records one with nothing to do; raises ``RunFailed`` as it."""
    summary = RunSummary.begin(cfg, None)
    with RunBook(summary, cfg, log, checks=False) as book:
        remove_stale(summary.location.local, shared=summary.location.is_postgres)  # as the flow's staging does
        summary.files_seen = summary.files_skipped = len(plan.present)
        summary.files_held = sum(p in plan.held for p in plan.present)
        book.idle(REJECTED_FILES.empty(), plan)
        summary.notes.append("found before starting Prefect: recorded without a flow run")
    return summary
