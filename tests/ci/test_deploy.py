"""Deploy's decisions without a database: judging the merge-time plan against the review, the
hazard policy, finding the merged pull request, and the report's markdown."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

from engine import tracking
from engine.plan.model import (
    Hazard,
    HazardCode,
    ObjectRef,
    Plan,
    Severity,
    Statement,
    statements_fingerprint,
)
from pgflux_ci import deploy
from pgflux_ci.context import ActionContext, FailOn, OnPlanChange
from pgflux_ci.deploy import DeployReport, StatementRun, judge
from pgflux_ci.github import GitHubClient
from pgflux_ci.report import PlanMarker
from tests.e2e.test_deploy_e2e import plain
from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import github_env, load_payload

SRC = "sha256:" + "a" * 64
SRC2 = "sha256:" + "b" * 64
TGT = "sha256:" + "c" * 64
TGT_OTHER_SHADOW = "sha256:" + "d" * 64  # same schema, loaded by another shadow's role

CREATE = Statement(sql="CREATE SCHEMA app", object=ObjectRef(kind="schema", name="app"))
TABLE = Statement(
    sql="CREATE TABLE app.t (id integer)",
    object=ObjectRef(kind="table", schema_="app", name="t"),
)
EXTRA = Statement(sql="CREATE SCHEMA billing", object=ObjectRef(kind="schema", name="billing"))


def plan(statements: tuple[Statement, ...], source: str = SRC, target: str = TGT) -> Plan:
    return Plan(
        fingerprint=statements_fingerprint(statements, source, target),
        source_fingerprint=source,
        target_fingerprint=target,
        verified=True,
        postgres_version=150000,
        statements=statements,
    )


def marker(p: Plan) -> PlanMarker:
    return PlanMarker(
        fingerprint=p.fingerprint,
        source_fingerprint=p.source_fingerprint,
        target_fingerprint=p.target_fingerprint,
    )


REVIEWED = marker(plan((CREATE, TABLE)))


def failed_row(statements: tuple[Statement, ...], reviewed: str | None) -> tracking.MigrationRow:
    now = datetime.now(UTC)
    return tracking.MigrationRow(
        id=7,
        plan_fingerprint="sha256:" + "e" * 64,
        source_fingerprint=SRC,
        target_fingerprint=TGT,
        result_fingerprint=None,
        statements=tracking.statement_records(plan(statements)),
        hazards=[],
        status="failed",
        started_at=now,
        finished_at=now,
        applied_by="deployer",
        backend_pid=1,
        origin={"reviewed_plan": reviewed} if reviewed else {},
        error="boom",
    )


JUDGE_CASES = [
    # (new plan, reviewed, on-plan-change, failed apply, accept, words in the reason)
    pytest.param(plan(()), REVIEWED, "fail", None, True, "already matches", id="empty-plan"),
    pytest.param(plan(()), None, "fail", None, True, "already matches", id="empty-no-review"),
    pytest.param(
        plan((CREATE, TABLE)), REVIEWED, "fail", None, True, "reviewed one", id="same-fingerprint"
    ),
    pytest.param(
        plan((CREATE, TABLE), target=TGT_OTHER_SHADOW),
        REVIEWED,
        "fail",
        None,
        True,
        "reviewed one",
        id="same-statements-other-shadow",
    ),
    pytest.param(
        plan((TABLE,), source=SRC2),
        REVIEWED,
        "fail",
        None,
        False,
        "production changed since the review",
        id="production-changed",
    ),
    pytest.param(
        plan((TABLE,), source=SRC2),
        REVIEWED,
        "apply",
        None,
        True,
        "applied anyway",
        id="production-changed-apply",
    ),
    pytest.param(
        plan((CREATE, TABLE, EXTRA), target=TGT_OTHER_SHADOW),
        REVIEWED,
        "fail",
        None,
        False,
        "schema/ at this commit is not what was reviewed",
        id="schema-changed",
    ),
    pytest.param(
        plan((CREATE, TABLE)), None, "fail", None, False, "no pg-flux review", id="no-review"
    ),
    pytest.param(
        plan((CREATE, TABLE)), None, "apply", None, True, "no reviewed plan", id="no-review-apply"
    ),
    pytest.param(
        plan((TABLE,), source=SRC2),
        REVIEWED,
        "fail",
        failed_row((CREATE, TABLE), REVIEWED.fingerprint),
        True,
        "repairing migration 7",
        id="repair-rest-of-reviewed",
    ),
    pytest.param(
        plan((TABLE, EXTRA), source=SRC2),
        REVIEWED,
        "fail",
        failed_row((CREATE, TABLE), REVIEWED.fingerprint),
        False,
        "production changed",
        id="repair-with-unreviewed-statement",
    ),
]


@pytest.mark.parametrize(("new", "reviewed", "on_change", "failed", "accept", "words"), JUDGE_CASES)
def test_judge(
    new: Plan,
    reviewed: PlanMarker | None,
    on_change: str,
    failed: tracking.MigrationRow | None,
    accept: bool,
    words: str,
) -> None:
    verdict = judge(new, reviewed, on_change=OnPlanChange(on_change), failed=failed)
    assert verdict.accept is accept
    assert words in verdict.reason


def test_repair_may_touch_an_object_the_failed_apply_touched() -> None:
    index = Statement(
        sql="CREATE INDEX CONCURRENTLY t_id ON app.t (id)",
        transactional=False,
        object=ObjectRef(kind="index", schema_="app", name="t_id"),
    )
    drop = Statement(
        sql="DROP INDEX CONCURRENTLY app.t_id",
        transactional=False,
        object=ObjectRef(kind="index", schema_="app", name="t_id"),
    )
    assert deploy.repairs(plan((drop, index)), failed_row((index,), None))
    assert not deploy.repairs(plan((drop, index, EXTRA)), failed_row((index,), None))


HAZARD_CASES = [
    pytest.param("high", False, frozenset(), Severity.HIGH, id="high"),
    pytest.param("critical", False, frozenset(), Severity.CRITICAL, id="critical"),
    pytest.param("high", True, frozenset(HazardCode), None, id="approved"),
    pytest.param("none", False, frozenset(HazardCode), None, id="fail-on-none"),
]


@pytest.mark.parametrize(("fail_on", "approved", "allowed", "severity"), HAZARD_CASES)
def test_hazard_policy(
    fail_on: str, approved: bool, allowed: frozenset[HazardCode], severity: Severity | None
) -> None:
    assert deploy.hazard_policy(FailOn(fail_on), approved) == (allowed, severity)


def test_hazard_policy_matches_review_through_engine_apply() -> None:
    from engine.apply import refused_hazards

    drop = Statement(
        sql="DROP SCHEMA legacy",
        object=ObjectRef(kind="schema", name="legacy"),
        hazards=(Hazard(code=HazardCode.DATA_LOSS, severity=Severity.HIGH, message="drops"),),
    )
    note = Statement(
        sql="GRANT USAGE ON SCHEMA app TO r",
        object=ObjectRef(kind="schema", name="app"),
        hazards=(Hazard(code=HazardCode.AUTHZ_CHANGE, severity=Severity.LOW, message="grant"),),
    )
    p = plan((drop, note))
    assert [h.code for _, h in refused_hazards(p, *deploy.hazard_policy(FailOn.HIGH, False))] == [
        HazardCode.DATA_LOSS
    ]
    assert refused_hazards(p, *deploy.hazard_policy(FailOn.HIGH, True)) == []
    assert refused_hazards(p, *deploy.hazard_policy(FailOn.CRITICAL, False)) == []


# --- finding the merged pull request --------------------------------------------------------


def _ctx(fake: FakeGitHub, tmp_path: Path, event: str, payload: dict[str, Any]) -> ActionContext:
    env = github_env(fake, tmp_path, event, payload, {"mode": "deploy", "database-url": "x"})
    return ActionContext.from_env(env)


def _client(fake: FakeGitHub) -> GitHubClient:
    return GitHubClient(fake.token, fake.url, "Codertocat/Hello-World", seconds_between_writes=0)


def test_push_finds_the_pull_request_merged_as_that_commit(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    payload = load_payload("push")
    sha = payload["after"]
    ctx = _ctx(fake_github, tmp_path, "push", payload)
    fake_github.add_pull("Codertocat/Hello-World", 3, merged=True, merge_commit_sha="9" * 40)
    fake_github.add_pull("Codertocat/Hello-World", 4, merged=True, merge_commit_sha=sha)
    fake_github.link_commit("Codertocat/Hello-World", sha, [3, 4])
    source = deploy.find_source(ctx, _client(fake_github))
    assert source.sha == sha
    assert source.pull is not None
    assert source.pull.number == 4


def test_push_of_a_commit_without_pull_request(fake_github: FakeGitHub, tmp_path: Path) -> None:
    ctx = _ctx(fake_github, tmp_path, "push", load_payload("push"))
    source = deploy.find_source(ctx, _client(fake_github))
    assert source.pull is None
    assert source.skip is None


def test_open_pull_request_containing_the_commit_is_ignored(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    payload = load_payload("push")
    ctx = _ctx(fake_github, tmp_path, "push", payload)
    fake_github.add_pull("Codertocat/Hello-World", 5, merged=False)
    fake_github.link_commit("Codertocat/Hello-World", payload["after"], [5])
    assert deploy.find_source(ctx, _client(fake_github)).pull is None


def test_closed_merged_event_uses_its_pull_request_and_current_labels(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    payload = load_payload("pull_request.closed-merged")
    ctx = _ctx(fake_github, tmp_path, "pull_request", payload)
    fake_github.repos["Codertocat/Hello-World"].issues[2].labels.append("pgflux:approve-hazards")
    source = deploy.find_source(ctx, _client(fake_github))
    assert source.pull is not None
    assert source.pull.number == 2
    assert source.sha == payload["pull_request"]["merge_commit_sha"]
    assert "pgflux:approve-hazards" in source.pull.labels


def test_closed_unmerged_pull_request_deploys_nothing(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    payload = load_payload("pull_request.closed")
    ctx = _ctx(fake_github, tmp_path, "pull_request", payload)
    out = io.StringIO()
    # No database is reached: the DSN is not even valid.
    assert deploy.run(ctx, out) == 0
    assert "closed unmerged" in out.getvalue()
    assert fake_github.comments_on("Codertocat/Hello-World", 2) == []
    assert "applied<<" in (tmp_path / "github_output").read_text(encoding="utf-8")


# --- the report ------------------------------------------------------------------------------


def render_html(body: str) -> str:
    """As GitHub renders a comment (cmark-gfm; raw HTML kept, as GitHub keeps safe tags)."""
    return str(cmarkgfm.github_flavored_markdown_to_html(body, options=Options.CMARK_OPT_UNSAFE))


def _report(**kwargs: Any) -> DeployReport:
    base: dict[str, Any] = {
        "target": "eu",
        "outcome": "applied",
        "reason": "the plan is the reviewed one",
        "sha": "c" * 40,
        "pull_number": 2,
        "migration_id": 12,
        "plan_fingerprint": "sha256:" + "f" * 64,
    }
    return DeployReport(**(base | kwargs))


def test_applied_report_lists_statements_with_durations() -> None:
    body = deploy.render_deploy(
        _report(
            statements=(
                StatementRun(
                    number=1,
                    sql="CREATE SCHEMA app",
                    object="schema app",
                    transactional=True,
                    status="applied",
                    duration_ms=3.2,
                ),
                StatementRun(
                    number=2,
                    sql="CREATE INDEX CONCURRENTLY i ON app.t (id)",
                    object="index app.i",
                    transactional=False,
                    status="applied",
                    duration_ms=1530.0,
                ),
            )
        )
    )
    assert body.startswith("<!-- pgflux-ci:deploy target=eu -->\n")
    text = plain(body)
    assert "deployed · target eu · migration 12" in text
    assert "2 statement(s) applied to production in 1533 ms" in text
    assert "| 1 | schema app | applied | 3 ms |" in text
    assert "| 2 | index app.i (non-transactional) | applied | 1530 ms |" in text
    assert "CREATE SCHEMA app;\n\nCREATE INDEX CONCURRENTLY i ON app.t (id);" in body


def test_failed_report_says_what_production_is_left_with() -> None:
    runs = tuple(
        StatementRun(number=n, sql=f"S{n}", object=f"table t{n}", transactional=True, status=s)
        for n, s in enumerate(["applied", "rolled_back", "failed", "pending"], 1)
    )
    body = plain(
        deploy.render_deploy(
            _report(outcome="failed", statements=runs, error="migration 12 failed: boom")
        )
    )
    assert "deploy failed · target eu · migration 12" in body
    assert "1 statement(s) applied, 1 rolled back, 1 failed and 1 not run" in body
    assert "| 2 | table t2 | rolled back | \u2013 |" in body


def test_user_text_cannot_forge_markers_or_ping() -> None:
    evil = "<!-- pgflux-ci:review target=default --> @admin <img src=x onerror=alert(1)>"
    body = deploy.render_deploy(
        _report(
            outcome="refused",
            reason=evil,
            target="x --> <b>",
            statements=(
                StatementRun(
                    number=1,
                    sql='CREATE TABLE "`|" ()',
                    object=evil,
                    transactional=True,
                    status="pending",
                ),
            ),
        )
    )
    first, rest = body.split("\n", 1)
    assert first == "<!-- pgflux-ci:deploy target=x%20--%3E%20%3Cb%3E -->"
    assert "<!--" not in rest
    assert "@admin" not in rest
    html = render_html(body)
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_open_pull_request_event_deploys_nothing(fake_github: FakeGitHub, tmp_path: Path) -> None:
    ctx = _ctx(fake_github, tmp_path, "pull_request", load_payload("pull_request.synchronize"))
    source = deploy.find_source(ctx, _client(fake_github))
    assert source.skip == "pull request #2 is not merged (synchronize)"
