"""Where in the repository to point an annotation: load errors and hazards -> file:line.

A hazard belongs to the statement's object; the loader recorded where schema/ defines each object
(`PlanResult.object_locations`); `engine.plan.locate` maps a statement's object to it, pointing
sub-objects (columns, constraints) at their table. Dropped objects have no definition any more,
so their annotation carries no file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from engine.errors import SchemaLoadError
from engine.load import SourceLocation
from engine.plan.locate import locate
from engine.plan.model import HazardCode, Plan, Severity
from pgflux_ci.workflow_commands import AnnotationLevel


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
