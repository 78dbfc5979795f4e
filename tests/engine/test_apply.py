"""migrate apply against real PostgreSQL: fingerprint checks, hazard gate, tracking, failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.apply import ApplyOptions, apply_plan, refused_hazards
from engine.errors import ApplyFailed, HazardRefused, PlanError, PlanMismatch
from engine.plan.model import HazardCode, Severity
from engine.shadow import EmbeddedCluster, ShadowDatabase
from engine.tracking import advisory_lock_key
from tests.engine.applyhelp import dump, fingerprint, migrations, plan_between
from tests.engine.convergence import load
from tests.pgtools import pg_dump_schema, slow_positive_function

MakeDb = Callable[..., ShadowDatabase]
RunSql = Callable[..., list[tuple[Any, ...]]]

ALL = frozenset(HazardCode)


def test_apply_records_tracking_row_and_converges(
    pg_cluster: EmbeddedCluster, make_db: MakeDb
) -> None:
    prod, ref, plan = plan_between(
        pg_cluster, make_db, "CREATE SCHEMA legacy;", "CREATE SCHEMA app; CREATE SCHEMA billing;"
    )
    options = ApplyOptions(allow_hazards=ALL, origin={"commit": "abc123", "pr": "7"})
    result = apply_plan(prod.admin_dsn, plan, options)
    assert result.outcome == "applied"
    assert dump(prod.admin_dsn) == dump(ref.admin_dsn)
    [row] = migrations(prod.admin_dsn)
    assert row["id"] == result.migration_id
    assert row["status"] == "applied"
    assert row["origin"] == {"commit": "abc123", "pr": "7"}
    assert row["error"] is None
    assert row["finished"] is not None
    assert [s["sql"] for s in row["statements"]] == [s.sql for s in plan.statements]
    assert all(s["status"] == "applied" for s in row["statements"])
    assert all(isinstance(s["duration_ms"], float) for s in row["statements"])
    assert {h["code"] for h in row["hazards"]} == {"DATA_LOSS"}


def test_second_apply_of_same_plan_finds_nothing_to_do(
    pg_cluster: EmbeddedCluster, make_db: MakeDb
) -> None:
    prod, _, plan = plan_between(pg_cluster, make_db, "", "CREATE SCHEMA app;")
    assert apply_plan(prod.admin_dsn, plan, ApplyOptions()).outcome == "applied"
    again = apply_plan(prod.admin_dsn, plan, ApplyOptions())
    assert again.outcome == "nothing-to-do"
    assert len(migrations(prod.admin_dsn)) == 1


def test_saved_plan_refused_when_production_changed(
    pg_cluster: EmbeddedCluster, make_db: MakeDb
) -> None:
    prod, _, plan = plan_between(pg_cluster, make_db, "", "CREATE SCHEMA app;")
    load(prod.admin_dsn, "CREATE SCHEMA sneaky;")
    with pytest.raises(PlanMismatch) as caught:
        apply_plan(prod.admin_dsn, plan, ApplyOptions())
    assert caught.value.exit_code == 2
    assert "production changed since the plan was made" in caught.value.message
    assert "changed outside pg-flux" in (caught.value.details or "")
    load(prod.admin_dsn, "DROP SCHEMA sneaky;")  # nothing was applied and no row was written
    assert fingerprint(prod.admin_dsn) == plan.source_fingerprint


def test_mismatch_names_the_migration_that_changed_production(
    pg_cluster: EmbeddedCluster, make_db: MakeDb
) -> None:
    prod, _, first = plan_between(pg_cluster, make_db, "", "CREATE SCHEMA app;")
    ref2 = make_db()
    load(ref2.admin_dsn, "CREATE SCHEMA other;")
    from engine.catalog import inspect_dsn
    from engine.diff.context import PlanOptions
    from engine.plan.build import make_plan

    stale = make_plan(
        inspect_dsn(prod.admin_dsn),
        inspect_dsn(ref2.admin_dsn),
        shadow=pg_cluster,
        options=PlanOptions(),
    )
    apply_plan(prod.admin_dsn, first, ApplyOptions())
    with pytest.raises(PlanMismatch) as caught:
        apply_plan(prod.admin_dsn, stale, ApplyOptions())
    assert "target of migration 1" in (caught.value.details or "")


@pytest.mark.parametrize(
    ("allowed", "fail_on", "refused"),
    [
        pytest.param(frozenset(), None, {"DATA_LOSS"}, id="nothing-allowed"),
        pytest.param(frozenset({HazardCode.DATA_LOSS}), None, set(), id="allowed-by-code"),
        # Dropping an empty schema is a high DATA_LOSS hazard.
        pytest.param(frozenset(), Severity.HIGH, {"DATA_LOSS"}, id="at-threshold"),
        pytest.param(frozenset(), Severity.MEDIUM, {"DATA_LOSS"}, id="above-threshold"),
        pytest.param(frozenset(), Severity.CRITICAL, set(), id="below-threshold"),
    ],
)
def test_hazard_gate_runs_before_anything(
    pg_cluster: EmbeddedCluster,
    make_db: MakeDb,
    allowed: frozenset[HazardCode],
    fail_on: Severity | None,
    refused: set[str],
) -> None:
    prod, _, plan = plan_between(pg_cluster, make_db, "CREATE SCHEMA legacy;", "")
    options = ApplyOptions(allow_hazards=allowed, fail_on=fail_on)
    assert [(h.code.value, h.severity) for h in plan.hazards] == [("DATA_LOSS", Severity.HIGH)]
    assert {h.code.value for _, h in refused_hazards(plan, allowed, fail_on)} == refused
    before = fingerprint(prod.admin_dsn)
    if refused:
        with pytest.raises(HazardRefused) as caught:
            apply_plan(prod.admin_dsn, plan, options)
        assert "DATA_LOSS" in caught.value.message
        assert "--allow-hazards DATA_LOSS" in caught.value.message
        assert fingerprint(prod.admin_dsn) == before
        with pytest.raises(Exception, match="does not exist"):
            migrations(prod.admin_dsn)  # not even the tracking schema was created
    else:
        assert apply_plan(prod.admin_dsn, plan, options).outcome == "applied"


def test_unverified_plan_is_refused(pg_cluster: EmbeddedCluster, make_db: MakeDb) -> None:
    prod, _, plan = plan_between(pg_cluster, make_db, "", "CREATE SCHEMA app;")
    unverified = plan.model_copy(update={"verified": False})
    with pytest.raises(PlanError, match="did not verify"):
        apply_plan(prod.admin_dsn, unverified, ApplyOptions())


def test_dry_run_changes_nothing(pg_cluster: EmbeddedCluster, make_db: MakeDb) -> None:
    prod, _, plan = plan_between(pg_cluster, make_db, "", "CREATE SCHEMA app;")
    before = pg_dump_schema(prod.admin_dsn)
    result = apply_plan(prod.admin_dsn, plan, ApplyOptions(dry_run=True))
    assert result.outcome == "dry-run"
    assert "1 statements would run" in result.message
    assert pg_dump_schema(prod.admin_dsn) == before  # no tracking schema either


def test_failing_transactional_group_rolls_back_and_is_recorded(
    pg_cluster: EmbeddedCluster, make_db: MakeDb, run_sql: RunSql
) -> None:
    prod, _, plan = plan_between(
        pg_cluster, make_db, "", "CREATE SCHEMA app; CREATE TABLE app.t (id int);"
    )
    # Production gains an object the plan does not know about in a schema it does not inspect,
    # so the fingerprint still matches but the second statement's target is taken.
    run_sql(prod.admin_dsn, "CREATE SCHEMA _pgflux_side")
    bad = plan.model_copy(
        update={
            "statements": (
                plan.statements[0],
                plan.statements[1].model_copy(update={"sql": "CREATE TABLE app.t (id nope)"}),
            )
        }
    )
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(
            prod.admin_dsn, bad, ApplyOptions(), excluded_schemas=("_pgflux", "_pgflux_side")
        )
    assert 'type "nope" does not exist' in caught.value.message
    assert "rolled back" in (caught.value.details or "")
    assert run_sql(prod.admin_dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'") == [
        (0,)
    ]
    [row] = migrations(prod.admin_dsn)
    assert row["status"] == "failed"
    assert 'type "nope" does not exist' in row["error"]
    assert [s["status"] for s in row["statements"]] == ["rolled_back", "failed"]


def test_lock_timeout_retries_then_names_the_blocker(
    pg_cluster: EmbeddedCluster, make_db: MakeDb
) -> None:
    import psycopg

    prod, _, plan = plan_between(
        pg_cluster,
        make_db,
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int, note text);",
    )
    plan = plan.model_copy(
        update={
            "statements": tuple(
                s.model_copy(update={"lock_timeout_ms": 100}) for s in plan.statements
            )
        }
    )
    with psycopg.connect(prod.admin_dsn) as blocker:
        blocker.execute("SELECT * FROM t")  # holds ACCESS SHARE until the transaction ends
        blocker_pid = blocker.info.backend_pid
        with pytest.raises(ApplyFailed) as caught:
            apply_plan(prod.admin_dsn, plan, ApplyOptions(lock_retries=2, retry_backoff_s=0.05))
        blocker.rollback()
    message = caught.value.message
    assert "lock_timeout after 3 attempts" in message
    assert f"pid {blocker_pid}" in message
    assert "SELECT * FROM t" in message
    [row] = migrations(prod.admin_dsn)
    assert row["status"] == "failed"
    assert "lock_timeout" in row["error"]
    # Without the blocker the same plan applies.
    assert apply_plan(prod.admin_dsn, plan, ApplyOptions()).outcome == "applied"


def test_lock_timeout_retry_succeeds_when_blocker_goes(
    pg_cluster: EmbeddedCluster, make_db: MakeDb
) -> None:
    import threading

    import psycopg

    prod, ref, plan = plan_between(
        pg_cluster, make_db, "CREATE TABLE t (id int);", "CREATE TABLE t (id int, note text);"
    )
    plan = plan.model_copy(
        update={
            "statements": tuple(
                s.model_copy(update={"lock_timeout_ms": 100}) for s in plan.statements
            )
        }
    )
    blocker = psycopg.connect(prod.admin_dsn)
    blocker.execute("SELECT * FROM t")
    release = threading.Timer(0.3, blocker.rollback)
    release.start()
    try:
        result = apply_plan(
            prod.admin_dsn, plan, ApplyOptions(lock_retries=10, retry_backoff_s=0.1)
        )
    finally:
        release.join()
        blocker.close()
    assert result.outcome == "applied"
    assert dump(prod.admin_dsn) == dump(ref.admin_dsn)


SLOW_POSITIVE = slow_positive_function(3) + "CREATE TABLE t (id int PRIMARY KEY, n int);"


@pytest.mark.parametrize(
    "constraint",
    [
        "ALTER TABLE t ADD CONSTRAINT n_ok CHECK (slow_positive(n));",
        # SET NOT NULL's own CHECK scans plainly; the slow one beside it keeps the scan long.
        "ALTER TABLE t ADD CONSTRAINT n_ok CHECK (slow_positive(n));"
        " ALTER TABLE t ALTER n SET NOT NULL;",
    ],
    ids=["check", "check-and-not-null"],
)
def test_writes_go_on_while_a_constraint_validates(
    pg_cluster: EmbeddedCluster, make_db: MakeDb, run_sql: RunSql, constraint: str
) -> None:
    """VALIDATE runs in its own transaction: the ADD's ACCESS EXCLUSIVE lock is gone by then."""
    import threading
    import time

    prod, ref, plan = plan_between(
        pg_cluster,
        make_db,
        SLOW_POSITIVE,
        SLOW_POSITIVE + constraint,
        data="INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;",
    )
    validating = [s for s in plan.statements if "VALIDATE CONSTRAINT n_ok" in s.sql]
    assert [s.transactional for s in validating] == [False]
    outcome: list[object] = []
    applying = threading.Thread(
        target=lambda: outcome.append(
            apply_plan(prod.admin_dsn, plan, ApplyOptions(allow_hazards=ALL))
        )
    )
    applying.start()
    try:
        deadline = time.monotonic() + 30
        active = (
            "SELECT pid FROM pg_stat_activity WHERE query LIKE '%VALIDATE CONSTRAINT n_ok%'"
            " AND state = 'active' AND pid <> pg_backend_pid()"
        )
        while not (pids := run_sql(prod.admin_dsn, active)):
            assert time.monotonic() < deadline, "VALIDATE never started"
            time.sleep(0.05)
        [(pid,)] = pids
        held = run_sql(
            prod.admin_dsn,
            "SELECT mode FROM pg_locks WHERE pid = %s AND relation = 'public.t'::regclass",
            (pid,),
        )
        assert ("AccessExclusiveLock",) not in held, held
        # A write is not kept waiting by the validating scan.
        run_sql(prod.admin_dsn, "SET lock_timeout = 1000; INSERT INTO t VALUES (1000, 5)")
    finally:
        applying.join(timeout=60)
    [result] = outcome
    assert getattr(result, "outcome", None) == "applied"
    run_sql(prod.admin_dsn, "DELETE FROM t WHERE id = 1000")
    assert dump(prod.admin_dsn) == dump(ref.admin_dsn)


def test_advisory_lock_key_is_stable_and_per_schema() -> None:
    assert advisory_lock_key("_pgflux") == advisory_lock_key("_pgflux")
    assert advisory_lock_key("_pgflux") != advisory_lock_key("other")
    assert -(2**63) <= advisory_lock_key("_pgflux") < 2**63
