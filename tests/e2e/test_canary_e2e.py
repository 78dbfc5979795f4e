"""`pgflux-ci` canary run as a process with the runner's environment, real PostgreSQL as
production and the fake GitHub API: the life of one target's drift issue."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engine import dsn as dsnlib
from engine import tracking
from engine.plan.model import ObjectRef, Plan, Statement
from engine.shadow import ShadowDatabase
from pgflux_ci.canary import DRIFT_LABEL, drift_marker, parse_first_seen
from tests.e2e.test_deploy_e2e import parse_outputs, plain
from tests.fakes.github_api import FakeGitHub, FakeIssue
from tests.fakes.runner_env import FAKE_TOKEN, github_env, load_payload

ENTRYPOINT = str(Path(sys.executable).parent / "pgflux-ci")
REPO = "octo/app"  # the schedule payload names no repository; the runner's variable does

SCHEMA = {
    "app.sql": "CREATE SCHEMA app;\n",
    "orders.sql": "CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric(12, 2));\n",
}


class Canary:
    def __init__(self, fake: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> None:
        self.fake, self.tmp_path, self.db = fake, tmp_path, db
        self.runs = 0

    def run(
        self,
        event: str = "schedule",
        *,
        files: Mapping[str, str] = SCHEMA,
        inputs: Mapping[str, str] | None = None,
        config: str | None = None,
    ) -> tuple[dict[str, str], str, subprocess.CompletedProcess[str]]:
        """`config`: the text of a pgflux.toml in the workspace root."""
        self.runs += 1
        root = self.tmp_path / f"run{self.runs}"
        root.mkdir()
        schema = root / "workspace" / "schema"
        shutil.rmtree(schema, ignore_errors=True)
        schema.mkdir(parents=True)
        for name, sql in files.items():
            (schema / name).write_text(sql, encoding="utf-8")
        if config is not None:
            (root / "workspace" / "pgflux.toml").write_text(config, encoding="utf-8")
        payload = load_payload(event)
        payload.pop("repository", None)
        given = {
            "mode": "canary",
            "database-url": self.db.admin_dsn,
            "shadow": dsnlib.with_dbname(self.db.admin_dsn, "postgres"),
            **(inputs or {}),
        }
        env = github_env(self.fake, root, event, payload, given)
        for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"):
            if name in os.environ:
                env[name] = os.environ[name]
        proc = subprocess.run(
            [ENTRYPOINT], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        summary = (root / "step_summary").read_text(encoding="utf-8")
        return parse_outputs(root / "github_output"), summary, proc

    def issues(self) -> list[FakeIssue]:
        return self.fake.issues_in(REPO)


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as fake:
        yield fake


@pytest.fixture
def canary(fake_github: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> Canary:
    return Canary(fake_github, tmp_path, db)


def _body(issue: FakeIssue) -> str:
    return plain(issue.body or "")


def test_drift_opens_updates_and_closes_one_issue(canary: Canary, run_sql: Any) -> None:
    dsn = canary.db.admin_dsn
    run_sql(
        dsn,
        "CREATE SCHEMA app; CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric(12, 2))",
    )
    out, summary, clean = canary.run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert out["drift"] == "false"
    assert "no drift" in summary
    assert canary.issues() == []

    # Someone hot-fixes production by hand: drift.
    run_sql(dsn, "ALTER TABLE app.orders ADD COLUMN hotfix int")
    out, summary, first = canary.run()
    assert first.returncode == 1, first.stdout + first.stderr
    assert out["drift"] == "true"
    (issue,) = canary.issues()
    assert issue.state == "open"
    assert issue.labels == [DRIFT_LABEL]
    assert issue.title == "pg-flux: production schema drift on default"
    assert (issue.body or "").startswith(drift_marker("default") + "\n")
    body = _body(issue)
    assert "column app.orders.hotfix: in production, not in schema/" in body
    assert "ALTER TABLE app.orders DROP COLUMN hotfix" in body
    assert "First seen" in body
    assert out["issue-url"].endswith(f"/issues/{issue.number}")
    assert "::error title=pg-flux drift::" in first.stdout
    assert "DROP COLUMN hotfix" in summary
    first_seen = parse_first_seen(issue.body)
    assert first_seen is not None

    # Still drifting, and more: the same issue is updated, first seen kept.
    run_sql(dsn, "CREATE INDEX orders_total ON app.orders (total)")
    out, _, second = canary.run()
    assert second.returncode == 1, second.stdout + second.stderr
    (issue,) = canary.issues()
    assert parse_first_seen(issue.body) == first_seen
    assert "index app.orders_total: in production, not in schema/" in _body(issue)
    assert len(canary.fake.requests_matching("POST", r"/issues$")) == 1
    assert len(canary.fake.requests_matching("PATCH", rf"/issues/{issue.number}$")) == 1

    # Fixed: closed with a comment.
    run_sql(dsn, "DROP INDEX app.orders_total; ALTER TABLE app.orders DROP COLUMN hotfix")
    out, _, fixed = canary.run(event="workflow_dispatch")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert out["drift"] == "false"
    (issue,) = canary.issues()
    assert issue.state == "closed"
    (closing,) = canary.fake.comments_on(REPO, issue.number)
    assert "No drift any more" in closing.body
    first_text = first_seen.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"first seen {first_text}" in closing.body

    # Drift again later: a new issue (the closed one stays closed).
    run_sql(dsn, "ALTER TABLE app.orders ADD COLUMN again int")
    canary.run()
    issues = canary.issues()
    assert [i.state for i in issues] == ["closed", "open"]


def test_fail_on_drift_false_reports_without_failing(canary: Canary, run_sql: Any) -> None:
    run_sql(canary.db.admin_dsn, "CREATE SCHEMA app; CREATE SCHEMA stray")
    out, _, run = canary.run(inputs={"fail-on-drift": "false"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert out["drift"] == "true"
    (issue,) = canary.issues()
    assert "schema stray: in production, not in schema/" in _body(issue)
    assert "table app.orders: in schema/, missing from production" in _body(issue)
    assert "::error" not in run.stdout


def test_each_target_owns_its_issue(canary: Canary, run_sql: Any) -> None:
    run_sql(canary.db.admin_dsn, "CREATE SCHEMA stray")
    canary.run(inputs={"target": "eu"})
    canary.run(inputs={"target": "us"})
    canary.run(inputs={"target": "eu"})
    issues = canary.issues()
    assert sorted(i.title for i in issues) == [
        "pg-flux: production schema drift on eu",
        "pg-flux: production schema drift on us",
    ]


def _record_failed_apply(dsn: str) -> int:
    plan = Plan(
        fingerprint="sha256:" + "1" * 64,
        source_fingerprint="sha256:" + "2" * 64,
        target_fingerprint="sha256:" + "3" * 64,
        verified=True,
        postgres_version=150000,
        statements=(
            Statement(sql="CREATE SCHEMA app", object=ObjectRef(kind="schema", name="app")),
        ),
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        tracking.ensure_tracking(conn, "_pgflux")
        mid = tracking.insert_running(conn, "_pgflux", plan, {"commit": "abc123"})
        tracking.finish(conn, "_pgflux", mid, "failed", "lock_timeout after 4 attempts")
    return mid


def test_failed_apply_in_the_tracking_table_is_reported(canary: Canary, run_sql: Any) -> None:
    dsn = canary.db.admin_dsn
    run_sql(
        dsn,
        "CREATE SCHEMA app; CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric(12, 2))",
    )
    mid = _record_failed_apply(dsn)
    out, summary, run = canary.run()
    assert run.returncode == 0, run.stdout + run.stderr
    assert out["drift"] == "false"
    (issue,) = canary.issues()
    assert issue.title == "pg-flux: failed schema apply on default"
    body = _body(issue)
    assert re.search(
        rf"\| {mid} \| failed \| .* \| commit abc123 \| lock_timeout after 4 attempts \|", body
    )
    assert f"::warning title=pg-flux%3A apply not finished::migration {mid} is failed" in run.stdout
    assert "lock_timeout" in plain(summary)

    # A later successful apply supersedes it: nothing to report, the issue closes.
    with psycopg.connect(dsn, autocommit=True) as conn:
        plan = Plan(
            fingerprint="sha256:" + "4" * 64,
            source_fingerprint="sha256:" + "5" * 64,
            target_fingerprint="sha256:" + "6" * 64,
            verified=True,
            postgres_version=150000,
        )
        later = tracking.insert_running(conn, "_pgflux", plan, {})
        tracking.finish(conn, "_pgflux", later, "applied")
    _, _, run = canary.run()
    assert run.returncode == 0, run.stdout + run.stderr
    (issue,) = canary.issues()
    assert issue.state == "closed"


def test_schema_that_does_not_load_fails_without_an_issue(canary: Canary) -> None:
    files = {"bad.sql": "\nCREATE TABLE app.t (id int REFERENCES app.nowhere (id));\n"}
    out, summary, run = canary.run(files=files)
    assert run.returncode == 2, run.stdout + run.stderr
    assert out["drift"] == "false"
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error file=")]
    assert errors
    assert errors[0].startswith("::error file=schema/bad.sql,line=2,")
    assert "schema did not load" in summary
    assert canary.issues() == []
