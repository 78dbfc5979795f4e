"""pgflux.toml honoured by every mode, and a fork's pull request: `pgflux-ci` run as a process
with the runner's environment, real PostgreSQL as production and the fake GitHub API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pgflux_ci.report import parse_plan_marker
from tests.e2e.test_canary_e2e import Canary, canary
from tests.e2e.test_deploy_e2e import Project, _migrations, _tables, project
from tests.e2e.test_review_e2e import REPO, PullRequestRun, fake_github, pr
from tests.fakes.github_api import Fault
from tests.fakes.runner_env import load_payload

PRODUCTION = (
    "CREATE SCHEMA app;"
    " CREATE TABLE app.orders (id int PRIMARY KEY, legacy text);"
    " CREATE TABLE app.tmp_cache (k text);"
    " INSERT INTO app.orders SELECT g, 'x' FROM generate_series(1, 50) g"
)
# schema/ drops the column app.orders.legacy (DATA_LOSS, BACKWARD_INCOMPATIBLE) and does not
# know app.tmp_cache (dropping it: DATA_LOSS).
# The harnesses' fixtures, used here as in their own modules.
__all__ = ["canary", "fake_github", "pr", "project"]

FILES = {
    "app.sql": "CREATE SCHEMA app;\n",
    "orders.sql": "CREATE TABLE app.orders (id int PRIMARY KEY);\n",
}
CONFIG = """\
[hazards]
allow = ["DATA_LOSS", "BACKWARD_INCOMPATIBLE"]

