"""Fixtures for GitHub-facing tests: a fake GitHub API and a runner environment.

- `fake_github` (fixture): a started `tests.fakes.github_api.FakeGitHub` on 127.0.0.1 with
  token `FAKE_TOKEN`; stopped after the test. Seed it with `add_repo`, `add_pull`,
  `add_comment`, `add_issue`, `link_commit` or `seed_from_payload`; assert with `comments_on`,
  `issues_in`, `requests_matching`; inject faults with `inject(method, path_regex, Fault....)`.

Helpers live in tests/fakes/runner_env.py (import from there):

- `load_payload(name)`: a webhook payload from tests/ci/payloads/ (see its README.md), e.g.
  `load_payload("pull_request.opened")`, as a dict you may modify.
- `github_env(fake_github, tmp_path, event_name, payload, inputs)`: the environment the Actions
  runner gives a container action. It writes `payload` to `tmp_path/event.json`, creates empty
  `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, sets `GITHUB_API_URL` to the fake,
  `GITHUB_REPOSITORY`/`GITHUB_SHA`/`GITHUB_REF` from the payload, `GITHUB_WORKSPACE` to
  `tmp_path/workspace`, and every action input as `INPUT_<NAME>` with hyphens kept (empty when
  not given, as the runner does). `inputs` uses the action.yml names: {"mode": "review",
  "database-url": dsn, ...}; `github-token` defaults to the fake's token. It also seeds the
  fake with the payload's repository and pull request. Pass the dict to
  `ActionContext.from_env(env)` or to a subprocess as its environment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import FAKE_TOKEN


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as fake:
        yield fake
