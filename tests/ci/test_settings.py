"""pgflux.toml in the action: where it is read, how it merges with the inputs, its errors; and
the pieces of the fork behaviour (fork payloads, a 403 on the comment)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.plan.model import Hazard, HazardCode, Plan, Severity
from pgflux_ci import cli
from pgflux_ci.annotations import hazard_annotations
from pgflux_ci.context import ActionContext, FailOn, PullRequestEvent, parse_inputs
from pgflux_ci.deploy import hazard_policy
from pgflux_ci.github import GitHubClient, GitHubError
from pgflux_ci.review import ReviewOutcome, exit_status
from pgflux_ci.settings import ActionConfigError, HazardGate, PlanSettings, read_config
from tests.ci.test_review import plan_with
from tests.fakes.github_api import FakeGitHub, Fault
from tests.fakes.runner_env import FAKE_TOKEN, github_env, load_payload

DSN = "postgresql://ro:pw@127.0.0.1:1/app"

FLEET = """
schema_dir = "db/schema"
tracking_schema = "ops"
manage_ownership = true
verify = "whole"
shadow_roles = ["app_reader"]

[hazards]
allow = ["INDEX_BUILD"]
fail_on = "critical"

[objects]
exclude = ["app.tmp_*"]

[[targets]]
name = "eu"
dsn_env = "EU_DATABASE_URL"
schema_dir = "db/schema-eu"

