"""The action image built from the repository's Dockerfile: it runs, and it is lean."""

from __future__ import annotations

import pytest

from tests.container.conftest import BuiltImage
from tests.container.podman import Podman

# The first test of a session also waits for the image build.
pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

# A slim base (~80 MB) + python3 (~30 MB) + PostgreSQL server (~60 MB) + the venv (~80 MB).
MAX_IMAGE_BYTES = 400 * 1024 * 1024


def shell(podman: Podman, image: BuiltImage, script: str) -> tuple[int, str]:
    done = podman.run(
        "run",
        "--rm",
        "--network=none",
        "--entrypoint",
        "/bin/sh",
        image.tag,
        "-c",
        script,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_entrypoint_is_pgflux_ci(podman: Podman, action_image: BuiltImage) -> None:
    entry = podman.run(
        "image", "inspect", "--format", "{{json .Config.Entrypoint}}", action_image.tag
    )
    assert entry.stdout.strip() == '["pgflux-ci"]'
    helped = podman.run("run", "--rm", "--network=none", action_image.tag, "--help", check=False)
    assert helped.returncode == 0, helped.stdout + helped.stderr
    assert "pgflux-ci" in helped.stdout


def test_hyphenated_inputs_reach_the_entrypoint(podman: Podman, action_image: BuiltImage) -> None:
    # The runner sets INPUT_DATABASE-URL; a /bin/sh entrypoint would drop it, exec form keeps it.
    done = podman.run(
        "run", "--rm", "--network=none", "-e", "INPUT_DATABASE-URL=postgres://x@y/z",
        "--entrypoint", "/opt/pgflux/bin/python", action_image.tag,
        "-c", "import os; print(os.environ['INPUT_DATABASE-URL'])",
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "postgres://x@y/z"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("postgres --version", "(PostgreSQL) 15."),
        ("initdb --version", "(PostgreSQL) 15."),
        ("pg_dump --version", "(PostgreSQL) 15."),
        ("python -c 'import sys; print(sys.version)'", "3.11."),
        ("python -c 'import psycopg; print(psycopg.pq.__impl__)'", "binary"),
        ("python -c 'import pglast, engine, pgflux_ci; print(\"imports ok\")'", "imports ok"),
        ("id -un postgres", "postgres"),
        ("echo $PGFLUX_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"),
    ],
    ids=["postgres", "initdb", "pg_dump", "python", "psycopg-binary", "imports", "user", "bin"],
)
def test_image_has(podman: Podman, action_image: BuiltImage, script: str, expected: str) -> None:
    status, output = shell(podman, action_image, f"PATH=$PATH:$PGFLUX_POSTGRES_BIN; {script}")
    assert status == 0, output
    assert expected in output


@pytest.mark.parametrize(
    "script",
    [
        "command -v gcc",
        "command -v cc",
        "command -v make",
        "command -v pip",
        "test -e /opt/pgflux/bin/pip",
        "test -d /root/.cache/pip",
        "ls /var/lib/apt/lists | grep -q _",
        "find /opt/pgflux -name __pycache__ | grep -q .",
        "test -d /src",
        "ls /usr/share/doc | grep -q .",
        "find /usr/include -name '*.h' | grep -q .",
        "ls /etc/postgresql | grep -q .",
        "ls /var/cache/apt/archives/*.deb",
        "ls /usr/lib/*-linux-gnu/libLLVM*",
    ],
    ids=[
        "gcc", "cc", "make", "pip-on-path", "pip-in-venv", "pip-cache", "apt-lists", "pycache",
        "build-sources", "docs", "headers", "default-cluster", "apt-archives", "llvm",
    ],
)  # fmt: skip
def test_image_lacks(podman: Podman, action_image: BuiltImage, script: str) -> None:
    status, output = shell(podman, action_image, script)
    assert status != 0, f"{script!r} found something:\n{output}"


def test_image_lacks_checks_can_fail(podman: Podman, action_image: BuiltImage) -> None:
    # The probes above fail for absence, not for a broken shell: the same forms find what exists.
    for script in (
        "command -v python",
        "test -e /opt/pgflux/bin/pgflux-ci",
        "ls /usr/share | grep -q .",
    ):
        status, output = shell(podman, action_image, script)
        assert status == 0, f"{script!r}: {output}"


def test_app_is_one_layer_over_base_and_system_packages(
    podman: Podman, action_image: BuiltImage
) -> None:
    # base rootfs, the apt layer, the venv: a change to the code rebuilds only the last one.
    layers = podman.run(
        "image", "inspect", "--format", "{{len .RootFS.Layers}}", action_image.tag
    ).stdout.strip()
    assert layers == "3"


def test_image_is_lean(action_image: BuiltImage) -> None:
    assert 0 < action_image.size_bytes < MAX_IMAGE_BYTES, action_image
