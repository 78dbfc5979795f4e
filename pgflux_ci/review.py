"""Pull request mode: plan production -> schema/ at the PR head and report it on the PR.

One run: mask secrets, plan (in the shadow), write the plan file, render, upsert the sticky
comment, job summary, annotations, outputs, then decide the exit status:

- a load error or an unverified plan always fails (after the comment shows why);
- a hazard at or above `fail-on` fails unless the PR carries `allow-label`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel, ConfigDict

from engine import dsn as dsnlib
from engine.errors import EXIT_ERROR, EXIT_OK, SchemaLoadError, UsageError
from engine.plan.build import PlanResult, production_version
from engine.plan.model import Plan, Severity
from engine.plan.render import render_json
from engine.shadow import open_shadow
from pgflux_ci.annotations import Annotation, hazard_annotations, load_error_annotation
from pgflux_ci.context import ActionContext, FailOn, PullRequest
from pgflux_ci.github import GitHubClient, GitHubError
from pgflux_ci.report import (
    Links,
    ReviewReport,
    load_error_view,
    marker_target,
    render_review,
    review_marker,
)
from pgflux_ci.settings import HazardGate, PlanSettings
from pgflux_ci.workflow_commands import WorkflowCommands

log = logging.getLogger("pgflux_ci.review")

SUMMARY_MAX_CHARS = 1_000_000  # GitHub's job summary limit is 1 MiB per step


class ReviewSettings(PlanSettings):
    """What a review needs, whether it came from action inputs or command-line flags, merged
    with pgflux.toml (pgflux_ci.settings)."""


class ReviewOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    body: str
    summary: str
    plan: Plan | None = None
    result: PlanResult | None = None
    load_error: SchemaLoadError | None = None


def fail_rank(fail_on: FailOn) -> int | None:
    """The lowest severity rank that fails the check; None for `none`."""
    return None if fail_on is FailOn.NONE else Severity(fail_on.value).rank


def failing_hazards(plan: Plan, fail_on: FailOn | HazardGate) -> int:
    return HazardGate.of(fail_on).failing(plan)


def plan_file_name(target: str) -> str:
    return f"pgflux-plan-{marker_target(target)}.json"


def make_review(
    settings: ReviewSettings, links: Links, *, plan_path: str | None = None
) -> ReviewOutcome:
    """Plan and render; a load error becomes part of the outcome, every other error raises."""
    major = production_version(settings.dsn) // 10000
    try:
        with open_shadow(settings.shadow, want_major=major) as shadow:
            result = settings.plan_in(shadow)
    except SchemaLoadError as error:
        report = ReviewReport(
            target=settings.target,
            production_version=None,
            load_error=load_error_view(error, links),
        )
        body = render_review(report)
        return ReviewOutcome(body=body, summary=body, load_error=error)
    report = ReviewReport(
        target=settings.target,
        plan=result.plan,
        current=result.current,
        desired=result.desired,
        production_version=result.production_version,
        plan_path=plan_path,
        allowed=tuple(sorted(code.value for code in settings.gate.allowed)),
    )
    return ReviewOutcome(
        body=render_review(report),
        summary=render_review(report, limit=SUMMARY_MAX_CHARS),
        plan=result.plan,
        result=result,
    )


def exit_status(
    outcome: ReviewOutcome, fail_on: FailOn | HazardGate, labels: set[str], allow_label: str
) -> tuple[int, str | None]:
    """The exit code and, when failing, why. Hazards whose code pgflux.toml allows never fail."""
    if outcome.load_error is not None:
        return EXIT_ERROR, f"schema did not load: {outcome.load_error.message}"
    plan = outcome.plan
    assert plan is not None
    if not plan.is_empty and not plan.verified:
        return EXIT_ERROR, "the plan did not verify in the shadow database: do not apply it"
    failing = failing_hazards(plan, fail_on)
    if failing and allow_label not in labels:
        accept = (
            f"add the label {allow_label!r} to the pull request to accept them"
            if allow_label
            else "raise --fail-on to accept them"
        )
        gate = HazardGate.of(fail_on).describe()
        return EXIT_ERROR, f"{failing} hazard(s) at or above {gate}; {accept}"
    return EXIT_OK, None


def _annotate(commands: WorkflowCommands, annotations: list[Annotation]) -> None:
    for a in annotations:
        commands.annotation(a.level, a.message, file=a.file, line=a.line, col=a.col, title=a.title)


def run(ctx: ActionContext, environ_stdout: TextIO) -> int:
    """The action in review mode. Returns the exit status."""
    inputs, runner = ctx.inputs, ctx.runner
    commands = WorkflowCommands(
        environ_stdout, output_path=runner.output_path, summary_path=runner.step_summary_path
    )
    dsn = inputs.database_url.get_secret_value()
    token = inputs.github_token.get_secret_value() if inputs.github_token else None
    # Mask before anything can print them.
    for secret in [*dsnlib.passwords_in(dsn), *dsnlib.passwords_in(inputs.shadow)]:
        commands.add_mask(secret)
    if token:
        commands.add_mask(token)
    pr = ctx.pull_request
    if pr is None:
        raise UsageError(
            f"mode review runs on pull_request events; this run is a {runner.event_name} event"
        )
    if not token:
        raise UsageError("input github-token is empty: review needs it to comment on the PR")
    workspace = runner.workspace or Path.cwd()
    settings = ReviewSettings.from_inputs(inputs, workspace)
    links = Links(
        server_url=runner.server_url,
        repository=ctx.repository,
        sha=pr.head.sha,
        schema_dir=settings.schema_dir_input,
    )
    plan_name = plan_file_name(inputs.target)
    with commands.group("pg-flux: plan"):
        outcome = make_review(settings, links, plan_path=plan_name)
    if outcome.plan is not None:
        (workspace / plan_name).write_text(render_json(outcome.plan), encoding="utf-8")
        commands.set_output("plan-path", plan_name)
    else:
        commands.set_output("plan-path", "")
    plan = outcome.plan
    top = plan.max_severity if plan is not None else None
    changed = plan is not None and not plan.is_empty
    # Summary and outputs first: they still help when GitHub's API fails below.
    commands.append_summary(outcome.summary)
    commands.set_output("has-changes", "true" if changed else "false")
    commands.set_output("hazards", str(len(plan.hazards) if plan is not None else 0))
    commands.set_output("max-severity", top.value if top is not None else "none")
    commands.set_output("plan-fingerprint", plan.fingerprint if plan is not None else "")

    client = GitHubClient(token, runner.api_url, ctx.repository)
    # Labels as they are now (one may have been added after the event was sent).
    labels = client.pr_labels(pr.number)
    gate = settings.gate
    if outcome.load_error is not None:
        _annotate(
            commands,
            [load_error_annotation(outcome.load_error, schema_dir=settings.schema_dir_input)],
        )
    elif plan is not None and outcome.result is not None:
        _annotate(
            commands,
            hazard_annotations(
                plan,
                outcome.result.object_locations,
                schema_dir=settings.schema_dir_input,
                fail_rank=None if inputs.allow_label in labels else gate.rank,
                allowed=gate.allowed,
            ),
        )
    try:
        comment = client.upsert_pr_comment(pr.number, review_marker(inputs.target), outcome.body)
    except GitHubError as error:
        if not error.forbidden:
            raise
        # A read-only token (a fork's pull request): everything but the comment is done; the
        # plan and the gate still decide the exit status.
        commands.annotation("warning", _not_posted(pr, error), title="pg-flux: no PR comment")
    else:
        commands.set_output("comment-url", comment.url)

    code, why = exit_status(outcome, gate, labels, inputs.allow_label)
    if why is not None:
        commands.annotation("error", why, title="pg-flux review failed")
    return code


def _not_posted(pr: PullRequest, error: GitHubError) -> str:
    """Why the sticky comment is missing, and where the review is instead."""
    if pr.from_fork:
        why = (
            f"this pull request comes from the fork {pr.head.repo_name or '(deleted)'}, and GitHub"
            " gives workflows of fork pull requests a read-only GITHUB_TOKEN"
        )
    else:
        why = (
            "the token may not write to pull requests (a read-only GITHUB_TOKEN, as for"
            " Dependabot; otherwise grant `permissions: pull-requests: write`)"
        )
    return (
        f"the review comment could not be posted: {error.message}; {why}. The review is in the"
        " job summary, the annotations and the step outputs."
    )


def run_dry(
    settings: ReviewSettings, out: Path | None, stream: TextIO, plan_out: Path | None = None
) -> int:
    """`pgflux-ci review --dry-run`: the same plan and comment, written to a file; no GitHub."""
    outcome = make_review(settings, Links(schema_dir=settings.schema_dir_input))
    if out is None:
        stream.write(outcome.body)
    else:
        out.write_text(outcome.body, encoding="utf-8")
        stream.write(f"wrote the pull request comment to {out}\n")
    if plan_out is not None and outcome.plan is not None:
        plan_out.write_text(render_json(outcome.plan), encoding="utf-8")
        stream.write(f"wrote the plan to {plan_out}\n")
    code, why = exit_status(outcome, settings.gate, set(), "")
    if why is not None:
        log.error("%s", dsnlib.scrub(why, settings.dsn))
    return code