[[targets]]
name = "us"
dsn_env = "US_DATABASE_URL"
"""


def settings(workspace: Path, **inputs: str) -> PlanSettings:
    env = {"INPUT_MODE": "review", "INPUT_DATABASE-URL": DSN}
    env |= {f"INPUT_{name.upper()}": value for name, value in inputs.items()}
    return PlanSettings.from_inputs(parse_inputs(env), workspace)


def test_no_config_file_keeps_the_inputs(tmp_path: Path) -> None:
    got = settings(tmp_path)
    assert got.schema_dir == tmp_path / "schema"
    assert got.schema_dir_input == "schema"
    assert got.tracking_schema == "_pgflux"
    assert got.gate == HazardGate(fail_on=Severity.HIGH)
    assert got.config.source is None
    options = got.plan_options()
    assert (options.manage_ownership, options.lock_timeout_ms) == (False, 3000)
    assert options.verify == "auto"


def test_workspace_pgflux_toml_fills_inputs_left_at_their_defaults(tmp_path: Path) -> None:
    (tmp_path / "pgflux.toml").write_text(FLEET, encoding="utf-8")
    # The runner passes action.yml's defaults: an input equal to its default is "not given".
    got = settings(tmp_path, **{"schema-dir": "schema", "fail-on": "high", "target": "default"})
    assert got.schema_dir == tmp_path / "db/schema"
    assert got.schema_dir_input == "db/schema"
    assert got.tracking_schema == "ops"
    assert got.gate.fail_on is Severity.CRITICAL
    assert got.gate.from_config
    assert got.gate.allowed == frozenset({HazardCode.INDEX_BUILD})
    assert got.config.objects.exclude == ("app.tmp_*",)
    assert got.plan_options().manage_ownership is True
    assert got.plan_options().verify == "whole"


def test_inputs_set_to_other_values_win_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "pgflux.toml").write_text(FLEET, encoding="utf-8")
    got = settings(
        tmp_path,
        **{"schema-dir": "other", "tracking-schema": "mine", "fail-on": "medium"},
    )
    assert got.schema_dir_input == "other"
    assert got.tracking_schema == "mine"
    assert got.gate.fail_on is Severity.MEDIUM
    assert not got.gate.from_config
    # No input for these: the file's still apply.
    assert got.gate.allowed == frozenset({HazardCode.INDEX_BUILD})
    assert got.plan_options().manage_ownership is True


@pytest.mark.parametrize(
    ("target", "schema_dir"),
    [("eu", "db/schema-eu"), ("us", "db/schema"), ("default", "db/schema")],
    ids=["own-schema-dir", "top-level-schema-dir", "default-not-listed"],
)
def test_target_selects_its_entry(tmp_path: Path, target: str, schema_dir: str) -> None:
    (tmp_path / "pgflux.toml").write_text(FLEET, encoding="utf-8")
    got = settings(tmp_path, target=target)
    assert got.schema_dir_input == schema_dir
    assert got.target == target


def test_unknown_target_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "pgflux.toml").write_text(FLEET, encoding="utf-8")
    with pytest.raises(ActionConfigError) as caught:
        settings(tmp_path, target="asia")
    assert caught.value.message == "pgflux.toml: no target named 'asia'"
    assert caught.value.file == "pgflux.toml"


def test_explicit_config_path_is_relative_to_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "flux.toml").write_text('tracking_schema = "t2"\n', encoding="utf-8")
    (tmp_path / "pgflux.toml").write_text('tracking_schema = "ignored"\n', encoding="utf-8")
    assert settings(tmp_path, config="ci/flux.toml").tracking_schema == "t2"


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("ci/missing.toml", None, "ci/missing.toml: no such config file"),
        (
            "pgflux.toml",
            '[hazards]\nallow = ["INDEX_BUILD", "DATA_LOS"]\n',
            'pgflux.toml: hazards.allow[1]: unknown hazard code "DATA_LOS"',
        ),
        ("pgflux.toml", "[objects]\nincldue = []\n", "pgflux.toml: objects.incldue: unknown key"),
        ("ci/x.toml", "schema_dir = \n", "ci/x.toml: invalid TOML:"),
    ],
    ids=["missing", "bad-code", "unknown-key", "not-toml"],
)
def test_config_errors_name_the_file_and_key(
    tmp_path: Path, path: str, text: str | None, message: str
) -> None:
    if text is not None:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    with pytest.raises(ActionConfigError) as caught:
        read_config(path, tmp_path)
    assert caught.value.message.startswith(message)
    assert str(tmp_path) not in caught.value.message
    assert caught.value.file == path


def test_a_missing_default_file_is_no_error(tmp_path: Path) -> None:
    assert read_config(None, tmp_path).source is None
    assert read_config("", tmp_path).source is None


@pytest.mark.parametrize("mode", ["review", "deploy", "canary"])
def test_broken_config_fails_every_mode_with_an_annotation_on_the_file(
    mode: str, fake_github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload, event = (
        (load_payload("pull_request.synchronize"), "pull_request")
        if mode == "review"
        else (load_payload("push"), "push")
        if mode == "deploy"
        else (load_payload("schedule"), "schedule")
    )
    env = github_env(fake_github, tmp_path, event, payload, {"mode": mode, "database-url": DSN})
    workspace = Path(env["GITHUB_WORKSPACE"])
    (workspace / "pgflux.toml").write_text('[hazards]\nfail_on = "hgih"\n', encoding="utf-8")
    assert cli.main([], environ=env) == 2
    out = capsys.readouterr()
    errors = [line for line in out.out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1, out.out
    assert errors[0].startswith("::error title=pgflux-ci,file=pgflux.toml::pgflux.toml: hazards.")
    assert "fail_on" in errors[0]
    assert "pgflux-ci: error: pgflux.toml: hazards.fail_on: " in out.err
    assert not fake_github.requests_matching("POST", ".*")
    assert not fake_github.requests_matching("PATCH", ".*")


def test_dry_run_flags_read_pgflux_toml_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pgflux.toml").write_text("[objects]\nexclude = 3\n", encoding="utf-8")
    assert cli.main(["review", "--dry-run", "--dsn", DSN], environ={}) == 2
    assert "pgflux.toml: objects.exclude: " in capsys.readouterr().err
    assert cli.main(["canary", "--dry-run", "--config", "nope.toml", "--dsn", DSN], environ={}) == 2
    assert "nope.toml: no such config file" in capsys.readouterr().err


# --- the hazard gate --------------------------------------------------------------------------


def hazard_plan(*hazards: tuple[HazardCode, Severity]) -> Plan:
    """test_review's one-statement plan, with these hazards on its statement."""
    plan = plan_with()
    statement = plan.statements[0].model_copy(
        update={"hazards": tuple(Hazard(code=c, severity=s, message="m") for c, s in hazards)}
    )
    return plan.model_copy(update={"statements": (statement,)})


