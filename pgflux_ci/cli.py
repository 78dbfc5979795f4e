"""`pgflux-ci`: the action's entrypoint, and `pgflux-ci review --dry-run` outside Actions.

With no arguments under GITHUB_ACTIONS the mode and everything else come from the action's
inputs and the event; deploy and canary live in their own modules and are dispatched to when
present. Exit codes as pg-flux: 0 success, 1 differences, 2 any error (including refused hazards).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from engine import dsn as dsnlib
from engine.errors import EXIT_ERROR, PgFluxError, UsageError
from pgflux_ci import review
from pgflux_ci.context import ActionContext, FailOn, Mode
from pgflux_ci.settings import ActionConfigError, PlanSettings
from pgflux_ci.workflow_commands import WorkflowCommands, format_command

log = logging.getLogger("pgflux_ci")


def _plan_flags(parser: argparse.ArgumentParser) -> None:
    """The flags review and canary share; unset ones come from pgflux.toml, as in the action."""
    parser.add_argument("--config", default=None, help="default: ./pgflux.toml if present")
    parser.add_argument("--dsn", default=None, help="production DSN (default: $DATABASE_URL)")
    parser.add_argument(
        "--schema-dir", default=None, help="default: pgflux.toml's (target's) schema_dir, or schema"
    )
    parser.add_argument(
        "--shadow", default="embedded", help="embedded, docker or a postgres:// DSN"
    )
    parser.add_argument(
        "--tracking-schema", default=None, help="default: pgflux.toml's, or _pgflux"
    )
    parser.add_argument("--target", default="default", help="a [[targets]] name of pgflux.toml")


S = TypeVar("S", bound=PlanSettings)


def _settings(cls: type[S], args: argparse.Namespace, **extra: Any) -> S:
    return cls.resolve(
        dsn=args.dsn or os.environ.get("DATABASE_URL", ""),
        base=Path.cwd(),
        config_path=args.config,
        schema_dir=args.schema_dir,
        tracking_schema=args.tracking_schema,
        shadow=args.shadow,
        target=args.target,
        **extra,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgflux-ci",
        description="pg-flux for GitHub: pull request review, deploy on merge, drift canary. "
        "Without arguments inside GitHub Actions, runs the mode given by the action's inputs.",
    )
    sub = parser.add_subparsers(dest="command")
    rv = sub.add_parser("review", help="plan and render the review comment")
    rv.add_argument("--dry-run", action="store_true", help="no GitHub calls: write the comment")
    rv.add_argument("--out", type=Path, help="write the comment here (default: stdout)")
    rv.add_argument("--plan-out", type=Path, help="also write the plan JSON (pgflux.plan/v1) here")
    _plan_flags(rv)
    rv.add_argument(
        "--fail-on",
        choices=[f.value for f in FailOn],
        default=None,
        help="default: pgflux.toml's hazards.fail_on, else high",
    )
    cn = sub.add_parser("canary", help="check production for drift; print the drift issue")
    cn.add_argument("--dry-run", action="store_true", help="no GitHub calls: write the issue")
    cn.add_argument("--out", type=Path, help="write the issue body here (default: stdout)")
    _plan_flags(cn)
    mx = sub.add_parser("matrix", help="print strategy.matrix JSON for pgflux.toml's [[targets]]")
    mx.add_argument("--config", type=Path, default=None, help="default: ./pgflux.toml")
    mx.add_argument(
        "--github-output",
        metavar="NAME",
        default=None,
        help="also write the JSON as output NAME to $GITHUB_OUTPUT",
    )
    return parser


def run_canary_cli(args: argparse.Namespace, stdout: TextIO) -> int:
    from pgflux_ci import canary

    if not args.dry_run:
        raise UsageError("pgflux-ci canary outside GitHub Actions needs --dry-run")
    settings = _settings(canary.CanarySettings, args, fail_on=None)
    return canary.run_dry(settings, args.out, stdout)


def run_matrix_cli(args: argparse.Namespace, stdout: TextIO, environ: Mapping[str, str]) -> int:
    from pgflux_ci.matrix import matrix_json

    text = matrix_json(args.config)
    stdout.write(text + "\n")
    if args.github_output:
        path = environ.get("GITHUB_OUTPUT", "")
        if not path:
            raise UsageError("--github-output needs $GITHUB_OUTPUT (set by the Actions runner)")
        WorkflowCommands(stdout, output_path=Path(path)).set_output(args.github_output, text)
    return 0


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pgflux-ci: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _mode_runner(mode: Mode) -> Callable[[ActionContext, TextIO], int]:
    if mode is Mode.REVIEW:
        return review.run
    name = f"pgflux_ci.{mode.value}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise UsageError(f"mode {mode.value} is not available in this pgflux-ci") from None
    runner: Callable[[ActionContext, TextIO], int] = module.run
    return runner


def run_action(environ: Mapping[str, str], stdout: TextIO) -> int:
    ctx = ActionContext.from_env(environ)
    return _mode_runner(ctx.inputs.mode)(ctx, stdout)


def run_review_cli(args: argparse.Namespace, stdout: TextIO) -> int:
    if not args.dry_run:
        raise UsageError("pgflux-ci review outside GitHub Actions needs --dry-run")
    fail_on = FailOn(args.fail_on) if args.fail_on is not None else None
    settings = _settings(review.ReviewSettings, args, fail_on=fail_on)
    return review.run_dry(settings, args.out, stdout, plan_out=args.plan_out)


def _secrets(environ: Mapping[str, str], argv: Sequence[str]) -> list[str]:
    values = [environ.get("INPUT_DATABASE-URL", ""), environ.get("INPUT_SHADOW", "")]
    values += [environ.get("DATABASE_URL", ""), *argv]
    found = [s for v in values if v for s in dsnlib.passwords_in(v)]
    token = environ.get("INPUT_GITHUB-TOKEN", "")
    return found + ([token] if token else [])


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, dsnlib.REDACTED)
    return text


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    _configure_logging()
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    secrets = _secrets(environ, argv)
    if in_actions:
        # Before anything else can print: the runner then hides them in every later log line.
        masks = WorkflowCommands(sys.stdout)
        for secret in secrets:
            masks.add_mask(secret)
    try:
        if not argv:
            if not in_actions:
                build_parser().print_help(sys.stderr)
                return EXIT_ERROR
            return run_action(environ, sys.stdout)
        args = build_parser().parse_args(argv)
        if args.command == "review":
            return run_review_cli(args, sys.stdout)
        if args.command == "canary":
            return run_canary_cli(args, sys.stdout)
        if args.command == "matrix":
            return run_matrix_cli(args, sys.stdout, environ)
        build_parser().print_help(sys.stderr)
        return EXIT_ERROR
    except PgFluxError as exc:
        message = _scrub(exc.message, secrets)
        if in_actions:
            props: dict[str, object] = {"title": "pgflux-ci"}
            if isinstance(exc, ActionConfigError):
                props["file"] = exc.file  # the annotation lands on pgflux.toml
            sys.stdout.write(format_command("error", message, props) + "\n")
        sys.stderr.write(f"pgflux-ci: error: {message}\n")
        if exc.details:
            sys.stderr.write(_scrub(exc.details, secrets).rstrip() + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("pgflux-ci: interrupted\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
