"""GitHub through PyGithub: sticky PR comments, drift issues, PR lookup, labels.

Retries happen in two layers, chosen so that no write is ever sent twice blindly:

- transport (urllib3 `Retry`, PyGithub's `GithubRetry`): idempotent methods only (GET, HEAD,
  OPTIONS, PUT, DELETE) on 5xx, timeouts and rate limits; POST and PATCH are never resent
  there, because a 502 can come back for a request that did land.
- this module: PATCH (idempotent: same body, same result) is retried with backoff; a POST is
  retried only after re-listing shows that the first attempt did not land.

Rate-limit waits (403 with x-ratelimit-reset, 429/403 with Retry-After) are capped by
`max_rate_limit_wait`; a longer wait fails at once with a clear error instead of hanging a job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.IssueComment import IssueComment
from github.Repository import Repository
from pydantic import BaseModel, ConfigDict, SecretStr
from urllib3.exceptions import MaxRetryError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.response import BaseHTTPResponse

from engine.errors import PgFluxError

MAX_BODY_CHARS = 65536
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRY_STATUSES = [429, 500, 502, 503, 504]  # GithubRetry adds 403 itself

T = TypeVar("T")


class GitHubError(PgFluxError):
    """A GitHub API call failed; the message says which call and why, never the token.

    `forbidden`: GitHub answered 403 without a rate limit, i.e. the token may not do this (a
    fork's pull request gets a read-only GITHUB_TOKEN)."""

    def __init__(
        self, message: str, *, details: str | None = None, forbidden: bool = False
    ) -> None:
        super().__init__(message, details=details)
        self.forbidden = forbidden


class CommentRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    url: str
    created: bool


class IssueRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: int
    url: str
    created: bool
    body: str | None = None  # set by find_open_issue (the drift canary reads its markers)


class PullRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: int
    html_url: str
    head_sha: str
    head_ref: str
    base_ref: str
    merge_commit_sha: str | None
    labels: frozenset[str]


class FoundComment(NamedTuple):
    id: int
    body: str


class _RateLimitWaitTooLong(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


class _BoundedRetry(GithubRetry):
    """GithubRetry that also caps Retry-After waits (urllib3 would sleep whatever it says)."""

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        wait = self.get_retry_after(response)
        cap = self.max_rate_limit_wait
        if wait is not None and cap is not None and wait > cap:
            raise _RateLimitWaitTooLong(wait)
        return bool(super().sleep_for_retry(response))


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name:
            return str(value)
    return None


def _timed_out(exc: BaseException) -> bool:
    """A timeout, also when the transport's retries wrapped it in a ConnectionError."""
    if isinstance(exc, requests.Timeout):
        return True
    cause = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, Urllib3Timeout)


def _api_message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.message or "no message")
    details = [str(e.get("message")) for e in data.get("errors") or [] if isinstance(e, dict)]
    return f"{message} ({'; '.join(details)})" if details else message


def _rate_limited(exc: GithubException) -> bool:
    """A 403 that is a rate limit (primary or secondary), not a missing permission."""
    if _header(exc.headers, "retry-after") is not None:
        return True
    if _header(exc.headers, "x-ratelimit-remaining") == "0":
        return True
    return "rate limit" in _api_message(exc).lower()


def marker_matches(body: str | None, marker: str) -> bool:
    """True when `body`'s first line is exactly `marker` (a quote elsewhere does not count)."""
    if not body:
        return False
    return body.split("\n", 1)[0].rstrip("\r") == marker


