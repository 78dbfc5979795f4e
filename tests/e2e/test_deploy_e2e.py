"""`pgflux-ci` deploy run as a process with the runner's environment, real PostgreSQL as
production and the fake GitHub API: review a pull request, merge it, deploy it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from engine import dsn as dsnlib
from engine.plan.model import Plan
from engine.shadow import ShadowDatabase
from pgflux_ci.deploy import deploy_marker
from pgflux_ci.report import parse_plan_marker, review_marker
from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import FAKE_TOKEN, github_env, load_payload

ENTRYPOINT = str(Path(sys.executable).parent / "pgflux-ci")
REPO = "Codertocat/Hello-World"
LABEL = "pgflux:approve-hazards"
MERGE_SHA = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"  # the merged payload's merge_commit_sha


def parse_outputs(path: Path) -> dict[str, str]:
    """`$GITHUB_OUTPUT` heredoc records; a later record of a name wins, as on the runner."""
    lines = path.read_text(encoding="utf-8").split("\n")
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


def plain(markdown: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


class Job:
    """One job's directory: event, outputs, summary and a checkout of schema/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def checkout(self, files: Mapping[str, str], other: Mapping[str, str] | None = None) -> None:
        """schema/ holds `files`; `other` are further files by workspace path (pgflux.toml)."""
        schema = self.root / "workspace" / "schema"
        shutil.rmtree(schema, ignore_errors=True)
        schema.mkdir(parents=True)
        for name, sql in files.items():
            (schema / name).write_text(sql, encoding="utf-8")
        for name, text in (other or {}).items():
            path = self.root / "workspace" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    @property
    def outputs(self) -> dict[str, str]:
        return parse_outputs(self.root / "github_output")

    @property
    def summary(self) -> str:
        return (self.root / "step_summary").read_text(encoding="utf-8")


class Project:
    """A repository with a production database, seen through the fake GitHub API."""

    def __init__(self, fake: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> None:
        self.fake, self.tmp_path, self.db = fake, tmp_path, db
        self.pr_payload: dict[str, Any] = load_payload("pull_request.synchronize")
        self.number = int(self.pr_payload["number"])
        self.jobs = 0
        self.seeded = False
        self.files: dict[str, str] = {}
        self.other_files: dict[str, str] = {}  # beside schema/ in every checkout (pgflux.toml)

    def _job(self) -> Job:
        self.jobs += 1
        return Job(self.tmp_path / f"job{self.jobs}")

    def _env(
        self, job: Job, event: str, payload: dict[str, Any], inputs: dict[str, str]
    ) -> dict[str, str]:
        base = {
            "database-url": self.db.admin_dsn,
            # The test cluster as the shadow server: throw-away databases beside production.
            "shadow": dsnlib.with_dbname(self.db.admin_dsn, "postgres"),
        }
        env = github_env(
            self.fake, job.root, event, payload, {**base, **inputs}, seed=not self.seeded
        )
        self.seeded = True
        for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def review(
        self, files: Mapping[str, str], **inputs: str
    ) -> tuple[Job, subprocess.CompletedProcess[str]]:
        self.files = dict(files)
        job = self._job()
        job.checkout(files, self.other_files)
        sha = f"{self.jobs:040x}"
        self.pr_payload["pull_request"]["head"]["sha"] = sha
        env = self._env(job, "pull_request", self.pr_payload, {"mode": "review", **inputs})
        issue = self.fake.repos[REPO].issues.get(self.number)
        if issue is not None and issue.pull is not None:
            issue.pull.head_sha = sha
        return job, self._run(env)

    def merge(self, sha: str = MERGE_SHA) -> None:
        pull = self.fake.repos[REPO].issues[self.number].pull
        assert pull is not None
        pull.merged, pull.merge_commit_sha, pull.merged_at = True, sha, "2026-01-01T00:00:00Z"
        self.fake.repos[REPO].issues[self.number].state = "closed"
        self.fake.link_commit(REPO, sha, [self.number])

    def deploy_env(
        self, *, sha: str = MERGE_SHA, event: str = "push", **inputs: str
    ) -> tuple[Job, dict[str, str]]:
        job = self._job()
        job.checkout(self.files, self.other_files)
        if event == "push":
            payload = load_payload("push")
            payload["after"] = sha
        else:
            payload = load_payload("pull_request.closed-merged")
            payload["pull_request"]["merge_commit_sha"] = sha
        return job, self._env(job, event, payload, {"mode": "deploy", **inputs})

    def deploy(self, **kwargs: str) -> tuple[Job, subprocess.CompletedProcess[str]]:
        job, env = self.deploy_env(**kwargs)
        return job, self._run(env)

    @staticmethod
    def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ENTRYPOINT], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    def comments(self) -> list[str]:
        return [c.body for c in self.fake.comments_on(REPO, self.number)]

    def deploy_comments(self, target: str = "default") -> list[str]:
        """Deploy reports, markdown escapes removed (assertions read the text as rendered)."""
        return [plain(b) for b in self.comments() if b.startswith(deploy_marker(target) + "\n")]

    def review_comment(self, target: str = "default") -> str:
        found = [b for b in self.comments() if b.startswith(review_marker(target) + "\n")]
        assert len(found) == 1, self.comments()
        return found[0]


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as fake:
        yield fake


