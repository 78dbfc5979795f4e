"""The central property over the object kinds `test_convergence_property.py` does not draw.

plan(A -> B) applied to A gives B (`pg_dump --schema-only` compares equal) and re-planning is
empty, for A drawn by `rich_strategies.rich_schemas()`: objects in `public` and `app` referring
across them; standalone and owned sequences (and column defaults calling them); a domain and a
composite type used by columns; a RANGE / LIST partitioned table with partitions and a DEFAULT
partition; a view on a view; a materialized view with an index; a plpgsql trigger function and
triggers; row-level security and policies; comments; grants to one role. B is A after one to
three edits from `rich_strategies.mutations()` (add / drop / alter of each kind).

The role the grants and policies name is cluster-wide, so it is created here (idempotently), not
by the schema SQL. The quick tests are derandomised so CI is reproducible; `-m slow` runs a
bigger random search.
"""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.shadow import EmbeddedCluster
from tests.properties.harness import COMMON_SETTINGS, converges
from tests.properties.rich_strategies import ROLES, RichSpec, mutations, rich_schemas


@pytest.fixture(scope="module")
def rich_cluster(pg_cluster: EmbeddedCluster) -> EmbeddedCluster:
    """The session cluster, with the roles that grants and policies name."""
    with pg_cluster.database() as database, psycopg.connect(database.admin_dsn) as conn:
        for role in ROLES:
            conn.execute(
                f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN;"
                " EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
            )
        conn.commit()
    return pg_cluster


@st.composite
def pairs(draw: st.DrawFn) -> tuple[RichSpec, RichSpec]:
    a = draw(rich_schemas())
    return a, draw(mutations(a))


@settings(max_examples=10, **COMMON_SETTINGS)
@given(spec=rich_schemas())
def test_rich_create_from_empty_and_drop_to_empty(
    rich_cluster: EmbeddedCluster, spec: RichSpec
) -> None:
    """Every kind created in dependency order from nothing, and dropped in reverse."""
    converges(rich_cluster, "", spec.sql())
    converges(rich_cluster, spec.sql(), "")


@settings(max_examples=25, **COMMON_SETTINGS)
@given(pair=pairs())
def test_rich_mutation_converges(
    rich_cluster: EmbeddedCluster, pair: tuple[RichSpec, RichSpec]
) -> None:
    """A few edits of A: in-place ALTERs where PostgreSQL has them, rebuilds (and the rebuild of
    what depends on the rebuilt object) where it does not."""
    a, b = pair
    converges(rich_cluster, a.sql(), b.sql())


@pytest.mark.slow
@settings(max_examples=300, **{**COMMON_SETTINGS, "derandomize": False})
@given(pair=pairs())
def test_rich_mutation_converges_big(
    rich_cluster: EmbeddedCluster, pair: tuple[RichSpec, RichSpec]
) -> None:
    """The same property, a bigger random search (`-m slow`)."""
    a, b = pair
    converges(rich_cluster, a.sql(), b.sql())
