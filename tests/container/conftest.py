"""Container tests' fixtures: one private podman and one build of the action image per session.

They run only when PGFLUX_CONTAINER_TESTS=1 asks for them (`.ci/run` does, in one process: under
pytest -n every worker would build its own image); then a missing podman or base rootfs fails
them. Otherwise they skip with the reason. `.ci/container-setup.sh` installs podman, buildah,
runc and debootstrap and makes the base rootfs tarball.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.container.podman import Podman, mounts_under, podman_missing_reason

ROOT = Path(__file__).parents[2]
ACTION_IMAGE = "localhost/pgflux-ci-test:latest"
REQUIRED_ENV = "PGFLUX_CONTAINER_TESTS"


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    size_bytes: int
    build_seconds: float


def require_podman() -> None:
    if os.environ.get(REQUIRED_ENV) != "1":
        pytest.skip(
            f"container tests run only with {REQUIRED_ENV}=1 (see tests/container/README.md)"
        )
    reason = podman_missing_reason()
    if reason is not None:
        pytest.fail(f"{REQUIRED_ENV}=1 but {reason}")


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    require_podman()
    root = tmp_path_factory.mktemp("podman")
    engine = Podman(root)
    try:
        engine.import_base()
        yield engine
    finally:
        engine.close()
    # Teardown leaves nothing: not a mount, not a file.
    assert mounts_under(root) == [], "podman storage still mounted after the session"
    assert not root.exists()


@pytest.fixture(scope="session")
def action_image(podman: Podman) -> BuiltImage:
    """The repository's Dockerfile, built once per session."""
    started = time.monotonic()
    podman.build(ACTION_IMAGE, ROOT)
    elapsed = time.monotonic() - started
    return BuiltImage(ACTION_IMAGE, podman.image_size(ACTION_IMAGE), elapsed)
