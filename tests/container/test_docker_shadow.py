"""The `docker` shadow provider for real: the docker SDK against podman's Docker-compatible socket.

No registry here, so the `postgres` image is made locally: the action image (it has the server
binaries) with an entrypoint that honours the official image's contract as DockerShadow uses it
(POSTGRES_USER/POSTGRES_PASSWORD, `postgres <args>`, password auth over TCP on 5432).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from engine.catalog import inspect_dsn
from engine.errors import ShadowError
from engine.load import load_into, parse_schema_dir
from engine.shadow import open_shadow
from engine.shadow.docker import NETWORK_ENV, DockerShadow
from tests.container.conftest import BuiltImage
from tests.container.podman import Podman, host_state

# The first test of a session also waits for the image build.
pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

POSTGRES_IMAGE = "localhost/pgflux-test-postgres:15"
BROKEN_IMAGE = "localhost/pgflux-test-postgres:broken"

ENTRYPOINT = """#!/bin/bash
# The official postgres image's contract, as far as DockerShadow relies on it.
set -euo pipefail
export PATH="$PGFLUX_POSTGRES_BIN:$PATH"
if [ "${1:-}" = postgres ]; then
    export PGDATA=/var/lib/postgresql/data
    mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA"
    pw="$(mktemp)" && printf '%s\\n' "$POSTGRES_PASSWORD" > "$pw" && chown postgres "$pw"
    setpriv --reuid=postgres --regid=postgres --init-groups \\
        initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --pwfile="$pw" \\
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    shift
    exec setpriv --reuid=postgres --regid=postgres --init-groups \\
        postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
fi
exec "$@"
"""

BROKEN = """#!/bin/bash
echo "this server never starts" >&2
exit 3
"""


def _image(podman: Podman, tmp: Path, tag: str, base: str, script: str) -> None:
    (tmp / "entrypoint.sh").write_text(script, encoding="utf-8")
    (tmp / "Containerfile").write_text(
        f"FROM {base}\nCOPY --chmod=0755 entrypoint.sh /usr/local/bin/entrypoint.sh\n"
        'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]\n',
        encoding="utf-8",
    )
    podman.build(tag, tmp, dockerfile=tmp / "Containerfile")


@pytest.fixture(scope="session")
def docker_host(
    podman: Podman, action_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory
) -> str:
    _image(podman, tmp_path_factory.mktemp("pgimage"), POSTGRES_IMAGE, action_image.tag, ENTRYPOINT)
    _image(podman, tmp_path_factory.mktemp("broken"), BROKEN_IMAGE, action_image.tag, BROKEN)
    return podman.start_service()


@pytest.fixture
def docker_env(docker_host: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    # Podman's bridge would rewrite the host's iptables: the server shares the host network.
    monkeypatch.setenv(NETWORK_ENV, "host")
    return docker_host


def shadow_containers(podman: Podman) -> list[str]:
    done = podman.run("ps", "-aq", "--filter", "label=pgflux.shadow=1")
    return done.stdout.split()


def test_docker_shadow_loads_a_schema_and_removes_its_container(
    podman: Podman, docker_env: str, tmp_path: Path
) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "app.sql").write_text(
        "CREATE SCHEMA app;\nCREATE TABLE app.orders (id bigint PRIMARY KEY, note text);\n",
        encoding="utf-8",
    )
    before = host_state()
    shadow = DockerShadow(image=POSTGRES_IMAGE)
    try:
        assert len(shadow_containers(podman)) == 1
        assert shadow.major == 15
        with shadow.database() as db:
            load_into(db.dsn, parse_schema_dir(schema))
            model = inspect_dsn(db.dsn)
        assert [t.name for t in model.tables] == ["orders"]
        assert {c.name for c in model.columns} == {"id", "note"}
    finally:
        shadow.close()
    assert shadow_containers(podman) == []
    assert host_state() == before


def test_docker_shadow_through_open_shadow(podman: Podman, docker_env: str) -> None:
    # `--shadow docker:<image>`, as the CLI and the action's `shadow` input spell it.
    with open_shadow(f"docker:{POSTGRES_IMAGE}", want_major=15) as shadow:
        assert isinstance(shadow, DockerShadow)
        with shadow.database() as db, psycopg.connect(db.dsn) as conn:
            row = conn.execute("SELECT current_setting('fsync')").fetchone()
        assert row == ("off",)
        assert len(shadow_containers(podman)) == 1
    assert shadow_containers(podman) == []


def test_container_removed_when_the_work_fails(
    podman: Podman, docker_env: str, tmp_path: Path
) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "bad.sql").write_text("CREATE TABLE t (id int REFERENCES nowhere (id));\n")
    with (
        pytest.raises(Exception, match="nowhere"),
        DockerShadow(image=POSTGRES_IMAGE) as shadow,
        shadow.database() as db,
    ):
        load_into(db.dsn, parse_schema_dir(schema))
    assert shadow_containers(podman) == []


def test_container_removed_when_the_server_never_starts(podman: Podman, docker_env: str) -> None:
    with pytest.raises(ShadowError, match="exited during start-up") as raised:
        DockerShadow(image=BROKEN_IMAGE)
    assert "never starts" in str(raised.value.details)
    assert shadow_containers(podman) == []


def test_missing_image_is_a_clear_error(podman: Podman, docker_env: str) -> None:
    with pytest.raises(ShadowError, match="cannot start localhost/pgflux-no-such-image"):
        DockerShadow(image="localhost/pgflux-no-such-image:1")
    assert shadow_containers(podman) == []


def test_no_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(ShadowError, match="no reachable Docker engine"):
        DockerShadow(image=POSTGRES_IMAGE)
