"""The review comment: rendering with cmark-gfm, escaping of untrusted text, markers, size limit."""

from __future__ import annotations

import re

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from engine.cli import render_plan
from engine.errors import SchemaLoadError
from engine.model.base import ObjectKey
from engine.model.constraints import Constraint
from engine.model.schema import Schema
from engine.model.tables import Column, Table
from engine.plan.model import Hazard, HazardCode, ObjectRef, Plan, Severity, Statement
from pgflux_ci import markdown as md
from pgflux_ci.report import (
    MAX_BODY_CHARS,
    Links,
    ReviewReport,
    erd_lines,
    load_error_view,
    marker_target,
    parse_plan_marker,
    render_plan_markdown,
    render_review,
    review_marker,
)

EVIL = "<img src=x onerror=alert(1)>"
FORGED = "<!-- pgflux-ci:review target=default -->"
FP = "sha256:" + "a" * 64
SRC = "sha256:" + "b" * 64
TGT = "sha256:" + "c" * 64


def html_of(body: str) -> str:
    # UNSAFE keeps raw HTML as GitHub does (it sanitises afterwards): shows what we let through.
    return str(cmarkgfm.github_flavored_markdown_to_html(body, options=Options.CMARK_OPT_UNSAFE))


def statement(
    sql: str,
    *,
    kind: str = "table",
    schema: str | None = "public",
    name: str = "orders",
    hazards: tuple[tuple[HazardCode, Severity, str], ...] = (),
    transactional: bool = True,
) -> Statement:
    return Statement(
        sql=sql,
        object=ObjectRef(kind=kind, schema_=schema, name=name),
        transactional=transactional,
        hazards=tuple(Hazard(code=c, severity=s, message=m) for c, s, m in hazards),
    )


def make_plan(*statements: Statement, verified: bool = True, **extra: object) -> Plan:
    return Plan(
        fingerprint=FP,
        source_fingerprint=SRC,
        target_fingerprint=TGT,
        verified=verified,
        postgres_version=150004,
        statements=statements,
        **extra,
    )


def render(plan: Plan, **kwargs: object) -> str:
    return render_review(ReviewReport(plan=plan, production_version=150004, **kwargs))


# --- headline and sections -----------------------------------------------------------------


def test_empty_plan_says_no_changes() -> None:
    body = render(make_plan())
    assert body.split("\n")[0] == review_marker("default")
    assert "no schema changes" in body
    assert "15.4" in body
    assert "<table>" not in html_of(body)


def test_headline_counts_hazards_and_verification() -> None:
    plan = make_plan(
        statement(
            "DROP SCHEMA legacy",
            kind="schema",
            schema=None,
            name="legacy",
            hazards=((HazardCode.DATA_LOSS, Severity.HIGH, "drops schema legacy"),),
        ),
        statement("CREATE SCHEMA app", kind="schema", schema=None, name="app"),
    )
    body = render(plan)
    assert "2 statements, 1 hazard (highest: **high**)" in body
    assert "Verified in the shadow" in body
    assert "production PostgreSQL 15.4" in body
    html = html_of(body)
    assert html.count("<details>") == 2
    assert "<td><code>DATA_LOSS</code></td>" in html
    assert "<td>schema legacy</td>" in html


def test_unverified_plan_says_so_with_the_problems() -> None:
    plan = make_plan(
        statement("CREATE SCHEMA app", kind="schema", schema=None, name="app"),
        verified=False,
        verification_errors=("schema app: still <different>",),
    )
    body = render(plan)
    assert "NOT verified" in body
    assert "still &lt;different&gt;" in html_of(body)


def test_non_transactional_step_is_marked() -> None:
    plan = make_plan(
        statement(
            "CREATE INDEX CONCURRENTLY i ON public.orders (id)",
            kind="index",
            name="orders.i",
            transactional=False,
            hazards=((HazardCode.INDEX_BUILD, Severity.LOW, "builds"),),
        ),
        statement("COMMENT ON TABLE public.orders IS 'x'"),
    )
    summaries = re.findall(r"<summary>(.*?)</summary>", render(plan))
    assert "outside a transaction" in summaries[0]
    assert "outside a transaction" not in summaries[1]


