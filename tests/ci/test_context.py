"""ActionContext.from_env against real webhook payloads and runner-shaped environments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import UsageError
from pgflux_ci.context import (
    ActionContext,
    EventPayloadError,
    FailOn,
    InputError,
    Mode,
    OnPlanChange,
    PullRequestEvent,
    PushEvent,
    ScheduleEvent,
    WorkflowDispatchEvent,
    parse_inputs,
)
from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import FAKE_TOKEN, github_env, load_payload

DSN = "postgresql://ro:s3cret-pw@db.internal:5432/app"


def _inputs(**extra: str) -> dict[str, str]:
    return {"mode": "review", "database-url": DSN, **extra}


def test_pull_request_opened_payload(fake_github: FakeGitHub, tmp_path: Path) -> None:
    payload = load_payload("pull_request.opened")
    ctx = ActionContext.from_env(
        github_env(fake_github, tmp_path, "pull_request", payload, _inputs())
    )
    assert isinstance(ctx.event, PullRequestEvent)
    pr = ctx.pull_request
    assert pr is not None
    assert pr.number == payload["number"] == 2
    assert pr.head.sha == payload["pull_request"]["head"]["sha"]
    assert pr.base.ref == "master"
    assert pr.label_names == {"bug"}
    assert ctx.event.action == "opened"
    assert ctx.repository == "Codertocat/Hello-World"
    assert ctx.runner.api_url == fake_github.url
    assert ctx.runner.actions is True


@pytest.mark.parametrize(
    ("name", "action", "merged"),
    [
        ("pull_request.synchronize", "synchronize", False),
        ("pull_request.closed", "closed", False),
        ("pull_request.closed-merged", "closed", True),
    ],
)
def test_other_pull_request_payloads(
    fake_github: FakeGitHub, tmp_path: Path, name: str, action: str, merged: bool
) -> None:
    env = github_env(fake_github, tmp_path, "pull_request", load_payload(name), _inputs())
    ctx = ActionContext.from_env(env)
    assert isinstance(ctx.event, PullRequestEvent)
    assert ctx.event.action == action
    assert ctx.event.pull_request.merged is merged
    if merged:
        assert ctx.event.pull_request.merge_commit_sha


def test_push_schedule_dispatch(fake_github: FakeGitHub, tmp_path: Path) -> None:
    push = ActionContext.from_env(
        github_env(fake_github, tmp_path, "push", load_payload("push"), _inputs(mode="deploy"))
    )
    assert isinstance(push.event, PushEvent)
    assert push.event.ref == "refs/heads/master"
    assert push.event.head_commit is not None
    assert push.event.head_commit.id == push.event.after
    assert push.inputs.mode is Mode.DEPLOY

    sched = ActionContext.from_env(
        github_env(
            fake_github, tmp_path, "schedule", load_payload("schedule"), _inputs(mode="canary")
        )
    )
    assert isinstance(sched.event, ScheduleEvent)
    assert sched.event.schedule == "17 3 * * *"

    wd = ActionContext.from_env(
        github_env(
            fake_github, tmp_path, "workflow_dispatch", load_payload("workflow_dispatch"), _inputs()
        )
    )
    assert isinstance(wd.event, WorkflowDispatchEvent)
    assert wd.event.ref == load_payload("workflow_dispatch")["ref"] == "refs/heads/main"


def test_input_defaults_when_empty(fake_github: FakeGitHub, tmp_path: Path) -> None:
    env = github_env(fake_github, tmp_path, "push", load_payload("push"), _inputs())
    assert env["INPUT_FAIL-ON"] == ""  # declared but not given: the runner sets it empty
    inputs = ActionContext.from_env(env).inputs
    assert inputs.fail_on is FailOn.HIGH
    assert inputs.allow_label == "pgflux:approve-hazards"
    assert inputs.tracking_schema == "_pgflux"
    assert inputs.target == "default"
    assert inputs.schema_dir == "schema"
    assert inputs.on_plan_change is OnPlanChange.FAIL
    assert inputs.fail_on_drift is True
    assert inputs.apply_without_pr is False
    assert inputs.config is None
    assert inputs.github_token is not None
    assert inputs.github_token.get_secret_value() == FAKE_TOKEN


def test_inputs_with_hyphens_are_read() -> None:
    env = {
        "INPUT_MODE": "Canary",
        "INPUT_DATABASE-URL": DSN,
        "INPUT_SCHEMA-DIR": "db/schema",
        "INPUT_FAIL-ON": "critical",
        "INPUT_ALLOW-LABEL": "ok-to-break",
        "INPUT_TRACKING-SCHEMA": "ops_pgflux",
        "INPUT_ON-PLAN-CHANGE": "apply",
        "INPUT_FAIL-ON-DRIFT": "false",
        "INPUT_APPLY-WITHOUT-PR": "True",
        "INPUT_TARGET": "eu",
        "INPUT_CONFIG": "pgflux.toml",
        # The underscore spelling is not what the runner sets; it must be ignored.
        "INPUT_FAIL_ON": "low",
    }
    inputs = parse_inputs(env)
    assert inputs.mode is Mode.CANARY
    assert inputs.schema_dir == "db/schema"
    assert inputs.fail_on is FailOn.CRITICAL
    assert inputs.allow_label == "ok-to-break"
    assert inputs.tracking_schema == "ops_pgflux"
    assert inputs.on_plan_change is OnPlanChange.APPLY
    assert inputs.fail_on_drift is False
    assert inputs.apply_without_pr is True
    assert inputs.target == "eu"
    assert inputs.config == "pgflux.toml"
    assert inputs.github_token is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "fail-on",
            "hgih",
            'input fail-on: expected one of none, low, medium, high, critical; got "hgih"',
        ),
        ("mode", "apply", 'input mode: expected one of review, deploy, canary; got "apply"'),
        (
            "on-plan-change",
            "maybe",
            'input on-plan-change: expected one of fail, apply; got "maybe"',
        ),
        (
            "fail-on-drift",
            "sometimes",
            'input fail-on-drift: expected true or false; got "sometimes"',
        ),
    ],
)
def test_invalid_input_names_the_input(name: str, value: str, expected: str) -> None:
    env = {"INPUT_MODE": "review", "INPUT_DATABASE-URL": DSN, f"INPUT_{name.upper()}": value}
    with pytest.raises(InputError) as info:
        parse_inputs(env)
    assert str(info.value) == expected
    assert isinstance(info.value, UsageError)
    assert info.value.exit_code == 2


def test_required_inputs() -> None:
    with pytest.raises(InputError, match="input database-url is required"):
        parse_inputs({"INPUT_MODE": "review", "INPUT_DATABASE-URL": "  "})
    with pytest.raises(InputError, match="input mode is required"):
        parse_inputs({"INPUT_DATABASE-URL": DSN})


def test_secrets_never_print(fake_github: FakeGitHub, tmp_path: Path) -> None:
    env = github_env(fake_github, tmp_path, "push", load_payload("push"), _inputs())
    ctx = ActionContext.from_env(env)
    for text in (str(ctx), repr(ctx), ctx.model_dump_json(), str(ctx.inputs)):
        assert "s3cret-pw" not in text
        assert FAKE_TOKEN not in text
    assert ctx.inputs.database_url.get_secret_value() == DSN


def test_malformed_payload_names_file_and_location(fake_github: FakeGitHub, tmp_path: Path) -> None:
    payload = load_payload("pull_request.opened")
    del payload["pull_request"]["head"]["sha"]
    env = github_env(fake_github, tmp_path, "pull_request", payload, _inputs(), seed=False)
    with pytest.raises(EventPayloadError) as info:
        ActionContext.from_env(env)
    message = str(info.value)
    assert env["GITHUB_EVENT_PATH"] in message
    assert "pull_request.head.sha" in message


def test_payload_not_json_or_missing(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{not json", encoding="utf-8")
    base = {"INPUT_MODE": "review", "INPUT_DATABASE-URL": DSN, "GITHUB_EVENT_NAME": "push"}
    with pytest.raises(EventPayloadError, match="not valid JSON"):
        ActionContext.from_env({**base, "GITHUB_EVENT_PATH": str(bad)})
    with pytest.raises(EventPayloadError, match="cannot read"):
        ActionContext.from_env({**base, "GITHUB_EVENT_PATH": str(tmp_path / "nope.json")})
    bad.write_text(json.dumps([1, 2]), encoding="utf-8")
    with pytest.raises(EventPayloadError, match="not a JSON object"):
        ActionContext.from_env({**base, "GITHUB_EVENT_PATH": str(bad)})


def test_unsupported_event_and_missing_runner(tmp_path: Path) -> None:
    base = {"INPUT_MODE": "review", "INPUT_DATABASE-URL": DSN}
    with pytest.raises(EventPayloadError, match="'issues' is not supported"):
        ActionContext.from_env({**base, "GITHUB_EVENT_NAME": "issues"})
    with pytest.raises(UsageError, match="GITHUB_EVENT_NAME is not set"):
        ActionContext.from_env(base)
