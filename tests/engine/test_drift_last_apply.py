"""`pg-flux drift` without schema/: production against the model the last apply left it in.

Every apply stores production's model right after it (`result_model`); drift inspects
production, plans back to that model and reports the objects that differ and the SQL. Rows and
tables written by an earlier pg-flux fall back to comparing fingerprints, saying why.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from engine import dsn as dsnlib
from engine import tracking
from engine.apply import ApplyOptions, apply_plan
from engine.catalog import inspect_dsn
from engine.cli import main
from engine.pgbin import find_postgres_bin
from engine.plan.model import Plan
from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests import conftest
from tests.engine.applyhelp import plan_between
from tests.engine.convergence import load

READONLY = "pgflux_readonly"
GRANTEE = "drift_app_reader"

# The tracking layout pg-flux wrote before result_model existed (layout 1), verbatim.
LAYOUT_1 = """
CREATE SCHEMA _pgflux;
CREATE TABLE _pgflux.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE _pgflux.migrations (
 id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
 plan_fingerprint text NOT NULL,
 source_fingerprint text NOT NULL,
 target_fingerprint text NOT NULL,
 result_fingerprint text,
 statements jsonb NOT NULL DEFAULT '[]',
 hazards jsonb NOT NULL DEFAULT '[]',
 status text NOT NULL CHECK (status IN ('running', 'applied', 'failed')),
 started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
 finished_at timestamptz,
 applied_by text NOT NULL DEFAULT current_user,
 backend_pid integer NOT NULL DEFAULT pg_backend_pid(),
 origin jsonb NOT NULL DEFAULT '{}',
 error text);
INSERT INTO _pgflux.meta (key, value) VALUES ('layout_version', '1');
"""

SCHEMA = f"""
CREATE SCHEMA app;
CREATE TABLE app.t (id int PRIMARY KEY, note text);
CREATE INDEX t_note_idx ON app.t (note);
GRANT SELECT ON app.t TO {GRANTEE};
-- The read-only role's grants on the managed schemas are part of the schema.
GRANT USAGE ON SCHEMA public TO {READONLY};
GRANT USAGE ON SCHEMA app TO {READONLY};
"""


def _ensure_role(dsn: str, role: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            conn.execute(f"CREATE ROLE {role} WITH LOGIN")


def _schema_dir(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "schema"
    root.mkdir()
    (root / "app.sql").write_text(text, encoding="utf-8")
    return root


def _common(dsn: str, db: ShadowDatabase) -> list[str]:
    # The session cluster serves as the shadow server.
    return ["--dsn", dsn, "--shadow", dsnlib.with_dbname(db.admin_dsn, "postgres")]


def _readonly_dsn(db: ShadowDatabase) -> str:
    """The README's read-only role with exactly its grants (plus USAGE on schema app)."""
    _ensure_role(db.admin_dsn, READONLY)
    load(
        db.admin_dsn,
        f"GRANT USAGE ON SCHEMA public TO {READONLY};"
        f"GRANT USAGE ON SCHEMA _pgflux TO {READONLY};"
        f"GRANT SELECT ON _pgflux.migrations TO {READONLY};"
        f"GRANT USAGE ON SCHEMA app TO {READONLY};",
    )
    return dsnlib.with_params(db.admin_dsn, user=READONLY)


