"""GitHub faults: bounded retries with backoff, then a clear failure; never a duplicate comment.

Client-level cases use short timeouts; end-to-end cases run the `pgflux-ci` process against the
fake GitHub with real PostgreSQL behind it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import dsn as dsnlib
from engine.shadow import ShadowDatabase
from pgflux_ci.github import GitHubClient, GitHubError
from tests.fakes.github_api import FakeGitHub, Fault
from tests.fakes.runner_env import FAKE_TOKEN
from tests.security.actionrun import REPO, ActionRun

MARKER = "<!-- pgflux-ci:review target=default -->"
COMMENTS = r"/issues/\d+/comments$"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as github:
        yield github


def _client(fake: FakeGitHub, **kw: float) -> GitHubClient:
    fake.add_repo(REPO)
    fake.add_pull(REPO, 7)
    opts = {"retries": 2, "timeout": 1, "backoff": 0.2, "max_rate_limit_wait": 5.0} | kw
    return GitHubClient(
        FAKE_TOKEN,
        fake.url,
        REPO,
        retries=int(opts["retries"]),
        timeout=int(opts["timeout"]),
        backoff=opts["backoff"],
        max_rate_limit_wait=opts["max_rate_limit_wait"],
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def test_post_that_times_out_and_lands_later_heals_on_the_next_upsert(fake: FakeGitHub) -> None:
    """The first POST is still being processed when the client gives up on it and re-lists.

    Only possible when GitHub takes longer than the client's timeout (15 s by default, more than
    GitHub's own 10 s request limit): the retry then posts a second comment. The next upsert
    keeps the oldest and deletes the rest, so the sticky comment is one comment again.
    """
    client = _client(fake)
    fake.inject("POST", COMMENTS, Fault.delay(2.5))
    client.upsert_pr_comment(7, MARKER, "v1")
    time.sleep(3)  # the slow first POST has landed by now
    assert len(fake.comments_on(REPO, 7)) == 2
    again = client.upsert_pr_comment(7, MARKER, "v2")
    assert [(c.id, c.body) for c in fake.comments_on(REPO, 7)] == [(again.id, f"{MARKER}\nv2")]


def test_duplicates_of_someone_else_are_never_deleted(fake: FakeGitHub) -> None:
    client = _client(fake)
    fake.add_user("mallory")
    theirs = fake.add_comment(REPO, 7, f"{MARKER}\nforged", user="mallory")
    client.upsert_pr_comment(7, MARKER, "v1")
    client.upsert_pr_comment(7, MARKER, "v2")
    bodies = [(c.id, c.body) for c in fake.comments_on(REPO, 7)]
    assert bodies[0] == (theirs, f"{MARKER}\nforged")
    assert len(bodies) == 2


def test_patch_that_times_out_is_retried_and_lands_once(fake: FakeGitHub) -> None:
    client = _client(fake)
    first = client.upsert_pr_comment(7, MARKER, "v1")
    fake.inject("PATCH", r"/issues/comments/\d+$", Fault.delay(1.5))
    second = client.upsert_pr_comment(7, MARKER, "v2")
    assert second.id == first.id
    time.sleep(1)
    assert [c.body for c in fake.comments_on(REPO, 7)] == [f"{MARKER}\nv2"]


def test_every_attempt_timing_out_fails_clearly_and_boundedly(fake: FakeGitHub) -> None:
    client = _client(fake)
    fake.inject("GET", r"/issues/7/labels$", Fault.delay(1.5), times=10)
    with pytest.raises(GitHubError, match="timed out"):
        client.pr_labels(7)
    assert len([a for a in fake.arrivals if a[1].endswith("/issues/7/labels")]) == 3


# --- end to end: the pgflux-ci process against the fake ---------------------------------------

SCHEMA = {"app.sql": "CREATE SCHEMA app;\n"}


@pytest.fixture
def run(fake: FakeGitHub, tmp_path: Path) -> ActionRun:
    return ActionRun(fake, tmp_path)


def _inputs(db: ShadowDatabase) -> dict[str, str]:
    return {"mode": "review", "database-url": db.admin_dsn, "shadow": _shadow(db)}


def _shadow(db: ShadowDatabase) -> str:
    return dsnlib.with_dbname(db.admin_dsn, "postgres")


# Transient faults on the POST: retried with backoff, exactly one comment in the end.
TRANSIENT = [
    ("403-rate-limit-reset", Fault.rate_limit(reset_in=1)),
    ("429-retry-after", Fault.retry_after(1)),
    ("500", Fault.error(500)),
    ("502", Fault.error(502)),
    ("503", Fault.error(503)),
    ("502-after-landing", Fault.status_after_apply(502)),
    ("503-after-landing", Fault.status_after_apply(503)),
]


@pytest.mark.parametrize("fault", [f for _, f in TRANSIENT], ids=[i for i, _ in TRANSIENT])
def test_transient_fault_on_post_ends_in_one_comment(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase, fault: Fault
) -> None:
    fake.inject("POST", COMMENTS, fault)
    result = run.push(SCHEMA, _inputs(db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(run.comments()) == 1
    assert len([a for a in fake.arrivals if a[0] == "POST"]) <= 2


@pytest.mark.parametrize("fault", [Fault.error(500), Fault.error(503)], ids=["500", "503"])
def test_transient_fault_on_edit_ends_in_one_edited_comment(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase, fault: Fault
) -> None:
    assert run.push(SCHEMA, _inputs(db)).returncode == 0
    fake.inject("PATCH", r"/issues/comments/\d+$", fault)
    result = run.push({**SCHEMA, "b.sql": "CREATE SCHEMA billing;\n"}, _inputs(db))
    assert result.returncode == 0, result.stdout + result.stderr
    bodies = run.comments()
    assert len(bodies) == 1
    assert "billing" in bodies[0]


PERSISTENT = [
    ("post-503", "POST", COMMENTS, Fault.error(503), "HTTP 503"),
    ("post-500", "POST", COMMENTS, Fault.error(500), "HTTP 500"),
    ("list-502", "GET", COMMENTS, Fault.error(502), "502"),
    ("post-401", "POST", COMMENTS, Fault.error(401), "HTTP 401"),
    ("post-422", "POST", COMMENTS, Fault.error(422), "HTTP 422"),
    ("rate-limit-reset-in-an-hour", "POST", COMMENTS, Fault.rate_limit(3600), "rate limited"),
    ("retry-after-an-hour", "POST", COMMENTS, Fault.retry_after(3600), "rate limited"),
]


@pytest.mark.parametrize(
    ("method", "path", "fault", "message"),
    [(m, p, f, msg) for _, m, p, f, msg in PERSISTENT],
    ids=[i for i, *_ in PERSISTENT],
)
def test_persistent_fault_fails_clearly_after_bounded_attempts(
    run: ActionRun,
    fake: FakeGitHub,
    db: ShadowDatabase,
    method: str,
    path: str,
    fault: Fault,
    message: str,
) -> None:
    fake.inject(method, path, fault, times=100)
    result = run.push(SCHEMA, _inputs(db), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert any("GitHub" in line and message in line for line in errors), result.stdout
    assert "Traceback" not in result.stderr
    attempts = [a for a in fake.arrivals if a[0] == method and a[1].endswith("/comments")]
    assert 1 <= len(attempts) <= 4  # one try plus at most three retries
    assert run.comments() == []
    # What does not need GitHub is still there.
    assert "CREATE SCHEMA app" in run.everything()["summary"]


def test_comment_deleted_between_runs_is_created_anew(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase
) -> None:
    assert run.push(SCHEMA, _inputs(db)).returncode == 0
    (gone,) = fake.comments_on(REPO, run.number)
    del fake.comments[gone.id]
    result = run.push({**SCHEMA, "b.sql": "CREATE SCHEMA billing;\n"}, _inputs(db))
    assert result.returncode == 0, result.stdout + result.stderr
    (now,) = fake.comments_on(REPO, run.number)
    assert now.id != gone.id
    assert "billing" in now.body


def test_comment_deleted_during_the_run_is_created_anew(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase
) -> None:
    """Listed, then 404 on the edit (deleted meanwhile): one new comment, no failure."""
    assert run.push(SCHEMA, _inputs(db)).returncode == 0
    (first,) = fake.comments_on(REPO, run.number)
    fake.inject("PATCH", rf"/issues/comments/{first.id}$", Fault.error(404))
    fake.inject("GET", rf"/issues/comments/{first.id}$", Fault.error(404))
    result = run.push({**SCHEMA, "b.sql": "CREATE SCHEMA billing;\n"}, _inputs(db))
    assert result.returncode == 0, result.stdout + result.stderr
    bodies = run.comments()
    assert any("billing" in b for b in bodies)
    assert len([c for c in fake.comments_on(REPO, run.number) if c.id != first.id]) == 1


def test_huge_plan_is_cut_to_fit_never_a_422(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase
) -> None:
    pad = "x" * 400
    tables = "".join(
        f"CREATE TABLE app.t{i} (id int PRIMARY KEY, note text);\n"
        f"COMMENT ON TABLE app.t{i} IS '{pad}';\n"
        for i in range(300)
    )
    result = run.push({"app.sql": "CREATE SCHEMA app;\n" + tables}, _inputs(db))
    assert result.returncode == 0, result.stdout + result.stderr
    (body,) = run.comments()
    assert len(body) <= 65536
    assert not [r for r in fake.log if r.status == 422]
