"""A fake GitHub REST API on loopback, for PyGithub to reach through `base_url`.

Usage (the `fake_github` fixture in tests/ci/conftest.py does the start/stop)::

    with FakeGitHub(token="t0ken") as fake:
        fake.add_repo("octo/app")
        fake.add_pull("octo/app", 7, head_sha="abc", labels=["pgflux:approve-hazards"])
        client = GitHubClient("t0ken", fake.url, "octo/app")
        ...
        fake.comments_on("octo/app", 7)         # state assertions
        fake.requests_matching("POST", r"/comments$")  # request-log assertions

State lives in memory: repos, pulls (each pull is also an issue, as on GitHub), issues,
issue comments, labels, the commit -> pulls map and the token's user. Responses carry `url`,
`html_url`, `id`, `number`, `user`, `created_at` ... with URLs pointing at the fake, because
PyGithub follows `url` fields. Lists paginate like GitHub (`per_page` default 30, max 100, `Link`
header with rel="next"/"last").

Every request needs `Authorization: token <token>` (or `Bearer`); otherwise 401. Bodies over
65,536 characters get GitHub's 422. `user_forbidden=True` makes GET /user answer 403 like an
Actions (GITHUB_TOKEN) or GitHub App token, and comments are then authored by
`github-actions[bot]`.

Fault injection: `fake.inject(method, path_regex, fault, times=1)` queues a fault for matching
requests (regex searched in the path, no query string); faults fire in the order queued:
`Fault.rate_limit(reset_in=0)` (403, x-ratelimit-remaining 0, x-ratelimit-reset),
`Fault.retry_after(seconds)` (429 with Retry-After), `Fault.status(500|502|503|404)`,
`Fault.delay(seconds)` (answers late: a client timeout), and `Fault.status_after_apply(502)`
(the request takes effect but the client sees an error: the duplicate-comment trap).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

MAX_BODY_CHARS = 65536
ACTIONS_BOT = "github-actions[bot]"

FaultKind = Literal["rate_limit", "retry_after", "status", "delay", "status_after_apply"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 500
    seconds: float = 0.0

    @classmethod
    def rate_limit(cls, reset_in: float = 0) -> Fault:
        return cls("rate_limit", 403, reset_in)

    @classmethod
    def retry_after(cls, seconds: int = 0) -> Fault:
        return cls("retry_after", 429, seconds)

    @classmethod
    def error(cls, status: int) -> Fault:
        return cls("status", status)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", 200, seconds)

    @classmethod
    def status_after_apply(cls, status: int = 502) -> Fault:
        return cls("status_after_apply", status)


@dataclass
class _QueuedFault:
    method: str
    path: re.Pattern[str]
    fault: Fault
    remaining: int


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorized: bool
    status: int


@dataclass
class FakeUser:
    login: str
    id: int
    type: str = "User"


@dataclass
class FakeComment:
    id: int
    repo: str
    issue_number: int
    body: str
    user: str
    created_at: str
    updated_at: str


@dataclass
class FakeIssue:
    """An issue, or the issue half of a pull request (`pull` is set)."""

    repo: str
    number: int
    title: str
    body: str | None
    user: str
    labels: list[str]
    state: str = "open"
    created_at: str = ""
    updated_at: str = ""
    closed_at: str | None = None
    pull: FakePull | None = None


@dataclass
class FakePull:
    head_sha: str
    head_ref: str
    base_ref: str
    base_sha: str
    merged: bool = False
    merge_commit_sha: str | None = None
    merged_at: str | None = None


@dataclass
class FakeRepo:
    full_name: str
    id: int
    default_branch: str
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    commit_pulls: dict[str, list[int]] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Response(Exception):
    """Raised inside a handler to answer with a status and JSON body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeGitHub:
    def __init__(
        self,
        token: str = "fake-token",  # noqa: S107 - a fake's fixed test token
        user: str = "pgflux-bot",
        *,
        user_forbidden: bool = False,
    ) -> None:
        self.token = token
        self.user_forbidden = user_forbidden
        self._lock = threading.RLock()
        self._ids = 1000
        self.users: dict[str, FakeUser] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.comments: dict[int, FakeComment] = {}
        self.log: list[LoggedRequest] = []
        # (method, path) at arrival: a delayed request is logged only once it is answered.
        self.arrivals: list[tuple[str, str]] = []
        self._faults: list[_QueuedFault] = []
        self.token_user = self.add_user(user).login
        self.add_user(ACTIONS_BOT, type="Bot")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeGitHub not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- seeding -----------------------------------------------------------------------------

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def add_user(self, login: str, *, type: str = "User") -> FakeUser:
        with self._lock:
            user = self.users.get(login) or FakeUser(login, self._next_id(), type)
            self.users[login] = user
            return user

    def add_repo(self, full_name: str, *, default_branch: str = "main") -> FakeRepo:
        with self._lock:
            repo = self.repos.get(full_name)
            if repo is None:
                repo = FakeRepo(full_name, self._next_id(), default_branch)
                self.repos[full_name] = repo
            return repo

    def add_pull(
        self,
        repo: str,
        number: int,
        *,
        head_sha: str = "0" * 40,
        head_ref: str = "feature",
        base_ref: str = "main",
        base_sha: str = "1" * 40,
        labels: list[str] | None = None,
        merged: bool = False,
        merge_commit_sha: str | None = None,
        user: str = "octocat",
        title: str = "A pull request",
        state: str = "open",
    ) -> FakeIssue:
        with self._lock:
            r = self.add_repo(repo)
            self.add_user(user)
            pull = FakePull(head_sha, head_ref, base_ref, base_sha, merged, merge_commit_sha)
            if merged:
                pull.merged_at = _now()
                state = "closed"
            issue = FakeIssue(repo, number, title, None, user, list(labels or []), state, pull=pull)
            issue.created_at = issue.updated_at = _now()
            r.issues[number] = issue
            if merge_commit_sha:
                r.commit_pulls.setdefault(merge_commit_sha, []).append(number)
            return issue

    def add_issue(
        self,
        repo: str,
        *,
        title: str,
        body: str | None = None,
        labels: list[str] | None = None,
        user: str | None = None,
        state: str = "open",
    ) -> FakeIssue:
        with self._lock:
            r = self.add_repo(repo)
            number = max(r.issues, default=0) + 1
            author = user or self.token_user
            self.add_user(author)
            issue = FakeIssue(repo, number, title, body, author, list(labels or []), state)
            issue.created_at = issue.updated_at = _now()
            r.issues[number] = issue
            return issue

    def add_comment(self, repo: str, number: int, body: str, *, user: str | None = None) -> int:
        with self._lock:
            author = user or self.token_user
            self.add_user(author)
            comment = FakeComment(self._next_id(), repo, number, body, author, _now(), _now())
            self.comments[comment.id] = comment
            return comment.id

    def link_commit(self, repo: str, sha: str, numbers: list[int]) -> None:
        with self._lock:
            self.add_repo(repo).commit_pulls[sha] = list(numbers)

    def seed_from_payload(self, payload: dict[str, Any]) -> FakeIssue | None:
        """Create the repository (and pull request, if any) a webhook payload refers to."""
        repo = payload["repository"]
        self.add_repo(repo["full_name"], default_branch=repo.get("default_branch") or "main")
        pr = payload.get("pull_request")
        if pr is None:
            return None
        return self.add_pull(
            repo["full_name"],
            pr["number"],
            head_sha=pr["head"]["sha"],
            head_ref=pr["head"]["ref"],
            base_ref=pr["base"]["ref"],
            base_sha=pr["base"]["sha"],
            labels=[label["name"] for label in pr.get("labels", [])],
            merged=bool(pr.get("merged")),
            merge_commit_sha=pr.get("merge_commit_sha") if pr.get("merged") else None,
            user=pr["user"]["login"],
            title=pr.get("title") or "",
            state=pr.get("state", "open"),
        )

    def inject(self, method: str, path_regex: str, fault: Fault, *, times: int = 1) -> None:
        with self._lock:
            self._faults.append(_QueuedFault(method.upper(), re.compile(path_regex), fault, times))

    # --- assertions --------------------------------------------------------------------------

    def comments_on(self, repo: str, number: int) -> list[FakeComment]:
        with self._lock:
            return sorted(
                (c for c in self.comments.values() if c.repo == repo and c.issue_number == number),
                key=lambda c: c.id,
            )

    def issues_in(self, repo: str, *, include_pulls: bool = False) -> list[FakeIssue]:
        with self._lock:
            return [
                i
                for i in sorted(self.repos[repo].issues.values(), key=lambda i: i.number)
                if include_pulls or i.pull is None
            ]

    def requests_matching(self, method: str, path_regex: str) -> list[LoggedRequest]:
        with self._lock:
            pattern = re.compile(path_regex)
            return [r for r in self.log if r.method == method and pattern.search(r.path)]

    # --- JSON rendering ----------------------------------------------------------------------

    def _user_json(self, login: str) -> dict[str, Any]:
        user = self.add_user(login)
        return {
            "login": user.login,
            "id": user.id,
            "type": user.type,
            "url": f"{self.url}/users/{user.login}",
            "html_url": f"https://github.com/{user.login}",
        }

    def _label_json(self, repo: str, name: str) -> dict[str, Any]:
        return {
            "id": abs(hash((repo, name))) % 10**9,
            "name": name,
            "color": "ededed",
            "url": f"{self.url}/repos/{repo}/labels/{name}",
        }

    def _repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        owner, name = repo.full_name.split("/", 1)
        return {
            "id": repo.id,
            "name": name,
            "full_name": repo.full_name,
            "owner": self._user_json(owner),
            "private": False,
            "default_branch": repo.default_branch,
            "url": f"{self.url}/repos/{repo.full_name}",
            "html_url": f"https://github.com/{repo.full_name}",
        }

    def _issue_json(self, issue: FakeIssue) -> dict[str, Any]:
        base = f"{self.url}/repos/{issue.repo}"
        kind = "pull" if issue.pull else "issues"
        data: dict[str, Any] = {
            "id": abs(hash((issue.repo, issue.number))) % 10**9,
            "number": issue.number,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "user": self._user_json(issue.user),
            "labels": [self._label_json(issue.repo, n) for n in issue.labels],
            "url": f"{base}/issues/{issue.number}",
            "comments_url": f"{base}/issues/{issue.number}/comments",
            "labels_url": f"{base}/issues/{issue.number}/labels{{/name}}",
            "html_url": f"https://github.com/{issue.repo}/{kind}/{issue.number}",
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
        }
        if issue.pull:
            data["pull_request"] = {"url": f"{base}/pulls/{issue.number}"}
        return data

    def _pull_json(self, issue: FakeIssue) -> dict[str, Any]:
        assert issue.pull is not None
        pull = issue.pull
        base = f"{self.url}/repos/{issue.repo}"
        return {
            "id": abs(hash(("pull", issue.repo, issue.number))) % 10**9,
            "number": issue.number,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "user": self._user_json(issue.user),
            "labels": [self._label_json(issue.repo, n) for n in issue.labels],
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "label": pull.head_ref},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "label": pull.base_ref},
            "merged": pull.merged,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "url": f"{base}/pulls/{issue.number}",
            "issue_url": f"{base}/issues/{issue.number}",
            "html_url": f"https://github.com/{issue.repo}/pull/{issue.number}",
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
        }

    def _comment_json(self, c: FakeComment) -> dict[str, Any]:
        base = f"{self.url}/repos/{c.repo}"
        return {
            "id": c.id,
            "body": c.body,
            "user": self._user_json(c.user),
            "url": f"{base}/issues/comments/{c.id}",
            "html_url": f"https://github.com/{c.repo}/pull/{c.issue_number}#issuecomment-{c.id}",
            "issue_url": f"{base}/issues/{c.issue_number}",
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }

    # --- request handling --------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for queued in self._faults:
                if queued.remaining > 0 and queued.method == method and queued.path.search(path):
                    queued.remaining -= 1
                    return queued.fault
            return None

    def _paginate(
        self, path: str, query: dict[str, list[str]], items: list[dict[str, Any]]
    ) -> _Response:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(p: int, rel: str) -> str:
            q = {k: v[0] for k, v in query.items()} | {"page": str(p), "per_page": str(per_page)}
            return f'<{self.url}{path}?{urlencode(q)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return _Response(200, chunk, {"Link": ", ".join(links)} if links else {})

    def _check_body(self, payload: dict[str, Any], resource: str) -> None:
        body = payload.get("body")
        if isinstance(body, str) and len(body) > MAX_BODY_CHARS:
            raise _Response(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": resource,
                            "code": "custom",
                            "field": "body",
                            "message": f"body is too long (maximum is {MAX_BODY_CHARS} characters)",
                        }
                    ],
                    "documentation_url": "https://docs.github.com/rest",
                },
            )

    def _repo(self, full_name: str) -> FakeRepo:
        repo = self.repos.get(full_name)
        if repo is None:
            raise _Response(404, {"message": "Not Found"})
        return repo

    def _issue(self, full_name: str, number: int) -> FakeIssue:
        issue = self._repo(full_name).issues.get(number)
        if issue is None:
            raise _Response(404, {"message": "Not Found"})
        return issue

    def _comment(self, full_name: str, comment_id: int) -> FakeComment:
        c = self.comments.get(comment_id)
        if c is None or c.repo != full_name:
            raise _Response(404, {"message": "Not Found"})
        return c

    def _author(self) -> str:
        return ACTIONS_BOT if self.user_forbidden else self.token_user

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], payload: Any
    ) -> _Response:
        with self._lock:
            return self._route(method, path, query, payload)

    def _route(self, method: str, path: str, query: dict[str, list[str]], raw: Any) -> _Response:
        payload: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if path == "/user" and method == "GET":
            if self.user_forbidden:
                return _Response(403, {"message": "Resource not accessible by integration"})
            return _Response(200, self._user_json(self.token_user))
        if path == "/rate_limit" and method == "GET":
            core = {"limit": 5000, "remaining": 4999, "reset": int(time.time()) + 3600, "used": 1}
            return _Response(200, {"resources": {"core": core}, "rate": core})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if not m:
            return _Response(404, {"message": "Not Found"})
        full, rest = m.group(1), m.group(2) or ""
        repo = self._repo(full)
        if rest == "" and method == "GET":
            return _Response(200, self._repo_json(repo))
        if (m := re.fullmatch(r"/pulls/(\d+)", rest)) and method == "GET":
            issue = self._issue(full, int(m.group(1)))
            if issue.pull is None:
                return _Response(404, {"message": "Not Found"})
            return _Response(200, self._pull_json(issue))
        if m := re.fullmatch(r"/commits/([0-9a-fA-F]+)/pulls", rest):
            numbers = repo.commit_pulls.get(m.group(1), [])
            pulls = [self._pull_json(repo.issues[n]) for n in numbers]
            return self._paginate(path, query, pulls)
        if (m := re.fullmatch(r"/commits/([0-9a-fA-F]+)", rest)) and method == "GET":
            sha = m.group(1)
            return _Response(
                200,
                {
                    "sha": sha,
                    "url": f"{self.url}{path}",
                    "html_url": f"https://github.com/{full}/commit/{sha}",
                    "commit": {"message": ""},
                },
            )
        if rest == "/issues":
            if method == "GET":
                return self._list_issues(repo, path, query)
            if method == "POST":
                self._check_body(payload, "Issue")
                issue = self.add_issue(
                    full,
                    title=str(payload.get("title", "")),
                    body=payload.get("body"),
                    labels=[str(n) for n in payload.get("labels", [])],
                    user=self._author(),
                )
                return _Response(201, self._issue_json(issue))
        if m := re.fullmatch(r"/issues/(\d+)", rest):
            issue = self._issue(full, int(m.group(1)))
            if method == "GET":
                return _Response(200, self._issue_json(issue))
            if method == "PATCH":
                self._check_body(payload, "Issue")
                if "title" in payload:
                    issue.title = str(payload["title"])
                if "body" in payload:
                    issue.body = payload["body"]
                if "labels" in payload:
                    issue.labels = [str(n) for n in payload["labels"]]
                if "state" in payload:
                    issue.state = str(payload["state"])
                    issue.closed_at = _now() if issue.state == "closed" else None
                issue.updated_at = _now()
                return _Response(200, self._issue_json(issue))
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(m.group(1))
            self._issue(full, number)
            if method == "GET":
                items = [self._comment_json(c) for c in self.comments_on(full, number)]
                return self._paginate(path, query, items)
            if method == "POST":
                self._check_body(payload, "IssueComment")
                cid = self.add_comment(
                    full, number, str(payload.get("body", "")), user=self._author()
                )
                return _Response(201, self._comment_json(self.comments[cid]))
        if m := re.fullmatch(r"/issues/(\d+)/labels", rest):
            issue = self._issue(full, int(m.group(1)))
            if method == "POST":
                names = raw.get("labels", []) if isinstance(raw, dict) else (raw or [])
                for name in names:
                    if name not in issue.labels:
                        issue.labels.append(str(name))
            if method in ("GET", "POST"):
                items = [self._label_json(full, n) for n in issue.labels]
                return (
                    self._paginate(path, query, items) if method == "GET" else _Response(200, items)
                )
        if m := re.fullmatch(r"/issues/comments/(\d+)", rest):
            c = self._comment(full, int(m.group(1)))
            if method == "GET":
                return _Response(200, self._comment_json(c))
            if method == "PATCH":
                self._check_body(payload, "IssueComment")
                c.body = str(payload.get("body", ""))
                c.updated_at = _now()
                return _Response(200, self._comment_json(c))
            if method == "DELETE":
                del self.comments[c.id]
                return _Response(204, None)
        return _Response(404, {"message": "Not Found"})

    def _list_issues(self, repo: FakeRepo, path: str, query: dict[str, list[str]]) -> _Response:
        state = query.get("state", ["open"])[0]
        wanted = {n for n in query.get("labels", [""])[0].split(",") if n}
        creator = query.get("creator", [None])[0]
        issues = [
            i
            for i in sorted(repo.issues.values(), key=lambda i: i.number, reverse=True)
            if (state == "all" or i.state == state)
            and wanted <= set(i.labels)
            and (creator is None or i.user == creator)
        ]
        return self._paginate(path, query, [self._issue_json(i) for i in issues])