def test_hazards_sorted_by_severity_then_statement() -> None:
    plan = make_plan(
        statement("A", hazards=((HazardCode.BLOCKS_WRITES, Severity.LOW, "first"),)),
        statement("B", hazards=((HazardCode.DATA_LOSS, Severity.CRITICAL, "second"),)),
        statement("C", hazards=((HazardCode.INDEX_DROPPED, Severity.MEDIUM, "third"),)),
    )
    html = html_of(render(plan))
    assert html.index("second") < html.index("third") < html.index("first")


def test_unmanaged_objects_listed() -> None:
    body = render(make_plan(unmanaged=("rule public.r", "aggregate public.<b>x</b>")))
    html = html_of(body)
    assert "2 unmanaged objects" in html
    assert "rule public.r" in html
    assert "<b>" not in html


# --- escaping --------------------------------------------------------------------------------

INJECTIONS = {
    "html-tag": EVIL,
    "mention": "ping @octocat now",
    "pipes": "a | b || c",
    "newline": "line one\nline two | three",
    "forged-review-marker": FORGED,
    "forged-plan-marker": f"<!-- pgflux-ci:plan fingerprint={FP} source={SRC} target={TGT} -->",
    "backticks": "``` evil ```",
    "link": "[click](javascript:alert(1))",
    "script": "<script>alert(1)</script>",
    "details-close": "</details></summary><img src=x>",
    "entity": "&lt;img src=x&gt;",
}


@pytest.mark.parametrize("text", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_untrusted_text_in_every_slot_stays_text(text: str) -> None:
    plan = make_plan(
        statement(
            f'DROP TABLE public."{text}"',
            name=text,
            hazards=((HazardCode.DATA_LOSS, Severity.HIGH, f"drops {text}"),),
        ),
        unmanaged=(f"rule public.{text}",),
        verified=False,
        verification_errors=(f"differs: {text}",),
    )
    body = render(plan, target=text)
    html = html_of(body)
    for tag in ("<img", "<script", "<a "):
        assert tag not in html
    # A zero-width joiner breaks mentions; GitHub does not look for them inside code blocks.
    assert "@octocat" not in re.sub(r"<pre.*?</pre>", "", html, flags=re.S)
    # Exactly one table row per hazard, four cells each: pipes and newlines did not break it.
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    assert len(rows) == 2
    assert all(row.count("<td>") == 4 for row in rows[1:])
    assert html.count("<details>") == html.count("</details>") == 2
    assert html.count("<pre") == 1
    # No HTML comment opens anywhere but on the two marker lines.
    assert html.count("<!--") == 2
    assert parse_plan_marker(body) is not None
    assert parse_plan_marker(body).fingerprint == FP  # type: ignore[union-attr]


def test_sql_fence_cannot_be_broken_out_of() -> None:
    sql = "COMMENT ON TABLE t IS '````\n# heading\n<img src=x>\n````'"
    html = html_of(render(make_plan(statement(sql))))
    assert html.count("<pre") == 1
    assert "<h1>" not in html
    assert "&lt;img src=x&gt;" in html
    assert "````" in html


def test_forged_marker_in_load_error_text() -> None:
    report = ReviewReport(
        load_error=load_error_view(
            SchemaLoadError(f"bad {FORGED}\n<!-- pgflux-ci:plan fingerprint={FP} -->"),
            Links(),
        )
    )
    body = render_review(report)
    assert body.count("<!--") == 1
    assert parse_plan_marker(body) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("a|b", "a\\|b"),
        ("@x", "@\u200dx"),
        ("<!--", "\\<\\!\\-\\-"),
        ("a\nb", "a b"),
        ("*_`", "\\*\\_\\`"),
    ],
    ids=["plain", "pipe", "mention", "comment", "newline", "emphasis"],
)
def test_escape_text(value: str, expected: str) -> None:
    assert md.escape_text(value) == expected


