"""The GitHub Actions runner contract as pydantic models.

The runner hands a container action three things: its inputs as `INPUT_<NAME>` environment
variables (upper-cased, spaces turned into underscores, hyphens kept), its own `GITHUB_*`
variables, and the triggering webhook event as a JSON file at `$GITHUB_EVENT_PATH`. This module
validates all three once, up front, so that every later layer works with typed values and every
bad value is reported naming the input or file it came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from engine.errors import UsageError


class InputError(UsageError):
    """An action input (`with:` in the workflow) has an invalid value; the message names it."""


class EventPayloadError(UsageError):
    """The event payload file is missing or not shaped like the event GitHub sends."""


class Mode(StrEnum):
    REVIEW = "review"
    DEPLOY = "deploy"
    CANARY = "canary"


class FailOn(StrEnum):
    """Lowest hazard severity that fails the review; `none` never fails on hazards."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class OnPlanChange(StrEnum):
    """What deploy does when the plan at merge time differs from the one reviewed."""

    FAIL = "fail"
    APPLY = "apply"


_FROZEN = ConfigDict(frozen=True, extra="forbid")
_PAYLOAD = ConfigDict(frozen=True, extra="ignore")


class ActionInputs(BaseModel):
    """The action's `with:` inputs, validated."""

    model_config = _FROZEN

    mode: Mode
    database_url: SecretStr
    schema_dir: str = "schema"
    shadow: str = "embedded"
    github_token: SecretStr | None = None
    fail_on: FailOn = FailOn.HIGH
    allow_label: str = "pgflux:approve-hazards"
    tracking_schema: str = "_pgflux"
    config: str | None = None
    target: str = "default"
    on_plan_change: OnPlanChange = OnPlanChange.FAIL
    fail_on_drift: bool = True
    apply_without_pr: bool = False


def input_env_name(name: str) -> str:
    """The environment variable the runner sets for input `name` (hyphens are kept)."""
    return "INPUT_" + name.replace(" ", "_").upper()


# Input name as written in action.yml -> model field.
_INPUT_FIELDS: dict[str, str] = {
    "mode": "mode",
    "database-url": "database_url",
    "schema-dir": "schema_dir",
    "shadow": "shadow",
    "github-token": "github_token",
    "fail-on": "fail_on",
    "allow-label": "allow_label",
    "tracking-schema": "tracking_schema",
    "config": "config",
    "target": "target",
    "on-plan-change": "on_plan_change",
    "fail-on-drift": "fail_on_drift",
    "apply-without-pr": "apply_without_pr",
}
_FIELD_INPUTS = {field: name for name, field in _INPUT_FIELDS.items()}
_REQUIRED_INPUTS = ("mode", "database-url")
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


def _parse_bool(name: str, raw: str) -> bool:
    # YAML 1.2 core schema booleans, as @actions/core getBooleanInput accepts, plus 1/0.
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InputError(f'input {name}: expected true or false; got "{raw}"')


def _parse_choice(name: str, raw: str, choices: type[StrEnum]) -> str:
    value = raw.strip().lower()
    allowed = [member.value for member in choices]
    if value not in allowed:
        raise InputError(f'input {name}: expected one of {", ".join(allowed)}; got "{raw}"')
    return value


def parse_inputs(environ: Mapping[str, str]) -> ActionInputs:
    """Read `INPUT_*` variables; an empty value means the input was not given."""
    values: dict[str, Any] = {}
    for name, field in _INPUT_FIELDS.items():
        raw = environ.get(input_env_name(name), "")
        if raw.strip() == "":
            continue
        if field in ("fail_on_drift", "apply_without_pr"):
            values[field] = _parse_bool(name, raw)
        elif field == "mode":
            values[field] = _parse_choice(name, raw, Mode)
        elif field == "fail_on":
            values[field] = _parse_choice(name, raw, FailOn)
        elif field == "on_plan_change":
            values[field] = _parse_choice(name, raw, OnPlanChange)
        elif field in ("database_url", "github_token"):
            # Secrets keep their exact bytes; only the emptiness check strips.
            values[field] = SecretStr(raw)
        else:
            values[field] = raw.strip()
    for name in _REQUIRED_INPUTS:
        if _INPUT_FIELDS[name] not in values:
            raise InputError(f"input {name} is required (set it under `with:` in the workflow)")
    try:
        return ActionInputs(**values)
    except ValidationError as exc:  # pragma: no cover - every field is pre-validated above
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise InputError(f"input {_FIELD_INPUTS.get(field, field)}: {first['msg']}") from None


class RunnerEnv(BaseModel):
    """The runner's own `GITHUB_*` variables that pgflux-ci reads."""

    model_config = _FROZEN

    event_name: str = Field(alias="GITHUB_EVENT_NAME")
    event_path: Path | None = Field(default=None, alias="GITHUB_EVENT_PATH")
    output_path: Path | None = Field(default=None, alias="GITHUB_OUTPUT")
    step_summary_path: Path | None = Field(default=None, alias="GITHUB_STEP_SUMMARY")
    api_url: str = Field(default="https://api.github.com", alias="GITHUB_API_URL")
    server_url: str = Field(default="https://github.com", alias="GITHUB_SERVER_URL")
    repository: str | None = Field(default=None, alias="GITHUB_REPOSITORY")
    sha: str | None = Field(default=None, alias="GITHUB_SHA")
    ref: str | None = Field(default=None, alias="GITHUB_REF")
    workspace: Path | None = Field(default=None, alias="GITHUB_WORKSPACE")
    run_id: str | None = Field(default=None, alias="GITHUB_RUN_ID")
    actions: bool = Field(default=False, alias="GITHUB_ACTIONS")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RunnerEnv:
        aliases = {f.alias for f in cls.model_fields.values() if f.alias}
        # The runner may export a variable as empty; treat that as absent, like inputs.
        present = {k: v for k, v in environ.items() if k in aliases and v != ""}
        if "GITHUB_EVENT_NAME" not in present:
            raise UsageError("GITHUB_EVENT_NAME is not set: not running inside GitHub Actions?")
        try:
            return cls.model_validate(present)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise UsageError(f"{first['loc'][0]}: {first['msg']}") from None


