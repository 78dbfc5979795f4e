"""Inspection over several connections: the same model as one connection, one snapshot for all
of them, errors raised in the caller, and the families spread over the lanes."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from engine import verify
from engine.catalog import InspectStats, families_for_comparing, inspect_dsn
from engine.catalog.runner import (
    FAMILY_WEIGHT,
    SAME_LANE,
    _export_snapshot,
    _run_lane,
    assign_lanes,
    available_families,
    run_catalog_queries,
)
from engine.diff.context import PlanOptions
from engine.model.schema import Schema
from engine.plan.planner import plan_statements
from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests.engine.convergence import load

SCHEMA = """
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('ok', 'sad');
CREATE TABLE app.parent (id bigint PRIMARY KEY, mood app.mood NOT NULL DEFAULT 'ok');
CREATE TABLE app.child (id bigint PRIMARY KEY, parent_id bigint REFERENCES app.parent (id),
    amount numeric(10, 2) CHECK (amount > 0));
CREATE INDEX child_amount ON app.child (amount) WHERE amount > 10;
CREATE VIEW app.big AS SELECT id, amount FROM app.child WHERE amount > 100;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER child_touch BEFORE UPDATE ON app.child FOR EACH ROW EXECUTE FUNCTION app.touch();
COMMENT ON TABLE app.child IS 'children';
"""


@pytest.mark.parametrize("connections", [2, 3, 20])
def test_several_connections_give_the_model_of_one(db: ShadowDatabase, connections: int) -> None:
    load(db.admin_dsn, SCHEMA)
    one_stats, many_stats = InspectStats(), InspectStats()
    one = inspect_dsn(db.admin_dsn, connections=1, stats=one_stats)
    many = inspect_dsn(db.admin_dsn, connections=connections, stats=many_stats)
    assert many.to_json() == one.to_json()
    assert many == one
    assert len(one.tables) == 2
    assert len(one.dependencies) > 0
    # the catalog queries are the same statements, whatever the number of connections
    assert sorted(many_stats.queries) == sorted(one_stats.queries) == available_families()


def test_helpers_read_the_first_connections_snapshot(db: ShadowDatabase) -> None:
    load(db.admin_dsn, SCHEMA)
    with (
        psycopg.connect(db.admin_dsn) as main,
        psycopg.connect(db.admin_dsn) as helper,
        psycopg.connect(db.admin_dsn, autocommit=True) as writer,
        main.transaction(),
    ):
        main.execute(b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = _export_snapshot(main)
        assert snapshot
        # committed after the export: the helper must not see it
        writer.execute(b"CREATE TABLE app.later (id integer)")
        results: queue.Queue[tuple[str, str | None] | BaseException] = queue.Queue()
        _run_lane(helper, ["tables"], {"excluded_schemas": ["_pgflux"]}, snapshot, results)
        item = results.get_nowait()
        assert not isinstance(item, BaseException), item
        assert item[1] is not None
        seen = Schema.model_validate_json(item[1])
    assert {t.name for t in seen.tables} == {"parent", "child"}
    assert "later" in {t.name for t in inspect_dsn(db.admin_dsn).tables}


def test_a_failing_family_raises_in_the_caller_and_frees_every_connection(
    db: ShadowDatabase,
) -> None:
    load(db.admin_dsn, SCHEMA)
    with psycopg.connect(db.admin_dsn) as main, psycopg.connect(db.admin_dsn) as helper:
        with pytest.raises(FileNotFoundError, match="no_such_family"):
            run_catalog_queries(
                main, families=["tables", "no_such_family", "views"], helpers=[helper]
            )
        # both connections are out of the inspection's transaction and usable
        for conn in (main, helper):
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert conn.execute(b"SELECT 1").fetchone() == (1,)


def test_a_server_error_in_a_helper_lane_is_raised(db: ShadowDatabase) -> None:
    load(db.admin_dsn, SCHEMA)
    with psycopg.connect(db.admin_dsn) as main, psycopg.connect(db.admin_dsn) as helper:
        # a helper that cannot import the snapshot (it is already in a transaction) fails
        helper.execute(b"SELECT 1")
        with pytest.raises(psycopg.Error):
            run_catalog_queries(main, helpers=[helper])
        assert main.execute(b"SELECT 1").fetchone() == (1,)


def test_lanes_take_every_family_once_heaviest_spread() -> None:
    names = available_families()
    grouped = set().union(*SAME_LANE)
    units = len(SAME_LANE) + len([n for n in names if n not in grouped])
    for count in (1, 2, 3, len(names) + 5):
        lanes = assign_lanes(names, count)
        assert sorted(n for lane in lanes for n in lane) == sorted(names)
        assert len(lanes) == min(count, units)
        for group in SAME_LANE:
            assert sum(1 for lane in lanes if group & set(lane)) == 1
    heavy = sorted(FAMILY_WEIGHT, key=lambda n: -FAMILY_WEIGHT[n])[:2]
    two = assign_lanes(names, 2)
    # the two heaviest families run side by side, not one after the other
    assert not any(set(heavy) <= set(lane) for lane in two)


def test_a_refused_second_connection_leaves_inspection_on_one(
    db: ShadowDatabase,
    run_sql: Callable[..., list[tuple[Any, ...]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    load(db.admin_dsn, SCHEMA)
    role = f"one_conn_{db.name}"[:60]
    run_sql(db.admin_dsn, f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')
    dsn = make_conninfo(db.admin_dsn, user=role)
    try:
        with caplog.at_level(logging.WARNING, logger="engine.catalog"):
            limited = inspect_dsn(dsn, connections=2)
        assert "inspection continues on 1 connection(s)" in caplog.text
        assert limited.to_json() == inspect_dsn(db.admin_dsn, connections=1).to_json()
    finally:
        run_sql(db.admin_dsn, f'DROP ROLE "{role}"')


def test_comparing_reads_everything_but_the_dependencies(db: ShadowDatabase) -> None:
    load(db.admin_dsn, SCHEMA)
    full_stats, compared_stats = InspectStats(), InspectStats()
    full = inspect_dsn(db.admin_dsn, stats=full_stats)
    compared = inspect_dsn(db.admin_dsn, families=families_for_comparing(), stats=compared_stats)
    assert full.dependencies
    assert compared.dependencies == ()
    assert compared == full.model_copy(update={"dependencies": ()})
    assert compared_stats.statements == full_stats.statements - 1


def test_verification_inspects_the_shadow_without_dependencies(
    db: ShadowDatabase, pg_cluster: EmbeddedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its two inspections (the rebuilt current schema, the result of the plan) only compare."""
    load(db.admin_dsn, SCHEMA)
    current = inspect_dsn(db.admin_dsn)
    desired = current.model_copy(
        update={"tables": tuple(t.model_copy(update={"comment": "x"}) for t in current.tables)}
    )
    asked: list[Sequence[str] | None] = []
    real = verify.inspect_dsn

    def recording(dsn: str, **kwargs: Any) -> Schema:
        asked.append(kwargs.get("families"))
        return real(dsn, **kwargs)

    monkeypatch.setattr(verify, "inspect_dsn", recording)
    statements = plan_statements(current, desired, PlanOptions())
    assert verify.verify_plan(pg_cluster, current, desired, statements, PlanOptions()) == []
    compared = [families for families in asked if families is not None]
    assert compared == [families_for_comparing()] * 2
