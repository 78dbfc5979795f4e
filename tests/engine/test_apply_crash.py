"""Apply under fire: two processes at once, and a process killed (SIGKILL, or its backend
terminated) at each step of a multi-group plan; the rerun must converge and the tracking table
must tell the truth."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engine.apply import ApplyOptions, apply_plan
from engine.catalog import inspect_dsn
from engine.cli import main
from engine.diff.context import PlanOptions
from engine.plan.build import make_plan
from engine.plan.model import HazardCode, Plan
from engine.shadow import EmbeddedCluster, ShadowDatabase
from engine.tracking import advisory_lock_key, read_migrations
from tests.engine.applyhelp import dump, migrations, plan_between

MakeDb = Callable[..., ShadowDatabase]

BEFORE = "CREATE TABLE t (id int);"
AFTER = "CREATE TABLE t (id int, note text); CREATE INDEX t_id ON t (id); CREATE SCHEMA app;"
DATA = "INSERT INTO t SELECT generate_series(1, 1000);"
# Generous: only bounds a hang, never asserts a duration.
DEADLINE_S = 120


def _wait_forever(plan: Plan) -> Plan:
    """The same plan with lock_timeout off, so a blocked statement waits until the test acts."""
    return plan.model_copy(
        update={
            "statements": tuple(
                s.model_copy(update={"lock_timeout_ms": 0}) for s in plan.statements
            )
        }
    )


def _start_apply(tmp_path: Path, dsn: str, plan: Plan, name: str) -> subprocess.Popen[str]:
    plan_file = tmp_path / f"{name}.json"
    plan_file.write_text(plan.model_dump_json(by_alias=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "migrate",
            "apply",
            "--plan",
            str(plan_file),
            "--dsn",
            dsn,
            "--allow-hazards",
            "INDEX_BUILD,NON_TRANSACTIONAL",
            "--lock-retries",
            "0",
            "--log-format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _poll(dsn: str, sql: str, params: Any = None) -> Any:
    """Wait until `sql` returns a row; that row's first value."""
    deadline = time.monotonic() + DEADLINE_S
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(sql, params).fetchone()
            if row is not None:
                return row[0]
            time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {sql}")


def _blocked_in(dsn: str, prefix: str) -> int:
    """The pid of the apply backend once it waits on a lock inside a statement `prefix...`."""
    pid: int = _poll(
        dsn,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND query LIKE %s AND wait_event_type = 'Lock'",
        (prefix + "%",),
    )
    return pid


def _gone(dsn: str, pid: int) -> None:
    _poll(dsn, "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", (pid,))


