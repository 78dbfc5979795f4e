"""The drift canary's pieces: plain-words differences (against real PostgreSQL), the first-seen
marker, unfinished applies from the tracking table, and the issue's markdown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import dsn as dsnlib
from engine import tracking
from engine.catalog import inspect_dsn
from engine.plan.model import ObjectRef, Plan, Statement
from engine.shadow import ShadowDatabase
from pgflux_ci import canary
from pgflux_ci.canary import Difference, DriftReport, StuckApply
from pgflux_ci.cli import main
from tests.ci.test_deploy import render_html
from tests.e2e.test_deploy_e2e import plain

WHEN = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)

DIFF_CASES = [
    pytest.param(
        "CREATE TABLE t (id int)",
        "CREATE TABLE t (id int); CREATE TABLE hotfix (x int)",
        [
            ("column public.hotfix.x", "in production, not in schema/"),
            ("table public.hotfix", "in production, not in schema/"),
        ],
        id="extra-table",
    ),
    pytest.param(
        "CREATE TABLE t (id int); CREATE TABLE wanted (x int)",
        "CREATE TABLE t (id int)",
        [
            ("column public.wanted.x", "in schema/, missing from production"),
            ("table public.wanted", "in schema/, missing from production"),
        ],
        id="missing-table",
    ),
    pytest.param(
        "CREATE TABLE t (id int)",
        "CREATE TABLE t (id bigint)",
        [("column public.t.id", "differs: type")],
        id="column-type",
    ),
    pytest.param(
        "CREATE TABLE t (id int)",
        "CREATE TABLE t (id int); CREATE INDEX t_id ON t (id)",
        [("index public.t_id", "in production, not in schema/")],
        id="extra-index",
    ),
    pytest.param(
        "CREATE TABLE t (id int)", "CREATE TABLE t (id integer)", [], id="no-false-positive"
    ),
]


@pytest.mark.parametrize(("schema", "production", "expected"), DIFF_CASES)
def test_differences_in_plain_words(
    make_db: Callable[..., ShadowDatabase],
    run_sql: Any,
    schema: str,
    production: str,
    expected: list[tuple[str, str]],
) -> None:
    desired, current = make_db(), make_db()
    run_sql(desired.admin_dsn, schema)
    run_sql(current.admin_dsn, production)
    found = canary.differences(inspect_dsn(current.admin_dsn), inspect_dsn(desired.admin_dsn))
    assert [(d.object, d.words) for d in found] == expected


MARK = "<!-- pgflux-ci:drift target=a -->"
FIRST_SEEN_CASES = [
    pytest.param(
        MARK + "\n<!-- pgflux-ci:drift-first-seen 2026-03-01T12:00:05Z -->\nx",
        WHEN,
        id="second-line",
    ),
    pytest.param(
        MARK + "\r\n<!-- pgflux-ci:drift-first-seen 2026-03-01T12:00:05Z -->\r\n",
        WHEN,
        id="crlf",
    ),
    pytest.param(
        MARK + "\nx\n<!-- pgflux-ci:drift-first-seen 2020-01-01T00:00:00Z -->",
        None,
        id="elsewhere-does-not-count",
    ),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="none"),
    pytest.param(
        "<!-- pgflux-ci:drift target=a -->\n<!-- pgflux-ci:drift-first-seen yesterday -->",
        None,
        id="malformed",
    ),
]


@pytest.mark.parametrize(("body", "expected"), FIRST_SEEN_CASES)
def test_parse_first_seen(body: str | None, expected: datetime | None) -> None:
    assert canary.parse_first_seen(body) == expected


def _row(mid: int, status: str, *, abandoned: bool = False) -> tracking.MigrationRow:
    return tracking.MigrationRow(
        id=mid,
        plan_fingerprint="p",
        source_fingerprint="s",
        target_fingerprint="t",
        result_fingerprint=None,
        statements=[],
        hazards=[],
        status=status,
        started_at=WHEN,
        finished_at=None,
        applied_by="deployer",
        backend_pid=1,
        origin={"commit": "abc", "pr": "4"},
        error="lock_timeout after 4 attempts\nDETAIL: x" if status == "failed" else None,
        abandoned=abandoned,
    )


STUCK_CASES = [
    pytest.param([], [], id="no-applies"),
    pytest.param([_row(3, "applied"), _row(2, "failed")], [], id="superseded-by-later-apply"),
    pytest.param([_row(3, "failed"), _row(2, "applied")], [(3, "failed")], id="last-failed"),
    pytest.param(
        [_row(5, "running"), _row(4, "running", abandoned=True), _row(3, "failed")],
        [(5, "running"), (4, "abandoned"), (3, "failed")],
        id="running-and-abandoned",
    ),
]


@pytest.mark.parametrize(("rows", "expected"), STUCK_CASES)
def test_stuck_applies(rows: list[tracking.MigrationRow], expected: list[tuple[int, str]]) -> None:
    stuck = canary.stuck_applies(rows)
    assert [(s.id, s.status) for s in stuck] == expected
    for s in stuck:
        assert s.origin == "commit abc, pr 4"
        if s.status == "failed":
            assert s.error == "lock_timeout after 4 attempts"  # first line only


def _plan(*sql: str) -> Plan:
    return Plan(
        fingerprint="sha256:" + "1" * 64,
        source_fingerprint="sha256:" + "2" * 64,
        target_fingerprint="sha256:" + "3" * 64,
        verified=True,
        postgres_version=150000,
        statements=tuple(
            Statement(sql=s, object=ObjectRef(kind="table", schema_="public", name="t"))
            for s in sql
        ),
    )


def _report(plan: Plan, **kwargs: Any) -> DriftReport:
    base: dict[str, Any] = {
        "target": "eu",
        "plan": plan,
        "first_seen": WHEN,
        "last_seen": WHEN + timedelta(hours=2),
    }
    return DriftReport(**(base | kwargs))


def test_issue_body_markers_times_and_sql() -> None:
    report = _report(
        _plan("ALTER TABLE public.t DROP COLUMN hotfix"),
        differences=(Difference(object="column public.t.hotfix", words="in production"),),
        run_url="https://github.com/o/r/actions/runs/1",
    )
    body = canary.render_issue(report)
    lines = body.split("\n")
    assert lines[0] == "<!-- pgflux-ci:drift target=eu -->"
    assert canary.parse_first_seen(body) == WHEN
    text = plain(body)
    assert "**First seen:** 2026-03-01T12:00:05Z · **last seen:** 2026-03-01T14:00:05Z" in text
    assert "- column public.t.hotfix: in production" in text
    assert "ALTER TABLE public.t DROP COLUMN hotfix;" in body
    assert canary.issue_title(report) == "pg-flux: production schema drift on eu"


def test_issue_for_an_unfinished_apply_without_drift() -> None:
    stuck = StuckApply(
        id=9, status="abandoned", started_at="2026-03-01T12:00:05Z", applied_by="deployer"
    )
    report = _report(_plan(), stuck=(stuck,))
    assert canary.issue_title(report) == "pg-flux: failed schema apply on eu"
    text = plain(canary.render_issue(report))
    assert "a schema apply did not finish" in text
    assert "| 9 | abandoned | 2026-03-01T12:00:05Z | deployer |" in text
    assert "Reconciling SQL" not in text


def test_huge_drift_is_shortened_to_fit_an_issue() -> None:
    statements = [f"CREATE TABLE public.t{n} (id int, {'x' * 500} int)" for n in range(400)]
    differences = tuple(
        Difference(object=f"table public.t{n}", words="in schema/, missing from production")
        for n in range(400)
    )
    report = _report(_plan(*statements), differences=differences)
    body = canary.render_issue(report)
    assert len(body) <= 65536
    assert canary.parse_first_seen(body) == WHEN
    assert "more characters: see the job summary" in body
    assert "and 200 more" in plain(body)
    assert len(canary.render_issue(report, limit=10_000_000)) > 65536


def test_untrusted_names_render_as_text() -> None:
    evil = "public.<img src=x onerror=alert(1)> @admin `x` | y"
    report = _report(
        _plan('CREATE TABLE "<!-- pgflux-ci:drift target=eu -->" ()'),
        differences=(Difference(object=f"table {evil}", words="in production, not in schema/"),),
        target="eu<script>",
    )
    body = canary.render_issue(report)
    head, rest = body.split("\n", 2)[:2], body.split("\n", 2)[2]
    assert head[0] == "<!-- pgflux-ci:drift target=eu%3Cscript%3E -->"
    assert "@admin" not in rest
    html = render_html(body)
    assert "<img" not in html
    assert "<script" not in html
    assert html.count("<!-- pgflux-ci:drift target") == 1  # the one in SQL is inside a code block


def test_closing_comment() -> None:
    report = _report(_plan(), run_url="https://github.com/o/r/actions/runs/1")
    text = canary.render_closing(report, WHEN)
    assert "No drift any more" in text
    assert "as of 2026-03-01T14:00:05Z (first seen 2026-03-01T12:00:05Z)" in text
    assert "[workflow run](https://github.com/o/r/actions/runs/1)" in text


def test_dry_run_outside_actions(
    db: ShadowDatabase,
    run_sql: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "app.sql").write_text("CREATE SCHEMA app;\n", encoding="utf-8")
    args = [
        "canary",
        "--dry-run",
        "--dsn",
        db.admin_dsn,
        "--shadow",
        dsnlib.with_dbname(db.admin_dsn, "postgres"),
        "--schema-dir",
        str(schema),
    ]
    assert main(args, environ={}) == 1
    assert "schema app: in schema/, missing from production" in plain(capsys.readouterr().out)
    run_sql(db.admin_dsn, "CREATE SCHEMA app")
    out = tmp_path / "issue.md"
    assert main([*args, "--out", str(out)], environ={}) == 0
    assert out.read_text(encoding="utf-8").startswith("no drift")
    assert main(["canary"], environ={}) == 2
    assert "needs --dry-run" in capsys.readouterr().err
