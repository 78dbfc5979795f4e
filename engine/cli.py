"""`pg-flux ...`: the engine's command line. Results go to stdout, logs and errors to stderr.

Exit codes, as diff(1): 0 success and no differences; 1 differences found; 2 any error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path

from engine import dsn as dsnlib
from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.errors import EXIT_DIFFERENCES, EXIT_ERROR, EXIT_OK, PgFluxError, UsageError
from engine.plan.build import PlanResult, build_plan, production_version
from engine.plan.model import Plan
from engine.plan.render import render_json, render_sql, render_text
from engine.shadow import Shadow, open_shadow

log = logging.getLogger("engine")

PLAN_FORMATS = ("text", "sql", "json", "markdown")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dsn",
        default=None,
        help="production connection string (default: $DATABASE_URL, else libpq's PG* variables)",
    )
    parser.add_argument("--schema-dir", default="schema", type=Path, help="default: schema")
    parser.add_argument("--tracking-schema", default="_pgflux", help="default: _pgflux")
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
    drift.set_defaults(run=cmd_drift)
    return parser


def resolve_dsn(value: str | None) -> str:
    """--dsn, else $DATABASE_URL, else "" (libpq then reads PGHOST, PGDATABASE, ...)."""
    return value or os.environ.get("DATABASE_URL", "")


def options_from(args: argparse.Namespace) -> PlanOptions:
    return PlanOptions(
        lock_timeout_ms=args.lock_timeout, statement_timeout_ms=args.statement_timeout
    )


def _open_shadow(args: argparse.Namespace, want_major: int | None) -> Shadow:
    return open_shadow(
        args.shadow,
        want_major=want_major,
        superuser_loader=args.shadow_superuser,
        postgres_bin=args.postgres_bin,
    )


def plan_from_args(args: argparse.Namespace) -> PlanResult:
    dsn = resolve_dsn(args.dsn)
    major = production_version(dsn) // 10000
    with _open_shadow(args, major) as shadow:
        return build_plan(
            args.schema_dir,
            dsn,
            shadow=shadow,
            options=options_from(args),
            tracking_schema=args.tracking_schema,
        )


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


def cmd_plan(args: argparse.Namespace) -> int:
    result = plan_from_args(args)
    _write(render_plan(result.plan, args.format, result), args.out)
    if not result.plan.verified and not result.plan.is_empty:
        log.error("the plan did not verify in the shadow; this is a pg-flux bug: do not apply it")
        return EXIT_ERROR
    return EXIT_DIFFERENCES if args.exit_code and not result.plan.is_empty else EXIT_OK


def cmd_drift(args: argparse.Namespace) -> int:
    result = plan_from_args(args)
    if result.plan.is_empty:
        sys.stdout.write("No drift: the database matches schema/.\n")
        return EXIT_OK
    sys.stdout.write(render_plan(result.plan, args.format, result))
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
    schema = inspect_dsn(resolve_dsn(args.dsn), excluded_schemas=(args.tracking_schema,))
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


def configure_logging(fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pg-flux: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(getattr(args, "log_format", "text"))
    dsn = resolve_dsn(getattr(args, "dsn", None))
    try:
        code: int = args.run(args)
        return code
    except PgFluxError as exc:
        sys.stderr.write(f"pg-flux: error: {dsnlib.scrub(exc.message, dsn)}\n")
        if exc.details:
            sys.stderr.write(dsnlib.scrub(exc.details, dsn).rstrip() + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("pg-flux: interrupted\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
