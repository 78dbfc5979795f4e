"""Tables (regular, partitioned, partitions, unlogged, foreign) and their columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from pydantic import field_validator

from engine.model.base import (
    Commented,
    Granted,
    KeyAttrs,
    Model,
    ObjectKey,
    Owned,
    Privilege,
    SchemaName,
    SchemaObject,
    TableScoped,
    fold_acl,
    relation_key,
    schema_key,
)

TableKind = Literal["regular", "partitioned", "foreign"]
Persistence = Literal["permanent", "unlogged"]
ReplicaIdentity = Literal["default", "full", "nothing", "index"]
Identity = Literal["always", "by_default"]
Storage = Literal["plain", "external", "main", "extended"]


class TableStats(Model):
    """Planner statistics of a live table, for hazard messages; never compared.

    rows: the reltuples estimate; None when never analyzed.
    bytes: an estimate from relpages (the table's, its TOAST table's and all their indexes',
        times the block size) as of the last VACUUM, ANALYZE or CREATE INDEX: 0 for a table
        never vacuumed or analyzed. pg_total_relation_size opened every table's and index's
        files, 4.7 s of a 10,000-table inspection.
    """

    rows: int | None = None
    bytes: int = 0


class TableRef(Model):
    """A table named by schema and name (a partition's parent, an inheritance parent)."""

    schema_: SchemaName
    name: str

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind="table", schema_=self.schema_, name=self.name)


class Option(Model):
    """One `name=value` of reloptions / foreign table options (pg_options_to_table)."""

    name: str
    value: str


class Table(SchemaObject, Commented, Owned, Granted):
    """A table. `table_kind` is immutable: pg-flux never recreates a table (data loss)."""

    kind: ClassVar[str] = "table"
    implies: ClassVar[frozenset[str]] = frozenset({"schema", "table", "server"})
    not_compared: ClassVar[frozenset[str]] = frozenset({"stats"})
    schema_: SchemaName
    name: str
    table_kind: TableKind = "regular"
    persistence: Persistence = "permanent"
    partition_key: str | None = None  # pg_get_partkeydef: `RANGE (created_at)`
    partition_of: TableRef | None = None
    partition_bound: str | None = None  # pg_get_expr(relpartbound): `FOR VALUES IN (1, 2)`
    inherits: tuple[TableRef, ...] = ()  # in declaration order (inhseqno)
    options: tuple[Option, ...] = ()  # reloptions, sorted by name
    replica_identity: ReplicaIdentity = "default"
    replica_identity_index: str | None = None
    clustered_index: str | None = None  # ALTER TABLE ... CLUSTER ON: the index CLUSTER uses
    rls_enabled: bool = False
    rls_forced: bool = False
    server: str | None = None  # foreign tables
    foreign_options: tuple[Option, ...] = ()
    stats: TableStats | None = None

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)

    @property
    def parents(self) -> list[TableRef]:
        """The table's partition parent, or its inheritance parents in order."""
        return [self.partition_of] if self.partition_of is not None else list(self.inherits)

    def implied_deps(self) -> Iterable[ObjectKey]:
        deps = [schema_key(self.schema_)]
        if self.partition_of is not None:
            deps.append(self.partition_of.key)
        deps.extend(parent.key for parent in self.inherits)
        if self.server is not None:
            deps.append(ObjectKey(kind="server", name=self.server))
        return deps


class IdentityOptions(Model):
    """The options of an identity column's sequence."""

    start: int
    increment: int
    min_value: int
    max_value: int
    cache: int
    cycle: bool


class IdentitySequence(Model):
    """The sequence PostgreSQL makes for an identity column: always in the table's schema and
    owned by the table's owner, but named, granted and commented on like any sequence
    (`SEQUENCE NAME`, `GRANT ... ON SEQUENCE`, `COMMENT ON SEQUENCE`), and pg_dump prints all
    three. `acl` as `Granted.acl`: the owner's entries left out."""

    name: str
    acl: tuple[Privilege, ...] = ()
    comment: str | None = None

    @field_validator("acl")
    @classmethod
    def _fold_grantors(cls, value: tuple[Privilege, ...]) -> tuple[Privilege, ...]:
        return fold_acl(value)


class Generated(Model):
    """A generated column's expression (pg_get_expr) and kind: STORED (computed on write, a
    rewrite to add or change) or, from PostgreSQL 18, VIRTUAL (computed on read, nothing
    stored: 18's default when neither is written).

    One field of Column rather than two, for the reason NotNullConstraint gives."""

    expression: str
    virtual: bool = False

    @property
    def sql(self) -> str:
        """`GENERATED ALWAYS AS (expression) STORED | VIRTUAL`."""
        return f"GENERATED ALWAYS AS ({self.expression}) {'VIRTUAL' if self.virtual else 'STORED'}"


