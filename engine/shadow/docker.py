"""A shadow in a throw-away `postgres:<major>` container, driven through the docker SDK.

Networking: outside a container we publish 5432 on 127.0.0.1 at a random port. Inside a
container (a GitHub container action runs in one, on the job's network) a port published on the
host's loopback is unreachable, so we start the server on the same network as our own container
and connect by container name. "Inside a container" means /.dockerenv exists and the engine
knows a container whose id starts with our hostname.
With PGFLUX_DOCKER_NETWORK=host the server shares the host's network instead, on a free port of
127.0.0.1: for engines whose bridge network is unavailable or unwanted (rootful podman's bridge
rewrites the host's iptables).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from typing import Any

import psycopg

from engine import dsn as dsnlib
from engine.errors import ShadowError
from engine.shadow.existing import ExistingServer

DEFAULT_IMAGE = "postgres"
DEFAULT_MAJOR = 17
READY_TIMEOUT_S = 120.0
ADMIN_USER = "pgflux_admin"
NETWORK_ENV = "PGFLUX_DOCKER_NETWORK"

SERVER_ARGS = [
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_locks_per_transaction=1024",
]


def docker_client() -> Any:
    """A pinged docker client, or ShadowError saying why there is none."""
    try:
        import docker  # optional: loaded only when asked for

        client = docker.from_env()
        client.ping()
    except Exception as exc:
        raise ShadowError(f"no reachable Docker engine: {exc}") from None
    return client


def _own_network(client: Any) -> str | None:
    if not os.path.exists("/.dockerenv"):
        return None
    try:
        me = client.containers.get(socket.gethostname())
    except Exception:
        return None
    networks = me.attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    return next(iter(networks), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DockerShadow(ExistingServer):
    """ExistingServer behaviour on a container we start and always remove."""

    def __init__(
        self,
        *,
        major: int | None = None,
        image: str | None = None,
        superuser_loader: bool = False,
    ) -> None:
        self._client = docker_client()
        self.image = image or f"{DEFAULT_IMAGE}:{major or DEFAULT_MAJOR}"
        password = secrets.token_urlsafe(24)
        host_port = _free_port() if os.environ.get(NETWORK_ENV) == "host" else None
        network = None if host_port else _own_network(self._client)
        name = f"pgflux-shadow-{secrets.token_hex(4)}"
        run_kwargs: dict[str, Any] = {
            "name": name,
            "detach": True,
            "auto_remove": False,
            "environment": {"POSTGRES_PASSWORD": password, "POSTGRES_USER": ADMIN_USER},
            "command": ["postgres", *SERVER_ARGS],
            "labels": {"pgflux.shadow": "1"},
        }
        if host_port:
            run_kwargs["network_mode"] = "host"
            run_kwargs["command"] += ["-c", f"port={host_port}", "-c", "listen_addresses=127.0.0.1"]
        elif network:
            run_kwargs["network"] = network
        else:
            run_kwargs["ports"] = {"5432/tcp": ("127.0.0.1", None)}
        try:
            self._container = self._client.containers.run(self.image, **run_kwargs)
        except Exception as exc:
            raise ShadowError(f"cannot start {self.image}: {exc}") from None
        try:
            if host_port:
                host, port = "127.0.0.1", host_port
            else:
                host, port = (name, 5432) if network else self._published_port()
            admin = dsnlib.build(
                {
                    "host": str(host),
                    "port": str(port),
                    "user": ADMIN_USER,
                    "password": password,
                    "dbname": "postgres",
                }
            )
            self._wait_ready(admin)
            super().__init__(admin, superuser_loader=superuser_loader)
        except BaseException:
            self._remove_container()
            raise

    def _published_port(self) -> tuple[str, int]:
        self._container.reload()
        bindings = self._container.attrs["NetworkSettings"]["Ports"].get("5432/tcp") or []
        if not bindings:
            raise ShadowError(f"{self.image}: port 5432 was not published")
        return "127.0.0.1", int(bindings[0]["HostPort"])

    def _wait_ready(self, admin: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(admin, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                pass
            self._container.reload()
            if self._container.status in ("exited", "dead"):
                logs = self._container.logs(tail=40).decode(errors="replace")
                raise ShadowError(f"{self.image} exited during start-up", details=logs)
            if time.monotonic() > deadline:
                raise ShadowError(f"{self.image} not ready within {READY_TIMEOUT_S:.0f}s")
            time.sleep(0.25)

    def _remove_container(self) -> None:
        with contextlib.suppress(Exception):
            self._container.remove(force=True)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._remove_container()
