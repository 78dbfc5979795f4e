"""The error hierarchy. Every failure a user can cause maps to one class and one exit code.

Exit codes follow diff(1): 0 no differences, 1 differences found, 2 any error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_ERROR = 2


class PgFluxError(Exception):
    """Base of every error pg-flux reports to a user: a one-line cause plus optional details."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class UsageError(PgFluxError):
    """Bad flags, bad config, bad input files that are not SQL errors."""


class ConfigError(UsageError):
    """pgflux.toml is invalid; the message names the key path."""


class ConnectionFailed(PgFluxError):
    """A database could not be reached or refused us; never carries a password."""


class ShadowError(PgFluxError):
    """The shadow database could not be started, created or dropped."""


class SchemaLoadError(PgFluxError):
    """schema/ did not load. `file`, `line`, `column` point at the fault when known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        details: str | None = None,
        source_line: str | None = None,
        hint: str | None = None,
        detail: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        # The offending line quoted with a caret, and the server's DETAIL / HINT / SQLSTATE.
        self.source_line = source_line
        self.hint = hint
        self.detail = detail
        self.sqlstate = sqlstate
        location = ":".join(str(p) for p in (file, line, column) if p is not None)
        super().__init__(f"{location}: {message}" if location else message, details=details)
        self.reason = message


class PlanError(PgFluxError):
    """The planner could not produce a correct plan (a pg-flux bug or an unsupported change)."""


class HazardRefused(PgFluxError):
    """A plan carries hazards that policy does not allow."""


class PlanMismatch(PgFluxError):
    """A saved or reviewed plan no longer matches what production needs."""


class ApplyFailed(PgFluxError):
    """A statement failed while applying a plan to a live database."""