# --- event payloads: only the fields pgflux-ci uses ------------------------------------------


class User(BaseModel):
    model_config = _PAYLOAD
    login: str


class Label(BaseModel):
    model_config = _PAYLOAD
    name: str


class Repository(BaseModel):
    model_config = _PAYLOAD
    full_name: str
    default_branch: str | None = None


class RefRepository(BaseModel):
    """The repository a pull request's head or base lives in."""

    model_config = _PAYLOAD
    full_name: str
    fork: bool = False


class GitRef(BaseModel):
    model_config = _PAYLOAD
    sha: str
    ref: str
    # null when the head's fork was deleted; absent in hand-written payloads.
    repo: RefRepository | None = None

    @property
    def repo_name(self) -> str | None:
        return self.repo.full_name if self.repo is not None else None


class PullRequest(BaseModel):
    model_config = _PAYLOAD
    number: int
    head: GitRef
    base: GitRef
    merged: bool | None = None
    merge_commit_sha: str | None = None
    labels: tuple[Label, ...] = ()
    html_url: str
    user: User

    @property
    def label_names(self) -> frozenset[str]:
        return frozenset(label.name for label in self.labels)

    @property
    def from_fork(self) -> bool:
        """The head branch lives in another repository (a fork, possibly deleted since): its
        workflows get a read-only GITHUB_TOKEN and no secrets."""
        head, base = self.head.repo, self.base.repo
        if head is None:
            return base is not None  # a deleted fork; a hand-written payload names neither
        if base is None:
            return head.fork
        # Not `head.fork` alone: a pull request between two branches of a fork is not one.
        return head.full_name != base.full_name


class PullRequestEvent(BaseModel):
    model_config = _PAYLOAD
    event: Literal["pull_request"] = "pull_request"
    action: str
    number: int
    pull_request: PullRequest
    repository: Repository


class Commit(BaseModel):
    model_config = _PAYLOAD
    id: str
    message: str = ""


class PushEvent(BaseModel):
    model_config = _PAYLOAD
    event: Literal["push"] = "push"
    ref: str
    after: str
    before: str
    head_commit: Commit | None = None
    repository: Repository


class ScheduleEvent(BaseModel):
    model_config = _PAYLOAD
    event: Literal["schedule"] = "schedule"
    schedule: str | None = None
    repository: Repository | None = None


class WorkflowDispatchEvent(BaseModel):
    model_config = _PAYLOAD
    event: Literal["workflow_dispatch"] = "workflow_dispatch"
    ref: str | None = None
    inputs: dict[str, Any] | None = None
    repository: Repository | None = None


Event = PullRequestEvent | PushEvent | ScheduleEvent | WorkflowDispatchEvent

_EVENT_MODELS: dict[str, type[BaseModel]] = {
    "pull_request": PullRequestEvent,
    "pull_request_target": PullRequestEvent,
    "push": PushEvent,
    "schedule": ScheduleEvent,
    "workflow_dispatch": WorkflowDispatchEvent,
}


def load_event(event_name: str, path: Path | None) -> Event:
    """Validate the payload at `path` as the model for `event_name`."""
    model = _EVENT_MODELS.get(event_name)
    if model is None:
        supported = ", ".join(sorted(_EVENT_MODELS))
        raise EventPayloadError(f"event {event_name!r} is not supported (supported: {supported})")
    if path is None:
        if event_name == "schedule":
            # The runner writes `{}`-like payloads for schedule; tolerate none at all.
            return ScheduleEvent()
        raise EventPayloadError(f"GITHUB_EVENT_PATH is not set for a {event_name} event")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EventPayloadError(f"{path}: cannot read event payload: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise EventPayloadError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise EventPayloadError(f"{path}: event payload is not a JSON object")
    data.pop("event", None)  # our discriminator, never GitHub's
    try:
        event = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise EventPayloadError(
            f"{path}: {event_name} payload invalid at {location}: {first['msg']}"
        ) from None
    assert isinstance(event, PullRequestEvent | PushEvent | ScheduleEvent | WorkflowDispatchEvent)
    return event


class ActionContext(BaseModel):
    """Everything the runner told us, validated."""

    model_config = _FROZEN

    inputs: ActionInputs
    runner: RunnerEnv
    event: Event = Field(discriminator="event")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ActionContext:
        inputs = parse_inputs(environ)
        runner = RunnerEnv.from_env(environ)
        event = load_event(runner.event_name, runner.event_path)
        return cls(inputs=inputs, runner=runner, event=event)

    @property
    def pull_request(self) -> PullRequest | None:
        return self.event.pull_request if isinstance(self.event, PullRequestEvent) else None

    @property
    def repository(self) -> str:
        """owner/name, from the runner or else the payload."""
        if self.runner.repository:
            return self.runner.repository
        repo = getattr(self.event, "repository", None)
        if isinstance(repo, Repository):
            return repo.full_name
        raise UsageError("GITHUB_REPOSITORY is not set and the event names no repository")
