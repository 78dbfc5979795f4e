"""Changes -> ordered statements.

1. Match objects by key: added, removed, changed (handlers decide alter in place or recreate).
2. Rebuild dependents: whatever depends on something dropped, recreated or retyped is dropped
   before it and created again after it (transitively); a table or column cannot be rebuilt, and
   a plan that would need to is refused with the reason.
3. Order every step by one graph: drops before what they depended on (reverse order), creates
   and alterations after what they depend on (forward order), built from both schemas'
   dependencies plus those the model implies. Ties break by kind, then name, so the same inputs
   always give the same plan.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterable

import engine.diff.kinds  # noqa: F401  (registers every handler)
from engine.diff.context import PlanContext, PlanOptions
from engine.diff.generic import generic_steps, own_fields_differ
from engine.diff.handler import Handler, Step, handler_for
from engine.diff.kinds.inherited_columns import passed_down_steps, readded_not_valid_steps
from engine.diff.kinds.tables import TableHandler
from engine.errors import PlanError
from engine.model.base import ObjectKey, Owned, SchemaObject, relation_key
from engine.model.schema import Schema
from engine.model.sequences import Sequence
from engine.plan.changes import compare_schemas, objects_differ
from engine.plan.detached import Leftovers, with_detached_leftovers
from engine.plan.index import Dependencies
from engine.plan.model import Hazard, HazardCode, ObjectRef, Severity, Statement

# Default order of kinds when the graph leaves a choice (creates; drops use the reverse).
KIND_ORDER: tuple[str, ...] = (
    "schema",
    "extension",
    "collation",
    "fdw",
    "server",
    "user_mapping",
    "enum",
    "domain",
    "composite",
    "range",
    "function",
    "procedure",
    "aggregate",
    "sequence",
    "table",
    "column",
    "inherited_column",
    "constraint",
    "index",
    "statistics",
    "view",
    "matview",
    "trigger",
    "event_trigger",
    "policy",
    "default_privilege",
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}


def normalise_schema(schema: Schema, options: PlanOptions) -> Schema:
    """Forget owners unless ownership is managed, so that they never make a difference."""
    if options.manage_ownership:
        return schema
    updates: dict[str, tuple[SchemaObject, ...]] = {}
    for field in type(schema).model_fields:
        value = getattr(schema, field)
        if isinstance(value, tuple) and value and isinstance(value[0], Owned):
            updates[field] = tuple(o.model_copy(update={"owner": None}) for o in value)
    normalised = schema.model_copy(update=updates)
    return normalised.mark_ordered() if schema.is_ordered else normalised


def _sort_key(key: ObjectKey) -> tuple[str, str, str, str, str]:
    return key.sort_key


def _table_of(obj: SchemaObject) -> ObjectKey | None:
    """The table a sub-object lives on (columns, constraints, indexes, triggers, policies)."""
    table = getattr(obj, "table", None)
    schema = getattr(obj, "schema_", None)
    if isinstance(table, str) and isinstance(schema, str):
        return relation_key("table", schema, table)
    return None


class Planner:
    def __init__(self, current: Schema, desired: Schema, options: PlanOptions) -> None:
        self.options = options
        # Owners are not normalised away here (copying every owned object costs seconds at
        # 10,000 tables): an owner-only difference reaches no handler (own_fields_differ leaves
        # it out) and generic_steps writes OWNER TO only when ownership is managed.
        # A child the plan detaches keeps what it had from its parent as its own.
        current, self.detached = with_detached_leftovers(current, desired)
        self.ctx = PlanContext(current=current, desired=desired, options=options)
        self.cur = self.ctx.current_objects
        self.des = self.ctx.desired_objects
        self.cur_deps = self.ctx.current_deps
        self.des_deps = self.ctx.desired_deps

    def steps(self) -> list[Step]:
        ctx = self.ctx
        changes = compare_schemas(ctx.current, ctx.desired, self.options.manage_ownership)
        if len(changes.added) + len(changes.removed) + len(changes.changed) > self.cur.size // 8:
            # A plan touching much of the schema (a full create plan) asks about most objects:
            # dicts of every key beat a binary search each.
            for lookup in (self.cur, self.des, self.cur_deps, self.des_deps):
                lookup.use_dicts()
            self.cur.adopt(changes.removed)
            self.des.adopt(changes.added)
        self.cur.remember(changes.removed)
        self.cur.remember({key: old for key, (old, _) in changes.changed.items()})
        self.des.remember(changes.added)
        self.des.remember({key: new for key, (_, new) in changes.changed.items()})
        removed = set(changes.removed)
        added = set(changes.added)
        changed = sorted(changes.changed, key=_sort_key)
        recreate: set[ObjectKey] = set()
        altered: dict[ObjectKey, list[Step]] = {}
        invalid_columns: set[ObjectKey] = set()
        for key in changed:
            old, new = changes.changed[key]
            if not own_fields_differ(old, new):
                continue
            handler = handler_for(new)
            result = handler.alter(old, new, ctx)
            if result is None:
                recreate.add(key)
            else:
                altered[key] = result
                invalid_columns |= handler.invalidated_columns(old, new)

        self._rebuild_dependents(removed, recreate, altered, invalid_columns)
        ctx.rebuilt = set(recreate)

        cur, des = self.cur, self.des
        steps: list[Step] = []
        dropped_tables = {k for k in removed | recreate if k.kind == "table"}
        for key in sorted(removed | recreate, key=_sort_key):
            obj = changes.removed[key] if key in changes.removed else cur[key]
            table = _table_of(obj)
            if table is not None and table in dropped_tables and key.kind != "table":
                continue  # DROP TABLE takes it along
            steps.extend(handler_for(obj).drop(obj, ctx))
        for key in sorted(added | recreate, key=_sort_key):
            obj = changes.added[key] if key in changes.added else des[key]
            handler = handler_for(obj)
            steps.extend(handler.create(obj, ctx))
            steps.extend(generic_steps(handler, None, obj, ctx))
        for key in changed:
            if key in recreate:
                continue
            old, new = changes.changed[key]
            steps.extend(altered.get(key, []))
            steps.extend(generic_steps(handler_for(new), old, new, ctx))
        # children whose own value a parent's change would overwrite get it back
        steps.extend(passed_down_steps(ctx, changes.changed))
        # a parent's NOT VALID constraint added again for a child's NOT VALID copy
        steps.extend(readded_not_valid_steps(ctx, changes.added, changes.changed))
        # a table's marks on an index the plan makes again (replica identity, CLUSTER ON)
        steps.extend(TableHandler().index_mark_steps(ctx, recreate))
        if self.detached.owner:
            # what a detached child keeps is its own only once the child is detached; a child
            # moved to another partitioned parent loses what that parent lacks before it joins
            steps = [_after_leaving(step, self.detached) for step in steps]
        return order_steps(steps, self.cur_deps, self.des_deps)

    def _rebuild_dependents(
        self,
        removed: set[ObjectKey],
        recreate: set[ObjectKey],
        altered: dict[ObjectKey, list[Step]],
        invalid_columns: set[ObjectKey],
    ) -> None:
        """Grow `recreate` with every surviving object that depends on what goes away."""
        remade = self.ctx.remade_columns
        work = list(removed | recreate | invalid_columns | remade)
        self.cur_deps.prepare_dependents(work)
        while work:
            gone = work.pop()
            for dependent in sorted(self.cur_deps.dependents_of(gone), key=_sort_key):
                if dependent in removed or dependent in recreate or dependent not in self.des:
                    continue
                handler = handler_for(self.des[dependent])
                column_only = (
                    gone in invalid_columns
                    and gone not in removed | recreate
                    and gone not in remade
                )
                if column_only and not handler.rebuilt_on_column_change:
                    continue
                if dependent in altered and (
                    (gone in removed and gone not in recreate)
                    or (
                        (gone in recreate or gone in remade)
                        and gone not in self.des_deps.of(dependent)
                    )
                ):
                    continue  # its own alteration stops using what is dropped or rebuilt
                if not handler.rebuildable:
                    if gone.kind == "table" or _table_key(gone) == _table_key(dependent):
                        continue  # dropped with / inside its own table
                    raise PlanError(
                        f"{dependent} depends on {gone}, which this plan drops or rebuilds; "
                        f"pg-flux does not rebuild a {dependent.kind} (that would lose data)",
                        details="Change the dependent in a separate step first, "
                        "or split the change into two pull requests.",
                    )
                recreate.add(dependent)
                altered.pop(dependent, None)
                work.append(dependent)


def _table_key(key: ObjectKey) -> ObjectKey | None:
    return key if key.kind == "table" else key.table_key


def _after_leaving(step: Step, leftovers: Leftovers) -> Step:
    child = leftovers.owner.get(step.key)
    if child is None:
        return step
    if child in leftovers.moved:
        return step.model_copy(update={"between_parents": child})
    return step.model_copy(update={"requires": (*step.requires, child)})


def order_steps(
    steps: list[Step],
    current_deps: Dependencies,
    desired_deps: Dependencies,
) -> list[Step]:
    """Topological order of steps with deterministic tie-breaks; a cycle is a PlanError."""
    by_key: dict[ObjectKey, list[int]] = defaultdict(list)
    for index, step in enumerate(steps):
        by_key[step.key].append(index)
    # Each step's object as a small number: compared per edge, where keys compare field by field.
    object_of = [0] * len(steps)
    for number, indices in enumerate(by_key.values()):
        for index in indices:
            object_of[index] = number

    anchors: dict[ObjectKey, list[int]] = {}

    def anchor(key: ObjectKey) -> list[int]:
        # An object without steps of its own (a column inside CREATE TABLE) stands for its table.
        # Remembered: a table is asked for once per column, constraint and index on it.
        found = anchors.get(key)
        if found is None:
            found = by_key.get(key) or []
            if not found and key.kind == "column":
                # a child's column it has from a parent: its own state's steps (a default that
                # uses a sequence the plan drops) come before its table's
                held = ObjectKey.of("inherited_column", key.schema_, key.name, key.parent)
                found = by_key.get(held) or []
            if not found and (table := key.table_key) is not None:
                found = by_key.get(table, [])
            anchors[key] = found
        return found

    edges: dict[int, set[int]] = defaultdict(set)

    # Steps that run while a partition is between two parents (Step.between_parents): nothing
    # puts them after the step that joins it to the new one, which they must precede.
    between = {i for i, step in enumerate(steps) if step.between_parents is not None}

    def add(before: Iterable[int], after: Iterable[int]) -> None:
        after = list(after)
        for b in before:
            for a in after:
                # Steps of one object are already chained in order; a sub-object without steps
                # of its own stands for its table, which must not tie the table's steps in a cycle.
                if object_of[a] != object_of[b]:
                    if (
                        between
                        and a in between
                        and steps[b].parent_link == "join"
                        and steps[a].between_parents == steps[b].key
                    ):
                        continue
                    edges[b].add(a)

    for indices in by_key.values():
        # Within one object: drops first, then the handler's own sequence.
        ordered = sorted(indices, key=lambda i: (steps[i].action != "drop", i))
        for first, second in itertools.pairwise(ordered):
            edges[first].add(second)

    # Only keys with steps, and the sub-objects of tables with steps (they stand for their
    # table), can add an edge: the rest of a large schema is never looked at. On the current
    # side only drops and alterations wait for anything; on the desired side all but drops.
    def candidates(deps: Dependencies, actions: frozenset[str]) -> set[ObjectKey]:
        keys = {step.key for step in steps if step.action in actions}
        for key in [k for k in keys if k.kind == "table"]:
            keys |= deps.keys_under(key)
        return keys

    owner_drops: dict[ObjectKey, list[int]] = {}

    def dropped_with(key: ObjectKey) -> list[int]:
        # A sequence OWNED BY a column goes with its table's DROP TABLE: what depends on the
        # sequence (another table's default) must not outlive that statement.
        found = owner_drops.get(key)
        if found is None:
            found = []
            seq = current_deps.objects.get(key)
            owner = seq.owner_column_key if isinstance(seq, Sequence) else None
            if owner is not None and (table := owner.table_key) is not None:
                found = [i for i in by_key.get(table, []) if steps[i].action == "drop"]
            owner_drops[key] = found
        return found

    for dependent in candidates(current_deps, frozenset({"drop", "alter"})):
        dependent_steps = anchor(dependent)
        if not dependent_steps:
            continue
        drops = [i for i in dependent_steps if steps[i].action == "drop"]
        others = [i for i in dependent_steps if steps[i].action == "alter"]
        if not drops and not others:
            continue
        for referenced in current_deps.of(dependent):
            if referenced == dependent:
                continue
            ref_steps = anchor(referenced)
            if referenced.kind == "sequence":
                ref_steps = ref_steps + dropped_with(referenced)
            for drop in drops:
                # A drop that requires the referenced object's steps (what a detached child
                # keeps, dropped once the child is detached) comes after them, not before.
                needs = steps[drop].requires
                if (moved := steps[drop].between_parents) is not None:
                    needs = (*needs, moved)
                # nor before what no dependent cares about (a table's row security, comments,
                # a domain's default)
                add(
                    [drop],
                    [
                        i
                        for i in ref_steps
                        if steps[i].key not in needs
                        and not steps[i].incidental
                        and not steps[i].ignores_dependents
                    ],
                )
            add(others, [i for i in ref_steps if steps[i].action == "drop"])

    # Dependents wait for the steps that make the referenced object what they need, not for its
    # comments, privileges or OWNED BY (which may need the dependent): per referenced key once.
    makers: dict[ObjectKey, list[int]] = {}

    def made_by(key: ObjectKey) -> list[int]:
        found = makers.get(key)
        if found is None:
            found = makers[key] = [
                i for i in anchor(key) if steps[i].action != "drop" and not steps[i].incidental
            ]
        return found

    for dependent in candidates(desired_deps, frozenset({"create", "alter"})):
        dependent_steps = [i for i in anchor(dependent) if steps[i].action != "drop"]
        if not dependent_steps:
            continue
        # A sub-object standing for its table (no steps of its own: a primary key while the
        # table only enables row security) does not make the table's steps wait for that
        # table's own columns, whose steps come after the table's anyway: a cycle otherwise.
        stands_for = None if dependent in by_key else dependent.table_key
        for referenced in desired_deps.of(dependent):
            if referenced == dependent:
                continue
            if stands_for is not None and referenced.table_key == stands_for:
                continue
            add(
                [i for i in made_by(referenced) if dependent not in steps[i].requires],
                dependent_steps,
            )

    for index, step in enumerate(steps):
        for required in step.requires:
            add([i for i in anchor(required) if steps[i].action != "drop"], [index])
        if step.between_parents is not None:
            for i in by_key.get(step.between_parents, ()):
                if steps[i].parent_link == "leave":
                    add([i], [index])
                elif steps[i].parent_link == "join":
                    add([index], [i])

    indegree = [0] * len(steps)
    for targets in edges.values():
        for target in targets:
            indegree[target] += 1

    def priority(i: int) -> tuple[int, int, int, int, tuple[str, ...], int]:
        step = steps[i]
        rank = _KIND_RANK.get(step.key.kind, len(KIND_ORDER))
        if step.action == "drop":
            return (0, 0, -rank, 0, step.key.sort_key, i)
        # Columns added to one table go in their declared order (ADD COLUMN appends), so the
        # table ends up laid out as schema/ declares it; everything else ties by name.
        position = desired_deps.column_position(step.key)
        return (1, 0 if step.transactional else 1, rank, position, step.key.sort_key, i)

    heap = [(priority(i), i) for i in range(len(steps)) if indegree[i] == 0]
    heapq.heapify(heap)
    result: list[Step] = []
    while heap:
        _, index = heapq.heappop(heap)
        result.append(steps[index])
        for target in edges.get(index, ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(heap, (priority(target), target))
    if len(result) != len(steps):
        stuck = [steps[i] for i in range(len(steps)) if indegree[i] > 0]
        listing = "\n".join(f"  {s.action} {s.key}: {s.sql}" for s in stuck[:20])
        raise PlanError(
            "the planned statements depend on each other in a cycle; pg-flux cannot order them",
            details=listing,
        )
    return result


def to_statements(steps: list[Step], options: PlanOptions) -> list[Statement]:
    statements = []
    for step in steps:
        hazards = list(step.hazards)
        if not step.transactional and not any(
            h.code is HazardCode.NON_TRANSACTIONAL for h in hazards
        ):
            hazards.append(
                Hazard(
                    code=HazardCode.NON_TRANSACTIONAL,
                    severity=Severity.LOW,
                    message="runs outside a transaction; if it fails, a rerun repairs it",
                )
            )
        statements.append(
            Statement(
                sql=step.sql,
                transactional=step.transactional,
                lock=step.lock,
                object=ObjectRef.of(step.key),
                lock_timeout_ms=(
                    options.lock_timeout_ms
                    if step.lock_timeout_ms is None
                    else step.lock_timeout_ms
                ),
                statement_timeout_ms=(
                    options.statement_timeout_ms
                    if step.statement_timeout_ms is None
                    else step.statement_timeout_ms
                ),
                hazards=tuple(hazards),
            )
        )
    return statements


def plan_statements(
    current: Schema, desired: Schema, options: PlanOptions | None = None
) -> list[Statement]:
    """The ordered statements that take `current` to `desired`."""
    options = options or PlanOptions()
    return to_statements(Planner(current, desired, options).steps(), options)


__all__ = [
    "Handler",
    "PlanOptions",
    "Planner",
    "objects_differ",
    "order_steps",
    "plan_statements",
]
