"""The central property, at random: plan(A -> B) applied to A gives B, and re-planning is empty.

A is drawn by hypothesis (tables with columns of many types, defaults, NOT NULL, identity, PK /
unique / check / FK constraints, indexes incl. partial, expression, unique; an enum; views;
sql and plpgsql functions); B is A with a few random edits. Example counts are modest and the
search is derandomised so CI is reproducible; `-m slow` runs a bigger profile.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.shadow import EmbeddedCluster
from tests.conftest import DatabaseFactory
from tests.engine.convergence import assert_converges
from tests.properties.strategies import SchemaSpec, mutations, schemas

_COMMON = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}


def _converges(cluster: EmbeddedCluster, a: str, b: str) -> None:
    factory = DatabaseFactory(cluster)
    try:
        assert_converges(factory, a, b)
    finally:
        factory.cleanup()


@st.composite
def pairs(draw: st.DrawFn) -> tuple[SchemaSpec, SchemaSpec]:
    a = draw(schemas())
    return a, draw(mutations(a))


@settings(max_examples=12, **_COMMON)  # type: ignore[arg-type]
@given(spec=schemas())
def test_create_from_empty_and_drop_to_empty(pg_cluster: EmbeddedCluster, spec: SchemaSpec) -> None:
    _converges(pg_cluster, "", spec.sql())
    _converges(pg_cluster, spec.sql(), "")


@settings(max_examples=25, **_COMMON)  # type: ignore[arg-type]
@given(pair=pairs())
def test_mutation_converges(
    pg_cluster: EmbeddedCluster, pair: tuple[SchemaSpec, SchemaSpec]
) -> None:
    a, b = pair
    _converges(pg_cluster, a.sql(), b.sql())


@pytest.mark.slow
@settings(max_examples=300, **{**_COMMON, "derandomize": False})  # type: ignore[arg-type]
@given(pair=pairs())
def test_mutation_converges_big(
    pg_cluster: EmbeddedCluster, pair: tuple[SchemaSpec, SchemaSpec]
) -> None:
    a, b = pair
    _converges(pg_cluster, a.sql(), b.sql())