@pytest.fixture
def project(fake_github: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> Project:
    return Project(fake_github, tmp_path, db)


def _migrations(run_sql: Any, dsn: str) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = run_sql(
        dsn,
        "SELECT id, status, plan_fingerprint, source_fingerprint, statements, origin"
        " FROM _pgflux.migrations ORDER BY id"
        if run_sql(dsn, "SELECT to_regclass('_pgflux.migrations') IS NOT NULL")[0][0]
        else "SELECT 1 WHERE false",
    )
    return rows


def _tables(run_sql: Any, dsn: str, schema: str) -> list[str]:
    rows = run_sql(
        dsn,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE n.nspname = '{schema}' AND c.relkind = 'r' ORDER BY 1",
    )
    return [str(r[0]) for r in rows]


APP = {
    "app.sql": "CREATE SCHEMA app;\n",
    "orders.sql": "CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric(12, 2));\n",
}


def test_review_then_deploy_applies_exactly_the_reviewed_plan(
    project: Project, run_sql: Any
) -> None:
    review_job, reviewed = project.review(APP)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    marker = parse_plan_marker(project.review_comment())
    assert marker is not None
    project.merge()

    job, run = project.deploy()
    assert run.returncode == 0, run.stdout + run.stderr
    out = job.outputs
    assert out["applied"] == "true"
    rows = _migrations(run_sql, project.db.admin_dsn)
    assert [(r[0], r[1]) for r in rows] == [(int(out["migration-id"]), "applied")]
    # Exactly the reviewed statements, on the production the review saw.
    assert rows[0][3] == marker.source_fingerprint
    reviewed_plan = Plan.model_validate_json(
        (review_job.root / "workspace" / "pgflux-plan-default.json").read_text(encoding="utf-8")
    )
    assert reviewed_plan.fingerprint == marker.fingerprint
    assert [r["sql"] for r in rows[0][4]] == [s.sql for s in reviewed_plan.statements]
    assert rows[0][5]["reviewed_plan"] == marker.fingerprint
    assert _tables(run_sql, project.db.admin_dsn, "app") == ["orders"]
    # A new comment beside the review: what ran, with durations.
    (report,) = project.deploy_comments()
    assert f"deployed · target default · migration {out['migration-id']}" in report
    assert "CREATE TABLE app.orders" in report
    assert "| 1 | schema app | applied |" in report
    assert report.count(" ms |") == len(rows[0][4])
    assert out["comment-url"]
    assert "migration" in job.summary
    unmasked = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert all(FAKE_TOKEN not in line for line in unmasked)
    assert FAKE_TOKEN not in run.stderr
    assert all(FAKE_TOKEN not in body for body in project.comments())
    assert "CREATE TABLE app.orders" in job.summary

    # Rerunning the job applies nothing and adds no comment.
    again, rerun = project.deploy()
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert again.outputs["applied"] == "false"
    assert again.outputs["migration-id"] == ""
    assert len(_migrations(run_sql, project.db.admin_dsn)) == 1
    assert len(project.deploy_comments()) == 1
    assert "nothing to deploy" in again.summary


def test_merged_pull_request_event_deploys_too(project: Project, run_sql: Any) -> None:
    _, reviewed = project.review(APP)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    project.merge()
    job, run = project.deploy(event="pull_request")
    assert run.returncode == 0, run.stdout + run.stderr
    assert job.outputs["applied"] == "true"
    assert _tables(run_sql, project.db.admin_dsn, "app") == ["orders"]


def test_production_changed_between_review_and_deploy_is_refused(
    project: Project, run_sql: Any
) -> None:
    _, reviewed = project.review(APP)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    project.merge()
    run_sql(project.db.admin_dsn, "CREATE SCHEMA app")  # someone was quicker, by hand

    job, run = project.deploy()
    assert run.returncode == 2, run.stdout + run.stderr
    assert job.outputs["applied"] == "false"
    assert _tables(run_sql, project.db.admin_dsn, "app") == []
    assert _migrations(run_sql, project.db.admin_dsn) == []
    (report,) = project.deploy_comments()
    assert "deploy refused" in report
    assert "production changed since the review" in report
    assert "Production was not changed" in report
    assert "::error title=pg-flux deploy refused::" in run.stdout

    # on-plan-change: apply accepts the changed plan (the rest of the change).
    job, run = project.deploy(**{"on-plan-change": "apply"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert job.outputs["applied"] == "true"
    assert _tables(run_sql, project.db.admin_dsn, "app") == ["orders"]
    assert "applied anyway: on-plan-change is apply" in project.deploy_comments()[-1]


def test_schema_changed_after_review_is_refused(project: Project, run_sql: Any) -> None:
    _, reviewed = project.review(APP)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    project.merge()
    project.files = {**APP, "billing.sql": "CREATE SCHEMA billing;\n"}  # another merge landed
    _, run = project.deploy()
    assert run.returncode == 2, run.stdout + run.stderr
    (report,) = project.deploy_comments()
    assert "schema/ at this commit is not what was reviewed" in report
    assert "production changed" not in report
    assert _tables(run_sql, project.db.admin_dsn, "app") == []


def test_two_deploy_jobs_racing_apply_once(project: Project, run_sql: Any) -> None:
    _, reviewed = project.review(APP)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    project.merge()
    # push and pull_request closed both trigger a deploy of the same merge.
    jobs = [project.deploy_env(event="push"), project.deploy_env(event="pull_request")]
    procs = [
        subprocess.Popen(
            [ENTRYPOINT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _, env in jobs
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (stdout, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stdout + stderr
    applied = sorted(job.outputs["applied"] for job, _ in jobs)
    assert applied == ["false", "true"]
    rows = _migrations(run_sql, project.db.admin_dsn)
    assert [r[1] for r in rows] == ["applied"]
    assert len(project.deploy_comments()) == 1
    assert _tables(run_sql, project.db.admin_dsn, "app") == ["orders"]


def test_push_without_pull_request_applies_only_when_configured(
    project: Project, run_sql: Any
) -> None:
    project.files = dict(APP)
    lone = "d" * 40  # a direct push: no pull request contains it
    _, refused = project.deploy(sha=lone)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "belongs to no merged pull request" in refused.stdout
    assert _tables(run_sql, project.db.admin_dsn, "app") == []

    job, run = project.deploy(sha=lone, **{"apply-without-pr": "true"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert job.outputs["applied"] == "true"
    assert _tables(run_sql, project.db.admin_dsn, "app") == ["orders"]
    assert project.comments() == []  # no pull request to report on
    assert "deployed" in job.summary


def test_hazard_policy_holds_until_the_label_is_on_the_merged_pr(
    project: Project, run_sql: Any
) -> None:
    run_sql(project.db.admin_dsn, "CREATE SCHEMA app; CREATE SCHEMA legacy")
    _, reviewed = project.review({"app.sql": "CREATE SCHEMA app;\n"})
    assert reviewed.returncode == 2  # DROP SCHEMA legacy: DATA_LOSS over fail-on
    assert parse_plan_marker(project.review_comment()) is not None
    project.merge()

    job, refused = project.deploy()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert job.outputs["applied"] == "false"
    (report,) = project.deploy_comments()
    assert "deploy refused" in report
    assert "DATA_LOSS" in report
    assert run_sql(
        project.db.admin_dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'legacy'"
    ) == [(1,)]

    project.fake.repos[REPO].issues[project.number].labels.append(LABEL)
    job, run = project.deploy()
    assert run.returncode == 0, run.stdout + run.stderr
    assert job.outputs["applied"] == "true"
    assert run_sql(
        project.db.admin_dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'legacy'"
    ) == [(0,)]


def test_failed_apply_reports_state_and_rerun_repairs(project: Project, run_sql: Any) -> None:
    dsn = project.db.admin_dsn
    run_sql(
        dsn,
        "CREATE SCHEMA app; CREATE TABLE app.t (id int, n int); INSERT INTO app.t VALUES (1, -1)",
    )
    files = {
        "app.sql": "CREATE SCHEMA app;\n",
        "t.sql": "CREATE TABLE app.t (id int, n int CONSTRAINT n_positive CHECK (n > 0));\n"
        "CREATE TABLE app.audit (id int);\n",
    }
    _, reviewed = project.review(files, **{"fail-on": "critical"})
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    project.merge()

    job, failed = project.deploy(**{"fail-on": "critical"})
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert job.outputs["applied"] == "false"
    (report,) = project.deploy_comments()
    rows = _migrations(run_sql, dsn)
    assert [r[1] for r in rows] == ["failed"]
    assert f"deploy failed · target default · migration {rows[0][0]}" in report
    assert "n_positive" in report
    assert "**Production is left with**" in report
    assert "| failed |" in report

    run_sql(dsn, "UPDATE app.t SET n = 1")
    job, repaired = project.deploy(**{"fail-on": "critical"})
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert job.outputs["applied"] == "true"
    assert [r[1] for r in _migrations(run_sql, dsn)] == ["failed", "applied"]
    assert _tables(run_sql, dsn, "app") == ["audit", "t"]
    assert run_sql(dsn, "SELECT convalidated FROM pg_constraint WHERE conname = 'n_positive'") == [
        (True,)
    ]
