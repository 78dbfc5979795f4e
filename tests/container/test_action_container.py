"""The action image run as GitHub's runner runs it: the review scenario inside the container.

Production is the test cluster on the host (its unix socket dir mounted at the same path); the
shadow is the image's own embedded PostgreSQL (the `shadow` input's default), so the server
binaries in the image and the privilege drop as root are exercised too. The fake GitHub API
listens on the host's loopback, reached through the host network.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.shadow import ShadowDatabase
from pgflux_ci.report import parse_plan_marker
from tests.container.conftest import BuiltImage
from tests.container.podman import Podman
from tests.container.runner import RunnerHost, socket_dirs
from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import FAKE_TOKEN, load_payload

# The first test of a session also waits for the image build.
pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

REPO = "Codertocat/Hello-World"
LABEL = "pgflux:approve-hazards"
MERGE_SHA = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
CANARY_REPO = "octo/app"  # the schedule payload names no repository; GITHUB_REPOSITORY does


class ContainerPullRequest:
    """One PR reviewed by the containerised action: `push(files)` runs one job step."""

    def __init__(self, fake: FakeGitHub, runner: RunnerHost, db: ShadowDatabase) -> None:
        self.fake, self.runner, self.db = fake, runner, db
        self.payload: dict[str, Any] = load_payload("pull_request.synchronize")
        self.number = int(self.payload["number"])
        self.pushes = 0
        fake.seed_from_payload(dict(self.payload))

    def push(self, files: dict[str, str]) -> Any:
        self.pushes += 1
        sha = f"{self.pushes:040x}"
        self.payload["pull_request"]["head"]["sha"] = sha
        self.payload["after"] = sha
        schema = self.runner.workspace / "schema"
        if schema.exists():
            for old in schema.iterdir():
                old.unlink()
        schema.mkdir(parents=True, exist_ok=True)
        for name, sql in files.items():
            (schema / name).write_text(sql, encoding="utf-8")
        inputs = {
            "mode": "review",
            "database-url": self.db.admin_dsn,
            "github-token": self.fake.token,
            "fail-on": "high",
            # action.yml's defaults, as the runner passes them.
            "schema-dir": "schema",
            "shadow": "embedded",
            "allow-label": LABEL,
        }
        return self.runner.run(
            "pull_request", self.payload, inputs, mounts=socket_dirs(self.db.admin_dsn)
        )

    def comments(self) -> list[str]:
        return [c.body for c in self.fake.comments_on(REPO, self.number)]


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as fake:
        yield fake


@pytest.fixture
def pr(
    podman: Podman,
    action_image: BuiltImage,
    fake_github: FakeGitHub,
    tmp_path: Path,
    db: ShadowDatabase,
) -> ContainerPullRequest:
    runner = RunnerHost(podman, action_image.tag, tmp_path, fake_github.url)
    return ContainerPullRequest(fake_github, runner, db)


def test_review_lifecycle_in_the_container(pr: ContainerPullRequest, run_sql: Any) -> None:
    # First push: one sticky comment created; outputs and summary through the mounted files.
    first = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert first.returncode == 0, first.stdout + first.stderr
    bodies = pr.comments()
    assert len(bodies) == 1
    assert bodies[0].startswith("<!-- pgflux-ci:review target=default -->\n")
    assert "CREATE SCHEMA app" in bodies[0]
    out = pr.runner.outputs()
    assert out["has-changes"] == "true"
    assert out["hazards"] == "0"
    assert out["max-severity"] == "none"
    marker = parse_plan_marker(bodies[0])
    assert marker is not None
    assert marker.fingerprint == out["plan-fingerprint"]
    # The plan file was written in /github/workspace: it is in the host's workspace.
    plan_file = pr.runner.workspace / out["plan-path"]
    assert out["plan-fingerprint"] in plan_file.read_text(encoding="utf-8")
    assert out["comment-url"].startswith(
        f"https://github.com/{REPO}/pull/{pr.number}#issuecomment-"
    )
    assert f"::add-mask::{FAKE_TOKEN}" in first.stdout
    assert "CREATE SCHEMA app" in pr.runner.summary()
    posts = len(pr.fake.requests_matching("POST", r"/comments$"))
    assert posts == 1

    # Second push: the same comment is edited.
    second = pr.push({"app.sql": "CREATE SCHEMA app;\n", "billing.sql": "CREATE SCHEMA billing;\n"})
    assert second.returncode == 0, second.stdout + second.stderr
    bodies = pr.comments()
    assert len(bodies) == 1
    assert "CREATE SCHEMA billing" in bodies[0]
    assert len(pr.fake.requests_matching("POST", r"/comments$")) == posts
    assert len(pr.fake.requests_matching("PATCH", r"/comments/\d+$")) == 1
    assert parse_plan_marker(bodies[0]) != marker
    assert "CREATE SCHEMA billing" in pr.runner.summary()

    # Production catches up: nothing to do, said in the same comment.
    run_sql(pr.db.admin_dsn, "CREATE SCHEMA app; CREATE SCHEMA billing")
    third = pr.push({"app.sql": "CREATE SCHEMA app;\n", "billing.sql": "CREATE SCHEMA billing;\n"})
    assert third.returncode == 0, third.stdout + third.stderr
    bodies = pr.comments()
    assert len(bodies) == 1
    assert "no schema changes" in bodies[0]
    assert pr.runner.outputs()["has-changes"] == "false"


def test_load_error_annotation_from_the_container(pr: ContainerPullRequest) -> None:
    run = pr.push(
        {
            "app.sql": "CREATE SCHEMA app;\n",
            "bad.sql": "\nCREATE TABLE app.t (id int REFERENCES app.nowhere (id));\n",
        }
    )
    assert run.returncode == 2, run.stdout + run.stderr
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error file=")]
    assert errors, run.stdout
    # Paths relative to the workspace, not to the container's /github/workspace.
    assert errors[0].startswith("::error file=schema/bad.sql,line=2,")
    assert "nowhere" in errors[0]
    assert "did not load" in pr.comments()[0]


def test_hazard_fails_until_labelled_in_the_container(
    pr: ContainerPullRequest, run_sql: Any
) -> None:
    run_sql(
        pr.db.admin_dsn,
        "CREATE SCHEMA app; CREATE TABLE app.orders (id int, note text);"
        " INSERT INTO app.orders SELECT g, 'x' FROM generate_series(1, 100) g",
    )
    files = {
        "a_schema.sql": "CREATE SCHEMA app;\n",
        "orders.sql": "-- orders\n\nCREATE TABLE app.orders (id int, note varchar(9));\n",
    }
    refused = pr.push(files)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    hazards = [line for line in refused.stdout.splitlines() if "title=pg-flux DATA_LOSS" in line]
    assert hazards, refused.stdout
    assert hazards[0].startswith("::error file=schema/orders.sql,line=3,")
    assert "::error title=pg-flux review failed::" in refused.stdout
    assert pr.runner.outputs()["max-severity"] in ("high", "critical")
    assert "DATA_LOSS" in pr.comments()[0]

    pr.fake.repos[REPO].issues[pr.number].labels.append(LABEL)
    allowed = pr.push(files)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert len(pr.comments()) == 1
    assert "pg-flux review failed" not in allowed.stdout


def test_token_never_printed_by_the_container(pr: ContainerPullRequest) -> None:
    run = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert run.returncode == 0, run.stdout + run.stderr
    printed = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert all(FAKE_TOKEN not in line for line in printed)
    assert FAKE_TOKEN not in run.stderr
    assert FAKE_TOKEN not in pr.runner.summary()


def test_review_then_deploy_in_the_container(pr: ContainerPullRequest, run_sql: Any) -> None:
    files = {
        "app.sql": "CREATE SCHEMA app;\n",
        "orders.sql": "CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric(12, 2));\n",
    }
    reviewed = pr.push(files)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    marker = parse_plan_marker(pr.comments()[0])
    assert marker is not None
    # The pull request is merged; the push to main runs the deploy step.
    pull = pr.fake.repos[REPO].issues[pr.number].pull
    assert pull is not None
    pull.merged, pull.merge_commit_sha, pull.merged_at = True, MERGE_SHA, "2026-01-01T00:00:00Z"
    pr.fake.repos[REPO].issues[pr.number].state = "closed"
    pr.fake.link_commit(REPO, MERGE_SHA, [pr.number])
    push = load_payload("push")
    push["after"] = MERGE_SHA
    inputs = {
        "mode": "deploy",
        "database-url": pr.db.admin_dsn,
        "github-token": pr.fake.token,
        "shadow": "embedded",
    }
    run = pr.runner.run("push", push, inputs, mounts=socket_dirs(pr.db.admin_dsn))
    assert run.returncode == 0, run.stdout + run.stderr
    out = pr.runner.outputs()
    assert out["applied"] == "true"
    rows = run_sql(
        pr.db.admin_dsn,
        "SELECT id, status, source_fingerprint FROM _pgflux.migrations ORDER BY id",
    )
    assert rows == [(int(out["migration-id"]), "applied", marker.source_fingerprint)]
    assert run_sql(pr.db.admin_dsn, "SELECT to_regclass('app.orders') IS NOT NULL") == [(True,)]
    deployed = [b for b in pr.comments() if "CREATE TABLE app.orders" in b and "deployed" in b]
    assert len(deployed) == 1, pr.comments()
    assert "migration" in pr.runner.summary()

    # The same push again: nothing to do.
    again = pr.runner.run("push", push, inputs, mounts=socket_dirs(pr.db.admin_dsn))
    assert again.returncode == 0, again.stdout + again.stderr
    assert pr.runner.outputs().get("applied") == "false"


def test_canary_in_the_container(
    podman: Podman,
    action_image: BuiltImage,
    fake_github: FakeGitHub,
    tmp_path: Path,
    db: ShadowDatabase,
    run_sql: Any,
) -> None:
    runner = RunnerHost(podman, action_image.tag, tmp_path, fake_github.url)
    fake_github.add_repo(CANARY_REPO)
    schema = runner.workspace / "schema"
    schema.mkdir()
    (schema / "app.sql").write_text(
        "CREATE SCHEMA app;\nCREATE TABLE app.orders (id bigint PRIMARY KEY);\n", encoding="utf-8"
    )
    run_sql(db.admin_dsn, "CREATE SCHEMA app; CREATE TABLE app.orders (id bigint PRIMARY KEY)")
    payload = load_payload("schedule")
    payload.pop("repository", None)
    inputs = {
        "mode": "canary",
        "database-url": db.admin_dsn,
        "github-token": fake_github.token,
        "shadow": "embedded",
    }
    mounts = socket_dirs(db.admin_dsn)
    clean = runner.run("schedule", payload, inputs, mounts=mounts)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert runner.outputs()["drift"] == "false"
    assert fake_github.issues_in(CANARY_REPO) == []

    run_sql(db.admin_dsn, "ALTER TABLE app.orders ADD COLUMN hotfix int")
    drifted = runner.run("schedule", payload, inputs, mounts=mounts)
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert runner.outputs()["drift"] == "true"
    (issue,) = fake_github.issues_in(CANARY_REPO)
    assert issue.state == "open"
    assert "hotfix" in (issue.body or "")
    assert "::error title=pg-flux drift::" in drifted.stdout
    assert "hotfix" in runner.summary()

    run_sql(db.admin_dsn, "ALTER TABLE app.orders DROP COLUMN hotfix")
    fixed = runner.run("schedule", payload, inputs, mounts=mounts)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    (issue,) = fake_github.issues_in(CANARY_REPO)
    assert issue.state == "closed"
