"""Review decisions (exit status, annotation levels and locations) and the `pgflux-ci` command."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine import dsn as dsnlib
from engine.errors import SchemaLoadError
from engine.load import SourceLocation
from engine.plan.locate import locate
from engine.plan.model import Hazard, HazardCode, ObjectRef, Plan, Severity, Statement
from engine.shadow import ShadowDatabase
from pgflux_ci import cli
from pgflux_ci.annotations import (
    hazard_annotations,
    hazard_level,
    load_error_annotation,
    repo_path,
)
from pgflux_ci.context import FailOn
from pgflux_ci.review import ReviewOutcome, exit_status, fail_rank, plan_file_name
from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import FAKE_TOKEN, github_env, load_payload

FP = "sha256:" + "0" * 64
ENTRYPOINT = str(Path(sys.executable).parent / "pgflux-ci")
LABEL = "pgflux:approve-hazards"


def plan_with(*severities: Severity, verified: bool = True, statements: int = 1) -> Plan:
    hazards = tuple(Hazard(code=HazardCode.DATA_LOSS, severity=s, message="m") for s in severities)
    stmts = tuple(
        Statement(
            sql=f"DROP SCHEMA s{n}",
            object=ObjectRef(kind="schema", name=f"s{n}"),
            hazards=hazards if n == 0 else (),
        )
        for n in range(statements)
    )
    return Plan(
        fingerprint=FP,
        source_fingerprint=FP,
        target_fingerprint=FP,
        verified=verified,
        postgres_version=150000,
        statements=stmts,
    )


def outcome(plan: Plan | None = None, error: SchemaLoadError | None = None) -> ReviewOutcome:
    return ReviewOutcome(body="b", summary="b", plan=plan, load_error=error)


# --- exit status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "severities", "labels", "code"),
    [
        (FailOn.HIGH, (), set(), 0),
        (FailOn.HIGH, (Severity.MEDIUM,), set(), 0),
        (FailOn.HIGH, (Severity.HIGH,), set(), 2),
        (FailOn.HIGH, (Severity.CRITICAL,), set(), 2),
        (FailOn.HIGH, (Severity.CRITICAL,), {LABEL}, 0),
        (FailOn.HIGH, (Severity.CRITICAL,), {"other"}, 2),
        (FailOn.LOW, (Severity.LOW,), set(), 2),
        (FailOn.LOW, (Severity.INFO,), set(), 0),
        (FailOn.CRITICAL, (Severity.HIGH,), set(), 0),
        (FailOn.NONE, (Severity.CRITICAL,), set(), 0),
        (FailOn.MEDIUM, (Severity.INFO, Severity.MEDIUM), set(), 2),
    ],
    ids=[
        "no-hazards",
        "below",
        "at",
        "above",
        "above-labelled",
        "wrong-label",
        "low-at",
        "info-below-low",
        "critical-only",
        "none-never",
        "mixed",
    ],
)
def test_exit_status_on_hazards(
    fail_on: FailOn, severities: tuple[Severity, ...], labels: set[str], code: int
) -> None:
    got, why = exit_status(outcome(plan_with(*severities)), fail_on, labels, LABEL)
    assert got == code
    assert (why is None) == (code == 0)
    if code:
        assert LABEL in str(why)


def test_load_error_always_fails() -> None:
    got, why = exit_status(outcome(error=SchemaLoadError("boom")), FailOn.NONE, {LABEL}, LABEL)
    assert got == 2
    assert "boom" in str(why)


def test_unverified_plan_fails_even_when_labelled() -> None:
    got, why = exit_status(outcome(plan_with(verified=False)), FailOn.NONE, {LABEL}, LABEL)
    assert got == 2
    assert "verify" in str(why)


def test_empty_unverified_plan_passes() -> None:
    got, _ = exit_status(
        outcome(plan_with(verified=False, statements=0)), FailOn.HIGH, set(), LABEL
    )
    assert got == 0


@pytest.mark.parametrize(
    ("fail_on", "rank"),
    [(FailOn.NONE, None), (FailOn.LOW, 1), (FailOn.CRITICAL, 4)],
    ids=["none", "low", "critical"],
)
def test_fail_rank(fail_on: FailOn, rank: int | None) -> None:
    assert fail_rank(fail_on) == rank


def test_plan_file_name_per_target() -> None:
    assert plan_file_name("default") == "pgflux-plan-default.json"
    assert plan_file_name("../x y") == "pgflux-plan-..%2Fx%20y.json"


# --- annotation locations ----------------------------------------------------------------------

LOCATIONS = {
    "table public.orders": SourceLocation(file="schema/orders.sql", line=3, column=1),
    "trigger audit on public.orders": SourceLocation(file="schema/orders.sql", line=20, column=1),
    "index public.orders_idx": SourceLocation(file="schema/idx.sql", line=2, column=1),
    "function public.total": SourceLocation(file="schema/fn.sql", line=5, column=1),
    "materialized view public.mv": SourceLocation(file="schema/mv.sql", line=1, column=1),
    "schema app": SourceLocation(file="schema/app.sql", line=1, column=1),
    "type public.mood": SourceLocation(file="schema/types.sql", line=4, column=1),
}


@pytest.mark.parametrize(
    ("kind", "schema", "name", "where"),
    [
        ("table", "public", "orders", ("schema/orders.sql", 3)),
        ("column", "public", "orders.total", ("schema/orders.sql", 3)),
        ("constraint", "public", "orders.orders_pkey", ("schema/orders.sql", 3)),
        ("trigger", "public", "orders.audit", ("schema/orders.sql", 20)),
        ("index", "public", "orders_idx", ("schema/idx.sql", 2)),
        ("index", "public", "orders.orders_idx", ("schema/idx.sql", 2)),
        ("function", "public", "total(integer, text)", ("schema/fn.sql", 5)),
        ("matview", "public", "mv", ("schema/mv.sql", 1)),
        ("schema", None, "app", ("schema/app.sql", 1)),
        ("enum", "public", "mood", ("schema/types.sql", 4)),
        ("table", "app", "new_table", ("schema/app.sql", 1)),
        ("table", "public", "dropped", None),
        ("schema", None, "legacy", None),
    ],
    ids=[
        "table",
        "column",
        "constraint",
        "trigger",
        "index",
        "index-scoped",
        "function-args",
        "matview",
        "schema",
        "enum",
        "falls-back-to-schema",
        "dropped-table",
        "dropped-schema",
    ],
)
def test_locate(kind: str, schema: str | None, name: str, where: tuple[str, int] | None) -> None:
    found = locate(ObjectRef(kind=kind, schema_=schema, name=name), LOCATIONS)
    assert (None if found is None else (found.file, found.line)) == where


@pytest.mark.parametrize(
    ("display", "schema_dir", "expected"),
    [
        ("schema/x.sql", "schema", "schema/x.sql"),
        ("schema/x.sql", "db/schema", "db/schema/x.sql"),
        ("schema/x.sql", "./schema", "schema/x.sql"),
        ("schema/x.sql", "/abs/schema", "schema/x.sql"),
    ],
    ids=["root", "nested", "dot", "absolute"],
)
def test_repo_path(display: str, schema_dir: str, expected: str) -> None:
    assert repo_path(display, schema_dir) == expected


@pytest.mark.parametrize(
    ("severity", "rank", "level"),
    [
        (Severity.HIGH, 3, "error"),
        (Severity.MEDIUM, 3, "warning"),
        (Severity.INFO, 3, "notice"),
        (Severity.CRITICAL, None, "warning"),
    ],
    ids=["fails", "below", "info", "no-threshold"],
)
def test_hazard_level(severity: Severity, rank: int | None, level: str) -> None:
    assert hazard_level(severity, rank) == level


def test_hazard_annotations_point_at_definitions() -> None:
    plan = Plan(
        fingerprint=FP,
        source_fingerprint=FP,
        target_fingerprint=FP,
        verified=True,
        postgres_version=150000,
        statements=(
            Statement(
                sql="ALTER TABLE public.orders ALTER total TYPE int",
                object=ObjectRef(kind="column", schema_="public", name="orders.total"),
                hazards=(
                    Hazard(code=HazardCode.TABLE_REWRITE, severity=Severity.HIGH, message="rw"),
                    Hazard(code=HazardCode.DATA_LOSS, severity=Severity.LOW, message="dl"),
                ),
            ),
        ),
    )
    found = hazard_annotations(plan, LOCATIONS, schema_dir="db/schema", fail_rank=3)
    assert [(a.level, a.file, a.line) for a in found] == [
        ("error", "db/schema/orders.sql", 3),
        ("warning", "db/schema/orders.sql", 3),
    ]
    assert found[0].title == "pg-flux TABLE_REWRITE (high)"
    assert "ALTER TABLE public.orders" in found[0].message


def test_load_error_annotation() -> None:
    error = SchemaLoadError("bad", file="schema/x.sql", line=4, column=2, hint="try this")
    a = load_error_annotation(error, schema_dir="schema")
    assert (a.level, a.file, a.line, a.col) == ("error", "schema/x.sql", 4, 2)
    assert a.message == "bad\ntry this"


# --- the command -------------------------------------------------------------------------------


def test_no_arguments_outside_actions_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([], environ={}) == 2
    assert "usage" in capsys.readouterr().err


def test_review_outside_actions_needs_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["review"], environ={}) == 2
    assert "--dry-run" in capsys.readouterr().err


def test_review_on_a_push_event_is_refused_and_masks(
    fake_github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = github_env(
        fake_github,
        tmp_path,
        "push",
        load_payload("push"),
        {"mode": "review", "database-url": "postgresql://ro:pw-secret-1@127.0.0.1:1/app"},
    )
    assert cli.main([], environ=env) == 2
    out = capsys.readouterr()
    assert "::add-mask::pw-secret-1" in out.out
    assert f"::add-mask::{FAKE_TOKEN}" in out.out
    assert "::error title=pgflux-ci::mode review runs on pull_request events" in out.out
    assert not fake_github.requests_matching("POST", ".*")


@pytest.mark.parametrize("mode", ["deploy", "canary"])
def test_other_modes_dispatch_or_say_unavailable(
    mode: str, fake_github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if importlib.util.find_spec(f"pgflux_ci.{mode}") is not None:
        pytest.skip(f"pgflux_ci.{mode} exists: its own tests cover it")
    env = github_env(
        fake_github,
        tmp_path,
        "push",
        load_payload("push"),
        {"mode": mode, "database-url": "postgresql://ro@127.0.0.1:1/app"},
    )
    assert cli.main([], environ=env) == 2
    assert f"mode {mode} is not available" in capsys.readouterr().err


def test_connection_failure_never_prints_the_password(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "a.sql").write_text("CREATE SCHEMA a;\n", encoding="utf-8")
    run = subprocess.run(
        [ENTRYPOINT, "review", "--dry-run", "--dsn", "postgresql://u:Sekr3tPw@127.0.0.1:1/x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 2
    assert "Sekr3tPw" not in run.stdout + run.stderr
    assert "could not connect" in run.stderr


def dry_run(db: ShadowDatabase, tmp_path: Path, sql: str, *flags: str) -> tuple[int, str, str]:
    schema = tmp_path / "schema"
    schema.mkdir(exist_ok=True)
    (schema / "app.sql").write_text(sql, encoding="utf-8")
    out = tmp_path / "comment.md"
    run = subprocess.run(
        [
            ENTRYPOINT,
            "review",
            "--dry-run",
            "--out",
            str(out),
            "--dsn",
            db.admin_dsn,
            "--schema-dir",
            str(schema),
            "--shadow",
            dsnlib.with_dbname(db.admin_dsn, "postgres"),
            *flags,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return run.returncode, out.read_text(encoding="utf-8") if out.exists() else "", run.stderr


def test_dry_run_writes_the_comment(db: ShadowDatabase, tmp_path: Path, run_sql: Any) -> None:
    run_sql(db.admin_dsn, "CREATE SCHEMA legacy")
    code, body, err = dry_run(db, tmp_path, "CREATE SCHEMA app;\n")
    assert code == 2, err
    assert body.startswith("<!-- pgflux-ci:review target=default -->\n")
    assert "CREATE SCHEMA app" in body
    assert "DROP SCHEMA legacy" in body
    assert "fail-on=high" in err
    code, body, err = dry_run(db, tmp_path, "CREATE SCHEMA app;\n", "--fail-on", "none")
    assert code == 0, err
    assert "DATA_LOSS" in body


def test_dry_run_with_tables_draws_their_foreign_keys(
    db: ShadowDatabase, tmp_path: Path, run_sql: Any
) -> None:
    run_sql(db.admin_dsn, "CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY)")
    sql = (
        "CREATE SCHEMA app;\n"
        "CREATE TABLE app.customers (id int PRIMARY KEY);\n"
        "CREATE TABLE app.orders (id int PRIMARY KEY,"
        " customer_id int REFERENCES app.customers (id));\n"
        "COMMENT ON TABLE app.orders IS 'hi @octocat <img src=x> ``` |';\n"
    )
    code, body, err = dry_run(db, tmp_path, sql)
    assert code == 0, err
    assert "CREATE TABLE app.customers" in body
    assert "app_customers ||--o{ app_orders" in body
    assert "````sql\nCOMMENT ON TABLE app.orders IS 'hi @octocat <img src=x> ``` |'\n````" in body


def test_dry_run_refusal_names_the_flag(db: ShadowDatabase, tmp_path: Path, run_sql: Any) -> None:
    run_sql(db.admin_dsn, "CREATE SCHEMA legacy")
    code, _, err = dry_run(db, tmp_path, "CREATE SCHEMA app;\n")
    assert code == 2
    assert "raise --fail-on" in err
