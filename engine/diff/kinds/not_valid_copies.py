"""PostgreSQL 18: the NOT VALID state of the NOT NULL constraint a child has from its parent.

Measured on 18: the parent's `ADD CONSTRAINT ... NOT NULL ... NOT VALID` reaches the children
that exist then as NOT VALID copies, while a child made after it by INHERITS or PARTITION OF gets
a validated copy. A child's copy is validated alone (`ALTER TABLE child VALIDATE CONSTRAINT`,
which reaches the child's own children), but nothing makes it NOT VALID again except the parent's
constraint dropped and added NOT VALID once more. The parent's VALIDATE, SET NOT NULL or valid
ADD CONSTRAINT validates every copy.

So a parent's NOT VALID constraint that the plan adds waits for every desired child to exist
(each then holds a NOT VALID copy, and the children meant to be validated are validated after
it), and one the plan keeps is added again when a child must hold a NOT VALID copy it would
otherwise hold validated.
"""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.model.base import ObjectKey, column_key
from engine.model.tables import Column, InheritedColumn, Table


def _not_valid(col: Column) -> bool:
    return col.not_null and not col.not_null_validated


def descendant_tables(ctx: PlanContext, schema: str, table: str) -> list[Table]:
    """The desired partitions and inheritance children of the table, at any depth."""
    children: dict[tuple[str, str], list[Table]] = {}
    for candidate in ctx.desired.tables:
        for parent in candidate.parents:
            children.setdefault((parent.schema_, parent.name), []).append(candidate)
    found: list[Table] = []
    seen: set[tuple[str, str]] = set()
    work = [(schema, table)]
    while work:
        for child in children.get(work.pop(), []):
            if (child.schema_, child.name) not in seen:
                seen.add((child.schema_, child.name))
                found.append(child)
                work.append((child.schema_, child.name))
    return found


def _copies(ctx: PlanContext, col: Column) -> list[InheritedColumn]:
    """The desired children's copies of the column."""
    copies = []
    for child in descendant_tables(ctx, col.schema_, col.table):
        held = ctx.desired_objects.get(
            ObjectKey.of("inherited_column", child.schema_, col.name, child.name)
        )
        if isinstance(held, InheritedColumn):
            copies.append(held)
    return copies


def kept_copy_validated(ctx: PlanContext, held: InheritedColumn) -> bool:
    """Whether the child's copy is validated when the parent's constraint is left as it is: as
    it was, validated when the child is made (a copy) or joins with a NOT NULL of its own
    (engine.diff.kinds.joining sets one where it has none)."""
    old = ctx.current_objects.get(held.key)
    if isinstance(old, InheritedColumn) and old.not_null:
        return old.not_null_validated
    local = ctx.current_objects.get(column_key(held.schema_, held.table, held.name))
    if isinstance(local, Column) and local.not_null:
        return local.not_null_validated
    return True


def added_again(ctx: PlanContext, old: Column, new: Column) -> bool:
    """The parent keeps its NOT VALID constraint, but a child must hold a NOT VALID copy that
    would be validated: the plan drops the parent's and adds it NOT VALID again."""
    if not (_not_valid(old) and _not_valid(new)):
        return False
    return any(
        held.not_null and not held.not_null_validated and kept_copy_validated(ctx, held)
        for held in _copies(ctx, new)
    )


def adds_not_valid(ctx: PlanContext, col: Column) -> bool:
    """Whether the plan adds the column's NOT VALID constraint, so that every child's copy is
    NOT VALID after it."""
    if not _not_valid(col):
        return False
    old = ctx.current_objects.get(col.key)
    if not isinstance(old, Column):
        return True
    return not old.not_null or old.not_null_validated or added_again(ctx, old, col)


def validates(ctx: PlanContext, col: Column) -> bool:
    """Whether the plan makes the column's NOT NULL valid where it was not, and so every
    child's copy."""
    old = ctx.current_objects.get(col.key)
    return (
        col.not_null
        and col.not_null_validated
        and isinstance(old, Column)
        and not (old.not_null and old.not_null_validated)
    )


def children_first(ctx: PlanContext, col: Column) -> tuple[ObjectKey, ...]:
    """What the step that adds the column's NOT VALID constraint waits for: every desired
    child table, so that each holds a NOT VALID copy."""
    return tuple(child.key for child in descendant_tables(ctx, col.schema_, col.table))
