"""The pull request comment (and job summary): a plan rendered as GitHub markdown with jinja2.

Autoescape is off because the output is markdown, not HTML; every user-controlled string goes
through a filter of pgflux_ci.markdown instead (`md`, `cell`, `html`, `code`). The comment starts
with two hidden markers on fixed lines: line 1 finds the sticky comment, line 2 carries the
reviewed fingerprints for deploy. Only those two lines are ever read back, and user text is
escaped so `<!--` cannot start a comment elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Literal
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict

from engine.errors import SchemaLoadError
from engine.model.base import ObjectKey
from engine.model.schema import Schema
from engine.plan.build import PlanResult
from engine.plan.model import ObjectRef, Plan, Severity
from pgflux_ci import markdown as md
from pgflux_ci.annotations import repo_path

MAX_BODY_CHARS = 65536
_TARGET_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_PLAN_MARKER = re.compile(
    r"<!-- pgflux-ci:plan fingerprint=(?P<fingerprint>sha256:[0-9a-f]{64}) "
    r"source=(?P<source>sha256:[0-9a-f]{64}) target=(?P<target>sha256:[0-9a-f]{64}) -->"
)
_SQL_CUT = 2000  # characters of each statement kept when the body must shrink
_ERD_MAX_TABLES = 40
_ERD_MAX_COLUMNS = 30

Detail = Literal["full", "cut", "none"]


def marker_target(target: str) -> str:
    """The target name as it appears in a marker: no spaces, no `-->`."""
    return _TARGET_SAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", target) or "default"


def review_marker(target: str) -> str:
    return f"<!-- pgflux-ci:review target={marker_target(target)} -->"


def plan_marker(plan: Plan) -> str:
    return (
        f"<!-- pgflux-ci:plan fingerprint={plan.fingerprint} "
        f"source={plan.source_fingerprint} target={plan.target_fingerprint} -->"
    )


class PlanMarker(BaseModel):
    model_config = ConfigDict(frozen=True)

    fingerprint: str
    source_fingerprint: str
    target_fingerprint: str


def parse_plan_marker(body: str) -> PlanMarker | None:
    """The reviewed fingerprints of a review comment; only its second line counts."""
    lines = body.split("\n", 2)
    if len(lines) < 2 or not lines[0].startswith("<!-- pgflux-ci:review target="):
        return None
    found = _PLAN_MARKER.fullmatch(lines[1].rstrip("\r"))
    if found is None:
        return None
    return PlanMarker(
        fingerprint=found["fingerprint"],
        source_fingerprint=found["source"],
        target_fingerprint=found["target"],
    )


class LoadErrorView(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    url: str | None = None
    source_line: str | None = None
    detail: str | None = None
    hint: str | None = None


class Links(BaseModel):
    """Where links point: the PR's head commit, and how schema-dir maps to repository paths."""

    model_config = ConfigDict(frozen=True)

    server_url: str = "https://github.com"
    repository: str | None = None
    sha: str | None = None
    schema_dir: str = "schema"

    def blob(self, path: str, line: int | None) -> str | None:
        if not self.repository or not self.sha:
            return None
        url = f"{self.server_url.rstrip('/')}/{self.repository}/blob/{self.sha}/"
        url += "/".join(_url_quote(p) for p in repo_path(path, self.schema_dir).split("/"))
        return url + (f"#L{line}" if line else "")


def _url_quote(part: str) -> str:
    return quote(part, safe="")


def load_error_view(error: SchemaLoadError, links: Links) -> LoadErrorView:
    return LoadErrorView(
        reason=error.reason,
        file=error.file,
        line=error.line,
        column=error.column,
        url=None if error.file is None else links.blob(error.file, error.line),
        source_line=error.source_line,
        detail=error.detail,
        hint=error.hint,
    )


