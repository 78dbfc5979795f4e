"""The central property, at random: plan(A -> B) applied to A gives B, and re-planning is empty.

A is drawn by hypothesis (tables with columns of many types, defaults, NOT NULL, identity, PK /
unique / check / FK constraints, indexes incl. partial, expression, unique; an enum; views;
sql and plpgsql functions); B is A with a few random edits. Example counts are modest and the
search is derandomised so CI is reproducible; `-m slow` runs a bigger profile.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.shadow import EmbeddedCluster
from tests.properties.harness import COMMON_SETTINGS, converges
from tests.properties.strategies import SchemaSpec, mutations, schemas


@st.composite
def pairs(draw: st.DrawFn) -> tuple[SchemaSpec, SchemaSpec]:
    a = draw(schemas())
    return a, draw(mutations(a))


@settings(max_examples=12, **COMMON_SETTINGS)
@given(spec=schemas())
def test_create_from_empty_and_drop_to_empty(pg_cluster: EmbeddedCluster, spec: SchemaSpec) -> None:
    converges(pg_cluster, "", spec.sql())
    converges(pg_cluster, spec.sql(), "")


@settings(max_examples=25, **COMMON_SETTINGS)
@given(pair=pairs())
def test_mutation_converges(
    pg_cluster: EmbeddedCluster, pair: tuple[SchemaSpec, SchemaSpec]
) -> None:
    a, b = pair
    converges(pg_cluster, a.sql(), b.sql())


@pytest.mark.slow
@settings(max_examples=300, **{**COMMON_SETTINGS, "derandomize": False})
@given(pair=pairs())
def test_mutation_converges_big(
    pg_cluster: EmbeddedCluster, pair: tuple[SchemaSpec, SchemaSpec]
) -> None:
    a, b = pair
    converges(pg_cluster, a.sql(), b.sql())
