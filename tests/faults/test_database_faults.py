"""Database faults: production unreachable, wrong password, a read-only DSN given to apply, a
statement_timeout hit by a long VALIDATE. Each ends with a clear message and exit 2, and
production is left as it was (or as far as whole groups got, as the tracking table says).

Covered elsewhere, not repeated here: TLS-only servers (tests/engine/test_tls.py), lock
contention with lock_timeout retries (tests/engine/test_apply.py), a process or its connection
killed mid-apply and the advisory lock it held (tests/engine/test_apply_crash.py)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from engine import dsn as dsnlib
from engine.pgbin import find_postgres_bin
from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests.pgtools import slow_positive_function
from tests.security.actionrun import PASSTHROUGH, PG_FLUX, PGFLUX_CI

RunSql = Callable[..., list[tuple[Any, ...]]]
PASSWORD = "s3cretSENTINELpw"


def _run(
    argv: list[str], cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: os.environ[k] for k in PASSTHROUGH if k in os.environ} | dict(env or {})
    return subprocess.run(
        argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=300, check=False
    )


def _fails_clearly(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert "Traceback" not in text
    assert PASSWORD not in text
    for fragment in fragments:
        assert fragment in text, text
    return text


def _schema(tmp_path: Path, sql: str) -> None:
    (tmp_path / "schema").mkdir(exist_ok=True)
    (tmp_path / "schema" / "app.sql").write_text(sql, encoding="utf-8")


UNREACHABLE = [
    ("closed-port", f"postgresql://u:{PASSWORD}@127.0.0.1:9/prod?connect_timeout=3"),
    ("no-such-socket", f"host=/nonexistent/sock port=5432 user=u password={PASSWORD}"),
    ("unresolvable-host", f"postgresql://u:{PASSWORD}@db.invalid/prod?connect_timeout=3"),
]


@pytest.mark.parametrize("dsn", [d for _, d in UNREACHABLE], ids=[i for i, _ in UNREACHABLE])
@pytest.mark.parametrize(
    "command", [["plan"], ["migrate", "apply"], ["inspect"], ["drift"]], ids=lambda c: c[-1]
)
def test_production_unreachable(tmp_path: Path, dsn: str, command: list[str]) -> None:
    _schema(tmp_path, "CREATE SCHEMA app;\n")
    _fails_clearly(_run([PG_FLUX, *command, "--dsn", dsn], tmp_path), "pg-flux: error:")


def test_review_dry_run_with_production_unreachable(tmp_path: Path) -> None:
    _schema(tmp_path, "CREATE SCHEMA app;\n")
    argv = [PGFLUX_CI, "review", "--dry-run", "--dsn", UNREACHABLE[0][1]]
    _fails_clearly(_run(argv, tmp_path), "127.0.0.1")


# --- a server that checks passwords -----------------------------------------------------------


@pytest.fixture(scope="module")
def password_server() -> Iterator[EmbeddedCluster]:
    """Its own cluster (the session one trusts everyone): role `app` must give its password."""
    with EmbeddedCluster(find_postgres_bin(), use_cache=False) as cluster:
        hba = cluster.datadir / "pg_hba.conf"
        hba.write_text("local all app scram-sha-256\n" + hba.read_text(encoding="utf-8"))
        with cluster._admin_connect() as conn:
            conn.execute(f"CREATE ROLE app LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
            conn.execute("CREATE DATABASE prod OWNER app")
            conn.execute("SELECT pg_reload_conf()")
        yield cluster


def _app_dsn(cluster: EmbeddedCluster, password: str) -> str:
    return dsnlib.build(
        {
            "host": str(cluster.sockdir),
            "port": "5432",
            "user": "app",
            "dbname": "prod",
            "password": password,
        }
    )


def test_right_password_works(password_server: EmbeddedCluster, tmp_path: Path) -> None:
    _schema(tmp_path, "CREATE SCHEMA app;\n")
    result = _run([PG_FLUX, "plan", "--dsn", _app_dsn(password_server, PASSWORD)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CREATE SCHEMA app" in result.stdout


@pytest.mark.parametrize("how", ["flag", "DATABASE_URL"])
def test_wrong_password(password_server: EmbeddedCluster, tmp_path: Path, how: str) -> None:
    _schema(tmp_path, "CREATE SCHEMA app;\n")
    wrong = _app_dsn(password_server, PASSWORD + "x")
    if how == "flag":
        result = _run([PG_FLUX, "plan", "--dsn", wrong], tmp_path)
    else:
        result = _run([PG_FLUX, "plan"], tmp_path, {"DATABASE_URL": wrong})
    _fails_clearly(result, "password authentication failed")


def test_review_dry_run_with_wrong_password(
    password_server: EmbeddedCluster, tmp_path: Path
) -> None:
    _schema(tmp_path, "CREATE SCHEMA app;\n")
    wrong = _app_dsn(password_server, PASSWORD + "x")
    result = _run([PGFLUX_CI, "review", "--dry-run", "--dsn", wrong], tmp_path)
    _fails_clearly(result, "password authentication failed")


# --- a read-only DSN given to apply -----------------------------------------------------------


def test_read_only_transactions_refuse_apply(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    run_sql(db.admin_dsn, "CREATE TABLE t (id int)")
    _schema(tmp_path, "CREATE TABLE t (id int, note text);\nCREATE TABLE u (id int);\n")
    reader = dsnlib.with_params(db.admin_dsn, options="-c default_transaction_read_only=on")
    text = _fails_clearly(_run([PG_FLUX, "migrate", "apply", "--dsn", reader], tmp_path))
    assert "read-only" in text
    assert run_sql(db.admin_dsn, "SELECT to_regclass('public.u') IS NULL") == [(True,)]
    assert run_sql(
        db.admin_dsn,
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0",
    ) == [(1,)]


def test_role_without_privileges_is_refused_apply(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    run_sql(db.admin_dsn, "CREATE TABLE t (id int)")
    run_sql(db.admin_dsn, "DROP ROLE IF EXISTS faults_reader; CREATE ROLE faults_reader LOGIN")
    run_sql(
        db.admin_dsn,
        "GRANT SELECT ON t TO faults_reader; REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    )
    _schema(
        tmp_path,
        "CREATE TABLE t (id int);\nGRANT SELECT ON t TO faults_reader;\nCREATE TABLE u (id int);\n",
    )
    reader = dsnlib.with_params(db.admin_dsn, user="faults_reader")
    try:
        text = _fails_clearly(_run([PG_FLUX, "migrate", "apply", "--dsn", reader], tmp_path))
        assert "permission denied" in text
        assert run_sql(db.admin_dsn, "SELECT to_regclass('public.u') IS NULL") == [(True,)]
    finally:
        run_sql(db.admin_dsn, "DROP OWNED BY faults_reader; DROP ROLE faults_reader")


# --- statement_timeout on a long VALIDATE -----------------------------------------------------


SLOW_CHECK = slow_positive_function(4)


def test_statement_timeout_on_validate_fails_clearly_and_a_rerun_converges(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    run_sql(
        db.admin_dsn,
        SLOW_CHECK + "CREATE TABLE big (id int PRIMARY KEY, n int NOT NULL);"
        " INSERT INTO big SELECT g, g FROM generate_series(1, 1000) g",
    )
    _schema(
        tmp_path,
        SLOW_CHECK + "CREATE TABLE big (id int PRIMARY KEY, n int NOT NULL,\n"
        "    CONSTRAINT n_positive CHECK (slow_positive(n)));\n",
    )
    plan = _run([PG_FLUX, "plan", "--dsn", db.admin_dsn, "--format", "sql"], tmp_path)
    assert "VALIDATE CONSTRAINT n_positive" in plan.stdout, plan.stdout + plan.stderr
    # VALIDATE runs in its own transaction (NON_TRANSACTIONAL), after the ADD has committed.
    apply = [
        PG_FLUX,
        "migrate",
        "apply",
        "--dsn",
        db.admin_dsn,
        "--allow-hazards",
        "NON_TRANSACTIONAL",
    ]
    argv = [*apply, "--statement-timeout", "1500"]
    text = _fails_clearly(_run(argv, tmp_path))
    assert "statement timeout" in text
    # The error names the statement it stopped at and where schema/ asks for its object.
    blamed = next(line for line in text.splitlines() if line.startswith("at statement "))
    assert "VALIDATE CONSTRAINT n_positive" in blamed, text
    assert "app.sql:" in text, text
    validated = "SELECT convalidated FROM pg_constraint WHERE conname = 'n_positive'"
    assert run_sql(db.admin_dsn, validated) == [(False,)]
    rerun = _run(apply, tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert run_sql(db.admin_dsn, validated) == [(True,)]


@pytest.mark.parametrize(
    "argv",
    [[PG_FLUX, "plan", "--dsn"], [PGFLUX_CI, "review", "--dry-run", "--dsn"]],
    ids=["pg-flux-plan", "pgflux-ci-review"],
)
def test_read_only_dsn_is_enough_to_plan_and_review(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql, argv: list[str]
) -> None:
    run_sql(db.admin_dsn, "CREATE TABLE t (id int)")
    _schema(tmp_path, "CREATE TABLE t (id int, note text);\n")
    reader = dsnlib.with_params(db.admin_dsn, options="-c default_transaction_read_only=on")
    result = _run([*argv, reader], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ADD COLUMN note" in result.stdout
