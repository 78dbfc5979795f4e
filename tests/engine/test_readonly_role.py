"""Every read-only command works under `pgflux_readonly`, created with exactly the grants of
the privileges page (plus USAGE on the other schema this test uses), and opens only read-only
transactions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from engine import dsn as dsnlib
from engine import tracking
from engine.apply import ApplyOptions, apply_plan
from engine.cli import main
from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests.engine.applyhelp import migrations, plan_between
from tests.engine.convergence import load

ROLE = "pgflux_readonly"


def _readonly_dsn(db: ShadowDatabase) -> str:
    with psycopg.connect(db.admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {ROLE} WITH LOGIN")
        # The page's grants, in this database.
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
        conn.execute(f"GRANT USAGE ON SCHEMA _pgflux TO {ROLE}")
        conn.execute(f"GRANT SELECT ON _pgflux.migrations TO {ROLE}")
        conn.execute(f"GRANT USAGE ON SCHEMA app TO {ROLE}")
    return dsnlib.with_params(db.admin_dsn, user=ROLE)


def test_read_only_commands_under_the_readonly_role(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir()
    (schema_dir / "app.sql").write_text(
        "CREATE SCHEMA app;\nCREATE TABLE app.t (id int, note text);\n", encoding="utf-8"
    )
    shadow = dsnlib.with_dbname(db.admin_dsn, "postgres")
    writer = ["--dsn", db.admin_dsn, "--shadow", shadow, "--schema-dir", str(schema_dir)]
    assert main(["migrate", "apply", *writer]) == 0
    load(db.admin_dsn, "CREATE TABLE app.extra (id int);")  # drift for drift to find
    reader = _readonly_dsn(db)
    common = ["--dsn", reader, "--shadow", shadow]
    with_dir = [*common, "--schema-dir", str(schema_dir)]
    cases = [
        (["plan", *with_dir], 0),
        (["drift", *with_dir], 1),
        (["drift", *common, "--against-last-apply"], 1),
        (["verify", *with_dir], 0),
        (["inspect", *common, "--format", "text"], 0),
        (["dump", *common], 0),
        (["pull", *common, "--out", str(tmp_path / "pulled")], 0),
        (["gen", *common, "--out", str(tmp_path / "models.py")], 0),
        (["migrate", "status", *common], 0),
    ]
    for argv, code in cases:
        assert main(argv) == code, (argv[0], capsys.readouterr().err)
        capsys.readouterr()
    # The role can write nothing: apply stops at the tracking table, before any DDL.
    allow = ["--allow-hazards", "DATA_LOSS,AUTHZ_CHANGE,BACKWARD_INCOMPATIBLE"]
    assert main(["migrate", "apply", *with_dir, *allow]) == 2
    err = capsys.readouterr().err
    assert "cannot write the tracking table _pgflux.migrations: permission denied" in err
    assert "nothing was applied" in err


def test_status_connection_is_read_only(db: ShadowDatabase) -> None:
    from engine.cli import readonly_connect

    with readonly_connect(db.admin_dsn) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE nope (id int)")


def test_migrator_with_the_pages_tracking_grants_can_apply(
    pg_cluster: EmbeddedCluster, make_db: Callable[..., ShadowDatabase]
) -> None:
    with psycopg.connect(make_db().admin_dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'pgflux_migrator'").fetchone():
            conn.execute("CREATE ROLE pgflux_migrator WITH LOGIN")
    # The page's short version: ALL on the schema it manages (part of both sides here).
    grant = "GRANT ALL ON SCHEMA public TO pgflux_migrator;"
    prod, _, plan = plan_between(pg_cluster, make_db, grant, grant + "CREATE TABLE t2 (id int);")
    with psycopg.connect(prod.admin_dsn, autocommit=True) as conn:
        # The tracking table exists (made by an earlier apply, as the admin); then exactly the
        # page's tracking-schema grants.
        tracking.ensure_tracking(conn, "_pgflux")
        conn.execute("GRANT USAGE ON SCHEMA _pgflux TO pgflux_migrator")
        conn.execute("GRANT ALL ON _pgflux.migrations TO pgflux_migrator")
        conn.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA _pgflux TO pgflux_migrator")
    migrator = dsnlib.with_params(prod.admin_dsn, user="pgflux_migrator")
    result = apply_plan(migrator, plan, ApplyOptions())
    assert result.outcome == "applied"
    [row] = migrations(prod.admin_dsn)
    assert row["applied_by"] == "pgflux_migrator"
    assert row["status"] == "applied"