class _Handler(BaseHTTPRequestHandler):
    owner: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _serve(self) -> None:
        fake = self.owner
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            payload = None
        auth = self.headers.get("Authorization", "")
        authorized = auth in (f"token {fake.token}", f"Bearer {fake.token}")
        method = self.command
        with fake._lock:
            fake.arrivals.append((method, path))
        fault = fake._take_fault(method, path) if authorized else None
        if not authorized:
            resp = _Response(401, {"message": "Bad credentials"})
        elif fault is not None and fault.kind == "rate_limit":
            reset = int(time.time() + fault.seconds)
            resp = _Response(
                403,
                {"message": "API rate limit exceeded for user ID 1."},
                {
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-limit": "5000",
                    "x-ratelimit-reset": str(reset),
                },
            )
        elif fault is not None and fault.kind == "retry_after":
            resp = _Response(
                429,
                {"message": "You have exceeded a secondary rate limit."},
                {"Retry-After": str(int(fault.seconds))},
            )
        elif fault is not None and fault.kind == "status":
            resp = _Response(fault.status, {"message": f"fault injected: {fault.status}"})
        else:
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.seconds)
            try:
                resp = fake.handle(method, path, query, payload)
            except _Response as answered:
                resp = answered
            if fault is not None and fault.kind == "status_after_apply":
                resp = _Response(fault.status, {"message": "Bad Gateway"})
        with fake._lock:
            fake.log.append(LoggedRequest(method, path, query, payload, authorized, resp.status))
        body = b"" if resp.body is None else json.dumps(resp.body).encode()
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve
