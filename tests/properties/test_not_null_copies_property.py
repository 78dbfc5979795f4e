"""PostgreSQL 18: the NOT VALID state of the NOT NULL constraint children hold from their parent,
as a property (engine/diff/kinds/not_valid_copies.py).

A drawn tree: a parent (inheritance or partitioned) with up to two children, its NOT NULL
constraint absent, valid, NOT VALID or validated later, each child made before or after the
constraint and maybe validated alone. plan(A -> B) applied to A gives B (`pg_dump
--schema-only`, which prints each child's copy that is validated while the parent's is not) and
re-planning is empty, for A and B drawn independently. Rows in A are never NULL, so every
validation the plan runs passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.shadow import EmbeddedCluster
from tests.conftest import DatabaseFactory
from tests.engine.convergence import assert_converges
from tests.properties.harness import COMMON_SETTINGS

PARENT_STATES = ("none", "valid", "not valid", "validated later")


@dataclass(frozen=True)
class Child:
    index: int
    before: bool  # made before the parent's constraint
    validated: bool  # its copy validated alone (a NOT VALID parent's)


@dataclass(frozen=True)
class Tree:
    partitioned: bool
    parent: str  # one of PARENT_STATES
    children: tuple[Child, ...]

    def _child_sql(self, child: Child) -> str:
        if self.partitioned:
            return f"CREATE TABLE c{child.index} PARTITION OF p FOR VALUES IN ({child.index});"
        return f"CREATE TABLE c{child.index} () INHERITS (p);"

    def sql(self) -> str:
        by = " PARTITION BY LIST (b)" if self.partitioned else ""
        out = [f"CREATE TABLE p (a int, b int){by};"]
        out += [self._child_sql(c) for c in self.children if c.before]
        if self.parent != "none":
            not_valid = "" if self.parent == "valid" else " NOT VALID"
            out.append(f"ALTER TABLE p ADD CONSTRAINT p_a_nn NOT NULL a{not_valid};")
        if self.parent == "validated later":
            out.append("ALTER TABLE p VALIDATE CONSTRAINT p_a_nn;")
        out += [self._child_sql(c) for c in self.children if not c.before]
        if self.parent == "not valid":
            out += [
                f"ALTER TABLE c{c.index} VALIDATE CONSTRAINT p_a_nn;"
                for c in self.children
                if c.validated
            ]
        return " ".join(out)

    def rows(self) -> str:
        return " ".join(f"INSERT INTO c{c.index} VALUES (1, {c.index});" for c in self.children)


@st.composite
def trees(draw: st.DrawFn, partitioned: bool) -> Tree:
    indexes = draw(st.lists(st.sampled_from([1, 2]), unique=True, max_size=2))
    children = tuple(
        Child(index=i, before=draw(st.booleans()), validated=draw(st.booleans()))
        for i in sorted(indexes)
    )
    return Tree(partitioned, draw(st.sampled_from(PARENT_STATES)), children)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Tree, Tree]:
    partitioned = draw(st.booleans())  # one kind of parent on both sides
    return draw(trees(partitioned)), draw(trees(partitioned))


@settings(max_examples=15, **COMMON_SETTINGS)
@given(pair=pairs())
def test_a_childs_not_valid_copy_converges(
    pg_cluster: EmbeddedCluster, pg_major: int, pair: tuple[Tree, Tree]
) -> None:
    if pg_major < 18:
        pytest.skip("NOT NULL ... NOT VALID is PostgreSQL 18's")
    a, b = pair
    factory = DatabaseFactory(pg_cluster)
    try:
        assert_converges(factory, a.sql(), b.sql(), data=a.rows())
    finally:
        factory.cleanup()


@pytest.mark.slow
@settings(max_examples=150, **{**COMMON_SETTINGS, "derandomize": False})
@given(pair=pairs())
def test_a_childs_not_valid_copy_converges_big(
    pg_cluster: EmbeddedCluster, pg_major: int, pair: tuple[Tree, Tree]
) -> None:
    """The same property, a bigger random search (`-m slow`)."""
    if pg_major < 18:
        pytest.skip("NOT NULL ... NOT VALID is PostgreSQL 18's")
    a, b = pair
    factory = DatabaseFactory(pg_cluster)
    try:
        assert_converges(factory, a.sql(), b.sql(), data=a.rows())
    finally:
        factory.cleanup()
