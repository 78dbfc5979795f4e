"""Where in the repository to point an annotation: load errors and hazards -> file:line.

A hazard belongs to the statement's object; the loader recorded where schema/ defines each object
(`LoadedSchema.object_locations`, keys like "table public.orders" or "trigger t on public.orders").
Sub-objects (columns, constraints) are pointed at their table. Dropped objects have no definition
any more, so their annotation carries no file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from engine.errors import SchemaLoadError
from engine.load import SourceLocation
from engine.plan.model import HazardCode, ObjectRef, Plan, Severity
from pgflux_ci.workflow_commands import AnnotationLevel

# Model kinds -> the kind words the loader uses for the statements that create them.
_LOADER_KINDS: dict[str, tuple[str, ...]] = {
    "table": ("table", "foreign table"),
    "matview": ("materialized view",),
    "enum": ("type",),
    "composite": ("type",),
    "range": ("type",),
    "function": ("function", "procedure"),
    "fdw": ("foreign data wrapper",),
    "event_trigger": ("event trigger",),
}
# Kinds whose statement object name is "table.name": point them at the table when not found.
_TABLE_SCOPED = frozenset({"column", "constraint", "index", "trigger", "policy"})


class Annotation(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: AnnotationLevel
    message: str
    title: str
    file: str | None = None
    line: int | None = None
    col: int | None = None


def repo_path(display_path: str, schema_dir: str) -> str:
    """The repository path of a loader display path ("schema/x.sql").

    The loader names files relative to the schema directory's parent; the repository path puts
    back whatever came before that parent (schema-dir `db/schema` -> `db/schema/x.sql`).
    """
    parent = PurePosixPath(schema_dir.replace("\\", "/")).parent
    if str(parent) in ("", ".") or parent.is_absolute():
        return display_path
    return str(parent / display_path)


def _candidates(obj: ObjectRef) -> Iterator[str]:
    kinds = _LOADER_KINDS.get(obj.kind, (obj.kind,))
    name = obj.name.split("(", 1)[0] if obj.kind == "function" else obj.name
    for kind in kinds:
        yield f"{kind} {obj.schema_}.{name}" if obj.schema_ else f"{kind} {name}"
    # "orders.total": try every split, since identifiers may themselves contain dots.
    for i, ch in enumerate(name):
        if ch != ".":
            continue
        parent, child = name[:i], name[i + 1 :]
        yield f"{obj.kind} {child} on {obj.schema_}.{parent}"
        if obj.kind == "index":
            yield f"index {obj.schema_}.{child}"
        if obj.kind in _TABLE_SCOPED:
            yield f"table {obj.schema_}.{parent}"
            yield f"foreign table {obj.schema_}.{parent}"
    if obj.kind not in ("schema",) and obj.schema_:
        # Last resort: the object's schema, when schema/ creates it.
        yield f"schema {obj.schema_}"


def locate(obj: ObjectRef, locations: Mapping[str, SourceLocation]) -> SourceLocation | None:
    for key in _candidates(obj):
        found = locations.get(key)
        if found is not None:
            return found
    return None


def _short(sql: str, limit: int = 500) -> str:
    return sql if len(sql) <= limit else sql[:limit] + " …"


def hazard_level(severity: Severity, fail_rank: int | None) -> AnnotationLevel:
    """error when the hazard fails the check (`fail_rank` = lowest failing rank), else warning."""
    if fail_rank is not None and severity.rank >= fail_rank:
        return "error"
    return "notice" if severity is Severity.INFO else "warning"


def hazard_annotations(
    plan: Plan,
    locations: Mapping[str, SourceLocation],
    *,
    schema_dir: str,
    fail_rank: int | None,
    allowed: frozenset[HazardCode] = frozenset(),
) -> list[Annotation]:
    """One annotation per hazard: an error when it fails the check, a warning (notice for info)
    otherwise; codes pgflux.toml allows (`allowed`) never fail."""
    found: list[Annotation] = []
    for number, statement in enumerate(plan.statements, 1):
        where = locate(statement.object, locations)
        for hazard in statement.hazards:
            rank = None if hazard.code in allowed else fail_rank
            found.append(
                Annotation(
                    level=hazard_level(hazard.severity, rank),
                    title=f"pg-flux {hazard.code.value} ({hazard.severity.value})",
                    message=f"statement {number}: {hazard.message}\n{_short(statement.sql)}",
                    file=None if where is None else repo_path(where.file, schema_dir),
                    line=None if where is None else where.line,
                    col=None if where is None else where.column,
                )
            )
    return found


def load_error_annotation(error: SchemaLoadError, *, schema_dir: str) -> Annotation:
    parts = [error.reason]
    parts.extend(p for p in (error.detail, error.hint) if p)
    return Annotation(
        level="error",
        title="pg-flux: schema/ did not load",
        message="\n".join(parts),
        file=None if error.file is None else repo_path(error.file, schema_dir),
        line=error.line,
        col=error.column,
    )
