"""The shadow interface, and the database/role handling every server-backed provider shares.

A shadow is a PostgreSQL server where untrusted schema SQL is loaded into throw-away databases.
Each database is owned by a loader role that is NOT a superuser unless the caller opted in.
"""

from __future__ import annotations

import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict

from engine import dsn as dsnlib
from engine.errors import ShadowError

log = logging.getLogger("engine.shadow")

DB_PREFIX = "pgflux_shadow_"
COMMENT_PREFIX = "pgflux shadow created_at="
DEFAULT_STATEMENT_TIMEOUT = "60s"
DEFAULT_TEMP_FILE_LIMIT = "2GB"
CONNECT_TIMEOUT_S = 10


class ShadowDatabase(BaseModel):
    """One throw-away database: `dsn` connects as the loader role, `admin_dsn` as the admin."""

    model_config = ConfigDict(frozen=True)

    name: str
    dsn: str
    admin_dsn: str

    def __repr__(self) -> str:
        return f"ShadowDatabase(name={self.name!r}, dsn={dsnlib.redact(self.dsn)!r})"

    __str__ = __repr__


def new_database_name() -> str:
    """`pgflux_shadow_<utc stamp>_<random>`: unique and sortable by age."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{DB_PREFIX}{stamp}_{secrets.token_hex(4)}"


class Shadow(ABC):
    """A server that hands out throw-away databases owned by the loader role."""

    server_version_num: int

    @abstractmethod
    def create_database(self, *, template: str | None = None) -> ShadowDatabase: ...

    @abstractmethod
    def drop_database(self, db: ShadowDatabase) -> None: ...

    @abstractmethod
    def ensure_roles(self, names: Iterable[str]) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    def major(self) -> int:
        return self.server_version_num // 10000

    @contextmanager
    def database(self, *, template: str | None = None) -> Iterator[ShadowDatabase]:
        """A fresh database for the duration of the block, dropped however the block ends."""
        db = self.create_database(template=template)
        try:
            yield db
        finally:
            self.drop_database(db)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ServerShadow(Shadow):
    """Database and role management over an admin connection; providers supply the server.

    Subclasses set `_admin_dsn` (admin, any database), `_loader_role` and implement
    `_loader_dsn(dbname)`; `_maintenance_db` is where admin statements run.
    """

    _admin_dsn: str
    _loader_role: str
    _maintenance_db: str = "postgres"

    def __init__(self) -> None:
        self._created: set[str] = set()

    @abstractmethod
    def _loader_dsn(self, dbname: str) -> str: ...

    def _admin_dsn_for(self, dbname: str) -> str:
        return dsnlib.with_dbname(self._admin_dsn, dbname)

    def _admin_connect(self, dbname: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
        target = self._admin_dsn_for(dbname or self._maintenance_db)
        try:
            return psycopg.connect(target, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise ShadowError(
                f"cannot connect to the shadow server as admin ({dsnlib.redact(target)}): "
                f"{dsnlib.scrub(str(exc).strip(), target)}"
            ) from None

    def _read_server_version(self) -> int:
        with self._admin_connect() as conn:
            return int(conn.info.server_version)

    def create_database(self, *, template: str | None = None) -> ShadowDatabase:
        name = new_database_name()
        stmt = sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {}").format(
            sql.Identifier(name),
            sql.Identifier(self._loader_role),
            sql.Identifier(template or "template0"),
        )
        comment = f"{COMMENT_PREFIX}{datetime.now(UTC).isoformat()}"
        with self._admin_connect() as conn:
            try:
                conn.execute(stmt)
            except psycopg.Error as exc:
                raise ShadowError(
                    f"cannot create shadow database {name}"
                    + (f" from template {template}" if template else "")
                    + f": {str(exc).strip()}"
                ) from None
            self._created.add(name)
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(comment)
                )
            )
        return ShadowDatabase(
            name=name, dsn=self._loader_dsn(name), admin_dsn=self._admin_dsn_for(name)
        )

    def drop_database(self, db: ShadowDatabase) -> None:
        """Drop `db`, a database this shadow created; one dropped already is left alone."""
        if db.name in self._created:
            self.drop_database_named(db.name)

    def drop_database_named(self, name: str) -> None:
        """Terminate the database's sessions and drop it; dropping a missing one is fine."""
        with self._admin_connect() as conn:
            # Keep new sessions out while we terminate the existing ones.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            force = sql.SQL(" WITH (FORCE)") if self.server_version_num >= 130000 else sql.SQL("")
            try:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)) + force
                )
            except psycopg.Error as exc:
                raise ShadowError(
                    f"cannot drop shadow database {name}: {str(exc).strip()}"
                ) from None
        self._created.discard(name)

    def ensure_roles(self, names: Iterable[str]) -> None:
        """Create each missing role as NOLOGIN, so grants in the schema can name it."""
        wanted = sorted(set(names))
        if not wanted:
            return
        with self._admin_connect() as conn:
            existing = {
                str(r[0])
                for r in conn.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (wanted,)
                )
            }
            for name in wanted:
                if name in existing:
                    continue
                try:
                    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
                except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                    # created concurrently (another shadow user, or this process's load and
                    # its verification, which ensure roles on two threads): fine. Two CREATE
                    # ROLEs that both pass the existence check meet at pg_authid's index.
                    pass
                except psycopg.Error as exc:
                    raise ShadowError(f"cannot create role {name!r}: {str(exc).strip()}") from None

    def _drop_created(self) -> None:
        """Drop every database this provider created and has not dropped yet."""
        for name in sorted(self._created):
            try:
                self.drop_database_named(name)
            except ShadowError as exc:
                log.warning("leaving shadow database behind: %s", exc)
