"""Drift mode: compare production (read-only) with schema/ and keep one issue per target.

A non-empty plan is drift. The issue is found by its hidden first-line marker and the label
`pgflux:drift`; its second line carries when the drift was first seen, so later runs keep that
date while updating everything else. When the drift is gone the issue is closed with a comment.
Applies that failed or were left running in the tracking table are reported in the same issue.
The job fails only when drift is found and `fail-on-drift` is true.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import psycopg
from pydantic import BaseModel, ConfigDict

from engine import dsn as dsnlib
from engine import tracking
from engine.diff.context import PlanOptions
from engine.errors import EXIT_DIFFERENCES, EXIT_ERROR, EXIT_OK, SchemaLoadError, UsageError
from engine.model.schema import Schema
from engine.plan.build import PlanResult, production_version
from engine.plan.model import Plan
from engine.plan.planner import normalise_schema
from engine.shadow import open_shadow
from engine.verify import schema_differences
from pgflux_ci import markdown as md
from pgflux_ci.annotations import load_error_annotation
from pgflux_ci.context import ActionContext
from pgflux_ci.github import MAX_BODY_CHARS, GitHubClient
from pgflux_ci.report import marker_target, template_environment
from pgflux_ci.settings import PlanSettings
from pgflux_ci.workflow_commands import WorkflowCommands

DRIFT_LABEL = "pgflux:drift"
_FIRST_SEEN = re.compile(r"<!-- pgflux-ci:drift-first-seen (?P<when>[0-9T:\-]+Z) -->")
_MAX_LISTED = 200
_SQL_CUT = 20_000


def drift_marker(target: str) -> str:
    return f"<!-- pgflux-ci:drift target={marker_target(target)} -->"


def first_seen_marker(when: datetime) -> str:
    return f"<!-- pgflux-ci:drift-first-seen {_stamp(when)} -->"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_first_seen(body: str | None) -> datetime | None:
    """The first-seen time of an open drift issue; only its second line counts."""
    if not body:
        return None
    lines = body.split("\n", 2)
    if len(lines) < 2:
        return None
    found = _FIRST_SEEN.fullmatch(lines[1].rstrip("\r"))
    if found is None:
        return None
    return datetime.strptime(found["when"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Difference(BaseModel):
    """One object that differs, in plain words."""

    model_config = ConfigDict(frozen=True)

    object: str
    words: str


def differences(
    current: Schema, desired: Schema, options: PlanOptions | None = None
) -> list[Difference]:
    """What differs between production and schema/, one line per object, as the plan sees them
    (with `options`, owners are left out unless ownership is managed, as `pg-flux drift`)."""
    if options is not None:
        current, desired = normalise_schema(current, options), normalise_schema(desired, options)
    found: list[Difference] = []
    # engine.verify words it as "actual vs expected": production is actual, schema/ expected.
    for line in schema_differences(current, desired):
        verb, _, rest = line.partition(" ")
        if verb == "missing":
            found.append(Difference(object=rest, words="in schema/, missing from production"))
        elif verb == "unexpected":
            found.append(Difference(object=rest, words="in production, not in schema/"))
        else:
            obj, _, fields = rest.partition(": ")
            found.append(Difference(object=obj, words=f"differs: {fields}"))
    return found


class StuckApply(BaseModel):
    """A tracking row that failed or is still running, not superseded by a later apply."""

    model_config = ConfigDict(frozen=True)

    id: int
    status: str
    started_at: str
    applied_by: str
    error: str | None = None
    origin: str = ""


def stuck_applies(rows: list[tracking.MigrationRow]) -> list[StuckApply]:
    """Rows newest first: the failed/running ones newer than the last successful apply."""
    stuck: list[StuckApply] = []
    for row in rows:
        if row.status == "applied":
            break
        origin = ", ".join(f"{k} {v}" for k, v in sorted(row.origin.items()))
        stuck.append(
            StuckApply(
                id=row.id,
                status=row.shown_status,
                started_at=_stamp(row.started_at),
                applied_by=row.applied_by,
                error=(row.error or "").splitlines()[0] if row.error else None,
                origin=origin,
            )
        )
    return stuck


def read_stuck(dsn: str, schema: str) -> list[StuckApply]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = on")
        return stuck_applies(tracking.read_migrations(conn, schema, limit=50))


class DriftReport(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    target: str
    plan: Plan
    differences: tuple[Difference, ...] = ()
    stuck: tuple[StuckApply, ...] = ()
    first_seen: datetime
    last_seen: datetime
    run_url: str | None = None

    @property
    def drift(self) -> bool:
        return not self.plan.is_empty

    def sql_text(self, limit: int | None = None) -> str:
        text = "\n\n".join(
            s.sql if s.sql.rstrip().endswith(";") else s.sql + ";" for s in self.plan.statements
        )
        if limit is not None and len(text) > limit:
            return text[:limit] + f"\n-- … {len(text) - limit} more characters: see the job summary"
        return text


def issue_title(report: DriftReport) -> str:
    if report.drift:
        return f"pg-flux: production schema drift on {report.target}"
    return f"pg-flux: failed schema apply on {report.target}"


def render_issue(report: DriftReport, *, limit: int = MAX_BODY_CHARS) -> str:
    """The issue body: markers on lines 1-2, then the summary; shortened to fit `limit`."""
    template = template_environment().get_template("canary.md.j2")
    for sql_limit, listed in ((None, _MAX_LISTED), (_SQL_CUT, _MAX_LISTED), (2000, 50)):
        body = template.render(
            marker=drift_marker(report.target),
            first_seen_marker=first_seen_marker(report.first_seen),
            r=report,
            sql=report.sql_text(sql_limit),
            listed=report.differences[:listed],
            not_listed=max(0, len(report.differences) - listed),
            stamp=_stamp,
        )
        if len(body) <= limit:
            return body
    return body[:limit]


def render_closing(report: DriftReport, opened: datetime | None) -> str:
    since = f" (first seen {_stamp(opened)})" if opened else ""
    run = f" — [workflow run]({report.run_url})" if report.run_url else ""
    return (
        f"✅ No drift any more: production matches schema/ on target"
        f" {report.target} as of {_stamp(report.last_seen)}{since}. Closing.{run}"
    )


class CanarySettings(PlanSettings):
    """Inputs (or flags) merged with pgflux.toml (pgflux_ci.settings)."""


def plan_drift(settings: CanarySettings) -> PlanResult:
    """Read-only: inspect production, load schema/ in the shadow, plan production -> schema/."""
    major = production_version(settings.dsn) // 10000
    with open_shadow(settings.shadow, want_major=major) as shadow:
        return settings.plan_in(shadow)


def run_dry(
    settings: CanarySettings,
    out: Path | None,
    stream: TextIO,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """`pgflux-ci canary --dry-run`: the drift issue's body, written out; no GitHub. Exit 1 on
    drift (as `pg-flux drift`), 0 without."""
    result = plan_drift(settings)
    seen = now()
    report = DriftReport(
        target=settings.target,
        plan=result.plan,
        differences=tuple(differences(result.current, result.desired, settings.plan_options())),
        stuck=tuple(read_stuck(settings.dsn, settings.tracking_schema)),
        first_seen=seen,
        last_seen=seen,
    )
    body = (
        render_issue(report)
        if report.drift or report.stuck
        else f"no drift: production matches {settings.schema_dir}\n"
    )
    if out is None:
        stream.write(body)
    else:
        out.write_text(body, encoding="utf-8")
        stream.write(f"wrote the drift issue to {out}\n")
    return EXIT_DIFFERENCES if report.drift else EXIT_OK


def run(
    ctx: ActionContext,
    environ_stdout: TextIO,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """The action in canary mode. Returns the exit status."""
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
        raise UsageError("input github-token is empty: canary needs it for the drift issue")
    settings = CanarySettings.from_inputs(inputs, runner.workspace or Path.cwd())
    run_url = (
        f"{runner.server_url.rstrip('/')}/{ctx.repository}/actions/runs/{runner.run_id}"
        if runner.run_id
        else None
    )
    with commands.group("pg-flux: drift check"):
        try:
            result = plan_drift(settings)
        except SchemaLoadError as error:
            a = load_error_annotation(error, schema_dir=settings.schema_dir_input)
            commands.annotation(a.level, a.message, file=a.file, line=a.line, title=a.title)
            commands.set_output("drift", "false")
            commands.append_summary(
                f"### ❌ pg-flux: schema did not load · target {md.escape_text(inputs.target)}"
                f"\n\n{md.escape_text(error.message)}\n\nNo drift check was made.\n"
            )
            return EXIT_ERROR
        stuck = read_stuck(dsn, settings.tracking_schema)
    client = GitHubClient(token, runner.api_url, ctx.repository)
    marker = drift_marker(inputs.target)
    existing = client.find_open_issue(marker, DRIFT_LABEL)
    seen = now()
    opened = parse_first_seen(existing.body) if existing is not None else None
    report = DriftReport(
        target=inputs.target,
        plan=result.plan,
        differences=tuple(differences(result.current, result.desired, settings.plan_options())),
        stuck=tuple(stuck),
        first_seen=opened or seen,
        last_seen=seen,
        run_url=run_url,
    )
    summary = (
        render_issue(report, limit=1_000_000)
        if report.drift or report.stuck
        else f"### ✅ pg-flux: no drift · target {md.escape_text(report.target)}\n\n"
        f"Production matches schema/ as of {_stamp(seen)}.\n"
    )
    commands.append_summary(summary)
    commands.set_output("drift", "true" if report.drift else "false")
    commands.set_output("has-changes", "true" if report.drift else "false")
    commands.set_output("plan-fingerprint", result.plan.fingerprint)
    # An apply running right now is normal during a deploy: reported, but no issue of its own.
    if report.drift or any(s.status != "running" for s in stuck):
        issue = client.upsert_issue(
            marker, issue_title(report), render_issue(report), [DRIFT_LABEL]
        )
        commands.set_output("issue-url", issue.url)
        for s in stuck:
            commands.annotation(
                "warning",
                f"migration {s.id} is {s.status} (started {s.started_at}): {s.error or ''}".strip(),
                title="pg-flux: apply not finished",
            )
    elif existing is not None:
        client.close_issue(existing.number, render_closing(report, opened))
        commands.set_output("issue-url", existing.url)
    if report.drift and inputs.fail_on_drift:
        commands.annotation(
            "error",
            f"production drifted from {settings.schema_dir_input}: {len(report.differences)}"
            " object(s)"
            " differ; see the drift issue",
            title="pg-flux drift",
        )
        return EXIT_DIFFERENCES
    return EXIT_OK