class NotNullConstraint(Model):
    """PostgreSQL 18's NOT NULL constraint of a column, where it is not the default one: a name
    other than <table>_<column>_not_null (as pg_dump prints it), NOT VALID (rows not checked
    yet), NO INHERIT.

    One field of Column rather than three: a schema's columns are most of its objects (168,000
    at 10,000 tables), and 23 fields instead of 21 doubled each one's attribute dict (464 to
    832 bytes, 62 MB of model at that size).
    """

    name: str | None = None
    validated: bool = True
    no_inherit: bool = False
    # False where a column an inheritance child declares and inherits holds only its parents'
    # copy (conislocal false: `CREATE TABLE c (a int) INHERITS (p)` under `p (a int NOT NULL)`),
    # which pg_dump tells from a constraint of the child's own. Not compared (Column.compared):
    # no statement makes a constraint the parents' alone again. The plan keeps it when it makes
    # the child or changes its NOT NULL (engine.diff.kinds.inherited_columns)
    local: bool = True

    @classmethod
    def of(cls, name: str | None, validated: bool, no_inherit: bool) -> NotNullConstraint | None:
        """None for the default one."""
        if (name, validated, no_inherit) == (None, True, False):
            return None
        return cls(name=name, validated=validated, no_inherit=no_inherit)


_DEFAULT_NOT_NULL = {"name": None, "validated": True, "no_inherit": False}


def uncompared_locality(
    dumped: dict[str, Any], *, defaults_left_out: bool = False
) -> dict[str, Any]:
    """A column's compared fields without its NOT NULL constraint's `local`, which is no
    difference (NotNullConstraint); a constraint left with default values is None, or (when
    the dump left out the fields at their defaults) left out itself."""
    constraint = dumped.get("not_null_constraint")
    if constraint is not None and "local" in constraint:
        rest = {k: v for k, v in constraint.items() if k != "local"}
        if defaults_left_out and not rest:
            del dumped["not_null_constraint"]
        else:
            dumped["not_null_constraint"] = None if rest == _DEFAULT_NOT_NULL else rest
    return dumped


class Column(SchemaObject, TableScoped, Commented, Granted):
    """A column the table declares itself (inherited and partition columns come with the parent).

    An inheritance child may declare a column it also inherits (PostgreSQL merges the two): it
    is a Column, and its own state is planned as an inherited column's
    (engine.diff.kinds.inherited_columns.declared_column_steps).

    `position` keeps the declared order for CREATE TABLE; it is never compared.
    `collation` is set only when it differs from the type's default, already quoted
    (`pg_catalog."C"`); `storage` only when it differs from the type's default.
    Whether the default calls a volatile function is the schema's
    (`Schema.default_is_volatile`).
    """

    kind: ClassVar[str] = "column"
    implies: ClassVar[frozenset[str]] = frozenset({"table"})
    not_compared: ClassVar[frozenset[str]] = frozenset({"position", "type_storage"})
    name: str
    position: int
    type: str  # format_type(atttypid, atttypmod)
    collation: str | None = None
    not_null: bool = False
    # PostgreSQL 18's NOT NULL constraint where it is not the default one (None)
    not_null_constraint: NotNullConstraint | None = None
    default: str | None = None  # pg_get_expr(adbin, adrelid); None for generated columns
    identity: Identity | None = None
    identity_options: IdentityOptions | None = None
    identity_sequence: IdentitySequence | None = None
    generated: Generated | None = None
    storage: Storage | None = None
    type_storage: Storage = "extended"  # the type's default (typstorage), derived from `type`
    compression: str | None = None  # pglz / lz4
    statistics: int | None = None  # SET STATISTICS target; None: the server's default
    # attribute options (n_distinct, n_distinct_inherited: the planner's estimates), sorted by
    # name; each table's own, since a parent's SET reaches no child and a new child has none
    attribute_options: tuple[Option, ...] = ()
    fdw_options: tuple[Option, ...] = ()

    key_attrs: ClassVar[KeyAttrs] = ("schema_", "table", "name", None)

    @field_validator("not_null_constraint")
    @classmethod
    def _default_constraint_is_none(
        cls, value: NotNullConstraint | None
    ) -> NotNullConstraint | None:
        return None if value == NotNullConstraint() else value

    @property
    def not_null_name(self) -> str | None:
        """The NOT NULL constraint's name when not <table>_<column>_not_null."""
        return None if self.not_null_constraint is None else self.not_null_constraint.name

    @property
    def not_null_validated(self) -> bool:
        """False for a NOT VALID NOT NULL constraint (attnotnull is set anyway)."""
        return self.not_null_constraint is None or self.not_null_constraint.validated

    @property
    def not_null_no_inherit(self) -> bool:
        return self.not_null_constraint is not None and self.not_null_constraint.no_inherit

    @property
    def not_null_local(self) -> bool:
        """False where the NOT NULL constraint is only the parents' copy (NotNullConstraint)."""
        return self.not_null_constraint is None or self.not_null_constraint.local

    def compared(self) -> dict[str, Any]:
        return uncompared_locality(super().compared())

    @property
    def key(self) -> ObjectKey:
        # two thirds of a schema's objects are columns: no walk over key_attrs for them
        return ObjectKey.of("column", self.schema_, self.name, self.table)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (relation_key("table", self.schema_, self.table),)

    def implied_names(self) -> Iterable[str]:
        return (self.table,)


