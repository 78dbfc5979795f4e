"""One handler per object kind: how to create, drop and alter it, as steps.

A handler never orders anything. It returns `Step` values for one object; the planner matches
objects by key, asks handlers for steps, rebuilds dependents and orders every step by the
dependency graph. Comments, privileges and owners are diffed generically by the planner through
`ref()`, so a handler only deals with the attributes that are its kind's own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, TypeVar

from engine.model.base import Model, ObjectKey, SchemaObject
from engine.plan.model import Hazard, HazardCode, LockMode, Severity

if TYPE_CHECKING:
    from engine.diff.context import PlanContext

T = TypeVar("T", bound=SchemaObject)

Action = Literal["drop", "create", "alter"]


class Step(Model):
    """One statement for one object, before ordering.

    requires: keys whose create/alter steps must run before this step (beyond the object's
        dependencies), e.g. ALTER SEQUENCE ... OWNED BY needs its table.
    lock_timeout_ms / statement_timeout_ms: None means the plan's defaults.
    """

    key: ObjectKey
    action: Action
    sql: str
    transactional: bool = True
    lock: LockMode = "ACCESS EXCLUSIVE"
    hazards: tuple[Hazard, ...] = ()
    requires: tuple[ObjectKey, ...] = ()
    lock_timeout_ms: int | None = None
    statement_timeout_ms: int | None = None
    # Nothing that depends on the object waits for this step (comments, privileges, owners,
    # OWNED BY): it may come after the object's dependents.
    incidental: bool = False
    # The step neither reads nor changes what depends on the object (a domain's SET / DROP
    # DEFAULT: only later inserts and ADD COLUMN use it), so a dependent that the plan drops
    # need not go first; dependents it makes still wait for it.
    ignores_dependents: bool = False
    # A table's step that takes it out of its partitioned parent ("leave": DETACH PARTITION) or
    # into one ("join": ATTACH PARTITION).
    parent_link: Literal["leave", "join"] | None = None
    # The key of a partition moved to another parent: this step (on what it kept from the old
    # one) runs after the table's "leave" step and before its "join" step.
    between_parents: ObjectKey | None = None


def validated_alone(constraint: str) -> Hazard:
    """The hazard of a VALIDATE CONSTRAINT that runs in its own transaction, after its ADD.

    That is what keeps its scan from holding the ADD's lock; the price is that the plan is no
    longer one transaction there: existing rows that break the constraint stop the apply with the
    constraint committed NOT VALID (checking new rows only) until they are fixed and it reruns.
    """
    return Hazard(
        code=HazardCode.NON_TRANSACTIONAL,
        severity=Severity.LOW,
        message=(
            f"validates {constraint} in its own transaction, after adding it NOT VALID, so that"
            " the scan blocks no writes; if existing rows break it, apply stops there and leaves"
            " it NOT VALID (new rows checked) until the rows are fixed and apply reruns"
        ),
    )


class Handler(ABC, Generic[T]):
    """How one kind of object changes. Subclasses register with `@register`."""

    kind: ClassVar[str]
    model: ClassVar[type[SchemaObject]]
    # May the planner drop and recreate this object to rebuild it around a dependency?
    # False for tables and columns: rebuilding them loses data.
    rebuildable: ClassVar[bool] = True
    # Must it be rebuilt when a column it uses changes type? (views, policies, triggers: yes;
    # indexes and constraints: no, ALTER COLUMN TYPE rebuilds those itself)
    rebuilt_on_column_change: ClassVar[bool] = False

    @abstractmethod
    def create(self, obj: T, ctx: PlanContext) -> list[Step]: ...

    @abstractmethod
    def drop(self, obj: T, ctx: PlanContext) -> list[Step]: ...

    def alter(self, old: T, new: T, ctx: PlanContext) -> list[Step] | None:
        """Steps that change `old` into `new` in place, or None when it must be recreated.

        Only called when the kind's own attributes differ (comment, acl, owner are generic).
        """
        return None

    def ref(self, obj: T) -> str | None:
        """`TABLE public.t`: how COMMENT ON / GRANT ... ON / ALTER ... OWNER TO name it.

        None when the kind has no such form.
        """
        return None

    def acl_ref(self, obj: T) -> tuple[str, str] | None:
        """(`TABLE public.t`, `(col)`): how GRANT / REVOKE name it; defaults to (ref(), "").

        Columns grant on their table with a column list; foreign tables comment as FOREIGN TABLE
        but grant as TABLE.
        """
        ref = self.ref(obj)
        return None if ref is None else (ref, "")

    def invalidated_columns(self, old: T, new: T) -> set[ObjectKey]:
        """Column keys whose dependents must be rebuilt by this alteration (a type change)."""
        return set()


HANDLERS: dict[str, Handler[SchemaObject]] = {}


def register(cls: type[Handler[T]]) -> type[Handler[T]]:
    """Class decorator: one instance per kind."""
    if cls.kind in HANDLERS:
        raise RuntimeError(f"two handlers for kind {cls.kind!r}")
    HANDLERS[cls.kind] = cls()  # type: ignore[assignment]
    return cls


def handler_for(obj: SchemaObject) -> Handler[SchemaObject]:
    kind = type(obj).kind  # the class's kind: building obj.key costs a model construction
    try:
        return HANDLERS[kind]
    except KeyError:
        raise KeyError(f"no handler registered for {kind!r}") from None
