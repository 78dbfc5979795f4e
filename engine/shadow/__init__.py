"""Shadow database providers: `embedded` (our own cluster), a `postgres://` DSN, or `docker`."""

from __future__ import annotations

import logging

from engine import dsn as dsnlib
from engine.errors import UsageError
from engine.pgbin import find_postgres_bin
from engine.shadow.base import Shadow, ShadowDatabase
from engine.shadow.embedded import EmbeddedCluster
from engine.shadow.existing import ExistingServer

__all__ = ["EmbeddedCluster", "ExistingServer", "Shadow", "ShadowDatabase", "open_shadow"]

log = logging.getLogger("engine.shadow")


def _warn_major(kind: str, have: int, want_major: int | None) -> None:
    if want_major is not None and have != want_major:
        log.warning(
            "shadow %s runs PostgreSQL %d but production runs %d; "
            "plans may differ from what production accepts",
            kind,
            have,
            want_major,
        )


def open_shadow(
    spec: str = "embedded",
    *,
    want_major: int | None = None,
    superuser_loader: bool = False,
    postgres_bin: str | None = None,
) -> Shadow:
    """Start or connect to the shadow named by `spec` (the --shadow flag)."""
    shadow: Shadow
    if spec == "embedded":
        pgbin = find_postgres_bin(want_major, explicit=postgres_bin)
        shadow = EmbeddedCluster(pgbin, superuser_loader=superuser_loader)
    elif spec == "docker" or spec.startswith("docker:"):
        from engine.shadow.docker import DockerShadow  # docker SDK only here

        image = spec.partition(":")[2] or None
        shadow = DockerShadow(major=want_major, image=image, superuser_loader=superuser_loader)
    elif dsnlib.is_url(spec) or "=" in spec:
        shadow = ExistingServer(spec, superuser_loader=superuser_loader)
    else:
        raise UsageError(
            f"--shadow {spec!r}: expected 'embedded', 'docker', or a postgres:// connection string"
        )
    _warn_major(spec.split(":", 1)[0] if "://" not in spec else "server", shadow.major, want_major)
    return shadow
