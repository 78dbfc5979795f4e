"""What the convergence property tests share: hypothesis settings and one A -> B check in
fresh databases of the session's cluster."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck

from engine.shadow import EmbeddedCluster
from tests.conftest import DatabaseFactory
from tests.engine.convergence import assert_converges

# Derandomised so that CI is reproducible; `-m slow` variants turn that off.
COMMON_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}


def converges(cluster: EmbeddedCluster, a: str, b: str) -> None:
    """plan(A -> B) applied to A gives B (pg_dump), verified, and re-planning is empty."""
    factory = DatabaseFactory(cluster)
    try:
        assert_converges(factory, a, b)
    finally:
        factory.cleanup()
