"""Sentinel secrets: put unique values into every secret pgflux-ci is given (DSN password, GitHub
token, other environment variables) and prove that no output of a run carries them, and that no
SQL in schema/ can read them from the shadow server, not even a superuser shadow."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import dsn as dsnlib
from engine.shadow import ShadowDatabase
from tests.fakes.github_api import FakeGitHub, Fault
from tests.fakes.runner_env import load_payload
from tests.security.actionrun import PASSTHROUGH, PG_FLUX, REPO, ActionRun

RunSql = Callable[..., list[tuple[Any, ...]]]
TOKEN = "ghs_SENTINELtoken4e1b97aa03c2"
PASSWORD = "SENTINELpw8d22f1c0"
OTHER = "SENTINELenv5b7710ee"
SENTINELS = ("SENTINEL", TOKEN, PASSWORD, OTHER)

# Reads the server's environment and, when allowed, stores it where the plan will show it.
STEAL_ENVIRON = """
CREATE TABLE loot (id int);
DO $$ BEGIN
  EXECUTE format('COMMENT ON TABLE loot IS %L',
                 encode(pg_read_binary_file('/proc/self/environ'), 'escape'));
END $$;
"""
# The postmaster's environment (a backend's own /proc/self/environ holds its ps title).
STEAL_POSTMASTER_ENVIRON = r"""
CREATE TABLE loot (id int);
DO $$ BEGIN
  EXECUTE format('COMMENT ON TABLE loot IS %L', encode(pg_read_binary_file(
    '/proc/' || split_part(pg_read_file('postmaster.pid'), E'\n', 1) || '/environ'), 'escape'));
END $$;
"""
# What a shell command run by the server sees.
STEAL_PROGRAM_ENV = """
CREATE TABLE loot (line text);
DO $$ BEGIN
  EXECUTE 'COPY loot FROM PROGRAM ''env''';
  EXECUTE format('COMMENT ON TABLE loot IS %L', (SELECT string_agg(line, ' ') FROM loot));
  EXECUTE 'TRUNCATE loot';
END $$;
"""
STEAL_VIA_FUNCTION = """
CREATE FUNCTION steal() RETURNS text LANGUAGE sql
  AS $$ SELECT pg_read_file('/proc/' || pg_backend_pid() || '/environ') $$;
CREATE TABLE loot AS SELECT steal() AS env;
"""
STEAL_SETTINGS = """
CREATE TABLE loot (id int);
DO $$ BEGIN
  EXECUTE format('COMMENT ON TABLE loot IS %L',
    (SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings));
END $$;
"""


def secret_env() -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgresql://admin:{PASSWORD}@db.example.invalid/prod",
        "PGPASSWORD": PASSWORD,
        "AWS_SECRET_ACCESS_KEY": OTHER,
        "INPUT_EXTRA-SECRET": OTHER,
        "GITHUB_TOKEN": TOKEN,
        "ACTIONS_RUNTIME_TOKEN": OTHER,
    }


def assert_no_sentinel(channels: dict[str, str]) -> None:
    for name, text in channels.items():
        for sentinel in SENTINELS:
            assert sentinel not in text, f"{sentinel!r} leaked into {name}:\n{text[-3000:]}"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as github:
        yield github


@pytest.fixture
def run(fake: FakeGitHub, tmp_path: Path) -> ActionRun:
    return ActionRun(fake, tmp_path)


def _inputs(db: ShadowDatabase, *, shadow: str = "embedded") -> dict[str, str]:
    # Trust authentication: the server ignores the password, so the run works and carries it.
    return {
        "mode": "review",
        "database-url": dsnlib.with_params(db.admin_dsn, password=PASSWORD),
        "shadow": shadow,
        "fail-on": "critical",
    }


def test_a_successful_review_prints_no_secret(run: ActionRun, db: ShadowDatabase) -> None:
    result = run.push(
        {"app.sql": "CREATE SCHEMA app;\nCREATE TABLE app.t (id int PRIMARY KEY);\n"},
        _inputs(db),
        extra_env=secret_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CREATE TABLE app.t" in run.comments()[0]
    # The masks were registered (the runner needs them), and nothing else carries a secret.
    assert f"::add-mask::{TOKEN}" in result.stdout
    assert f"::add-mask::{PASSWORD}" in result.stdout
    assert_no_sentinel(run.everything())


@pytest.mark.parametrize(
    "steal", [STEAL_ENVIRON, STEAL_VIA_FUNCTION], ids=["do-comment", "function-ctas"]
)
def test_schema_cannot_read_the_environment_in_review(
    run: ActionRun, db: ShadowDatabase, steal: str
) -> None:
    """The action's own embedded shadow: the loader may not read files at all."""
    result = run.push({"app.sql": steal}, _inputs(db), extra_env=secret_env())
    assert result.returncode == 2, result.stdout + result.stderr
    body = run.comments()[0]
    assert "did not load" in body
    assert "permission denied" in body
    assert "pg\\_read" in body  # markdown-escaped function name
    assert_no_sentinel(run.everything())


