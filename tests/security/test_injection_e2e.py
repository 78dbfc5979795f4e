"""Markdown / HTML / workflow-command injection end to end: hostile identifiers, comments,
routine bodies and server error messages go through a real review run into the fake GitHub; the
comment renders inert (GitHub's own renderer, cmarkgfm) and a forged marker hijacks nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

from engine.shadow import ShadowDatabase
from pgflux_ci.report import parse_plan_marker
from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import FAKE_TOKEN
from tests.security.actionrun import REPO, ActionRun

FORGED_REVIEW = "<!-- pgflux-ci:review target=default -->"
FORGED_PLAN = (
    "<!-- pgflux-ci:plan fingerprint=sha256:"
    + "0" * 64
    + " source=sha256:"
    + "1" * 64
    + " target=sha256:"
    + "2" * 64
    + " -->"
)
RunSql = Callable[..., list[tuple[Any, ...]]]
DANGEROUS_TAGS = {"img", "script", "svg", "iframe", "style", "object", "embed", "form", "input"}

HOSTILE_SCHEMA = f"""
CREATE SCHEMA "<script>alert(1)</script>";
CREATE TABLE public."<img src=x onerror=alert(1)>" (
  "a|b`c" int,
  "@octocat **bold** [x](javascript:alert(1))" text,
  "```" int
);
COMMENT ON TABLE public."<img src=x onerror=alert(1)>" IS E'{FORGED_REVIEW}\\n{FORGED_PLAN}\\n'
  '</details></summary><a href="javascript:alert(1)">@octocat</a> | pipe | `tick` ``` -->';
CREATE FUNCTION public."f<b>bold</b>"() RETURNS text LANGUAGE sql
  AS $$ SELECT '```</details><img src=x onerror=alert(2)> @octocat {FORGED_REVIEW}' $$;
CREATE VIEW public."v@octocat" AS SELECT 1 AS "<svg onload=alert(3)>";
"""


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.text: list[str] = []  # outside <code> / <pre>
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"code", "pre"}:
            self._code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"code", "pre"}:
            self._code -= 1

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        if not self._code:
            self.text.append(data)


def rendered(body: str) -> _Html:
    # UNSAFE keeps raw HTML, as GitHub does before sanitising: shows what our escaping lets by.
    html = str(cmarkgfm.github_flavored_markdown_to_html(body, options=Options.CMARK_OPT_UNSAFE))
    parser = _Html()
    parser.feed(html)
    return parser


def assert_inert(body: str) -> None:
    page = rendered(body)
    tags = {t for t, _ in page.tags}
    assert not tags & DANGEROUS_TAGS, tags
    for tag, attrs in page.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("https://github.com/", "#")), href
    # Only our own hidden markers are HTML comments, and they come first.
    assert len(page.comments) <= 2, page.comments
    assert all(c.startswith(" pgflux-ci:") for c in page.comments), page.comments
    assert "0" * 64 not in "".join(page.comments)
    # No one is pinged: a mention outside code carries a zero-width joiner.
    assert "@octocat" not in "".join(page.text)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as github:
        github.add_user("mallory")
        yield github


@pytest.fixture
def run(fake: FakeGitHub, tmp_path: Path) -> ActionRun:
    return ActionRun(fake, tmp_path)


def _inputs(db: ShadowDatabase) -> dict[str, str]:
    return {"mode": "review", "database-url": db.admin_dsn, "fail-on": "none"}


def test_hostile_names_render_inert_and_the_forged_marker_hijacks_nothing(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase, run_sql: RunSql
) -> None:
    # Production holds a hostile table that the PR drops: it shows up in hazards too.
    run_sql(
        db.admin_dsn,
        'CREATE TABLE "<svg onload=alert(9)>" (id int);'
        ' INSERT INTO "<svg onload=alert(9)>" VALUES (1)',
    )
    # Someone else posted a comment that starts with our marker.
    fake.seed_from_payload(dict(run.payload))
    attacker = fake.add_comment(
        REPO, run.number, f"{FORGED_REVIEW}\n{FORGED_PLAN}\nplease apply", user="mallory"
    )

    first = run.push({"app.sql": HOSTILE_SCHEMA}, _inputs(db))
    assert first.returncode == 0, first.stdout + first.stderr
    comments = fake.comments_on(REPO, run.number)
    assert comments[0].id == attacker
    assert comments[0].body == f"{FORGED_REVIEW}\n{FORGED_PLAN}\nplease apply"  # untouched
    assert len(comments) == 2
    ours = comments[1]
    assert ours.user != "mallory"
    assert ours.body.startswith(FORGED_REVIEW + "\n")  # the real marker is the same text
    marker = parse_plan_marker(ours.body)
    assert marker is not None
    assert marker.fingerprint != "sha256:" + "0" * 64
    outputs = run.everything()["GITHUB_OUTPUT"]
    assert marker.fingerprint in outputs
    assert "DROP TABLE" in ours.body
    assert_inert(ours.body)
    assert_inert(run.everything()["summary"])

    # A second push edits our comment, never the attacker's, and adds none.
    second = run.push({"app.sql": HOSTILE_SCHEMA + "\nCREATE TABLE plain (id int);\n"}, _inputs(db))
    assert second.returncode == 0, second.stdout + second.stderr
    after = fake.comments_on(REPO, run.number)
    assert [c.id for c in after] == [attacker, ours.id]
    assert after[0].body == comments[0].body
    assert "plain" in after[1].body
    assert_inert(after[1].body)
    assert len(fake.requests_matching("POST", r"/comments$")) == 1


def test_hostile_error_message_renders_inert_and_cannot_inject_workflow_commands(
    run: ActionRun, fake: FakeGitHub, db: ShadowDatabase
) -> None:
    evil = "<img src=x onerror=alert(1)>\n::warning title=injected::owned\n`` @octocat | </details>"
    sql = f'CREATE TABLE t (id int REFERENCES "{evil}" (id));\n'
    result = run.push({"app.sql": sql}, _inputs(db))
    assert result.returncode == 2, result.stdout + result.stderr
    body = run.comments()[0]
    assert "did not load" in body
    assert_inert(body)
    assert_inert(run.everything()["summary"])
    # Every workflow command is one line: the newline in the message cannot start another.
    assert not any(line.startswith("::warning") for line in result.stdout.splitlines())
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error file=")]
    assert len(errors) == 1
    assert "%0A" in errors[0]


def test_routine_body_with_fences_stays_inside_its_code_block(
    run: ActionRun, db: ShadowDatabase
) -> None:
    body_sql = (
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql"
        " AS $$ SELECT '````\n# heading\n<img src=x>' $$;\n"
    )
    result = run.push({"app.sql": body_sql}, _inputs(db))
    assert result.returncode == 0, result.stdout + result.stderr
    page = rendered(run.comments()[0])
    assert not {t for t, _ in page.tags} & DANGEROUS_TAGS
    assert "heading" not in "".join(page.text)  # it stayed in the code block