class ReviewReport(BaseModel):
    """Everything one comment shows."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    target: str = "default"
    plan: Plan | None = None
    current: Schema | None = None
    desired: Schema | None = None
    production_version: int | None = None
    load_error: LoadErrorView | None = None
    plan_path: str | None = None  # the plan file, as the workflow sees it
    allowed: tuple[str, ...] = ()  # hazard codes pgflux.toml's hazards.allow accepts
    full_plan_hint: str = "the job summary and the plan file"


# --- helpers the template uses --------------------------------------------------------------


def pg_version(num: int | None) -> str:
    if not num:
        return "unknown"
    return f"{num // 10000}.{num % 10000}" if num >= 100000 else str(num)


def object_label(obj: ObjectRef) -> str:
    name = f"{obj.schema_}.{obj.name}" if obj.schema_ else obj.name
    return f"{obj.kind} {name}"


class HazardRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    severity: Severity
    code: str
    object: str
    message: str


def hazard_rows(plan: Plan) -> list[HazardRow]:
    rows = [
        HazardRow(
            number=n,
            severity=h.severity,
            code=h.code.value,
            object=object_label(s.object),
            message=h.message,
        )
        for n, s in enumerate(plan.statements, 1)
        for h in s.hazards
    ]
    return sorted(rows, key=lambda r: (-r.severity.rank, r.number))


_SEVERITY_ICON = {
    Severity.INFO: "⚪",
    Severity.LOW: "🔵",
    Severity.MEDIUM: "🟡",
    Severity.HIGH: "🟠",
    Severity.CRITICAL: "🔴",
}


def _cut(sql: str, limit: int) -> str:
    if len(sql) <= limit:
        return sql
    return sql[:limit] + f"\n-- … {len(sql) - limit} more characters: see the full plan"


# --- entity-relationship diagram --------------------------------------------------------------


def _touched_tables(plan: Plan, known: set[tuple[str, str]]) -> set[tuple[str, str]]:
    touched: set[tuple[str, str]] = set()
    for statement in plan.statements:
        obj = statement.object
        if obj.schema_ is None:
            continue
        if (obj.schema_, obj.name) in known:
            touched.add((obj.schema_, obj.name))
            continue
        # Sub-objects are named "table.name"; identifiers may contain dots, so try every split.
        for i, ch in enumerate(obj.name):
            if ch == "." and (obj.schema_, obj.name[:i]) in known:
                touched.add((obj.schema_, obj.name[:i]))
    return touched


def _fk_edges(schema: Schema) -> Iterable[tuple[tuple[str, str], tuple[str, str], str]]:
    for constraint in schema.constraints:
        if constraint.type != "foreign_key":
            continue
        ref: ObjectKey | None = getattr(constraint, "references", None)
        if ref is None or ref.schema_ is None:
            continue
        yield (constraint.schema_, constraint.table), (ref.schema_, ref.name), constraint.name


def erd_lines(plan: Plan, current: Schema | None, desired: Schema | None) -> list[str]:
    """mermaid `erDiagram` lines for the tables the plan touches and their foreign keys."""
    schemas = [s for s in (desired, current) if s is not None]
    tables: dict[tuple[str, str], Schema] = {}
    for schema in schemas:  # desired first: it wins for tables on both sides
        for table in schema.tables:
            tables.setdefault((table.schema_, table.name), schema)
    touched = _touched_tables(plan, set(tables))
    if not touched:
        return []
    edges = {
        edge
        for schema in schemas
        for edge in _fk_edges(schema)
        if (edge[0] in touched or edge[1] in touched) and edge[0] in tables and edge[1] in tables
    }
    shown = sorted(touched | {e[0] for e in edges} | {e[1] for e in edges})[:_ERD_MAX_TABLES]
    ids: dict[tuple[str, str], str] = {}
    for key in shown:
        base = md.mermaid_id(f"{key[0]}_{key[1]}")
        ident, n = base, 1
        while ident in ids.values():
            n += 1
            ident = f"{base}_{n}"
        ids[key] = ident
    lines = ["erDiagram"]
    for key in shown:
        schema = tables[key]
        columns = sorted(
            (c for c in schema.columns if (c.schema_, c.table) == key), key=lambda c: c.position
        )
        lines.append(f"    {ids[key]} {{")
        for column in columns[:_ERD_MAX_COLUMNS]:
            lines.append(f"        {md.mermaid_id(column.type)} {md.mermaid_id(column.name)}")
        lines.append("    }")
    for child, parent, name in sorted(edges):
        if child in ids and parent in ids:
            lines.append(f'    {ids[parent]} ||--o{{ {ids[child]} : "{md.mermaid_id(name)}"')
    return lines


# --- rendering ----------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pgflux_ci", "templates"),
        autoescape=False,  # noqa: S701 - markdown; user text is escaped by the filters below
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md.escape_text
    env.filters["cell"] = md.escape_cell
    env.filters["html"] = md.escape_html
    env.filters["code"] = md.code_block
    env.filters["pgversion"] = pg_version
    env.filters["object"] = object_label
    return env


def template_environment() -> Environment:
    """The jinja2 environment with the escaping filters (deploy and canary templates use it)."""
    return _environment()


def _render(report: ReviewReport, detail: Detail, hazard_limit: int | None) -> str:
    plan = report.plan
    rows = hazard_rows(plan) if plan is not None else []
    erd = erd_lines(plan, report.current, report.desired) if plan and detail == "full" else []
    statements = []
    if plan is not None and detail != "none":
        for n, s in enumerate(plan.statements, 1):
            sql = s.sql if detail == "full" else _cut(s.sql, _SQL_CUT)
            statements.append((n, s, sql))
    text = (
        _environment()
        .get_template("review.md.j2")
        .render(
            review_marker=review_marker(report.target),
            plan_marker=plan_marker(plan) if plan is not None else None,
            report=report,
            plan=plan,
            rows=rows if hazard_limit is None else rows[:hazard_limit],
            rows_left=0 if hazard_limit is None else max(0, len(rows) - hazard_limit),
            hazard_count=len(rows),
            icons=_SEVERITY_ICON,
            statements=statements,
            detail=detail,
            erd="\n".join(erd),
        )
    )
    return text


def render_review(report: ReviewReport, *, limit: int = MAX_BODY_CHARS) -> str:
    """The comment body; shortened (SQL cut, then dropped, then hazard rows) to fit `limit`."""
    for detail in ("full", "cut", "none"):
        body = _render(report, detail, None)
        if len(body) <= limit:
            return body
    total = len(hazard_rows(report.plan)) if report.plan is not None else 0
    low, high = 0, total
    while low < high:  # the most hazard rows that still fit
        mid = (low + high + 1) // 2
        if len(_render(report, "none", mid)) <= limit:
            low = mid
        else:
            high = mid - 1
    body = _render(report, "none", low)
    return body if len(body) <= limit else body[:limit]


def render_plan_markdown(plan: Plan, result: PlanResult | None) -> str:
    """The `pg-flux plan --format markdown` renderer (entry point `pgflux.renderers:markdown`)."""
    report = ReviewReport(
        plan=plan,
        current=None if result is None else result.current,
        desired=None if result is None else result.desired,
        production_version=plan.postgres_version if result is None else result.production_version,
        full_plan_hint="`pg-flux plan --format sql`",
    )
    return render_review(report)
