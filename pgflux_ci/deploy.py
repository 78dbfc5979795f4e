"""Merge mode: apply to production exactly the plan a pull request's review showed.

One run: find the merged pull request for the commit, read the reviewed fingerprints from its
sticky review comment, then let engine.apply take the advisory lock and re-plan under it with
the writer DSN. The new plan is judged against the reviewed one *under the lock*, so that two
deploy jobs racing see each other's work: the second one finds nothing to do.

- same fingerprint: apply it;
- production changed or the plan differs: refuse (`on-plan-change: fail`) or apply (`apply`);
- the rerun of a failed apply of the reviewed plan (same target schema): repair and continue;
- a push no pull request explains: apply only with `apply-without-pr: true`.

The outcome goes to the pull request as a new comment, to the job summary and to the outputs
`applied` and `migration-id`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TextIO

import psycopg
from pydantic import BaseModel, ConfigDict

from engine import dsn as dsnlib
from engine import tracking
from engine.apply import ApplyOptions, ApplyResult, apply_plan
from engine.errors import (
    EXIT_ERROR,
    EXIT_OK,
    ApplyFailed,
    HazardRefused,
    PgFluxError,
    PlanError,
    PlanMismatch,
    SchemaLoadError,
    UsageError,
)
from engine.plan.build import production_version
from engine.plan.model import HazardCode, Plan, Severity, statements_fingerprint
from engine.shadow import Shadow, open_shadow
from pgflux_ci.context import ActionContext, FailOn, OnPlanChange, PushEvent
from pgflux_ci.github import GitHubClient, PullRef
from pgflux_ci.report import PlanMarker, marker_target, parse_plan_marker, review_marker
from pgflux_ci.settings import HazardGate, PlanSettings
from pgflux_ci.workflow_commands import WorkflowCommands

log = logging.getLogger("pgflux_ci.deploy")

REVIEWED = "reviewed_plan"  # origin key: the reviewed fingerprint a deploy was judged against
Outcome = Literal["applied", "nothing-to-do", "refused", "failed", "skipped"]


class DeployRefused(PgFluxError):
    """The plan at merge time is not the reviewed one (or nothing reviewed it)."""

    def __init__(self, message: str, plan: Plan, *, details: str | None = None) -> None:
        super().__init__(message, details=details)
        self.plan = plan


def deploy_marker(target: str) -> str:
    """First line of every deploy report comment (never sticky: each deploy adds one)."""
    return f"<!-- pgflux-ci:deploy target={marker_target(target)} -->"


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    accept: bool
    reason: str  # plain words, shown in the report either way


def is_reviewed(new: Plan, reviewed: PlanMarker) -> bool:
    """The new plan runs the reviewed statements on the production the review saw.

    The plan's own fingerprint also covers the target schema's fingerprint, which carries the
    owner of every object as loaded in the shadow, a role named per shadow instance: it differs
    between the review's shadow and this one. So the comparison recomputes the reviewed
    fingerprint from the new statements, production's fingerprint now and the reviewed target.
    """
    if new.fingerprint == reviewed.fingerprint:
        return True
    recomputed = statements_fingerprint(
        new.statements, new.source_fingerprint, reviewed.target_fingerprint
    )
    return recomputed == reviewed.fingerprint


def repairs(new: Plan, failed: tracking.MigrationRow) -> bool:
    """Every statement of `new` is one the failed apply ran, or works on an object it touched
    (e.g. dropping the invalid index a failed concurrent build left, to build it again)."""
    sqls = {str(r.get("sql", "")) for r in failed.statements}
    objects = {
        (o.get("kind"), o.get("schema"), o.get("name"))
        for r in failed.statements
        if isinstance(o := r.get("object"), dict)
    }
    return all(
        s.sql in sqls or (s.object.kind, s.object.schema_, s.object.name) in objects
        for s in new.statements
    )


def judge(
    new: Plan,
    reviewed: PlanMarker | None,
    *,
    on_change: OnPlanChange,
    failed: tracking.MigrationRow | None = None,
) -> Verdict:
    """Whether the plan made at merge time may run, given what the review showed.

    `failed` is a failed apply of the reviewed plan, the last apply recorded: its rerun starts
    from where the failure left production, so its plan differs but stays within the reviewed one.
    """
    if new.is_empty:
        return Verdict(accept=True, reason="production already matches schema/")
    if reviewed is None:
        if on_change is OnPlanChange.APPLY:
            return Verdict(accept=True, reason="no reviewed plan; on-plan-change is apply")
        return Verdict(
            accept=False,
            reason="no pg-flux review of this change was found, so nothing was reviewed",
        )
    if is_reviewed(new, reviewed):
        return Verdict(accept=True, reason="the plan is the reviewed one")
    if failed is not None and repairs(new, failed):
        return Verdict(
            accept=True,
            reason=f"repairing migration {failed.id}, a failed apply of the reviewed plan:"
            " the rest of the reviewed change is applied",
        )
    if new.source_fingerprint != reviewed.source_fingerprint:
        why = (
            "production changed since the review (reviewed against"
            f" {_short(reviewed.source_fingerprint)}, now {_short(new.source_fingerprint)})"
        )
    else:
        why = (
            "the plan differs from the reviewed one: schema/ at this commit is not what was"
            " reviewed (another merge may have landed in between)"
        )
    if on_change is OnPlanChange.APPLY:
        return Verdict(accept=True, reason=f"{why}; applied anyway: on-plan-change is apply")
    return Verdict(accept=False, reason=why)


def _short(fingerprint: str) -> str:
    return fingerprint.removeprefix("sha256:")[:12]


def hazard_policy(
    fail_on: FailOn | HazardGate, approved: bool
) -> tuple[frozenset[HazardCode], Severity | None]:
    """Review's policy as engine.apply options: hazards at/above fail-on refuse unless approved
    or their code is one pgflux.toml allows."""
    gate = HazardGate.of(fail_on)
    if approved or gate.fail_on is None:
        return frozenset(HazardCode), None
    return gate.allowed, gate.fail_on


# --- finding the pull request -----------------------------------------------------------------


class Source(BaseModel):
    """What the deploy is for: the commit and, when there is one, its merged pull request."""

    model_config = ConfigDict(frozen=True)

    sha: str
    pull: PullRef | None = None
    skip: str | None = None  # a reason to do nothing at all (e.g. a PR closed unmerged)


def find_source(ctx: ActionContext, client: GitHubClient) -> Source:
    pr = ctx.pull_request
    if pr is not None:
        if not pr.merged:
            action = getattr(ctx.event, "action", "")
            what = "was closed unmerged" if action == "closed" else f"is not merged ({action})"
            return Source(sha=pr.head.sha, skip=f"pull request #{pr.number} {what}")
        sha = pr.merge_commit_sha or ctx.runner.sha or pr.head.sha
        ref = PullRef(
            number=pr.number,
            html_url=pr.html_url,
            head_sha=pr.head.sha,
            head_ref=pr.head.ref,
            base_ref=pr.base.ref,
            merge_commit_sha=pr.merge_commit_sha,
            labels=frozenset(client.pr_labels(pr.number)),  # as they are now
        )
        return Source(sha=sha, pull=ref)
    if isinstance(ctx.event, PushEvent):
        sha = ctx.event.after
    elif ctx.runner.sha:
        sha = ctx.runner.sha
    else:
        raise UsageError(f"mode deploy cannot tell which commit a {ctx.runner.event_name} deploys")
    pulls = client.pulls_for_commit(sha)
    # The PR whose merge produced this commit; else one that contains it (rebase merges).
    chosen = next((p for p in pulls if p.merge_commit_sha == sha), pulls[0] if pulls else None)
    return Source(sha=sha, pull=chosen)


# --- the report ---------------------------------------------------------------------------------


class StatementRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    sql: str
    object: str
    transactional: bool
    status: str  # applied / failed / rolled_back / pending
    duration_ms: float | None = None


class DeployReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: str
    outcome: Outcome
    reason: str
    sha: str
    pull_number: int | None = None
    migration_id: int | None = None
    plan_fingerprint: str | None = None
    statements: tuple[StatementRun, ...] = ()
    error: str | None = None
    error_details: str | None = None
    run_url: str | None = None

    @property
    def total_ms(self) -> float:
        return sum(s.duration_ms or 0.0 for s in self.statements)

    @property
    def sql_text(self) -> str:
        return "\n\n".join(
            s.sql if s.sql.rstrip().endswith(";") else s.sql + ";" for s in self.statements
        )

    def count(self, status: str) -> int:
        return sum(1 for s in self.statements if s.status == status)


def _runs_from_row(row: tracking.MigrationRow) -> tuple[StatementRun, ...]:
    runs = []
    for record in row.statements:
        obj = record.get("object") or {}
        name = ".".join(str(p) for p in (obj.get("schema"), obj.get("name")) if p)
        runs.append(
            StatementRun(
                number=int(record.get("index", 0)) + 1,
                sql=str(record.get("sql", "")),
                object=f"{obj.get('kind', '?')} {name}".strip(),
                transactional=bool(record.get("transactional", True)),
                status=str(record.get("status", "pending")),
                duration_ms=record.get("duration_ms"),
            )
        )
    return tuple(runs)


def _runs_from_plan(plan: Plan) -> tuple[StatementRun, ...]:
    return tuple(
        StatementRun(
            number=n,
            sql=s.sql,
            object=f"{s.object.kind} "
            + ".".join(p for p in (s.object.schema_, s.object.name) if p),
            transactional=s.transactional,
            status="pending",
        )
        for n, s in enumerate(plan.statements, 1)
    )


def read_migration(dsn: str, schema: str, migration_id: int | None) -> tracking.MigrationRow | None:
    """The tracking row of `migration_id` (None: the newest one), read in its own session."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for row in tracking.read_migrations(conn, schema, limit=None):
                if migration_id is None or row.id == migration_id:
                    return row
    except psycopg.Error as exc:
        log.warning("could not read %s.migrations: %s", schema, dsnlib.scrub(str(exc), dsn))
    return None