class GitHubClient:
    def __init__(
        self,
        token: str | SecretStr,
        base_url: str,
        repository: str,
        *,
        retries: int = 3,
        timeout: int = 15,
        backoff: float = 1.0,
        max_rate_limit_wait: float = 60.0,
        seconds_between_requests: float = 0.25,
        seconds_between_writes: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        self.repository = repository
        self._attempts = max(1, retries + 1)
        self._backoff = backoff
        self._max_wait = max_rate_limit_wait
        self._sleep = sleep
        transport_retry = _BoundedRetry(
            total=retries,
            backoff_factor=backoff,
            status_forcelist=list(_RETRY_STATUSES),
            allowed_methods=_IDEMPOTENT,
            raise_on_status=False,
            max_rate_limit_wait=max_rate_limit_wait,
            secondary_rate_wait=min(60.0, max_rate_limit_wait),
        )
        self._gh = Github(
            base_url=base_url.rstrip("/"),
            auth=Auth.Token(secret),
            timeout=timeout,
            retry=transport_retry,
            per_page=100,
            seconds_between_requests=seconds_between_requests or None,
            seconds_between_writes=seconds_between_writes or None,
        )
        self._repo: Repository | None = None
        self._login: str | None = None
        self._login_known = False

    def __repr__(self) -> str:
        return f"GitHubClient(repository={self.repository!r})"

    # --- error handling and retries ----------------------------------------------------------

    def _error(self, what: str, exc: BaseException) -> GitHubError:
        if isinstance(exc, _RateLimitWaitTooLong):
            return GitHubError(
                f"GitHub {what} failed: rate limited; GitHub asks to wait {exc.wait:.0f}s, "
                f"more than the {self._max_wait:.0f}s allowed"
            )
        if isinstance(exc, GithubException):
            status = exc.status
            if status == 401:
                return GitHubError(f"GitHub {what} failed: HTTP 401: the token was refused")
            if status == 422 and "too long" in _api_message(exc):
                return GitHubError(
                    f"GitHub {what} failed: HTTP 422: body longer than {MAX_BODY_CHARS} characters"
                )
            return GitHubError(
                f"GitHub {what} failed: HTTP {status}: {_api_message(exc)}",
                forbidden=status == 403 and not _rate_limited(exc),
            )
        if _timed_out(exc):
            return GitHubError(f"GitHub {what} failed: timed out")
        if isinstance(exc, requests.RequestException):
            return GitHubError(f"GitHub {what} failed: {type(exc).__name__}")
        return GitHubError(f"GitHub {what} failed: {type(exc).__name__}: {exc}")

    def _retry_wait(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds to wait before another write attempt, or None if it must not be retried."""
        backoff = self._backoff * float(2 ** (attempt - 1))
        if isinstance(exc, GithubException):
            retry_after = _header(exc.headers, "retry-after")
            if exc.status in (403, 429) and retry_after is not None:
                wait = float(retry_after) if retry_after.isdigit() else backoff
            elif exc.status == 403 and _header(exc.headers, "x-ratelimit-remaining") == "0":
                reset = _header(exc.headers, "x-ratelimit-reset")
                wait = max(0.0, float(reset) - time.time()) + 1 if reset else backoff
            elif exc.status >= 500:
                return backoff
            else:
                return None
            if wait > self._max_wait:
                raise _RateLimitWaitTooLong(wait) from exc
            return max(wait, backoff)
        if isinstance(exc, requests.Timeout | requests.ConnectionError):
            return backoff
        return None

    def _read(self, what: str, fn: Callable[[], T]) -> T:
        # Reads are retried by the transport layer already.
        try:
            return fn()
        except (GithubException, requests.RequestException, _RateLimitWaitTooLong) as exc:
            raise self._error(what, exc) from None

    def _write(
        self, what: str, fn: Callable[[], T], landed: Callable[[], T | None] | None = None
    ) -> T:
        """Run a write with bounded retries; `landed` (POST) finds an earlier attempt's result."""
        for attempt in range(1, self._attempts + 1):
            try:
                return fn()
            except (GithubException, requests.RequestException, _RateLimitWaitTooLong) as exc:
                try:
                    wait = self._retry_wait(exc, attempt)
                except _RateLimitWaitTooLong as too_long:
                    raise self._error(what, too_long) from None
                if wait is None or attempt == self._attempts:
                    raise self._error(what, exc) from None
                self._sleep(wait)
                if landed is not None:
                    found = landed()
                    if found is not None:
                        return found
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _check_size(body: str) -> None:
        if len(body) > MAX_BODY_CHARS:
            raise GitHubError(
                f"body is {len(body)} characters; GitHub accepts at most {MAX_BODY_CHARS}"
            )

    # --- identity ----------------------------------------------------------------------------

    def _get_repo(self) -> Repository:
        if self._repo is None:
            self._repo = self._read(
                f"GET repository {self.repository}", lambda: self._gh.get_repo(self.repository)
            )
        return self._repo

    def own_login(self) -> str | None:
        """The token's user, or None for tokens that may not read /user (Actions, Apps)."""
        if not self._login_known:
            try:
                self._login = str(self._gh.get_user().login)
            except GithubException as exc:
                if exc.status not in (401, 403, 404):
                    raise self._error("GET /user", exc) from None
                self._login = None
            except requests.RequestException as exc:
                raise self._error("GET /user", exc) from None
            self._login_known = True
        return self._login

    def _is_ours(self, user: Any) -> bool:
        login = self.own_login()
        if login is not None:
            return bool(user is not None and user.login == login)
        # Installation tokens post as a bot account; no human can author as one.
        return bool(user is not None and user.type == "Bot")

    # --- pull request comments ---------------------------------------------------------------

    def _pr_comments(self, pr_number: int) -> list[IssueComment]:
        repo = self._get_repo()
        return self._read(
            f"list comments on #{pr_number}",
            lambda: list(repo.get_issue(pr_number).get_comments()),
        )

    def _find_comment(self, pr_number: int, marker: str) -> IssueComment | None:
        """Our oldest comment with `marker`. Later ones are duplicates (a timed-out POST that
        landed after we re-listed): deleted, so a sticky comment stays one comment."""
        ours = [
            c
            for c in self._pr_comments(pr_number)
            if marker_matches(c.body, marker) and self._is_ours(c.user)
        ]
        for extra in ours[1:]:
            self._write(f"delete duplicate comment {extra.id}", extra.delete)
        return ours[0] if ours else None

    def find_pr_comment(self, pr_number: int, marker: str) -> FoundComment | None:
        comment = self._find_comment(pr_number, marker)
        return None if comment is None else FoundComment(comment.id, comment.body)

    def upsert_pr_comment(self, pr_number: int, marker: str, body: str) -> CommentRef:
        """Edit our comment whose first line is `marker`, or create it; one comment per marker."""
        if not marker_matches(body, marker):
            body = f"{marker}\n{body}"
        self._check_size(body)
        existing = self._find_comment(pr_number, marker)
        if existing is not None:
            edited = self._edit_comment(existing, body)
            if edited:
                return CommentRef(id=existing.id, url=existing.html_url, created=False)
        return self._create_comment(pr_number, body, marker=marker)

    def _edit_comment(self, comment: IssueComment, body: str) -> bool:
        """False when the comment vanished meanwhile (deleted by someone: create anew)."""
        try:
            self._write(f"edit comment {comment.id}", lambda: comment.edit(body))
        except GitHubError:
            try:
                comment.update()
            except GithubException as exc:
                if exc.status == 404:
                    return False
            raise
        return True

    def _create_comment(self, pr_number: int, body: str, *, marker: str | None) -> CommentRef:
        repo = self._get_repo()

        def post() -> CommentRef:
            c = repo.get_issue(pr_number).create_comment(body)
            return CommentRef(id=c.id, url=c.html_url, created=True)

        def landed() -> CommentRef | None:
            for c in self._pr_comments(pr_number):
                mine = self._is_ours(c.user)
                if mine and (marker_matches(c.body, marker) if marker else c.body == body):
                    return CommentRef(id=c.id, url=c.html_url, created=True)
            return None

        return self._write(f"POST comment on #{pr_number}", post, landed)

    def post_pr_comment(self, pr_number: int, body: str) -> CommentRef:
        """A new comment (deploy reports). A retried POST that had landed is not repeated."""
        self._check_size(body)
        return self._create_comment(pr_number, body, marker=None)

    def pr_labels(self, pr_number: int) -> set[str]:
        repo = self._get_repo()
        return self._read(
            f"list labels of #{pr_number}",
            lambda: {label.name for label in repo.get_issue(pr_number).get_labels()},
        )

    def pulls_for_commit(self, sha: str) -> list[PullRef]:
        """Merged pull requests that contain commit `sha` (e.g. the merge commit on main)."""
        repo = self._get_repo()

        def fetch() -> list[PullRef]:
            pulls = repo.get_commit(sha).get_pulls()
            return [
                PullRef(
                    number=p.number,
                    html_url=p.html_url,
                    head_sha=p.head.sha,
                    head_ref=p.head.ref,
                    base_ref=p.base.ref,
                    merge_commit_sha=p.merge_commit_sha,
                    labels=frozenset(label.name for label in p.labels),
                )
                for p in pulls
                if p.merged_at is not None
            ]

        return self._read(f"list pull requests of commit {sha}", fetch)

    # --- drift issues ------------------------------------------------------------------------

    def _find_issue(self, marker: str, labels: Iterable[str]) -> Any:
        repo = self._get_repo()
        wanted = list(labels)

        def fetch() -> Any:
            kwargs: dict[str, Any] = {"state": "open"}
            if wanted:
                kwargs["labels"] = wanted
            login = self.own_login()
            if login is not None:
                kwargs["creator"] = login
            for issue in repo.get_issues(**kwargs):
                if issue.pull_request is not None:
                    continue  # the issues list also returns pull requests
                if marker_matches(issue.body, marker) and self._is_ours(issue.user):
                    return issue
            return None

        return self._read("list open issues", fetch)

    def find_open_issue(self, marker: str, label: str) -> IssueRef | None:
        issue = self._find_issue(marker, [label])
        return (
            None
            if issue is None
            else IssueRef(number=issue.number, url=issue.html_url, created=False, body=issue.body)
        )

    def upsert_issue(self, marker: str, title: str, body: str, labels: list[str]) -> IssueRef:
        if not marker_matches(body, marker):
            body = f"{marker}\n{body}"
        self._check_size(body)
        existing = self._find_issue(marker, labels)
        if existing is not None:
            self._write(
                f"edit issue #{existing.number}", lambda: existing.edit(title=title, body=body)
            )
            return IssueRef(number=existing.number, url=existing.html_url, created=False)
        repo = self._get_repo()

        def post() -> IssueRef:
            issue = repo.create_issue(title=title, body=body, labels=labels)
            return IssueRef(number=issue.number, url=issue.html_url, created=True)

        def landed() -> IssueRef | None:
            found = self._find_issue(marker, labels)
            return (
                None
                if found is None
                else IssueRef(number=found.number, url=found.html_url, created=True)
            )

        return self._write("create issue", post, landed)

    def close_issue(self, number: int, comment: str) -> None:
        self._check_size(comment)
        repo = self._get_repo()
        issue = self._read(f"GET issue #{number}", lambda: repo.get_issue(number))
        if comment:
            self._create_comment(number, comment, marker=None)
        self._write(f"close issue #{number}", lambda: issue.edit(state="closed"))
