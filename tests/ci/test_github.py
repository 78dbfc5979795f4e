"""GitHubClient (PyGithub) against the fake GitHub REST API, including injected faults."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from pgflux_ci.github import MAX_BODY_CHARS, GitHubClient, GitHubError
from tests.fakes.github_api import ACTIONS_BOT, FakeGitHub, Fault
from tests.fakes.runner_env import FAKE_TOKEN, load_payload

REPO = "octo/app"
MARKER = "<!-- pgflux-ci:review target=default -->"
DRIFT = "<!-- pgflux-ci:drift target=default -->"

ClientFactory = Callable[..., GitHubClient]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(fake_github: FakeGitHub, sleeps: list[float]) -> ClientFactory:
    fake_github.add_repo(REPO)
    fake_github.add_pull(REPO, 7, labels=["pgflux:approve-hazards", "db"])

    def make(token: str = FAKE_TOKEN, **kw: object) -> GitHubClient:
        opts: dict[str, object] = {
            "retries": 2,
            "timeout": 1,
            "backoff": 0.0,
            "max_rate_limit_wait": 5.0,
            "seconds_between_requests": 0,
            "seconds_between_writes": 0,
            "sleep": sleeps.append,
        } | kw
        return GitHubClient(token, fake_github.url, REPO, **opts)  # type: ignore[arg-type]

    return make


def test_upsert_creates_then_edits_one_comment(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    client = make_client()
    first = client.upsert_pr_comment(7, MARKER, f"{MARKER}\nplan v1")
    assert first.created
    second = client.upsert_pr_comment(7, MARKER, "plan v2")  # marker is prepended
    assert not second.created
    assert second.id == first.id
    comments = fake_github.comments_on(REPO, 7)
    assert [c.body for c in comments] == [f"{MARKER}\nplan v2"]
    assert client.find_pr_comment(7, MARKER) == (first.id, f"{MARKER}\nplan v2")
    assert client.find_pr_comment(7, "<!-- pgflux-ci:review target=eu -->") is None


def test_forged_marker_is_ignored(fake_github: FakeGitHub, make_client: ClientFactory) -> None:
    forged = fake_github.add_comment(REPO, 7, f"{MARKER}\nlooks legit", user="mallory")
    quoted = fake_github.add_comment(REPO, 7, f"> quoting\n{MARKER}\nours?")
    ref = make_client().upsert_pr_comment(7, MARKER, "real plan")
    assert ref.created
    assert ref.id not in (forged, quoted)
    bodies = {c.id: c.body for c in fake_github.comments_on(REPO, 7)}
    assert bodies[forged] == f"{MARKER}\nlooks legit"
    assert bodies[quoted] == f"> quoting\n{MARKER}\nours?"
    assert bodies[ref.id] == f"{MARKER}\nreal plan"


def test_actions_token_without_user_endpoint(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    fake_github.user_forbidden = True
    human = fake_github.add_comment(REPO, 7, f"{MARKER}\nforged by a human", user="mallory")
    client = make_client()
    ref = client.upsert_pr_comment(7, MARKER, "v1")
    assert ref.created
    assert ref.id != human
    again = client.upsert_pr_comment(7, MARKER, "v2")
    assert again.id == ref.id
    ours = [c for c in fake_github.comments_on(REPO, 7) if c.user == ACTIONS_BOT]
    assert [c.body for c in ours] == [f"{MARKER}\nv2"]


def test_post_after_502_that_landed_is_not_duplicated(
    fake_github: FakeGitHub, make_client: ClientFactory, sleeps: list[float]
) -> None:
    fake_github.inject("POST", r"/issues/7/comments$", Fault.status_after_apply(502))
    ref = make_client().upsert_pr_comment(7, MARKER, "plan")
    assert len(fake_github.comments_on(REPO, 7)) == 1
    assert ref.id == fake_github.comments_on(REPO, 7)[0].id
    assert len(fake_github.requests_matching("POST", r"/comments$")) == 1
    assert len(sleeps) == 1

    fake_github.inject("POST", r"/issues/7/comments$", Fault.status_after_apply(502))
    report = make_client().post_pr_comment(7, "deployed plan sha256:1")
    assert [c.body for c in fake_github.comments_on(REPO, 7)][-1] == "deployed plan sha256:1"
    assert len(fake_github.comments_on(REPO, 7)) == 2
    assert report.created


def test_post_500_not_landed_is_retried(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    fake_github.inject("POST", r"/issues/7/comments$", Fault.error(500))
    make_client().post_pr_comment(7, "report")
    assert [c.body for c in fake_github.comments_on(REPO, 7)] == ["report"]
    assert [r.status for r in fake_github.requests_matching("POST", r"/comments$")] == [500, 201]


def test_persistent_500_fails_clearly(fake_github: FakeGitHub, make_client: ClientFactory) -> None:
    fake_github.inject("GET", r"/issues/7/comments$", Fault.error(500), times=10)
    with pytest.raises(GitHubError, match=r"list comments on #7 failed: HTTP 500") as info:
        make_client().upsert_pr_comment(7, MARKER, "plan")
    assert FAKE_TOKEN not in str(info.value)
    # 1 try + 2 transport retries, then give up; nothing was posted.
    assert len(fake_github.requests_matching("GET", r"/issues/7/comments$")) == 3
    assert fake_github.comments_on(REPO, 7) == []


def test_post_persistent_502_gives_up(
    fake_github: FakeGitHub, make_client: ClientFactory, sleeps: list[float]
) -> None:
    fake_github.inject("POST", r"/issues/7/comments$", Fault.error(502), times=10)
    with pytest.raises(GitHubError, match="POST comment on #7 failed: HTTP 502"):
        make_client().post_pr_comment(7, "report")
    assert len(fake_github.requests_matching("POST", r"/comments$")) == 3
    assert len(sleeps) == 2


def test_429_retry_after_within_bounds(fake_github: FakeGitHub, make_client: ClientFactory) -> None:
    fake_github.inject("GET", r"/issues/7/comments$", Fault.retry_after(0), times=2)
    ref = make_client().upsert_pr_comment(7, MARKER, "plan")
    assert ref.created
    statuses = [r.status for r in fake_github.requests_matching("GET", r"/issues/7/comments$")]
    assert statuses[:3] == [429, 429, 200]


def test_429_retry_after_too_long_fails_fast(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    fake_github.inject("GET", r"/issues/7/comments$", Fault.retry_after(3600))
    with pytest.raises(GitHubError, match="wait 3600s, more than the 5s allowed"):
        make_client().find_pr_comment(7, MARKER)


def test_429_on_post_is_retried_by_us(
    fake_github: FakeGitHub, make_client: ClientFactory, sleeps: list[float]
) -> None:
    fake_github.inject("POST", r"/issues/7/comments$", Fault.retry_after(2))
    make_client().post_pr_comment(7, "report")
    assert sleeps == [2.0]
    assert len(fake_github.comments_on(REPO, 7)) == 1


def test_403_rate_limit(fake_github: FakeGitHub, make_client: ClientFactory) -> None:
    fake_github.inject("POST", r"/issues/7/comments$", Fault.rate_limit(reset_in=0))
    make_client().post_pr_comment(7, "report")
    assert len(fake_github.comments_on(REPO, 7)) == 1

    fake_github.inject("POST", r"/issues/7/comments$", Fault.rate_limit(reset_in=3600))
    with pytest.raises(GitHubError, match="rate limited"):
        make_client().post_pr_comment(7, "second")

    fake_github.inject("GET", r"/issues/7/labels$", Fault.rate_limit(reset_in=3600))
    with pytest.raises(GitHubError, match=r"labels of #7 failed: HTTP 403: API rate limit"):
        make_client().pr_labels(7)
    assert len(fake_github.comments_on(REPO, 7)) == 1


def test_read_timeout_is_retried(fake_github: FakeGitHub, make_client: ClientFactory) -> None:
    fake_github.inject("GET", r"/issues/7/labels$", Fault.delay(2.5))
    assert make_client().pr_labels(7) == {"pgflux:approve-hazards", "db"}
    arrivals = [a for a in fake_github.arrivals if a[1].endswith("/issues/7/labels")]
    assert len(arrivals) == 2  # the first timed out, the transport retried the GET


def test_deleted_comment_is_created_anew(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    client = make_client()
    first = client.upsert_pr_comment(7, MARKER, "v1")
    # Someone deletes it between our list and our edit.
    fake_github.inject("PATCH", rf"/issues/comments/{first.id}$", Fault.error(404))
    fake_github.inject("GET", rf"/issues/comments/{first.id}$", Fault.error(404))
    second = client.upsert_pr_comment(7, MARKER, "v2")
    assert second.created
    assert second.id != first.id


def test_oversized_body(fake_github: FakeGitHub, make_client: ClientFactory) -> None:
    client = make_client()
    with pytest.raises(GitHubError, match=f"at most {MAX_BODY_CHARS}"):
        client.post_pr_comment(7, "x" * (MAX_BODY_CHARS + 1))
    with pytest.raises(GitHubError, match="at most"):
        client.upsert_pr_comment(7, MARKER, "x" * (MAX_BODY_CHARS - len(MARKER)))
    assert fake_github.requests_matching("POST", r"/comments$") == []
    ok = client.post_pr_comment(7, "y" * MAX_BODY_CHARS)
    assert ok.created


def test_server_422_maps_to_clear_error(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    client = make_client()
    ref = client.upsert_pr_comment(7, MARKER, "v1")
    # The server's own limit, reached through a raw PyGithub edit of the same comment.
    comment = client._get_repo().get_issue(7).get_comment(ref.id)
    with pytest.raises(GitHubError, match="HTTP 422: body longer than 65536"):
        client._write("edit", lambda: comment.edit("z" * (MAX_BODY_CHARS + 1)))


def test_pagination_finds_marker_past_first_page(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    for i in range(130):
        fake_github.add_comment(REPO, 7, f"chatter {i}", user="octocat")
    ours = fake_github.add_comment(REPO, 7, f"{MARKER}\nold")
    for i in range(20):
        fake_github.add_comment(REPO, 7, f"more {i}", user="octocat")
    ref = make_client().upsert_pr_comment(7, MARKER, "new")
    assert ref.id == ours
    assert not ref.created
    assert len(fake_github.comments_on(REPO, 7)) == 151
    pages = fake_github.requests_matching("GET", r"/issues/7/comments$")
    assert [r.query.get("page") for r in pages] == [None, ["2"]]


def test_bad_token_is_not_leaked(make_client: ClientFactory) -> None:
    wrong = "ghp_wrong_token_value_123"
    with pytest.raises(GitHubError, match="HTTP 401: the token was refused") as info:
        make_client(token=wrong).pr_labels(7)
    assert wrong not in str(info.value)
    assert wrong not in repr(make_client(token=wrong))


def test_pr_labels(make_client: ClientFactory) -> None:
    assert make_client().pr_labels(7) == {"pgflux:approve-hazards", "db"}


def test_pulls_for_commit_from_real_payload(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    payload = load_payload("pull_request.closed-merged")
    fake_github.seed_from_payload(payload)
    pr = payload["pull_request"]
    full = payload["repository"]["full_name"]
    client = GitHubClient(FAKE_TOKEN, fake_github.url, full, backoff=0, seconds_between_requests=0)
    pulls = client.pulls_for_commit(pr["merge_commit_sha"])
    assert [(p.number, p.head_sha, p.base_ref) for p in pulls] == [
        (pr["number"], pr["head"]["sha"], "master")
    ]
    assert pulls[0].labels == {"bug"}
    # An open PR that contains the commit is not a merged one.
    fake_github.add_pull(full, 9, head_sha="a" * 40)
    fake_github.link_commit(full, "a" * 40, [9])
    assert client.pulls_for_commit("a" * 40) == []
    assert client.pulls_for_commit("b" * 40) == []


def test_drift_issue_lifecycle(fake_github: FakeGitHub, make_client: ClientFactory) -> None:
    fake_github.add_issue(
        REPO, title="fake", body=f"{DRIFT}\nforged", labels=["pgflux:drift"], user="mallory"
    )
    client = make_client()
    assert client.find_open_issue(DRIFT, "pgflux:drift") is None
    first = client.upsert_issue(DRIFT, "Schema drift: default", "3 differences", ["pgflux:drift"])
    assert first.created
    second = client.upsert_issue(DRIFT, "Schema drift: default", "4 differences", ["pgflux:drift"])
    assert second.number == first.number
    assert not second.created
    found = client.find_open_issue(DRIFT, "pgflux:drift")
    assert found is not None
    assert found.number == first.number
    issue = next(i for i in fake_github.issues_in(REPO) if i.number == first.number)
    assert issue.body == f"{DRIFT}\n4 differences"
    assert issue.labels == ["pgflux:drift"]
    client.close_issue(first.number, "Drift resolved.")
    assert issue.state == "closed"
    assert [c.body for c in fake_github.comments_on(REPO, first.number)] == ["Drift resolved."]
    assert client.find_open_issue(DRIFT, "pgflux:drift") is None
    third = client.upsert_issue(DRIFT, "Schema drift: default", "again", ["pgflux:drift"])
    assert third.created
    assert third.number != first.number


def test_issue_create_502_after_apply_is_not_duplicated(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    fake_github.inject("POST", r"/repos/octo/app/issues$", Fault.status_after_apply(502))
    ref = make_client().upsert_issue(DRIFT, "Schema drift", "body", ["pgflux:drift"])
    issues = fake_github.issues_in(REPO)
    assert [i.number for i in issues] == [ref.number]


def test_403_rate_limit_on_get_waits_for_reset(
    fake_github: FakeGitHub, make_client: ClientFactory
) -> None:
    # Transport layer (GithubRetry): waits until x-ratelimit-reset (+1s), then succeeds.
    fake_github.inject("GET", r"/issues/7/labels$", Fault.rate_limit(reset_in=0))
    assert make_client().pr_labels(7) == {"pgflux:approve-hazards", "db"}
    statuses = [r.status for r in fake_github.requests_matching("GET", r"/issues/7/labels$")]
    assert statuses == [403, 200]


def test_fake_rest_surface(fake_github: FakeGitHub) -> None:
    """The raw endpoints other engineers' end-to-end tests rely on, without PyGithub."""
    fake_github.add_repo(REPO)
    fake_github.add_pull(REPO, 7)
    issue = fake_github.add_issue(REPO, title="t", body="b", labels=["pgflux:drift", "x"])
    fake_github.add_issue(REPO, title="closed", labels=["pgflux:drift"], state="closed")
    auth = {"Authorization": f"token {FAKE_TOKEN}"}
    base = f"{fake_github.url}/repos/{REPO}"
    assert requests.get(f"{base}/issues", timeout=5).status_code == 401
    assert requests.get(f"{fake_github.url}/rate_limit", headers=auth, timeout=5).ok
    listed = requests.get(
        f"{base}/issues", params={"labels": "pgflux:drift"}, headers=auth, timeout=5
    )
    assert [i["number"] for i in listed.json()] == [issue.number]
    every = requests.get(f"{base}/issues", params={"state": "all"}, headers=auth, timeout=5)
    numbers = sorted(i["number"] for i in every.json())
    assert 7 in numbers  # pull requests are issues too, flagged by "pull_request"
    assert len(numbers) == 3
    by_other = requests.get(
        f"{base}/issues", params={"creator": "mallory"}, headers=auth, timeout=5
    )
    assert by_other.json() == []
    cid = fake_github.add_comment(REPO, 7, "bye")
    assert (
        requests.delete(f"{base}/issues/comments/{cid}", headers=auth, timeout=5).status_code == 204
    )
    assert requests.get(f"{base}/issues/comments/{cid}", headers=auth, timeout=5).status_code == 404
    added = requests.post(f"{base}/issues/7/labels", json=["new"], headers=auth, timeout=5)
    assert "new" in {label["name"] for label in added.json()}
    pull = requests.get(f"{base}/pulls/7", headers=auth, timeout=5).json()
    assert pull["url"].startswith(fake_github.url)
    assert pull["head"]["sha"] == "0" * 40
