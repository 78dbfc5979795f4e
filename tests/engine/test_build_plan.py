"""The planning pipeline end to end: schema/ in the shadow, production inspected, plan verified."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from engine.cli import main
from engine.errors import ConnectionFailed, SchemaLoadError
from engine.plan.build import build_plan
from engine.shadow import EmbeddedCluster, Shadow, ShadowDatabase
from tests.engine.convergence import load


def _schema_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "schema"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_build_plan_verifies(
    tmp_path: Path, db: ShadowDatabase, pg_cluster: EmbeddedCluster
) -> None:
    load(db.admin_dsn, "CREATE SCHEMA legacy;")
    schema_dir = _schema_dir(tmp_path, {"00_app.sql": "CREATE SCHEMA app;"})
    result = build_plan(schema_dir, db.admin_dsn, shadow=pg_cluster)
    plan = result.plan
    assert [s.sql for s in plan.statements] == ["DROP SCHEMA legacy", "CREATE SCHEMA app"]
    assert plan.verified, plan.verification_errors
    assert plan.source_fingerprint == result.current.fingerprint()
    assert plan.target_fingerprint == result.desired.fingerprint()
    assert plan.fingerprint.startswith("sha256:")


def test_plan_is_deterministic(
    tmp_path: Path, db: ShadowDatabase, pg_cluster: EmbeddedCluster
) -> None:
    schema_dir = _schema_dir(tmp_path, {"a.sql": "CREATE SCHEMA a;", "b.sql": "CREATE SCHEMA b;"})
    first = build_plan(schema_dir, db.admin_dsn, shadow=pg_cluster).plan
    second = build_plan(schema_dir, db.admin_dsn, shadow=pg_cluster).plan
    assert first == second


def test_cli_plan_json_and_exit_codes(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;"})
    args = ["plan", "--dsn", db.admin_dsn, "--schema-dir", str(schema_dir)]
    assert main([*args, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "pgflux.plan/v1"
    assert document["verified"] is True
    assert [s["sql"] for s in document["statements"]] == ["CREATE SCHEMA app"]
    assert document["statements"][0]["object"] == {"kind": "schema", "schema": None, "name": "app"}
    assert main([*args, "--exit-code"]) == 1
    capsys.readouterr()
    load(db.admin_dsn, "CREATE SCHEMA app;")
    assert main([*args, "--exit-code"]) == 0
    assert "No changes" in capsys.readouterr().out


def test_cli_load_error_names_file_line(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = _schema_dir(
        tmp_path, {"t.sql": "CREATE SCHEMA app;\nCREATE TABLE app.t (id nope);\n"}
    )
    assert main(["plan", "--dsn", db.admin_dsn, "--schema-dir", str(schema_dir)]) == 2
    err = capsys.readouterr().err
    assert "t.sql:2:" in err
    assert 'type "nope" does not exist' in err


def test_cli_unreachable_production_is_exit_2_without_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;"})
    dsn = "postgresql://someone:s3cretpw@127.0.0.1:1/nowhere?connect_timeout=2"
    assert main(["plan", "--dsn", dsn, "--schema-dir", str(schema_dir)]) == 2
    err = capsys.readouterr().err
    assert "could not connect to production" in err
    assert "s3cretpw" not in err


def _closed_port_dsn() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"host=127.0.0.1 port={port} dbname=prod user=nobody connect_timeout=5"


def test_a_schema_error_wins_over_an_unreachable_production(
    tmp_path: Path, pg_cluster: EmbeddedCluster
) -> None:
    # production is inspected while schema/ is parsed and loaded: the schema's own error is
    # still the one reported, as when the parse came first
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;\nCREATE TABLE (;\n"})
    with pytest.raises(SchemaLoadError) as info:
        build_plan(schema_dir, _closed_port_dsn(), shadow=pg_cluster)
    assert "app.sql:2" in str(info.value)


def test_an_unreachable_production_is_reported_after_a_good_parse(
    tmp_path: Path, pg_cluster: EmbeddedCluster
) -> None:
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;"})
    with pytest.raises(ConnectionFailed, match="could not inspect production"):
        build_plan(schema_dir, _closed_port_dsn(), shadow=pg_cluster)


def test_production_is_read_on_one_connection(
    tmp_path: Path,
    db: ShadowDatabase,
    pg_cluster: EmbeddedCluster,
    run_sql: Callable[..., list[tuple[Any, ...]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A role that may hold one connection: a second one reading production beside the load
    # would be refused, and inspection would say so and go on with one.
    load(db.admin_dsn, "CREATE SCHEMA legacy;")
    role = f"one_conn_{db.name}"[:60]
    run_sql(db.admin_dsn, f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')
    try:
        schema_dir = _schema_dir(tmp_path, {"00_app.sql": "CREATE SCHEMA app;"})
        with caplog.at_level(logging.WARNING, logger="engine.catalog"):
            plan = build_plan(
                schema_dir, make_conninfo(db.admin_dsn, user=role), shadow=pg_cluster
            ).plan
        assert "inspection continues on 1 connection(s)" not in caplog.text
        assert [s.sql for s in plan.statements] == ["DROP SCHEMA legacy", "CREATE SCHEMA app"]
    finally:
        run_sql(db.admin_dsn, f'DROP ROLE "{role}"')


class _RecordingShadow(Shadow):
    """The test cluster, recording which databases are created and dropped, in order."""

    def __init__(self, cluster: EmbeddedCluster) -> None:
        self.cluster = cluster
        self.server_version_num = cluster.server_version_num
        self.events: list[tuple[str, str]] = []

    def create_database(self, *, template: str | None = None) -> ShadowDatabase:
        db = self.cluster.create_database(template=template)
        self.events.append(("create", db.name))
        return db

    def drop_database(self, db: ShadowDatabase) -> None:
        self.events.append(("drop", db.name))
        self.cluster.drop_database(db)

    def ensure_roles(self, names: Iterable[str]) -> None:
        self.cluster.ensure_roles(names)

    def close(self) -> None:  # the session's cluster outlives the test
        pass


def test_the_loaded_database_is_dropped_while_the_plan_verifies(
    tmp_path: Path, db: ShadowDatabase, pg_cluster: EmbeddedCluster
) -> None:
    """Once the desired schema is read, the database it was loaded into is dropped on a
    background thread during verification (a 10,000-table one takes 0.8 s to drop), before
    verification's own scratch database; every database is dropped by the end."""
    load(db.admin_dsn, "CREATE TABLE public.t (id int PRIMARY KEY);")
    schema_dir = _schema_dir(
        tmp_path, {"t.sql": "CREATE TABLE public.t (id int PRIMARY KEY, note text);"}
    )
    shadow = _RecordingShadow(pg_cluster)
    plan = build_plan(schema_dir, db.admin_dsn, shadow=shadow).plan
    assert plan.verified, plan.verification_errors
    created = [name for event, name in shadow.events if event == "create"]
    loaded, scratch = created[0], created[1]  # schema/'s database, then verification's
    drops = [name for event, name in shadow.events if event == "drop"]
    assert drops.index(loaded) < drops.index(scratch)
    assert set(drops) == set(created)
    with psycopg.connect(db.admin_dsn) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = ANY(%s)", (created,)
        ).fetchone()
    assert left == (0,)