@pytest.mark.parametrize(
    ("text", "fence"),
    [("x", "```"), ("a ``` b", "````"), ("`````", "``````"), ("~~~", "```")],
    ids=["none", "three", "five", "tildes"],
)
def test_fence_longer_than_any_backtick_run(text: str, fence: str) -> None:
    assert md.fence_for(text) == fence


@pytest.mark.parametrize(
    ("value", "expected"),
    [("public.orders", "public_orders"), ("1st", "_1st"), ("", "_"), ("a b-c", "a_b_c")],
    ids=["dot", "digit", "empty", "space-dash"],
)
def test_mermaid_ids(value: str, expected: str) -> None:
    assert md.mermaid_id(value) == expected


# --- markers -------------------------------------------------------------------------------


def test_plan_marker_round_trip() -> None:
    marker = parse_plan_marker(render(make_plan(statement("CREATE SCHEMA a"))))
    assert marker is not None
    assert (marker.fingerprint, marker.source_fingerprint, marker.target_fingerprint) == (
        FP,
        SRC,
        TGT,
    )


@pytest.mark.parametrize(
    "body",
    [
        "",
        "hello",
        f"<!-- pgflux-ci:plan fingerprint={FP} source={SRC} target={TGT} -->",
        f"{FORGED}\nuser text\n<!-- pgflux-ci:plan fingerprint={FP} source={SRC} target={TGT} -->",
        f"{FORGED}\n<!-- pgflux-ci:plan fingerprint=sha256:zz source={SRC} target={TGT} -->",
        f"{FORGED}\n <!-- pgflux-ci:plan fingerprint={FP} source={SRC} target={TGT} -->",
    ],
    ids=["empty", "text", "plan-marker-first", "plan-marker-later", "bad-hash", "indented"],
)
def test_plan_marker_only_on_line_two(body: str) -> None:
    assert parse_plan_marker(body) is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [("default", "default"), ("eu-west.1", "eu-west.1"), ("a -->b", "a%20--%3Eb"), ("", "default")],
    ids=["default", "dots", "comment-close", "empty"],
)
def test_marker_target(target: str, expected: str) -> None:
    assert marker_target(target) == expected
    assert "-->" not in review_marker(target)[:-3]


# --- size limit ------------------------------------------------------------------------------


def big_plan(statements: int, sql_chars: int) -> Plan:
    return make_plan(
        *(
            statement(
                f"-- {n}\n" + "x" * sql_chars,
                name=f"t{n}",
                hazards=((HazardCode.DATA_LOSS, Severity.HIGH, f"hazard number {n}"),),
            )
            for n in range(statements)
        )
    )


def test_long_sql_is_cut_first_hazards_kept() -> None:
    body = render(big_plan(20, 5000), plan_path="pgflux-plan-default.json")
    assert len(body) <= MAX_BODY_CHARS
    assert all(f"hazard number {n}" in body for n in range(20))
    assert "SQL cut" in body
    assert "more characters" in body
    assert "pgflux\\-plan\\-default\\.json" in body
    assert parse_plan_marker(body) is not None


def test_many_statements_drop_sql_keep_hazards() -> None:
    body = render(big_plan(200, 1500))
    assert len(body) <= MAX_BODY_CHARS
    assert all(f"hazard number {n} " in body + " " for n in range(200))
    assert "SQL left out" in body
    assert "<pre" not in html_of(body)


def test_huge_hazard_list_is_trimmed_and_says_so() -> None:
    body = render(big_plan(3000, 10))
    assert len(body) <= MAX_BODY_CHARS
    assert "more hazards" in body
    assert "job summary" in body
    assert parse_plan_marker(body) is not None


def test_small_limit_for_summary_is_honoured() -> None:
    body = render_review(ReviewReport(plan=big_plan(5, 100)), limit=2000)
    assert len(body) <= 2000


# --- load errors -----------------------------------------------------------------------------