def failed_apply_of(dsn: str, schema: str, plan_fingerprint: str) -> tracking.MigrationRow | None:
    """The last recorded apply, when it is a failed deploy judged against this reviewed plan."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            rows = tracking.read_migrations(conn, schema, limit=1)
    except psycopg.Error:
        return None
    if rows and rows[0].status == "failed" and rows[0].origin.get(REVIEWED) == plan_fingerprint:
        return rows[0]
    return None


def render_deploy(report: DeployReport) -> str:
    from pgflux_ci.report import template_environment

    return (
        template_environment()
        .get_template("deploy.md.j2")
        .render(marker=deploy_marker(report.target), r=report)
    )


# --- running it -----------------------------------------------------------------------------


class DeploySettings(PlanSettings):
    """Inputs merged with pgflux.toml (pgflux_ci.settings), and what deploy adds."""

    on_plan_change: OnPlanChange = OnPlanChange.FAIL
    approved: bool = False
    origin: dict[str, str] = {}


def deploy(
    settings: DeploySettings,
    reviewed: PlanMarker | None,
    *,
    sha: str,
    pull_number: int | None = None,
    run_url: str | None = None,
    open_shadow_fn: Callable[..., Any] = open_shadow,
) -> DeployReport:
    """Re-plan under the apply lock, judge, apply; every expected failure becomes the report."""
    allowed, fail_on = hazard_policy(settings.gate, settings.approved)
    options = ApplyOptions(
        tracking_schema=settings.tracking_schema,
        allow_hazards=allowed,
        fail_on=fail_on,
        origin=settings.origin,
        objects=settings.config.objects,
    )
    base: dict[str, Any] = {
        "target": settings.target,
        "sha": sha,
        "pull_number": pull_number,
        "run_url": run_url,
    }
    verdicts: list[Verdict] = []
    planned: list[Plan] = []
    major = production_version(settings.dsn) // 10000
    with open_shadow_fn(settings.shadow, want_major=major) as shadow:

        def make() -> Plan:
            plan = _plan(settings, shadow)
            planned.append(plan)
            failed = (
                failed_apply_of(settings.dsn, settings.tracking_schema, reviewed.fingerprint)
                if reviewed is not None
                else None
            )
            verdict = judge(plan, reviewed, on_change=settings.on_plan_change, failed=failed)
            verdicts.append(verdict)
            if not verdict.accept:
                raise DeployRefused(f"deploy refused: {verdict.reason}", plan)
            return plan

        try:
            result: ApplyResult = apply_plan(settings.dsn, None, options, make_plan=make)
        except DeployRefused as refused:
            return DeployReport(
                **base,
                outcome="refused",
                reason=verdicts[-1].reason,
                plan_fingerprint=refused.plan.fingerprint,
                statements=_runs_from_plan(refused.plan),
            )
        except (HazardRefused, PlanError, PlanMismatch, SchemaLoadError) as exc:
            plan = planned[-1] if planned else None
            return DeployReport(
                **base,
                outcome="refused",
                reason=exc.message,
                error_details=exc.details,
                plan_fingerprint=plan.fingerprint if plan else None,
                statements=_runs_from_plan(plan) if plan else (),
            )
        except ApplyFailed as exc:
            row = read_migration(settings.dsn, settings.tracking_schema, None)
            return DeployReport(
                **base,
                outcome="failed",
                reason=verdicts[-1].reason if verdicts else "",
                migration_id=row.id if row else None,
                plan_fingerprint=row.plan_fingerprint if row else None,
                statements=_runs_from_row(row) if row else (),
                error=dsnlib.scrub(exc.message, settings.dsn),
                error_details=dsnlib.scrub(exc.details, settings.dsn) if exc.details else None,
            )
    reason = verdicts[-1].reason if verdicts else result.message
    if result.outcome != "applied":
        return DeployReport(
            **base,
            outcome="nothing-to-do",
            reason=result.message if result.plan.is_empty else reason,
            plan_fingerprint=result.plan.fingerprint,
        )
    row = read_migration(settings.dsn, settings.tracking_schema, result.migration_id)
    return DeployReport(
        **base,
        outcome="applied",
        reason=reason,
        migration_id=result.migration_id,
        plan_fingerprint=result.plan.fingerprint,
        statements=_runs_from_row(row) if row else _runs_from_plan(result.plan),
    )


def _plan(settings: DeploySettings, shadow: Shadow) -> Plan:
    return settings.plan_in(shadow).plan


def exit_code(report: DeployReport) -> int:
    return EXIT_ERROR if report.outcome in ("refused", "failed") else EXIT_OK


def run(ctx: ActionContext, environ_stdout: TextIO) -> int:
    """The action in deploy mode. Returns the exit status."""
    inputs, runner = ctx.inputs, ctx.runner
    commands = WorkflowCommands(
        environ_stdout, output_path=runner.output_path, summary_path=runner.step_summary_path
    )
    dsn = inputs.database_url.get_secret_value()
    token = inputs.github_token.get_secret_value() if inputs.github_token else None
    for secret in [*dsnlib.passwords_in(dsn), *dsnlib.passwords_in(inputs.shadow)]:
        commands.add_mask(secret)
    if token:
        commands.add_mask(token)
    if not token:
        raise UsageError("input github-token is empty: deploy needs it to find the pull request")
    workspace = runner.workspace or Path.cwd()
    # pgflux.toml first: a broken one fails before any GitHub call.
    settings = DeploySettings.from_inputs(inputs, workspace)
    client = GitHubClient(token, runner.api_url, ctx.repository)
    source = find_source(ctx, client)
    run_url = (
        f"{runner.server_url.rstrip('/')}/{ctx.repository}/actions/runs/{runner.run_id}"
        if runner.run_id
        else None
    )
    if source.skip is not None:
        commands.set_output("applied", "false")
        commands.set_output("migration-id", "")
        commands.append_summary(f"### pg-flux deploy: nothing to do\n\n{source.skip}\n")
        commands.annotation("notice", f"nothing deployed: {source.skip}")
        return EXIT_OK

    reviewed: PlanMarker | None = None
    pull = source.pull
    on_change = inputs.on_plan_change
    if pull is not None:
        found = client.find_pr_comment(pull.number, review_marker(inputs.target))
        reviewed = parse_plan_marker(found.body) if found is not None else None
    elif inputs.apply_without_pr:
        on_change = OnPlanChange.APPLY  # configured: a push is its own review
    origin = {"commit": source.sha, "target": inputs.target}
    if pull is not None:
        origin["pr"] = str(pull.number)
    if reviewed is not None:
        origin[REVIEWED] = reviewed.fingerprint
    if run_url:
        origin["run"] = run_url
    settings = settings.model_copy(
        update={
            "on_plan_change": on_change,
            "approved": pull is not None and inputs.allow_label in pull.labels,
            "origin": origin,
        }
    )
    with commands.group("pg-flux: plan and apply"):
        report = deploy(
            settings,
            reviewed,
            sha=source.sha,
            pull_number=pull.number if pull else None,
            run_url=run_url,
        )
    if pull is None and report.outcome == "refused" and not inputs.apply_without_pr:
        report = report.model_copy(
            update={
                "reason": f"commit {source.sha[:12]} belongs to no merged pull request, and"
                " apply-without-pr is false: " + report.reason
            }
        )
    body = render_deploy(report)
    # Summary and outputs first: they still help when GitHub's API fails below.
    commands.append_summary(body)
    commands.set_output("applied", "true" if report.outcome == "applied" else "false")
    commands.set_output("migration-id", str(report.migration_id or ""))
    commands.set_output("plan-fingerprint", report.plan_fingerprint or "")
    # A rerun that finds nothing to do says so in the log only: no comment noise.
    if pull is not None and report.outcome != "nothing-to-do":
        comment = client.post_pr_comment(pull.number, body)
        commands.set_output("comment-url", comment.url)
    if report.outcome in ("refused", "failed"):
        commands.annotation(
            "error", report.error or report.reason, title=f"pg-flux deploy {report.outcome}"
        )
    return exit_code(report)