def test_allowed_codes_never_fail_the_review_or_refuse_the_deploy() -> None:
    plan = hazard_plan(
        (HazardCode.DATA_LOSS, Severity.CRITICAL), (HazardCode.INDEX_BUILD, Severity.HIGH)
    )
    outcome = ReviewOutcome(body="b", summary="b", plan=plan)
    strict = HazardGate(fail_on=Severity.HIGH)
    assert exit_status(outcome, strict, set(), "ok")[0] == 2
    allow_one = strict.model_copy(update={"allowed": frozenset({HazardCode.DATA_LOSS})})
    code, why = exit_status(outcome, allow_one, set(), "ok")
    assert (code, why) == (
        2,
        "1 hazard(s) at or above fail-on=high; add the label 'ok' to"
        " the pull request to accept them",
    )
    allow_both = strict.model_copy(
        update={"allowed": frozenset({HazardCode.DATA_LOSS, HazardCode.INDEX_BUILD})}
    )
    assert exit_status(outcome, allow_both, set(), "ok") == (0, None)
    # Deploy: the same policy through engine.apply's options.
    assert hazard_policy(allow_one, False) == (frozenset({HazardCode.DATA_LOSS}), Severity.HIGH)
    assert hazard_policy(FailOn.NONE, False)[1] is None
    # Annotations: the allowed hazard is a warning, the other an error.
    levels = [
        a.level
        for a in hazard_annotations(
            plan, {}, schema_dir="schema", fail_rank=allow_one.rank, allowed=allow_one.allowed
        )
    ]
    assert levels == ["warning", "error"]


def test_fail_on_from_the_file_is_named_in_the_reason() -> None:
    plan = hazard_plan((HazardCode.DATA_LOSS, Severity.CRITICAL))
    gate = HazardGate(fail_on=Severity.CRITICAL, from_config=True)
    _, why = exit_status(ReviewOutcome(body="b", summary="b", plan=plan), gate, set(), "")
    assert why is not None
    assert "fail-on=critical (pgflux.toml hazards.fail_on)" in why


# --- forks ------------------------------------------------------------------------------------


def _pr_event(payload: dict[str, Any]) -> PullRequestEvent:
    return PullRequestEvent.model_validate(payload)


def test_fork_payload_is_recognised() -> None:
    fork = _pr_event(load_payload("pull_request.fork")).pull_request
    assert fork.from_fork
    assert fork.head.repo_name == "Forker/Hello-World"
    assert not _pr_event(load_payload("pull_request.synchronize")).pull_request.from_fork
    # A branch-to-branch PR inside a fork is not a fork PR.
    inside = load_payload("pull_request.fork")
    inside["pull_request"]["base"]["repo"] = inside["pull_request"]["head"]["repo"]
    assert not _pr_event(inside).pull_request.from_fork
    # The fork was deleted since: GitHub sends head.repo null.
    deleted = load_payload("pull_request.fork")
    deleted["pull_request"]["head"]["repo"] = None
    assert _pr_event(deleted).pull_request.from_fork


def test_fork_payload_loads_as_the_runner_gives_it(fake_github: FakeGitHub, tmp_path: Path) -> None:
    env = github_env(
        fake_github,
        tmp_path,
        "pull_request",
        load_payload("pull_request.fork"),
        {"mode": "review", "database-url": DSN},
    )
    pr = ActionContext.from_env(env).pull_request
    assert pr is not None
    assert pr.from_fork


def _client(fake: FakeGitHub) -> GitHubClient:
    return GitHubClient(FAKE_TOKEN, fake.url, "octo/app", backoff=0, sleep=lambda _: None)


def test_a_403_on_the_comment_is_forbidden_not_rate_limited(fake_github: FakeGitHub) -> None:
    fake_github.add_pull("octo/app", 7)
    fake_github.inject("POST", r"/issues/7/comments$", Fault.error(403))
    with pytest.raises(GitHubError) as caught:
        _client(fake_github).upsert_pr_comment(7, "<!-- m -->", "body")
    assert caught.value.forbidden
    assert "HTTP 403" in caught.value.message
    assert len(fake_github.requests_matching("POST", r"/comments$")) == 1  # never resent


def test_a_rate_limit_403_is_not_forbidden(fake_github: FakeGitHub) -> None:
    fake_github.add_pull("octo/app", 7)
    fake_github.inject("POST", r"/issues/7/comments$", Fault.rate_limit(reset_in=3600), times=9)
    with pytest.raises(GitHubError) as caught:
        _client(fake_github).upsert_pr_comment(7, "<!-- m -->", "body")
    assert not caught.value.forbidden