def test_load_error_links_into_head_commit() -> None:
    error = SchemaLoadError(
        'relation "app.nowhere" does not exist',
        file="schema/tables/orders v2.sql",
        line=12,
        column=3,
        source_line="REFERENCES app.nowhere\n           ^",
        hint="create it first",
    )
    links = Links(repository="octo/app", sha="d" * 40, schema_dir="db/schema")
    body = render_review(ReviewReport(target="prod", load_error=load_error_view(error, links)))
    html = html_of(body)
    url = f"https://github.com/octo/app/blob/{'d' * 40}/db/schema/tables/orders%20v2.sql#L12"
    assert f'<a href="{url}">' in html
    assert "did not load" in html
    assert "create it first" in html
    assert parse_plan_marker(body) is None
    assert body.startswith(review_marker("prod") + "\n")


# --- entity-relationship diagram ---------------------------------------------------------------


def erd_schema() -> Schema:
    def cols(table: str, *names: str) -> list[Column]:
        return [
            Column(schema_="public", table=table, name=n, position=i, type="integer")
            for i, n in enumerate(names, 1)
        ]

    return Schema(
        tables=(
            Table(schema_="public", name="customers"),
            Table(schema_="public", name="order items"),
            Table(schema_="public", name="orders"),
            Table(schema_="public", name="unrelated"),
        ),
        columns=(
            *cols("customers", "id"),
            *cols("order items", "id", "order id"),
            *cols("orders", "id", "customer_id"),
            *cols("unrelated", "id"),
        ),
        constraints=(
            Constraint.model_validate(
                {
                    "schema": "public",
                    "table": "orders",
                    "name": "orders_customer_fk",
                    "type": "foreign_key",
                    "definition": "FOREIGN KEY (customer_id) REFERENCES customers(id)",
                    "references": ObjectKey(kind="table", schema_="public", name="customers"),
                }
            ),
            Constraint.model_validate(
                {
                    "schema": "public",
                    "table": "order items",
                    "name": "items-order fk",
                    "type": "foreign_key",
                    "definition": 'FOREIGN KEY ("order id") REFERENCES orders(id)',
                    "references": ObjectKey(kind="table", schema_="public", name="orders"),
                }
            ),
        ),
    )


def test_erd_shows_touched_tables_and_fk_neighbours() -> None:
    plan = make_plan(
        statement("ALTER TABLE public.orders ADD c int", kind="column", name="orders.c")
    )
    lines = erd_lines(plan, None, erd_schema())
    text = "\n".join(lines)
    assert lines[0] == "erDiagram"
    assert "public_orders {" in text
    assert "public_customers {" in text
    assert "public_order_items {" in text
    assert "unrelated" not in text
    assert 'public_customers ||--o{ public_orders : "orders_customer_fk"' in text
    assert 'public_orders ||--o{ public_order_items : "items_order_fk"' in text
    assert "integer order_id" in text


def test_erd_in_comment_is_collapsed_mermaid() -> None:
    plan = make_plan(
        statement("ALTER TABLE public.orders ADD c int", kind="column", name="orders.c")
    )
    body = render_review(ReviewReport(plan=plan, desired=erd_schema()))
    html = html_of(body)
    assert '<pre lang="mermaid"><code>erDiagram' in html
    assert "(entity-relationship diagram)</summary>" in html


def test_no_erd_when_plan_touches_no_table() -> None:
    plan = make_plan(statement("CREATE SCHEMA a", kind="schema", schema=None, name="a"))
    assert erd_lines(plan, None, erd_schema()) == []
    assert "mermaid" not in render_review(ReviewReport(plan=plan, desired=erd_schema()))


# --- the pg-flux renderer entry point ---------------------------------------------------------


def test_pg_flux_plan_format_markdown_uses_this_renderer() -> None:
    plan = make_plan(statement("CREATE SCHEMA a", kind="schema", schema=None, name="a"))
    assert render_plan(plan, "markdown") == render_plan_markdown(plan, None)
    assert "CREATE SCHEMA a" in render_plan_markdown(plan, None)
