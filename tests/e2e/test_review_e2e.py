"""`pgflux-ci` run as a process with the runner's environment, real PostgreSQL as production and
the fake GitHub API: the life of one pull request's review comment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import dsn as dsnlib
from engine.shadow import ShadowDatabase
from pgflux_ci.report import parse_plan_marker
from tests.fakes.github_api import FakeGitHub, Fault
from tests.fakes.runner_env import FAKE_TOKEN, github_env, load_payload

ENTRYPOINT = str(Path(sys.executable).parent / "pgflux-ci")
REPO = "Codertocat/Hello-World"
LABEL = "pgflux:approve-hazards"


class PullRequestRun:
    """One PR: its workspace, payload and production; `push(files)` runs the action."""

    def __init__(self, fake: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> None:
        self.fake, self.tmp_path, self.db = fake, tmp_path, db
        self.payload: dict[str, Any] = load_payload("pull_request.synchronize")
        self.number = int(self.payload["number"])
        self.pushes = 0
        self.workspace = tmp_path / "workspace"

    def push(self, files: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
        """`extra`: more action inputs, by their action.yml names (`config="ci/x.toml"`)."""
        self.pushes += 1
        sha = f"{self.pushes:040x}"
        self.payload["pull_request"]["head"]["sha"] = sha
        self.payload["after"] = sha
        schema = self.workspace / "schema"
        shutil.rmtree(schema, ignore_errors=True)
        schema.mkdir(parents=True)
        for name, sql in files.items():
            (schema / name).write_text(sql, encoding="utf-8")
        inputs = {
            "mode": "review",
            "database-url": self.db.admin_dsn,
            # The test cluster as the shadow server: throw-away databases beside production.
            "shadow": dsnlib.with_dbname(self.db.admin_dsn, "postgres"),
            "fail-on": "high",
            **extra,
        }
        env = github_env(
            self.fake, self.tmp_path, "pull_request", self.payload, inputs, seed=self.pushes == 1
        )
        for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"):
            if name in os.environ:
                env[name] = os.environ[name]
        self.output_file = Path(env["GITHUB_OUTPUT"])
        self.output_file.write_text("", encoding="utf-8")
        self.summary_file = Path(env["GITHUB_STEP_SUMMARY"])
        self.summary_file.write_text("", encoding="utf-8")
        return subprocess.run(
            [ENTRYPOINT], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    def outputs(self) -> dict[str, str]:
        """Parse `$GITHUB_OUTPUT` heredoc records."""
        lines = self.output_file.read_text(encoding="utf-8").split("\n")
        found: dict[str, str] = {}
        i = 0
        while i < len(lines):
            if "<<" in lines[i]:
                name, delimiter = lines[i].split("<<", 1)
                end = lines.index(delimiter, i + 1)
                found[name] = "\n".join(lines[i + 1 : end])
                i = end
            i += 1
        return found

    def comments(self) -> list[str]:
        return [c.body for c in self.fake.comments_on(REPO, self.number)]


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as fake:
        yield fake


@pytest.fixture
def pr(fake_github: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> PullRequestRun:
    return PullRequestRun(fake_github, tmp_path, db)


def test_review_lifecycle(pr: PullRequestRun, run_sql: Any) -> None:
    # First push: a new schema. One comment, created.
    first = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(pr.comments()) == 1
    body = pr.comments()[0]
    assert body.startswith("<!-- pgflux-ci:review target=default -->\n")
    assert "CREATE SCHEMA app" in body
    out = pr.outputs()
    assert out["has-changes"] == "true"
    assert out["hazards"] == "0"
    assert out["max-severity"] == "none"
    marker = parse_plan_marker(body)
    assert marker is not None
    assert marker.fingerprint == out["plan-fingerprint"]
    plan_file = pr.workspace / out["plan-path"]
    assert out["plan-fingerprint"] in plan_file.read_text(encoding="utf-8")
    assert out["comment-url"]
    assert f"::add-mask::{FAKE_TOKEN}" in first.stdout
    assert "CREATE SCHEMA app" in pr.summary_file.read_text(encoding="utf-8")
    posts = len(pr.fake.requests_matching("POST", r"/comments$"))

    # Second push: the schema changed. The same comment is edited, no second comment.
    second = pr.push({"app.sql": "CREATE SCHEMA app;\n", "billing.sql": "CREATE SCHEMA billing;\n"})
    assert second.returncode == 0, second.stdout + second.stderr
    bodies = pr.comments()
    assert len(bodies) == 1
    assert "CREATE SCHEMA billing" in bodies[0]
    assert len(pr.fake.requests_matching("POST", r"/comments$")) == posts
    assert parse_plan_marker(bodies[0]) != marker

    # Production catches up: the comment says so.
    run_sql(pr.db.admin_dsn, "CREATE SCHEMA app; CREATE SCHEMA billing")
    third = pr.push({"app.sql": "CREATE SCHEMA app;\n", "billing.sql": "CREATE SCHEMA billing;\n"})
    assert third.returncode == 0, third.stdout + third.stderr
    bodies = pr.comments()
    assert len(bodies) == 1
    assert "no schema changes" in bodies[0]
    assert pr.outputs()["has-changes"] == "false"


def test_load_error_annotates_and_fails(pr: PullRequestRun) -> None:
    run = pr.push(
        {
            "app.sql": "CREATE SCHEMA app;\n",
            "bad.sql": "\nCREATE TABLE app.t (id int REFERENCES app.nowhere (id));\n",
        }
    )
    assert run.returncode == 2, run.stdout + run.stderr
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error file=")]
    assert errors, run.stdout
    assert errors[0].startswith("::error file=schema/bad.sql,line=2,")
    assert "nowhere" in errors[0]
    body = pr.comments()[0]
    assert "did not load" in body
    sha = pr.payload["pull_request"]["head"]["sha"]
    assert f"https://github.com/{REPO}/blob/{sha}/schema/bad.sql#L2" in body
    assert parse_plan_marker(body) is None


def test_hazard_over_threshold_fails_until_labelled(pr: PullRequestRun, run_sql: Any) -> None:
    run_sql(pr.db.admin_dsn, "CREATE SCHEMA app; CREATE SCHEMA legacy")
    refused = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "DROP SCHEMA legacy" in pr.comments()[0]
    assert "DATA_LOSS" in pr.comments()[0]
    assert pr.outputs()["max-severity"] in ("high", "critical")
    assert "::error title=pg-flux review failed::" in refused.stdout
    assert LABEL in refused.stdout

    pr.fake.repos[REPO].issues[pr.number].labels.append(LABEL)
    allowed = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert len(pr.comments()) == 1
    assert "pg-flux review failed" not in allowed.stdout


def test_secrets_never_reach_output(pr: PullRequestRun) -> None:
    run = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert run.returncode == 0, run.stdout + run.stderr
    outside_masks = [
        line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")
    ]
    assert all(FAKE_TOKEN not in line for line in outside_masks)
    assert FAKE_TOKEN not in run.stderr
    assert all(FAKE_TOKEN not in body for body in pr.comments())


def test_502_after_the_comment_landed_posts_no_duplicate(pr: PullRequestRun) -> None:
    pr.fake.inject("POST", r"/issues/\d+/comments$", Fault.status_after_apply(502))
    run = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(pr.comments()) == 1
    assert pr.outputs()["comment-url"]


def test_github_failure_still_leaves_summary_and_outputs(pr: PullRequestRun) -> None:
    pr.fake.inject("POST", r"/issues/\d+/comments$", Fault.error(422))
    run = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert run.returncode == 2, run.stdout + run.stderr
    assert pr.comments() == []
    assert "CREATE SCHEMA app" in pr.summary_file.read_text(encoding="utf-8")
    assert pr.outputs()["has-changes"] == "true"
    assert "comment-url" not in pr.outputs()
    assert "::error title=pgflux-ci::GitHub" in run.stdout
    assert FAKE_TOKEN not in run.stderr


def test_hazard_annotation_points_at_the_defining_file(pr: PullRequestRun, run_sql: Any) -> None:
    run_sql(
        pr.db.admin_dsn,
        "CREATE SCHEMA app; CREATE TABLE app.orders (id int, note text);"
        " INSERT INTO app.orders SELECT g, 'x' FROM generate_series(1, 100) g",
    )
    files = {
        "a_schema.sql": "CREATE SCHEMA app;\n",
        "orders.sql": "-- orders\n\nCREATE TABLE app.orders (id int, note varchar(9));\n",
    }
    run = pr.push(files)
    assert run.returncode == 2, run.stdout + run.stderr
    hazards = [line for line in run.stdout.splitlines() if "title=pg-flux DATA_LOSS" in line]
    assert hazards, run.stdout
    assert hazards[0].startswith("::error file=schema/orders.sql,line=3,")
    assert "note" in hazards[0]
