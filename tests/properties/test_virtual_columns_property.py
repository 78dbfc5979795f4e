"""PostgreSQL 18's virtual generated columns, as a property.

A drawn table `t (id, k, c)` whose last column `c` is absent, plain, STORED or VIRTUAL
generated, of a drawn type and expression, maybe NOT NULL (generated only: a plain column made
from a virtual one starts empty), with maybe a CHECK on `k` (PostgreSQL then refuses SET
EXPRESSION on a virtual column), a CHECK on `c`, a comment on `c`, a view that reads `c`;
whether an inheritance child `t2` exists is drawn once for both sides. plan(A -> B) applied to A
gives B by `pg_dump --schema-only`, and re-planning is empty (tests.engine.convergence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.shadow import EmbeddedCluster
from tests.conftest import DatabaseFactory
from tests.engine.convergence import assert_converges
from tests.properties.harness import COMMON_SETTINGS

Kind = Literal["absent", "plain", "stored", "virtual"]


@dataclass(frozen=True)
class Table:
    child: bool
    kind: Kind
    type: str
    expression: str
    not_null: bool
    check_k: bool
    check_c: bool
    comment: bool
    view: bool

    def sql(self) -> str:
        c = f"c {self.type}"
        if self.kind != "plain":
            c += f" GENERATED ALWAYS AS ({self.expression}) {self.kind.upper()}"
        if self.not_null:
            c += " NOT NULL"
        k = "k int" + (" CONSTRAINT k_pos CHECK (k > 0)" if self.check_k else "")
        if self.kind == "absent":
            out = [f"CREATE TABLE t (id int, {k});"]
            if self.child:
                out.append("CREATE TABLE t2 () INHERITS (t);")
            return " ".join(out)
        out = [f"CREATE TABLE t (id int, {k}, {c});"]
        if self.check_c:
            out.append("ALTER TABLE t ADD CONSTRAINT c_pos CHECK (c > 0);")
        if self.comment:
            out.append("COMMENT ON COLUMN t.c IS 'computed';")
        if self.view:
            out.append("CREATE VIEW v AS SELECT id, c FROM t;")
        if self.child:
            out.append("CREATE TABLE t2 () INHERITS (t);")
        return " ".join(out)

    def rows(self) -> str:
        values = "(1, 1, 5), (2, 2, 6)" if self.kind == "plain" else "(1, 1), (2, 2)"
        columns = "(id, k, c)" if self.kind == "plain" else "(id, k)"
        out = f"INSERT INTO t {columns} VALUES {values};"
        if self.child:
            out += f" INSERT INTO t2 {columns} VALUES {values};"
        return out


@st.composite
def tables(draw: st.DrawFn, child: bool) -> Table:
    kind: Kind = draw(st.sampled_from(["absent", "plain", "stored", "virtual"]))
    return Table(
        child=child,
        kind=kind,
        type=draw(st.sampled_from(["integer", "bigint"])),
        expression=draw(st.sampled_from(["id * 2", "id + 1"])),
        not_null=kind in ("stored", "virtual") and draw(st.booleans()),
        check_k=draw(st.booleans()),
        check_c=draw(st.booleans()),
        comment=draw(st.booleans()),
        view=draw(st.booleans()),
    )


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Table, Table]:
    child = draw(st.booleans())
    return draw(tables(child)), draw(tables(child))


def _check(cluster: EmbeddedCluster, major: int, pair: tuple[Table, Table]) -> None:
    if major < 18:
        pytest.skip("virtual generated columns are PostgreSQL 18's")
    a, b = pair
    factory = DatabaseFactory(cluster)
    try:
        assert_converges(factory, a.sql(), b.sql(), data=a.rows())
    finally:
        factory.cleanup()


@settings(max_examples=20, **COMMON_SETTINGS)
@given(pair=pairs())
def test_virtual_columns_converge(
    pg_cluster: EmbeddedCluster, pg_major: int, pair: tuple[Table, Table]
) -> None:
    _check(pg_cluster, pg_major, pair)


@pytest.mark.slow
@settings(max_examples=200, **{**COMMON_SETTINGS, "derandomize": False})
@given(pair=pairs())
def test_virtual_columns_converge_big(
    pg_cluster: EmbeddedCluster, pg_major: int, pair: tuple[Table, Table]
) -> None:
    """The same property, a bigger random search (`-m slow`)."""
    _check(pg_cluster, pg_major, pair)
