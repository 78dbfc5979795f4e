"""The plan: ordered statements with locks, timeouts and hazards (contract `pgflux.plan/v1`)."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Literal

from pydantic import Field

from engine.model.base import Model, ObjectKey

PLAN_FORMAT: Literal["pgflux.plan/v1"] = "pgflux.plan/v1"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def raised(self, steps: int = 1) -> Severity:
        return _SEVERITY_ORDER[min(self.rank + steps, len(_SEVERITY_ORDER) - 1)]

    @classmethod
    def highest(cls, severities: list[Severity]) -> Severity | None:
        return max(severities, key=lambda s: s.rank) if severities else None


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class HazardCode(StrEnum):
    DATA_LOSS = "DATA_LOSS"
    TABLE_REWRITE = "TABLE_REWRITE"
    BLOCKS_READS_WRITES = "BLOCKS_READS_WRITES"
    BLOCKS_WRITES = "BLOCKS_WRITES"
    FULL_SCAN_UNDER_LOCK = "FULL_SCAN_UNDER_LOCK"
    INDEX_BUILD = "INDEX_BUILD"
    INDEX_DROPPED = "INDEX_DROPPED"
    BACKWARD_INCOMPATIBLE = "BACKWARD_INCOMPATIBLE"
    NON_TRANSACTIONAL = "NON_TRANSACTIONAL"
    AUTHZ_CHANGE = "AUTHZ_CHANGE"
    EXTENSION_CHANGE = "EXTENSION_CHANGE"
    UNTRACKABLE_DEPENDENCIES = "UNTRACKABLE_DEPENDENCIES"


# The lock each statement takes on the object it touches, as PostgreSQL names them.
LockMode = Literal[
    "NONE",
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
]


class Hazard(Model):
    code: HazardCode
    severity: Severity
    message: str


class ObjectRef(Model):
    """The object a statement touches, as the plan JSON contract names it."""

    kind: str
    schema_: str | None = Field(default=None, alias="schema")
    name: str

    @classmethod
    def of(cls, key: ObjectKey) -> ObjectRef:
        name = key.name if key.parent is None else f"{key.parent}.{key.name}"
        if key.args is not None:
            name += f"({key.args})"
        return cls(kind=key.kind, schema_=key.schema_, name=name)


class Statement(Model):
    sql: str
    transactional: bool = True
    lock: LockMode = "ACCESS EXCLUSIVE"
    object: ObjectRef
    lock_timeout_ms: int = 3000
    statement_timeout_ms: int = 0
    hazards: tuple[Hazard, ...] = ()

    @property
    def max_severity(self) -> Severity | None:
        return Severity.highest([h.severity for h in self.hazards])


class Plan(Model):
    format: Literal["pgflux.plan/v1"] = PLAN_FORMAT
    fingerprint: str
    source_fingerprint: str
    target_fingerprint: str
    verified: bool
    postgres_version: int
    statements: tuple[Statement, ...] = ()
    # What verification found still different, when verified is false.
    verification_errors: tuple[str, ...] = ()
    # Objects present in a database that pg-flux does not manage ("rule public.r", ...).
    unmanaged: tuple[str, ...] = ()

    @property
    def hazards(self) -> list[Hazard]:
        return [h for s in self.statements for h in s.hazards]

    @property
    def max_severity(self) -> Severity | None:
        return Severity.highest([h.severity for h in self.hazards])

    @property
    def is_empty(self) -> bool:
        return not self.statements


def statements_fingerprint(
    statements: tuple[Statement, ...] | list[Statement], source: str, target: str
) -> str:
    """sha256 over the statements and both schema fingerprints: same inputs, same plan id."""
    digest = hashlib.sha256()
    digest.update(source.encode())
    digest.update(b"\0")
    digest.update(target.encode())
    for statement in statements:
        digest.update(b"\0")
        digest.update(statement.model_dump_json(by_alias=True).encode())
    return "sha256:" + digest.hexdigest()
