"""Plans for people (text) and for psql (sql). JSON is the Plan model itself; markdown belongs to
the report layer and is found through the `pgflux.renderers` entry point."""

from __future__ import annotations

from engine.execute import group_statements
from engine.plan.model import Plan, Severity

_MARK = {
    Severity.INFO: " ",
    Severity.LOW: "·",
    Severity.MEDIUM: "!",
    Severity.HIGH: "!!",
    Severity.CRITICAL: "!!!",
}


def render_text(plan: Plan) -> str:
    lines: list[str] = []
    if plan.is_empty:
        lines.append("No changes: the database matches the schema.")
    else:
        hazards = plan.hazards
        top = plan.max_severity
        lines.append(
            f"{len(plan.statements)} statements, {len(hazards)} hazards"
            + (f" (highest: {top.value})" if top else "")
            + ("; verified in the shadow" if plan.verified else "; NOT VERIFIED")
        )
        for number, statement in enumerate(plan.statements, 1):
            lines.append("")
            flags = [f"lock {statement.lock}"]
            if not statement.transactional:
                flags.append("outside a transaction")
            lines.append(f"{number:>3}. {statement.sql}")
            lines.append(f"     [{', '.join(flags)}]")
            for hazard in statement.hazards:
                mark = _MARK[hazard.severity]
                lines.append(
                    f"     {mark:<3} {hazard.severity.value.upper()} {hazard.code.value}: "
                    f"{hazard.message}"
                )
    if plan.verification_errors:
        lines.append("")
        lines.append("Verification:")
        lines.extend(f"  {problem}" for problem in plan.verification_errors)
    if plan.unmanaged:
        lines.append("")
        lines.append("Unmanaged objects present (not compared):")
        lines.extend(f"  {name}" for name in plan.unmanaged)
    return "\n".join(lines) + "\n"


def render_sql(plan: Plan) -> str:
    """A script psql can run: transactional runs in BEGIN/COMMIT, each statement's timeouts set."""
    lines = [
        "-- pg-flux plan " + plan.fingerprint,
        f"-- from {plan.source_fingerprint}",
        f"-- to   {plan.target_fingerprint}",
        "-- verified in the shadow: " + ("yes" if plan.verified else "NO"),
    ]
    for group in group_statements(plan.statements):
        lines.append("")
        if group.transactional:
            lines.append("BEGIN;")
        else:
            lines.append(
                "-- non-transactional: runs alone, outside a transaction; rerun on failure"
            )
        scope = "LOCAL " if group.transactional else ""
        for _, statement in group.statements:
            for hazard in statement.hazards:
                lines.append(f"-- {hazard.severity.value} {hazard.code.value}: {hazard.message}")
            lines.append(f"SET {scope}lock_timeout = {statement.lock_timeout_ms};")
            lines.append(f"SET {scope}statement_timeout = {statement.statement_timeout_ms};")
            lines.append(statement.sql.rstrip().rstrip(";") + ";")
        if group.transactional:
            lines.append("COMMIT;")
        else:
            lines.append("RESET lock_timeout;")
            lines.append("RESET statement_timeout;")
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    return plan.model_dump_json(by_alias=True, indent=2) + "\n"
