"""An inheritance child's own state of a column it declares and also inherits, as a property
(engine.diff.kinds.inherited_columns: `declared_column_steps`).

A drawn family: a parent `p (a, b)` whose column `a` has a type, maybe NOT NULL and maybe a
default; a child `c` that declares `a` itself (`CREATE TABLE c (a ...) INHERITS (p)`), joins with
a column of its own (`ALTER TABLE c INHERIT p`), or only inherits it (its own state then set with
`ALTER TABLE ONLY`); maybe a grandchild `g () INHERITS (c)`. How the child came to hold `a` is
drawn once for both sides: whether it declares the column is no difference to pg-flux (no
statement changes it). Everything else is drawn independently for A and B. plan(A -> B) applied
to A gives B (`pg_dump --schema-only`) and re-planning is empty.

On PostgreSQL 18 a NOT NULL constraint the child has as its own is told apart from the parent's
copy by `pg_dump` only; where B's parent is NOT NULL and the two sides differ in that, the draw
is left out (the README's documented limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.shadow import EmbeddedCluster
from tests.conftest import DatabaseFactory
from tests.engine.convergence import assert_converges
from tests.properties.harness import COMMON_SETTINGS

Holds = Literal["declares", "joined", "inherits"]


@dataclass(frozen=True)
class Family:
    holds: Holds
    grandchild: bool
    type: str
    parent_not_null: bool
    parent_default: str | None
    child_not_null: bool
    child_default: str | None

    def _column(self, not_null: bool, default: str | None) -> str:
        return (
            f"a {self.type}"
            + (" NOT NULL" if not_null else "")
            + (f" DEFAULT {default}" if default else "")
        )

    @property
    def child_has_own_not_null(self) -> bool:
        """PostgreSQL 18: the child holds a NOT NULL constraint of its own."""
        if self.holds == "inherits":
            return self.child_not_null and not self.parent_not_null
        return self.child_not_null

    def sql(self) -> str:
        out = [
            f"CREATE TABLE p ({self._column(self.parent_not_null, self.parent_default)}, b int);"
        ]
        own = self._column(self.child_not_null, self.child_default)
        if self.holds == "declares":
            out.append(f"CREATE TABLE c ({own}) INHERITS (p);")
        elif self.holds == "joined":
            out.append(f"CREATE TABLE c ({own}, b int); ALTER TABLE c INHERIT p;")
        else:
            out.append("CREATE TABLE c () INHERITS (p);")
            if self.child_default:
                out.append(f"ALTER TABLE ONLY c ALTER COLUMN a SET DEFAULT {self.child_default};")
            elif self.parent_default:
                out.append("ALTER TABLE ONLY c ALTER COLUMN a DROP DEFAULT;")
            if self.child_has_own_not_null:
                out.append("ALTER TABLE ONLY c ALTER COLUMN a SET NOT NULL;")
        if self.grandchild:
            out.append("CREATE TABLE g () INHERITS (c);")
        return " ".join(out)


DEFAULTS = st.sampled_from([None, "5", "7"])


@st.composite
def families(draw: st.DrawFn, holds: Holds, grandchild: bool) -> Family:
    parent_not_null = draw(st.booleans())
    # a child that joins must be NOT NULL where its parent is (PostgreSQL refuses otherwise)
    child_not_null = draw(st.booleans()) or (parent_not_null and holds == "joined")
    return Family(
        holds=holds,
        grandchild=grandchild,
        type=draw(st.sampled_from(["integer", "bigint"])),
        parent_not_null=parent_not_null,
        parent_default=draw(DEFAULTS),
        child_not_null=child_not_null,
        child_default=draw(DEFAULTS),
    )


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Family, Family]:
    holds: Holds = draw(st.sampled_from(["declares", "joined", "inherits"]))
    grandchild = draw(st.booleans())
    return draw(families(holds, grandchild)), draw(families(holds, grandchild))


def _check(cluster: EmbeddedCluster, major: int, pair: tuple[Family, Family]) -> None:
    a, b = pair
    if major >= 18 and b.parent_not_null:
        assume(a.child_has_own_not_null == b.child_has_own_not_null)
    factory = DatabaseFactory(cluster)
    try:
        assert_converges(factory, a.sql(), b.sql(), data="INSERT INTO c (a, b) VALUES (1, 1);")
    finally:
        factory.cleanup()


@settings(max_examples=20, **COMMON_SETTINGS)
@given(pair=pairs())
def test_a_declared_column_converges(
    pg_cluster: EmbeddedCluster, pg_major: int, pair: tuple[Family, Family]
) -> None:
    _check(pg_cluster, pg_major, pair)


@pytest.mark.slow
@settings(max_examples=200, **{**COMMON_SETTINGS, "derandomize": False})
@given(pair=pairs())
def test_a_declared_column_converges_big(
    pg_cluster: EmbeddedCluster, pg_major: int, pair: tuple[Family, Family]
) -> None:
    """The same property, a bigger random search (`-m slow`)."""
    _check(pg_cluster, pg_major, pair)