[objects]
exclude = ["app.tmp_*"]
"""


def write(workspace: Path, name: str, text: str) -> None:
    path = workspace / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_review_config_excludes_objects_and_allows_hazards(
    pr: PullRequestRun, run_sql: Any
) -> None:
    run_sql(pr.db.admin_dsn, PRODUCTION)
    # Without a config: the drop of app.tmp_cache shows, and the hazards fail the check.
    plain = pr.push(FILES)
    assert plain.returncode == 2, plain.stdout + plain.stderr
    body = pr.comments()[0]
    assert "DROP TABLE app.tmp_cache" in body
    assert "(allowed)" not in body

    # The config in the workspace root, as pgflux.toml: the object filter takes tmp_cache out
    # of both sides; the allowed codes no longer fail the check.
    write(pr.workspace, "pgflux.toml", CONFIG)
    configured = pr.push(FILES)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    (body,) = pr.comments()
    assert "tmp_cache" not in body
    assert "ALTER TABLE app.orders DROP COLUMN legacy" in body
    assert "`DATA_LOSS` (allowed)" in body
    assert "`BACKWARD_INCOMPATIBLE` (allowed)" in body
    assert "do not fail the check" in body
    assert "pg-flux review failed" not in configured.stdout
    hazards = [line for line in configured.stdout.splitlines() if "title=pg-flux DATA_LOSS" in line]
    assert hazards, configured.stdout
    assert all(line.startswith("::warning ") for line in hazards)
    out = pr.outputs()
    assert out["has-changes"] == "true"
    assert "tmp_cache" not in (pr.workspace / out["plan-path"]).read_text(encoding="utf-8")


def test_review_config_input_path_and_its_fail_on(pr: PullRequestRun, run_sql: Any) -> None:
    run_sql(pr.db.admin_dsn, PRODUCTION)
    write(
        pr.workspace,
        "ci/flux.toml",
        '[objects]\nexclude = ["app.tmp_*"]\n[hazards]\nfail_on = "critical"\n',
    )
    # fail-on left at its default (high): the file's fail_on (critical) decides, and the
    # column drop's hazards are high at most.
    run = pr.push(FILES, config="ci/flux.toml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "tmp_cache" not in pr.comments()[0]
    # An input set to another value wins over the file.
    strict = pr.push(FILES, config="ci/flux.toml", **{"fail-on": "medium"})
    assert strict.returncode == 2, strict.stdout + strict.stderr
    assert "fail-on=medium" in strict.stdout


def test_review_schema_dir_of_the_selected_target(pr: PullRequestRun, run_sql: Any) -> None:
    run_sql(pr.db.admin_dsn, "CREATE SCHEMA app")
    write(pr.workspace, "db/eu/app.sql", "CREATE SCHEMA app;\nCREATE TABLE app.eu_only (x int);\n")
    write(
        pr.workspace,
        "pgflux.toml",
        '[[targets]]\nname = "eu"\ndsn_env = "EU_URL"\nschema_dir = "db/eu"\n',
    )
    run = pr.push({"app.sql": "CREATE SCHEMA app;\n"}, target="eu")
    assert run.returncode == 0, run.stdout + run.stderr
    body = pr.comments()[0]
    assert body.startswith("<!-- pgflux-ci:review target=eu -->\n")
    assert "CREATE TABLE app.eu_only" in body


DEPLOY_CONFIG = 'tracking_schema = "ops_track"\n[objects]\nexclude = ["app.tmp_*"]\n'
DEPLOY_FILES = {
    "app.sql": "CREATE SCHEMA app;\n",
    "orders.sql": "CREATE TABLE app.orders (id bigint PRIMARY KEY);\n",
    "scratch.sql": "CREATE TABLE app.tmp_scratch (k text);\n",
}


def _review_and_deploy(project: Project) -> tuple[str, Any]:
    """Review and deploy DEPLOY_FILES with DEPLOY_CONFIG at ci/pgflux.toml (the config input)."""
    project.other_files = {"ci/pgflux.toml": DEPLOY_CONFIG}
    _, reviewed = project.review(DEPLOY_FILES, config="ci/pgflux.toml")
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    comment = project.review_comment()
    assert "tmp_" not in comment
    marker = parse_plan_marker(comment)
    assert marker is not None
    project.merge()
    job, run = project.deploy(config="ci/pgflux.toml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert job.outputs["applied"] == "true"
    assert job.outputs["plan-fingerprint"] == marker.fingerprint
    return job.outputs["migration-id"], job


def test_deploy_uses_the_config_tracking_schema_and_object_filter(
    project: Project, run_sql: Any
) -> None:
    dsn = project.db.admin_dsn
    migration_id, _ = _review_and_deploy(project)
    # The excluded table of schema/ is not created; the run is recorded in the config's
    # tracking schema, not in _pgflux.
    assert _tables(run_sql, dsn, "app") == ["orders"]
    assert _migrations(run_sql, dsn) == []
    rows = run_sql(dsn, "SELECT id, status FROM ops_track.migrations ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [(int(migration_id), "applied")]


def test_deploy_leaves_excluded_production_objects_alone(project: Project, run_sql: Any) -> None:
    dsn = project.db.admin_dsn
    run_sql(dsn, "CREATE SCHEMA app; CREATE TABLE app.tmp_cache (k text)")
    _review_and_deploy(project)
    assert _tables(run_sql, dsn, "app") == ["orders", "tmp_cache"]


def test_canary_uses_the_config_tracking_schema_and_object_filter(
    canary: Canary, run_sql: Any
) -> None:
    dsn = canary.db.admin_dsn
    run_sql(
        dsn,
        "CREATE SCHEMA app; CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric(12, 2));"
        " CREATE TABLE app.tmp_cache (k text);"
        " CREATE SCHEMA ops_track; CREATE TABLE ops_track.notes (x int)",
    )
    # Without the config: the extra table and the other tracking schema are drift.
    out, _, proc = canary.run()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert out["drift"] == "true"
    (issue,) = canary.issues()
    assert "tmp_cache" in (issue.body or "")

    config = 'tracking_schema = "ops_track"\n[objects]\nexclude = ["app.tmp_*"]\n'
    out, summary, proc = canary.run(config=config)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out["drift"] == "false"
    assert "no drift" in summary
    # The drift is gone: the issue is closed.
    assert [i.state for i in canary.issues()] == ["closed"]


def test_fork_pull_request_warns_and_keeps_the_plan_exit_status(
    pr: PullRequestRun, run_sql: Any
) -> None:
    pr.payload = load_payload("pull_request.fork")
    pr.fake.inject("POST", r"/issues/\d+/comments$", Fault.error(403), times=5)
    run = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert run.returncode == 0, run.stdout + run.stderr
    warnings = [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    assert any("fork Forker/Hello-World" in w and "read-only GITHUB_TOKEN" in w for w in warnings)
    assert "could not be posted" in run.stdout
    assert pr.comments() == []
    assert "CREATE SCHEMA app" in pr.summary_file.read_text(encoding="utf-8")
    out = pr.outputs()
    assert out["has-changes"] == "true"
    assert out["plan-fingerprint"]
    assert "comment-url" not in out
    assert "::error" not in run.stdout

    # A failing plan still fails, with the warning and the summary.
    run_sql(pr.db.admin_dsn, "CREATE SCHEMA legacy")
    failing = pr.push({"app.sql": "CREATE SCHEMA app;\n"})
    assert failing.returncode == 2, failing.stdout + failing.stderr
    assert "could not be posted" in failing.stdout
    assert "::error title=pg-flux review failed::" in failing.stdout
    assert "DROP SCHEMA legacy" in pr.summary_file.read_text(encoding="utf-8")
    assert pr.fake.comments_on(REPO, pr.number) == []