def test_settings_visible_to_schema_hold_no_secret(run: ActionRun, db: ShadowDatabase) -> None:
    """pg_settings is readable by anyone: the loaded comment shows it, and it carries no secret."""
    result = run.push({"app.sql": STEAL_SETTINGS}, _inputs(db), extra_env=secret_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "statement_timeout" in run.comments()[0]  # the read worked and reached the comment
    assert_no_sentinel(run.everything())


def test_errors_reaching_production_print_no_secret(run: ActionRun, db: ShadowDatabase) -> None:
    inputs = _inputs(db) | {
        "database-url": f"postgresql://admin:{PASSWORD}@127.0.0.1:9/prod?connect_timeout=3"
    }
    result = run.push({"app.sql": "CREATE SCHEMA app;\n"}, inputs, extra_env=secret_env())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "::error title=pgflux-ci::" in result.stdout
    assert "127.0.0.1" in result.stdout + result.stderr
    assert_no_sentinel(run.everything())


def test_github_failure_prints_no_secret(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase
) -> None:
    fake.inject("POST", r"/issues/\d+/comments$", Fault.error(401), times=10)
    result = run.push({"app.sql": "CREATE SCHEMA app;\n"}, _inputs(db), extra_env=secret_env())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "GitHub" in result.stdout
    assert_no_sentinel(run.everything())


def _pg_flux(
    args: list[str], tmp_path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    full = {k: os.environ[k] for k in PASSTHROUGH if k in os.environ} | env
    return subprocess.run(
        [PG_FLUX, *args],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("steal", "log_format"),
    [(STEAL_POSTMASTER_ENVIRON, "text"), (STEAL_PROGRAM_ENV, "json")],
    ids=["postmaster-environ", "copy-from-program-env"],
)
def test_superuser_shadow_reads_the_environment_and_finds_no_secret(
    db: ShadowDatabase, tmp_path: Path, steal: str, log_format: str
) -> None:
    """The opt-in superuser shadow CAN read /proc/self/environ: what it finds is clean."""
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "app.sql").write_text(steal, encoding="utf-8")
    env = secret_env() | {"DATABASE_URL": dsnlib.with_params(db.admin_dsn, password=PASSWORD)}
    result = _pg_flux(
        ["plan", "--shadow-superuser", "--log-format", log_format, "--format", "sql"],
        tmp_path,
        env,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    # The read succeeded: the server's (scrubbed) environment is in the plan.
    assert "TZ=UTC" in result.stdout
    assert "PATH=" in result.stdout
    assert "COMMENT ON TABLE public.loot" in result.stdout
    assert_no_sentinel({"stdout": result.stdout, "stderr": result.stderr})
    if log_format == "json":
        for line in result.stderr.splitlines():
            if line.startswith("{"):
                json.loads(line)


def test_engine_errors_print_no_secret(tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "app.sql").write_text("CREATE SCHEMA app;\n", encoding="utf-8")
    for fmt in ("text", "json"):
        result = _pg_flux(
            ["plan", "--log-format", fmt],
            tmp_path,
            secret_env()
            | {"DATABASE_URL": f"postgresql://a:{PASSWORD}@127.0.0.1:9/p?connect_timeout=3"},
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert "127.0.0.1" in result.stdout + result.stderr
        assert_no_sentinel({"stdout": result.stdout, "stderr": result.stderr})


MERGE_SHA = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"


def test_review_deploy_and_canary_print_no_secret(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase, run_sql: RunSql
) -> None:
    """The life of a change: review, merge, deploy, then drift found by the canary."""
    files = {"app.sql": "CREATE SCHEMA app;\nCREATE TABLE app.orders (id int PRIMARY KEY);\n"}
    shadow = dsnlib.with_dbname(db.admin_dsn, "postgres")
    inputs = _inputs(db, shadow=shadow)
    reviewed = run.push(files, inputs, extra_env=secret_env())
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr

    issue = fake.repos[REPO].issues[run.number]
    assert issue.pull is not None
    issue.pull.merged, issue.pull.merge_commit_sha = True, MERGE_SHA
    issue.pull.merged_at, issue.state = "2026-01-01T00:00:00Z", "closed"
    fake.link_commit(REPO, MERGE_SHA, [run.number])
    push = load_payload("push")
    push["after"] = MERGE_SHA
    deployed = run.run_event(
        "push", push, files, inputs | {"mode": "deploy"}, extra_env=secret_env()
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert run_sql(db.admin_dsn, "SELECT to_regclass('app.orders') IS NOT NULL") == [(True,)]

    run_sql(db.admin_dsn, "CREATE TABLE app.drifted (id int)")
    schedule = load_payload("schedule")
    schedule.pop("repository", None)
    canary = run.run_event(
        "schedule", schedule, files, inputs | {"mode": "canary"}, extra_env=secret_env()
    )
    assert canary.returncode in (1, 2), canary.stdout + canary.stderr
    assert any("drifted" in (i.body or "") for i in fake.issues_in(REPO))

    assert len(run.transcript) == 3
    for number, channels in enumerate(run.transcript):
        assert_no_sentinel({f"run {number} {k}": v for k, v in channels.items()})
    for deploy_or_canary in (deployed, canary):
        assert f"::add-mask::{TOKEN}" in deploy_or_canary.stdout
        assert f"::add-mask::{PASSWORD}" in deploy_or_canary.stdout
