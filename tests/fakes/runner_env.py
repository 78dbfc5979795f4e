"""Build the environment the Actions runner gives a container action (see tests/ci/conftest.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakes.github_api import FakeGitHub

FAKE_TOKEN = "ghs_fake_token_for_tests_0123456789"
PAYLOADS = Path(__file__).parents[1] / "ci" / "payloads"
ACTION_INPUTS = (
    "mode",
    "database-url",
    "schema-dir",
    "shadow",
    "github-token",
    "fail-on",
    "allow-label",
    "tracking-schema",
    "config",
    "target",
    "on-plan-change",
    "fail-on-drift",
    "apply-without-pr",
)


@cache
def _read_payload(name: str) -> str:
    return (PAYLOADS / f"{name}.json").read_text(encoding="utf-8")


def load_payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_read_payload(name))
    return copy.deepcopy(data)


def github_env(
    fake_github: FakeGitHub,
    tmp_path: Path,
    event_name: str,
    payload: Mapping[str, Any],
    inputs: Mapping[str, str],
    *,
    seed: bool = True,
) -> dict[str, str]:
    """See tests/ci/conftest.py. `seed=False` leaves the fake alone (for malformed payloads)."""
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.touch()
    summary.touch()
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    repo = payload.get("repository", {}).get("full_name", "octo/app")
    if seed and "repository" in payload:
        fake_github.seed_from_payload(dict(payload))
    elif seed:
        fake_github.add_repo(repo)
    pr = payload.get("pull_request")
    if pr is not None:
        sha = str(pr.get("head", {}).get("sha", "e" * 40))
        ref = f"refs/pull/{pr.get('number')}/merge"
    else:
        sha = str(payload.get("after") or "f" * 40)
        ref = str(payload.get("ref") or "refs/heads/main")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": repo,
        "GITHUB_SHA": sha,
        "GITHUB_REF": ref,
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_RUN_ID": "4242",
    }
    given = {"github-token": fake_github.token, **inputs}
    for name in ACTION_INPUTS:
        env["INPUT_" + name.replace(" ", "_").upper()] = given.get(name, "")
    unknown = set(given) - set(ACTION_INPUTS)
    assert not unknown, f"unknown action inputs {sorted(unknown)}"
    return env