@pytest.mark.parametrize("how", ["sigkill", "terminate"])
@pytest.mark.parametrize("step", ["alter-table", "create-index-concurrently"])
def test_killed_apply_is_repaired_by_the_next(
    tmp_path: Path,
    pg_cluster: EmbeddedCluster,
    make_db: MakeDb,
    capsys: pytest.CaptureFixture[str],
    how: str,
    step: str,
) -> None:
    prod, ref, plan = plan_between(pg_cluster, make_db, BEFORE, AFTER, data=DATA)
    sqls = [s.sql for s in plan.statements]
    assert [s.transactional for s in plan.statements] == [True, True, False], sqls
    blocker = psycopg.connect(prod.admin_dsn)
    if step == "alter-table":
        blocker.execute("LOCK TABLE t IN ACCESS SHARE MODE")  # ALTER TABLE waits for it
        prefix = "ALTER TABLE"
    else:
        # An old snapshot: the concurrent build waits for it after creating the (invalid) index.
        blocker.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        blocker.execute("SELECT 1")
        prefix = "CREATE INDEX CONCURRENTLY"
    proc = _start_apply(tmp_path, prod.admin_dsn, _wait_forever(plan), "plan")
    try:
        pid = _blocked_in(prod.admin_dsn, prefix)
        seen = ""
        if step == "create-index-concurrently" and how == "terminate":
            # The waiting build's progress is logged (JSON on stderr) before we kill it.
            assert proc.stderr is not None
            while '"event": "index.progress"' not in seen:
                line = proc.stderr.readline()
                assert line, seen
                seen += line
            assert "waiting for old snapshots" in seen
        if how == "sigkill":
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=DEADLINE_S)
        else:
            with psycopg.connect(prod.admin_dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            assert proc.wait(timeout=DEADLINE_S) == 2
            assert proc.stderr is not None
            err = proc.stderr.read()
            assert "migration 1 failed" in err
    finally:
        blocker.rollback()
        blocker.close()
        if proc.poll() is None:
            proc.kill()
    _gone(prod.admin_dsn, pid)
    # The session advisory lock died with the backend.
    with psycopg.connect(prod.admin_dsn, autocommit=True) as conn:
        key = advisory_lock_key("_pgflux")
        assert conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() == (True,)
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        [row] = read_migrations(conn, "_pgflux")
    statuses = [s["status"] for s in row.statements]
    if step == "alter-table":
        expected_first = ["pending", "pending"] if how == "sigkill" else ["rolled_back", "failed"]
        assert statuses == [*expected_first, "pending"]
    else:
        assert statuses[:2] == ["applied", "applied"]
        assert statuses[2] == ("pending" if how == "sigkill" else "failed")
    if how == "sigkill":
        assert row.status == "running"
        assert row.abandoned
        assert row.shown_status == "abandoned"
        capsys.readouterr()
        assert main(["migrate", "status", "--dsn", prod.admin_dsn]) == 0
        shown = capsys.readouterr().out
        assert "abandoned" in shown
        assert f"left running by a dead process (backend pid {pid})" in shown
    else:
        assert row.status == "failed"
        assert not row.abandoned
    # A SIGKILLed client is not noticed by a backend waiting on a lock: the build may finish
    # after the blocker goes, and the row stays `running` (shown as abandoned) either way.
    # The rerun plans again from what production is now, and repairs it.
    current = inspect_dsn(prod.admin_dsn)
    invalid_left = step == "create-index-concurrently" and how == "terminate"
    if invalid_left:
        [index] = [i for i in current.indexes if i.name == "t_id"]
        assert index.valid is False  # the interrupted build left an INVALID index
    repair = make_plan(
        current, inspect_dsn(ref.admin_dsn), shadow=pg_cluster, options=PlanOptions()
    )
    assert repair.verified, repair.verification_errors
    if invalid_left:
        assert any(s.sql.startswith("DROP INDEX") for s in repair.statements), repair.statements
    result = apply_plan(prod.admin_dsn, repair, ApplyOptions(allow_hazards=frozenset(HazardCode)))
    # Only a SIGKILLed concurrent build can have finished on its own: then nothing is left.
    finished_alone = repair.is_empty
    assert finished_alone == (how == "sigkill" and step == "create-index-concurrently")
    assert result.outcome == ("nothing-to-do" if finished_alone else "applied")
    assert dump(prod.admin_dsn) == dump(ref.admin_dsn)
    again = make_plan(
        inspect_dsn(prod.admin_dsn), inspect_dsn(ref.admin_dsn), shadow=None, options=PlanOptions()
    )
    assert again.is_empty
    rows = migrations(prod.admin_dsn)
    assert [r["status"] for r in rows] == (["failed"] if finished_alone else ["failed", "applied"])
    if how == "sigkill":
        assert "abandoned" in rows[0]["error"]


def test_two_concurrent_applies_run_once(
    tmp_path: Path, pg_cluster: EmbeddedCluster, make_db: MakeDb
) -> None:
    prod, ref, plan = plan_between(pg_cluster, make_db, BEFORE, AFTER, data=DATA)
    saved = _wait_forever(plan)
    blocker = psycopg.connect(prod.admin_dsn)
    blocker.execute("LOCK TABLE t IN ACCESS SHARE MODE")
    first = _start_apply(tmp_path, prod.admin_dsn, saved, "first")
    second: subprocess.Popen[str] | None = None
    try:
        _blocked_in(prod.admin_dsn, "ALTER TABLE")
        second = _start_apply(tmp_path, prod.admin_dsn, saved, "second")
        # The second polls for the session advisory lock the first holds: its JSON log says so.
        assert second.stderr is not None
        line = second.stderr.readline()
        assert '"event": "lock.wait"' in line, line
    finally:
        blocker.rollback()
        blocker.close()
    out_first, err_first = first.communicate(timeout=DEADLINE_S)
    assert second is not None
    out_second, err_second = second.communicate(timeout=DEADLINE_S)
    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert "migration 1: applied 3 statements" in out_first
    assert "nothing to do" in out_second
    assert [r["status"] for r in migrations(prod.admin_dsn)] == ["applied"]
    assert dump(prod.admin_dsn) == dump(ref.admin_dsn)
