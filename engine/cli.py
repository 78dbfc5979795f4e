"""`pg-flux ...`: the engine's command line. Results go to stdout, logs and errors to stderr.

Exit codes, as diff(1): 0 success and no differences; 1 differences found; 2 any error.
Settings come from flags, then pgflux.toml (--config, default ./pgflux.toml), then defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import psycopg
from pydantic import ValidationError

from engine import dsn as dsnlib
from engine import logs, progress, tracking
from engine.apply import ApplyOptions, apply_plan
from engine.config import Config, filter_schema, load_config, parse_hazard_codes
from engine.diff.context import VERIFY_MODES, PlanOptions
from engine.dump import recreate_statements, recreate_steps, render_dump
from engine.errors import (
    EXIT_DIFFERENCES,
    EXIT_ERROR,
    EXIT_OK,
    ConnectionFailed,
    PgFluxError,
    UsageError,
)
from engine.gen import generate
from engine.model.schema import Schema
from engine.plan.build import (
    PlanResult,
    build_plan,
    inspect_production,
    make_plan,
    production_version,
)
from engine.plan.model import Plan
from engine.plan.planner import normalise_schema
from engine.plan.render import render_json, render_sql, render_text
from engine.pull import tree, write_tree
from engine.shadow import Shadow, open_shadow
from engine.verify import schema_differences

log = logging.getLogger("engine")

PLAN_FORMATS = ("text", "sql", "json", "markdown")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="default: ./pgflux.toml")
    parser.add_argument(
        "--dsn",
        default=None,
        help="production connection string (default: $DATABASE_URL, else libpq's PG* variables)",
    )
    parser.add_argument("--schema-dir", default=None, type=Path, help="default: schema")
    parser.add_argument("--tracking-schema", default=None, help="default: _pgflux")
    parser.add_argument(
        "--shadow",
        default="embedded",
        help="embedded (default), docker, or a postgres:// DSN where throw-away databases go",
    )
    parser.add_argument("--postgres-bin", default=None, help="folder of PostgreSQL server binaries")
    parser.add_argument(
        "--shadow-superuser",
        action="store_true",
        help="load schema/ as a superuser in the shadow (event triggers, untrusted extensions)",
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--lock-timeout", type=int, default=3000, metavar="MS")
    parser.add_argument("--statement-timeout", type=int, default=0, metavar="MS")
    parser.add_argument(
        "--manage-ownership",
        action="store_true",
        default=None,
        help="compare and change owners (default: off, or pgflux.toml's manage_ownership)",
    )
    parser.add_argument(
        "--verify",
        choices=VERIFY_MODES,
        default=None,
        help="auto (default, or pgflux.toml's verify): a large schema is verified on the plan's"
        " scope; whole: always rebuild the whole current schema in the shadow",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pg-flux", description="Declarative PostgreSQL schema management."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    plan = sub.add_parser("plan", help="plan the DDL that takes the database to schema/")
    _common(plan)
    plan.add_argument("--format", choices=PLAN_FORMATS, default="text")
    plan.add_argument("--out", type=Path, help="write the plan here instead of stdout")
    plan.add_argument("--exit-code", action="store_true", help="exit 1 when there are changes")
    plan.set_defaults(run=cmd_plan)

    inspect = sub.add_parser("inspect", help="print the model of the live schema")
    _common(inspect)
    inspect.add_argument("object", nargs="?", help="only objects whose name contains this")
    inspect.add_argument("--format", choices=("json", "text"), default="json")
    inspect.set_defaults(run=cmd_inspect)

    verify = sub.add_parser("verify", help="schema/ loads and the plan to it verifies")
    _common(verify)
    verify.set_defaults(run=cmd_verify)

    drift = sub.add_parser("drift", help="compare the database with schema/; exit 1 on drift")
    _common(drift)
    drift.add_argument("--format", choices=PLAN_FORMATS, default="text")
    drift.add_argument(
        "--against-last-apply",
        action="store_true",
        help="compare with the target recorded by the last apply instead of schema/",
    )
    drift.set_defaults(run=cmd_drift)

    migrate = sub.add_parser("migrate", help="apply plans and read the tracking table")
    msub = migrate.add_subparsers(dest="migrate_command", required=True)
    apply = msub.add_parser("apply", help="plan and apply, or apply a saved --plan")
    _common(apply)
    apply.add_argument("--plan", type=Path, help="a saved plan (plan --format json)")
    apply.add_argument(
        "--allow-hazards", default=None, metavar="CODE,...", help="hazard codes to accept"
    )
    apply.add_argument(
        "--dry-run", action="store_true", help="print what would run; change nothing"
    )
    apply.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="recorded in the tracking row (commit=..., pr=...); repeatable",
    )
    apply.add_argument("--lock-retries", type=int, default=3, metavar="N")
    apply.add_argument("--retry-backoff", type=float, default=0.5, metavar="SECONDS")
    apply.set_defaults(run=cmd_apply)

    status = msub.add_parser("status", help="the tracking rows, newest first")
    _common(status)
    status.add_argument("--limit", type=int, default=20)
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.set_defaults(run=cmd_status)

    dump = sub.add_parser("dump", help="SQL that recreates the live schema in an empty database")
    _common(dump)
    dump.add_argument("--out", type=Path, help="write here instead of stdout")
    dump.set_defaults(run=cmd_dump)

    pull = sub.add_parser("pull", help="write the live schema as a schema/ tree")
    _common(pull)
    pull.add_argument("--out", type=Path, required=True, help="the folder to write")
    pull.add_argument("--force", action="store_true", help="write into a non-empty folder")
    pull.set_defaults(run=cmd_pull)

    gen = sub.add_parser("gen", help="typed pydantic models of the tables and views")
    _common(gen)
    gen.add_argument("--out", type=Path, required=True, help="the Python file to write")
    gen.add_argument("--check", action="store_true", help="exit 1 when --out is stale")
    gen.set_defaults(run=cmd_gen)
    return parser


def resolve_dsn(value: str | None) -> str:
    """--dsn, else $DATABASE_URL, else "" (libpq then reads PGHOST, PGDATABASE, ...)."""
    return value or os.environ.get("DATABASE_URL", "")


def _config(args: argparse.Namespace) -> Config:
    config: Config = getattr(args, "config_obj", None) or Config()
    return config


def apply_config(args: argparse.Namespace, config: Config) -> None:
    """Flags win; what a flag leaves unset comes from the config (then its defaults)."""
    args.config_obj = config
    if getattr(args, "schema_dir", None) is None:
        args.schema_dir_explicit = False
        args.schema_dir = config.schema_dir
    else:
        args.schema_dir_explicit = True
    if getattr(args, "tracking_schema", None) is None:
        args.tracking_schema = config.tracking_schema
    if getattr(args, "manage_ownership", None) is None:
        args.manage_ownership = config.manage_ownership
    if getattr(args, "verify", None) is None:
        args.verify = config.verify


def options_from(args: argparse.Namespace) -> PlanOptions:
    return PlanOptions(
        lock_timeout_ms=args.lock_timeout,
        statement_timeout_ms=args.statement_timeout,
        manage_ownership=bool(getattr(args, "manage_ownership", False)),
        verify=getattr(args, "verify", None) or "auto",
    )


def _open_shadow(args: argparse.Namespace, want_major: int | None) -> Shadow:
    return open_shadow(
        args.shadow,
        want_major=want_major,
        superuser_loader=args.shadow_superuser,
        postgres_bin=args.postgres_bin,
    )


def _plan_in(args: argparse.Namespace, dsn: str, shadow: Shadow) -> PlanResult:
    config = _config(args)
    return build_plan(
        args.schema_dir,
        dsn,
        shadow=shadow,
        options=options_from(args),
        tracking_schema=args.tracking_schema,
        extra_roles=config.shadow_roles,
        objects=config.objects,
    )


def plan_from_args(args: argparse.Namespace) -> PlanResult:
    dsn = resolve_dsn(args.dsn)
    major = production_version(dsn) // 10000
    title = "Planning: schema/ in the shadow, production inspected, plan verified"
    with progress.step(title), _open_shadow(args, major) as shadow:
        return _plan_in(args, dsn, shadow)


def render_plan(plan: Plan, fmt: str, result: PlanResult | None = None) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "sql":
        return render_sql(plan)
    if fmt == "markdown":
        return _markdown_renderer()(plan, result)
    return render_text(plan)


def _markdown_renderer() -> Callable[[Plan, PlanResult | None], str]:
    # Markdown is the report layer's (jinja2); the engine finds it by entry point, never by import.
    for entry in entry_points(group="pgflux.renderers"):
        if entry.name == "markdown":
            renderer: Callable[[Plan, PlanResult | None], str] = entry.load()
            return renderer
    raise UsageError("--format markdown needs the pgflux-ci report layer (pip install pgflux-ci)")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def _live(args: argparse.Namespace) -> Schema:
    schema = inspect_production(resolve_dsn(args.dsn), excluded_schemas=(args.tracking_schema,))
    return filter_schema(schema, _config(args).objects)


def readonly_connect(dsn: str) -> psycopg.Connection[Any]:
    """A connection whose every transaction is READ ONLY (read-only commands use nothing else)."""
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(
            f"could not connect to production: {dsnlib.scrub(str(exc).strip(), dsn)}"
        ) from exc
    conn.execute("SET default_transaction_read_only = on")
    return conn


# --------------------------------------------------------------------------- commands


def cmd_plan(args: argparse.Namespace) -> int:
    result = plan_from_args(args)
    _write(render_plan(result.plan, args.format, result), args.out)
    if not result.plan.verified and not result.plan.is_empty:
        log.error("the plan did not verify in the shadow; this is a pg-flux bug: do not apply it")
        return EXIT_ERROR
    return EXIT_DIFFERENCES if args.exit_code and not result.plan.is_empty else EXIT_OK


def _differences(production: Schema, reference: Schema, args: argparse.Namespace) -> list[str]:
    """The objects that differ, one line each, as the plan sees them (owners left out unless
    ownership is managed). `reference` is what production should be: schema/ or a last apply."""
    options = options_from(args)
    lines: list[str] = []
    for line in schema_differences(
        normalise_schema(production, options), normalise_schema(reference, options)
    ):
        verb, _, rest = line.partition(" ")
        if verb == "missing":
            lines.append(f"{rest}: missing from production")
        elif verb == "unexpected":
            lines.append(f"{rest}: in production only")
        else:
            lines.append(rest.replace(": ", ": differs in ", 1))
    return lines


def _drift_text(headline: str, differences: list[str], plan: Plan, notes: Sequence[str]) -> str:
    lines = [headline, *(f"  {d}" for d in differences), *notes, ""]
    if plan.is_empty:
        lines.append("No statement reconciles these differences: pg-flux does not change them.")
        return "\n".join(lines) + "\n"
    lines.append("The SQL that reconciles:")
    return "\n".join(lines) + "\n" + render_text(plan)


def _objects(count: int) -> str:
    if count == 0:  # a plan with no differing object: an INVALID index to repair, ...
        return "production differs"
    return f"{count} object differs" if count == 1 else f"{count} objects differ"


def _no_drift(args: argparse.Namespace, text: str, empty: Callable[[], PlanResult]) -> int:
    """Text: one line. The other formats: the (empty) plan, so that JSON stays JSON."""
    if args.format == "text":
        sys.stdout.write(text + "\n")
    else:
        result = empty()
        sys.stdout.write(render_plan(result.plan, args.format, result))
    return EXIT_OK


@contextlib.contextmanager
def _reading_tracking(args: argparse.Namespace) -> Iterator[psycopg.Connection[Any]]:
    """A read-only connection for reading the tracking table: a missing grant is one clear line."""
    schema = args.tracking_schema
    with readonly_connect(resolve_dsn(args.dsn)) as conn:
        try:
            yield conn
        except psycopg.errors.InsufficientPrivilege as exc:
            raise ConnectionFailed(
                f"cannot read {schema}.migrations: {str(exc).strip().splitlines()[0]}",
                details=f"drift without schema/ needs USAGE on schema {schema} and SELECT on"
                f" {schema}.migrations (the read-only role's grants in the README)",
            ) from None


def _drift_against_last_apply(args: argparse.Namespace) -> int:
    """Production against the model the last successful apply left it in (tracking table)."""
    with _reading_tracking(args) as conn:
        rows = tracking.read_migrations(conn, args.tracking_schema)
    last = next((row for row in rows if row.status == "applied"), None)
    if last is None:
        raise UsageError(
            f"no schema/ folder and no applied migration in {args.tracking_schema}.migrations:"
            " nothing to compare with",
            details="pass --schema-dir, or apply once so the tracking table records a target",
        )
    live = _live(args)
    options = options_from(args)

    def result(plan: Plan, target: Schema, shadow_version: int = 0) -> PlanResult:
        return PlanResult(
            plan=plan,
            current=live,
            desired=target,
            production_version=live.server_version_num,
            shadow_version=shadow_version or live.server_version_num,
        )

    def empty(target: Schema) -> Callable[[], PlanResult]:
        def make() -> PlanResult:
            # Nothing to verify in an empty plan (make_plan with a shadow says the same).
            plan = make_plan(live, target, shadow=None, options=options)
            return result(
                plan.model_copy(update={"verified": True, "verification_errors": ()}), target
            )

        return make

    no_drift = f"No drift: the database matches the target of migration {last.id}."
    if not options.manage_ownership and live.fingerprint() == tracking.reached_fingerprint(last):
        # The fingerprint production had right after the apply (owners left out, which are only
        # compared when managed): equal, nothing drifted, and the stored model need not be read.
        return _no_drift(args, no_drift, empty(live))
    with _reading_tracking(args) as conn:
        stored = tracking.read_result_model(conn, args.tracking_schema, last)
    if stored.model is None:
        return _fingerprint_drift(args, last, live, stored.missing or "")
    target = filter_schema(stored.model, _config(args).objects)
    differences = _differences(live, target, args)
    if not differences:
        return _no_drift(args, no_drift, empty(target))
    excluded = (args.tracking_schema,)
    title = f"Planning production -> what migration {last.id} left, verified in the shadow"
    with (
        progress.step(title),
        _open_shadow(args, live.server_version_num // 10000) as shadow,
    ):
        plan = make_plan(live, target, shadow=shadow, options=options, excluded_schemas=excluded)
        planned = result(plan, target, shadow.server_version_num)
    if args.format != "text":
        sys.stdout.write(render_plan(plan, args.format, planned))
        return EXIT_DIFFERENCES
    notes = [
        f"Migration {row.id} ({row.shown_status}) ran after it: what it changed shows as drift."
        for row in reversed(rows)
        if row.id > last.id and row.status != "applied"
    ]
    when = f"{last.finished_at:%Y-%m-%d %H:%M:%S %Z}" if last.finished_at else "?"
    headline = (
        f"Drift: {_objects(len(differences))} from what migration {last.id} left"
        f" ({when}, by {last.applied_by}):"
    )
    sys.stdout.write(_drift_text(headline, differences, plan, notes))
    return EXIT_DIFFERENCES


def _fingerprint_drift(
    args: argparse.Namespace, last: tracking.MigrationRow, live: Schema, why: str
) -> int:
    """A row without a stored model: only fingerprints can be compared (the report says why)."""
    recorded, now = tracking.reached_fingerprint(last), live.fingerprint()
    drifted = recorded != now
    when = f"{last.finished_at:%Y-%m-%d %H:%M:%S %Z}" if last.finished_at else "?"
    if args.format == "json":
        document = {
            "drift": drifted,
            "migration_id": last.id,
            "compared": "fingerprint",
            "recorded_fingerprint": recorded,
            "production_fingerprint": now,
            "reason": why,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_DIFFERENCES if drifted else EXIT_OK
    if not drifted:
        text = (
            f"No drift: the database matches the target of migration {last.id}"
            f" (by fingerprint only: {why}).\n"
        )
    else:
        text = (
            f"Drifted since the last apply (migration {last.id}, {when}):\n"
            f"  recorded after  {recorded}\n"
            f"  production now  {now}\n"
            f"Only fingerprints can be compared: {why}. Run drift with --schema-dir to list the"
            " objects and the SQL that reconciles them.\n"
        )
    if args.format == "sql":
        text = "".join(f"-- {line}\n" for line in text.splitlines())
    sys.stdout.write(text)
    return EXIT_DIFFERENCES if drifted else EXIT_OK


def cmd_drift(args: argparse.Namespace) -> int:
    if args.against_last_apply or (
        not args.schema_dir_explicit and not Path(args.schema_dir).exists()
    ):
        return _drift_against_last_apply(args)
    result = plan_from_args(args)
    if result.plan.is_empty:
        return _no_drift(args, "No drift: the database matches schema/.", lambda: result)
    if args.format != "text":
        sys.stdout.write(render_plan(result.plan, args.format, result))
        return EXIT_DIFFERENCES
    differences = _differences(result.current, result.desired, args)
    headline = f"Drift: {_objects(len(differences))} from schema/:"
    sys.stdout.write(_drift_text(headline, differences, result.plan, ()))
    return EXIT_DIFFERENCES


def cmd_verify(args: argparse.Namespace) -> int:
    result = plan_from_args(args)
    if result.plan.is_empty or result.plan.verified:
        count = len(result.plan.statements)
        sys.stdout.write(f"schema/ loads cleanly; the plan ({count} statements) verifies.\n")
        return EXIT_OK
    sys.stdout.write(render_text(result.plan))
    return EXIT_DIFFERENCES


def cmd_inspect(args: argparse.Namespace) -> int:
    schema = inspect_production(resolve_dsn(args.dsn), excluded_schemas=(args.tracking_schema,))
    if args.object:
        needle = args.object
        selected = [o for o in schema.objects() if needle in o.key.display]
        if args.format == "text":
            sys.stdout.write("".join(f"{o.key}\n" for o in selected))
        else:
            sys.stdout.write(
                "[\n"
                + ",\n".join(o.model_dump_json(by_alias=True, indent=2) for o in selected)
                + "\n]\n"
            )
        return EXIT_OK
    if args.format == "text":
        sys.stdout.write("".join(f"{o.key}\n" for o in schema.objects()))
    else:
        sys.stdout.write(schema.to_json() + "\n")
    return EXIT_OK


def _origin(pairs: Sequence[str]) -> dict[str, str]:
    origin: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--origin {pair!r}: expected KEY=VALUE (commit=abc123, pr=42)")
        origin[key.strip()] = value
    return origin


def _allowed(args: argparse.Namespace) -> frozenset[Any]:
    config = _config(args)
    try:
        if args.allow_hazards is not None:
            return frozenset(parse_hazard_codes(args.allow_hazards.split(",")))
        return frozenset(parse_hazard_codes(list(config.hazards.allow)))
    except ValueError as exc:
        raise UsageError(f"--allow-hazards: {exc}") from None


def _read_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--plan {path}: cannot read: {exc.strerror}") from None
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        raise UsageError(
            f"--plan {path}: not a pgflux.plan/v1 document", details=str(exc)
        ) from None


def cmd_apply(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.dsn)
    config = _config(args)
    locations: dict[str, str] = {}
    options = ApplyOptions(
        tracking_schema=args.tracking_schema,
        allow_hazards=_allowed(args),
        fail_on=config.hazards.fail_on,
        lock_retries=max(0, args.lock_retries),
        retry_backoff_s=max(0.0, args.retry_backoff),
        origin=_origin(args.origin),
        dry_run=args.dry_run,
        object_locations=locations,
        objects=config.objects,
    )
    if args.plan is not None:
        saved = _read_plan(args.plan)
        with progress.step("Applying the saved plan"):
            result = apply_plan(dsn, saved, options)
    else:

        def make() -> Plan:
            planned = plan_from_args(args)
            locations.update({k: str(v) for k, v in planned.object_locations.items()})
            return planned.plan

        # Planning shows its own progress; one live display at a time on a terminal.
        result = apply_plan(dsn, None, options, make_plan=make)
    if result.outcome == "dry-run":
        sys.stdout.write(render_text(result.plan))
    sys.stdout.write(result.message + "\n")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.dsn)
    with readonly_connect(dsn) as conn:
        rows = tracking.read_migrations(conn, args.tracking_schema, limit=args.limit)
        last = tracking.last_applied(conn, args.tracking_schema)
    fingerprint = _live(args).fingerprint()
    matches = last is not None and tracking.reached_fingerprint(last) == fingerprint
    if args.format == "json":
        document = {
            "production_fingerprint": fingerprint,
            "last_applied": last.id if last else None,
            "matches_last_applied": matches,
            "migrations": [{**r.model_dump(mode="json"), "status": r.shown_status} for r in rows],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_OK
    if not rows:
        sys.stdout.write(f"No migrations recorded in {args.tracking_schema}.migrations.\n")
        return EXIT_OK
    if last is None:
        sys.stdout.write("No migration has been applied successfully yet.\n")
    elif matches:
        sys.stdout.write(f"Production matches the target of migration {last.id}.\n")
    else:
        sys.stdout.write(
            f"Production has drifted since migration {last.id}"
            f" (then {tracking.reached_fingerprint(last)}, now {fingerprint}).\n"
        )
    for row in rows:
        applied = sum(1 for s in row.statements if s.get("status") == "applied")
        finished = f"{row.finished_at:%Y-%m-%d %H:%M:%S}" if row.finished_at else "-"
        origin = " ".join(f"{k}={v}" for k, v in sorted(row.origin.items()))
        sys.stdout.write(
            f"{row.id:>5}  {row.shown_status:<9}  {row.started_at:%Y-%m-%d %H:%M:%S}  "
            f"{finished:<19}  {row.applied_by}  {applied}/{len(row.statements)} statements"
            + (f"  {origin}" if origin else "")
            + "\n"
        )
        if row.abandoned:
            sys.stdout.write(
                f"       left running by a dead process (backend pid {row.backend_pid})\n"
            )
        if row.error:
            sys.stdout.write(f"       error: {row.error.splitlines()[0]}\n")
    return EXIT_OK


def _recreate(args: argparse.Namespace, *, steps: bool = False) -> tuple[Schema, list[Any]]:
    """The live schema and the plan that builds it from an empty database: statements, or with
    `steps` the planner's steps (what `pull` cuts into files)."""
    live = _live(args)
    title = "Writing the live schema from an empty database"
    recreate = recreate_steps if steps else recreate_statements
    with progress.step(title), _open_shadow(args, live.server_version_num // 10000) as shadow:
        statements = recreate(
            live, shadow, options_from(args), excluded_schemas=(args.tracking_schema,)
        )
    return live, statements


def cmd_dump(args: argparse.Namespace) -> int:
    live, statements = _recreate(args)
    header = f"pg-flux dump of {live.fingerprint()}"
    _write(render_dump(statements, header=header), args.out)
    return EXIT_OK


def cmd_pull(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UsageError(f"{out} is not empty (use --force to write into it anyway)")
    live, steps = _recreate(args, steps=True)
    files = tree(steps, live)
    write_tree(out, files, force=args.force)
    sys.stdout.write(f"Wrote {len(files)} files to {out}.\n")
    return EXIT_OK


def cmd_gen(args: argparse.Namespace) -> int:
    text = generate(_live(args))
    out: Path = args.out
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current == text:
            sys.stdout.write(f"{out} is up to date.\n")
            return EXIT_OK
        sys.stdout.write(f"{out} is stale: run pg-flux gen --out {out}\n")
        return EXIT_DIFFERENCES
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    sys.stdout.write(f"Wrote {out}.\n")
    return EXIT_OK


def configure_logging(fmt: str, dsns: Sequence[str] = ()) -> None:
    logs.configure(fmt, dsns=dsns)
    progress.set_enabled(fmt != "json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    dsn = resolve_dsn(getattr(args, "dsn", None))
    configure_logging(getattr(args, "log_format", "text"), [dsn])
    try:
        apply_config(args, load_config(getattr(args, "config", None)))
        code: int = args.run(args)
        return code
    except PgFluxError as exc:
        sys.stderr.write(f"pg-flux: error: {dsnlib.scrub(exc.message, dsn)}\n")
        if exc.details:
            sys.stderr.write(dsnlib.scrub(exc.details, dsn).rstrip() + "\n")
        return exc.exit_code
    except psycopg.Error as exc:
        # A database error no command turned into a PgFluxError: still one line, no traceback.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.stderr.write(f"pg-flux: error: {dsnlib.scrub(first, dsn)}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("pg-flux: interrupted\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