def _psql(dsn: str, script: Path) -> None:
    pgbin = conftest.session_pgbin() or find_postgres_bin()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    res = subprocess.run(
        [str(pgbin.tool("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), dsn],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr


def _column(dsn: str, query: str) -> list[object]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute(query.encode()).fetchall()]


def test_drift_lists_hand_changes_and_its_sql_reconciles(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    _ensure_role(db.admin_dsn, GRANTEE)
    _ensure_role(db.admin_dsn, READONLY)
    schema_dir = _schema_dir(tmp_path, SCHEMA)
    apply = ["migrate", "apply", *_common(db.admin_dsn, db), "--schema-dir", str(schema_dir)]
    assert main([*apply, "--allow-hazards", "AUTHZ_CHANGE"]) == 0
    capsys.readouterr()
    # The row holds production's model right after the apply: its fingerprint is the result's.
    with psycopg.connect(db.admin_dsn) as conn:
        [last] = tracking.read_migrations(conn, "_pgflux")
        stored = tracking.read_result_model(conn, "_pgflux", last)
    assert stored.model is not None
    assert stored.missing is None
    assert (
        stored.model.fingerprint()
        == last.result_fingerprint
        == inspect_dsn(db.admin_dsn).fingerprint()
    )

    reader = _common(_readonly_dsn(db), db)
    assert main(["drift", *reader]) == 0
    assert capsys.readouterr().out == "No drift: the database matches the target of migration 1.\n"
    # By hand, outside pg-flux: a column added, an index dropped, a grant changed.
    load(
        db.admin_dsn,
        "ALTER TABLE app.t ADD COLUMN hotfix int; DROP INDEX app.t_note_idx;"
        f" GRANT INSERT ON app.t TO {GRANTEE};",
    )

    code = main(["drift", *reader])
    out, err = capsys.readouterr()
    assert code == 1, err
    head, _, sql_part = out.partition("\nThe SQL that reconciles:\n")
    lines = head.splitlines()
    assert lines[0].startswith("Drift: 3 objects differ from what migration 1 left (")
    assert sorted(line.strip() for line in lines[1:] if line.strip()) == [
        "column app.t.hotfix: in production only",
        "index app.t_note_idx: missing from production",
        "table app.t: differs in acl",
    ]
    assert "verified in the shadow" in sql_part
    assert "ALTER TABLE app.t DROP COLUMN hotfix" in sql_part
    assert "CREATE INDEX CONCURRENTLY t_note_idx ON app.t (note)" in sql_part
    assert f"REVOKE INSERT ON TABLE app.t FROM {GRANTEE}" in sql_part

    # JSON: the plan artifact, with the objects each statement changes.
    assert main(["drift", *reader, "--format", "json"]) == 1
    plan = Plan.model_validate_json(capsys.readouterr().out)
    assert plan.verified
    assert {(s.object.kind, s.object.name) for s in plan.statements} == {
        ("column", "t.hotfix"),
        ("index", "t_note_idx"),
        ("table", "t"),
    }
    assert plan.target_fingerprint == last.result_fingerprint

    # The SQL as psql runs it puts production back; a second drift finds nothing.
    script = tmp_path / "reconcile.sql"
    assert main(["drift", *reader, "--format", "sql"]) == 1
    script.write_text(capsys.readouterr().out, encoding="utf-8")
    _psql(db.admin_dsn, script)
    assert inspect_dsn(db.admin_dsn).fingerprint() == last.result_fingerprint
    assert main(["drift", *reader]) == 0
    assert capsys.readouterr().out.startswith("No drift")
    assert main(["drift", *reader, "--format", "json"]) == 0
    assert Plan.model_validate_json(capsys.readouterr().out).is_empty


def test_old_tracking_table_falls_back_then_is_upgraded_in_place(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    # Production as an earlier pg-flux left it: layout 1, one applied row, no model.
    load(db.admin_dsn, "CREATE SCHEMA app; CREATE TABLE app.t (id int);")
    load(db.admin_dsn, LAYOUT_1)
    old_fingerprint = inspect_dsn(db.admin_dsn, excluded_schemas=("_pgflux",)).fingerprint()
    load(
        db.admin_dsn,
        "INSERT INTO _pgflux.migrations (plan_fingerprint, source_fingerprint,"
        " target_fingerprint, result_fingerprint, status, finished_at, origin)"
        f" VALUES ('sha256:p', 'sha256:s', '{old_fingerprint}', '{old_fingerprint}', 'applied',"
        ' clock_timestamp(), \'{"commit": "old"}\')',
    )
    before = _column(db.admin_dsn, "SELECT to_jsonb(m) FROM _pgflux.migrations m")
    args = _common(db.admin_dsn, db)

    # Equal fingerprints need no model: no drift.
    assert main(["drift", *args]) == 0
    assert capsys.readouterr().out == "No drift: the database matches the target of migration 1.\n"
    load(db.admin_dsn, "CREATE TABLE app.hotfix (id int);")
    assert main(["drift", *args]) == 1
    out = capsys.readouterr().out
    assert "Drifted since the last apply (migration 1" in out
    assert "Only fingerprints can be compared: _pgflux.migrations was created by an earlier" in out
    assert main(["drift", *args, "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["drift"] is True
    assert document["compared"] == "fingerprint"
    assert document["recorded_fingerprint"] == old_fingerprint

    # The next apply upgrades the table in place: old rows and columns kept, layout 2.
    schema_dir = _schema_dir(tmp_path, "CREATE SCHEMA app; CREATE TABLE app.t (id int, x int);")
    apply = ["migrate", "apply", *args, "--schema-dir", str(schema_dir)]
    assert main([*apply, "--allow-hazards", "DATA_LOSS,BACKWARD_INCOMPATIBLE"]) == 0
    capsys.readouterr()
    assert _column(db.admin_dsn, "SELECT value FROM _pgflux.meta") == ["2"]
    after = _column(
        db.admin_dsn, "SELECT to_jsonb(m) - 'result_model' FROM _pgflux.migrations m ORDER BY id"
    )
    assert after[0] == before[0]
    assert _column(
        db.admin_dsn, "SELECT result_model IS NOT NULL FROM _pgflux.migrations ORDER BY id"
    ) == [False, True]
    assert main(["drift", *args]) == 0
    assert capsys.readouterr().out == "No drift: the database matches the target of migration 2.\n"
    load(db.admin_dsn, "ALTER TABLE app.t DROP COLUMN x;")
    assert main(["drift", *args]) == 1
    out = capsys.readouterr().out
    assert "  column app.t.x: missing from production\n" in out
    assert "ALTER TABLE app.t ADD COLUMN x integer" in out
    # A failed apply after the last good one: what it left shows as drift, and the report says so.
    load(
        db.admin_dsn,
        "INSERT INTO _pgflux.migrations (plan_fingerprint, source_fingerprint,"
        " target_fingerprint, status, error) VALUES ('sha256:p', 'sha256:s', 'sha256:t',"
        " 'failed', 'boom')",
    )
    assert main(["drift", *args]) == 1
    out = capsys.readouterr().out
    assert "Migration 3 (failed) ran after it: what it changed shows as drift.\n" in out

    # A row of the new layout without a model, and one whose model cannot be read.
    load(db.admin_dsn, "UPDATE _pgflux.migrations SET result_model = NULL WHERE id = 2")
    assert main(["drift", *args]) == 1
    assert "migration 2 was recorded without the schema model" in capsys.readouterr().out
    load(db.admin_dsn, "UPDATE _pgflux.migrations SET result_model = '\\x00ff' WHERE id = 2")
    assert main(["drift", *args]) == 1
    assert "cannot be read by this pg-flux version" in capsys.readouterr().out


def test_migrator_that_cannot_upgrade_applies_without_the_model(
    pg_cluster: EmbeddedCluster,
    make_db: Callable[..., ShadowDatabase],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with psycopg.connect(make_db().admin_dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'pgflux_migrator'").fetchone():
            conn.execute("CREATE ROLE pgflux_migrator WITH LOGIN")
    grant = "GRANT ALL ON SCHEMA public TO pgflux_migrator;"
    prod, _, plan = plan_between(pg_cluster, make_db, grant, grant + "CREATE TABLE t2 (id int);")
    # A layout-1 table made by an earlier pg-flux as another role; the page's grants only.
    load(prod.admin_dsn, LAYOUT_1)
    load(
        prod.admin_dsn,
        "GRANT USAGE ON SCHEMA _pgflux TO pgflux_migrator;"
        "GRANT ALL ON _pgflux.migrations, _pgflux.meta TO pgflux_migrator;"
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA _pgflux TO pgflux_migrator;",
    )
    migrator = dsnlib.with_params(prod.admin_dsn, user="pgflux_migrator")
    with caplog.at_level(logging.WARNING, logger="engine.tracking"):
        result = apply_plan(migrator, plan, ApplyOptions())
    assert result.outcome == "applied"
    assert "cannot upgrade _pgflux.migrations to layout 2" in caplog.text
    assert "ADD COLUMN IF NOT EXISTS result_model bytea" in caplog.text
    assert _column(prod.admin_dsn, "SELECT status FROM _pgflux.migrations") == ["applied"]
    assert _column(prod.admin_dsn, "SELECT value FROM _pgflux.meta") == ["1"]
    with psycopg.connect(prod.admin_dsn) as conn:
        assert not tracking.stores_result_model(conn, "_pgflux")
