"""Verification on a plan's scope, at random (engine.verify_scope).

For random pairs of schemas (the convergence property's strategies): the plan verifies on its
scope, and a plan with one statement left out, which the whole verification rejects, is
rejected on the scope too. The scope is an optimisation of verification, never a weaker check.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.plan.planner import plan_statements
from engine.shadow import EmbeddedCluster
from engine.verify import verify_in_scope, verify_plan
from engine.verify_scope import verification_scope
from tests.conftest import DatabaseFactory
from tests.engine.convergence import load
from tests.properties.strategies import SchemaSpec, mutations, schemas

_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)


@st.composite
def broken_pairs(draw: st.DrawFn) -> tuple[SchemaSpec, SchemaSpec, int]:
    a = draw(schemas())
    b = draw(mutations(a))
    return a, b, draw(st.integers(min_value=0, max_value=10_000))


@_SETTINGS
@given(case=broken_pairs())
def test_scope_verifies_and_rejects_as_the_whole_does(
    pg_cluster: EmbeddedCluster, case: tuple[SchemaSpec, SchemaSpec, int]
) -> None:
    a, b, pick = case
    factory = DatabaseFactory(pg_cluster)
    try:
        first, second = factory(), factory()
        load(first.admin_dsn, a.sql())
        load(second.admin_dsn, b.sql())
        current, desired = inspect_dsn(first.admin_dsn), inspect_dsn(second.admin_dsn)
    finally:
        factory.cleanup()
    options = PlanOptions()
    statements = plan_statements(current, desired, options)
    scope = verification_scope(current, desired, manage_ownership=False)
    assert verify_in_scope(pg_cluster, scope, statements, options) == []
    if not statements:
        return
    broken = statements[: pick % len(statements)] + statements[pick % len(statements) + 1 :]
    whole = verify_plan(pg_cluster, current, desired, broken, options)
    if whole:
        left_out = statements[pick % len(statements)].sql
        assert verify_in_scope(pg_cluster, scope, broken, options), (
            f"the whole verification rejects the plan without `{left_out}` "
            f"({whole[:2]}), the scope accepts it"
        )