class InheritedColumn(SchemaObject, TableScoped):
    """A column a partition or inheritance child has from its parent, in the child's own state.

    The column itself (type, collation) is the parent's; NOT NULL, the default, the generation
    expression, the comment, the statistics target, the attribute options, storage, compression
    and the privileges are the child's own.
    PARTITION OF and INHERITS copy the parent's NOT NULL, default, storage and compression (not its
    statistics target or attribute options), ATTACH PARTITION keeps the table's, and the parent's
    SET / DROP DEFAULT, NOT NULL and SET STORAGE reach every child (its SET COMPRESSION none, its
    attribute options never); a child may still differ
    (`CREATE TABLE c PARTITION OF p (b DEFAULT 7)`, `COMMENT ON COLUMN c.b`). Detaching the child
    leaves these as its own column (engine.plan.detached).

    `comment` and `acl` are plain fields, not the Commented / Granted mixins: what a child
    starts from is not a new object's (see engine.diff.kinds.inherited_columns).
    """

    kind: ClassVar[str] = "inherited_column"
    implies: ClassVar[frozenset[str]] = frozenset({"table"})
    name: str
    not_null: bool = False
    # PostgreSQL 18: a child's NOT NULL constraint is its parent's, under the parent's name; one
    # attached keeps its own. Not compared: PostgreSQL refuses to rename it on the child (the
    # plan names it before attaching, and a detached child's own column is compared)
    not_null_name: str | None = None
    not_compared: ClassVar[frozenset[str]] = frozenset({"not_null_name", "not_null_local"})
    # PostgreSQL 18: the child's copy NOT VALID. The parent's NOT VALID constraint reaches the
    # children that exist as NOT VALID; a child made after it gets a validated copy, and a
    # child's copy is validated alone (engine.diff.kinds.inherited_columns)
    not_null_validated: bool = True
    # PostgreSQL 18: the child's copy is its own as well (conislocal: `ALTER TABLE ONLY c ALTER
    # COLUMN a SET NOT NULL` on the child), so the parent's DROP NOT NULL leaves it in place. Not
    # compared: no statement makes it the parent's alone again
    not_null_local: bool = False
    default: str | None = None
    # the child's generation expression, of a generated column: the parent's, or one of its own
    # (PostgreSQL 16+: `CREATE TABLE c (b int GENERATED ALWAYS AS (...) STORED) INHERITS (p)`;
    # 17+: `ALTER TABLE ONLY c ALTER COLUMN b SET EXPRESSION AS (...)`). Its kind (STORED or
    # VIRTUAL) is the parent's: PostgreSQL refuses a child of another kind
    generated: str | None = None
    comment: str | None = None
    statistics: int | None = None
    attribute_options: tuple[Option, ...] = ()
    storage: Storage | None = None  # None: the type's own (typstorage)
    compression: str | None = None  # pglz / lz4; None: the server's default_toast_compression
    acl: tuple[Privilege, ...] = ()

    key_attrs: ClassVar[KeyAttrs] = ("schema_", "table", "name", None)

    @field_validator("acl")
    @classmethod
    def _fold_grantors(cls, value: tuple[Privilege, ...]) -> tuple[Privilege, ...]:
        return fold_acl(value)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (relation_key("table", self.schema_, self.table),)

    def implied_names(self) -> Iterable[str]:
        return (self.table,)
