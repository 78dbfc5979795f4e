"""What a handler may ask while planning: both schemas, the plan's options, table statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from engine.model.base import ObjectKey
from engine.model.schema import Schema
from engine.model.tables import Column, Table, TableStats
from engine.plan.index import Dependencies, ObjectIndex
from engine.plan.model import Hazard, HazardCode, Severity

GIB = 1024**3
VerifyMode = Literal["auto", "whole"]
VERIFY_MODES: tuple[VerifyMode, ...] = ("auto", "whole")


@dataclass(frozen=True)
class PlanOptions:
    lock_timeout_ms: int = 3000
    statement_timeout_ms: int = 0
    # Compare and change owners (ALTER ... OWNER TO). Off by default: production objects are often
    # owned by a role that the shadow does not have.
    manage_ownership: bool = False
    # Use the non-blocking forms (CONCURRENTLY, NOT VALID + VALIDATE) on tables that exist.
    online: bool = True
    # A table at or over either bound is "large": hazards on it rise one severity.
    large_table_rows: int = 1_000_000
    large_table_bytes: int = GIB
    # Verification: "auto" rebuilds only the plan's scope of a large current schema
    # (engine.verify_scope), "whole" always rebuilds all of it (slower, nothing left to argue).
    verify: VerifyMode = "auto"


def format_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass
class PlanContext:
    current: Schema
    desired: Schema
    options: PlanOptions = field(default_factory=PlanOptions)
    # Keys the planner drops and creates again in this plan (filled before handlers run create).
    rebuilt: set[ObjectKey] = field(default_factory=set)
    # Columns an alteration drops and adds again (ColumnHandler's `_recreate`): what depends on
    # them is rebuilt as on a rebuilt object, indexes and constraints too, which DROP COLUMN
    # takes along (filled while handlers run alter)
    remade_columns: set[ObjectKey] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Both schemas in key order: objects are looked up by binary search, not keyed in bulk.
        self.current = self.current.ordered()
        self.desired = self.desired.ordered()
        self.current_objects = ObjectIndex(self.current)
        self.desired_objects = ObjectIndex(self.desired)
        self.current_deps = Dependencies(self.current_objects)
        self.desired_deps = Dependencies(self.desired_objects)

    @property
    def names_not_null(self) -> bool:
        """PostgreSQL 18 names NOT NULL constraints: the plan names the ones it makes."""
        return max(self.current.server_version_num, self.desired.server_version_num) >= 180000

    @property
    def unlogged_sequences(self) -> bool:
        """PostgreSQL 15+ has unlogged sequences, and a table's SET [UN]LOGGED changes the
        sequences it owns as well."""
        return max(self.current.server_version_num, self.desired.server_version_num) >= 150000

    @cached_property
    def identity_children(self) -> tuple[tuple[bool, Table, str], ...]:
        """(in `schema/`?, table, column) for each inheritance child's identity column, now and
        in `schema/`: few or none, looked up per changed parent column
        (engine.diff.kinds.columns.identity_below)."""
        found: list[tuple[bool, Table, str]] = []
        for desired, schema in ((False, self.current), (True, self.desired)):
            children = {(t.schema_, t.name): t for t in schema.tables if t.inherits}
            if not children:
                continue
            for col in schema.columns:
                if col.identity is not None and (table := children.get((col.schema_, col.table))):
                    found.append((desired, table, col.name))
        return tuple(found)

    def existed(self, key: ObjectKey) -> bool:
        """Is the object there, with its data, before this plan runs (and not rebuilt by it)?"""
        return key in self.current_objects and key not in self.rebuilt

    def table_is_new(self, schema: str, table: str) -> bool:
        """A table created by this plan: plain (blocking) forms are free on it."""
        return not self.existed(ObjectKey(kind="table", schema_=schema, name=table))

    def use_online_forms(self, schema: str, table: str) -> bool:
        return self.options.online and not self.table_is_new(schema, table)

    def table_stats(self, schema: str, table: str) -> TableStats | None:
        obj = self.current_objects.get(ObjectKey(kind="table", schema_=schema, name=table))
        return obj.stats if isinstance(obj, Table) else None

    def columns_of(self, schema: str, table: str, *, desired: bool = True) -> list[Column]:
        """The table's columns in position order."""
        objects = self.desired_objects if desired else self.current_objects
        return objects.columns_of(schema, table)

    def hazard(
        self,
        code: HazardCode,
        severity: Severity,
        message: str,
        *,
        table: tuple[str, str] | None = None,
    ) -> Hazard:
        """A hazard; on a live table its message gives the size, and large tables raise severity."""
        if table is not None:
            stats = self.table_stats(*table)
            if stats is not None:
                rows = "unknown rows" if stats.rows is None else f"~{stats.rows:,} rows"
                message = f"{message} (table has {rows}, {format_bytes(stats.bytes)})"
                large = (stats.rows or 0) >= self.options.large_table_rows or (
                    stats.bytes >= self.options.large_table_bytes
                )
                if large and severity is not Severity.INFO:
                    severity = severity.raised()
        return Hazard(code=code, severity=severity, message=message)

    def rewrite_hazards(self, message: str, table: tuple[str, str]) -> tuple[Hazard, Hazard]:
        """The hazards of a statement that rewrites `table` (`message` says why)."""
        return (
            self.hazard(HazardCode.TABLE_REWRITE, Severity.MEDIUM, message, table=table),
            self.hazard(
                HazardCode.BLOCKS_READS_WRITES,
                Severity.MEDIUM,
                "holds ACCESS EXCLUSIVE while the table is rewritten",
                table=table,
            ),
        )
