"""A shadow on a server someone else runs: throw-away databases on it, given a privileged DSN.

The DSN's role must be able to CREATE DATABASE and CREATE ROLE. Each ExistingServer creates its
own LOGIN loader role (`pgflux_shadow_loader_<random>`, random password) so concurrent runs on
one server never share or reset each other's credentials; close() drops its databases and role.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from engine import dsn as dsnlib
from engine.errors import ShadowError
from engine.shadow import reaper
from engine.shadow.base import (
    COMMENT_PREFIX,
    DB_PREFIX,
    DEFAULT_STATEMENT_TIMEOUT,
    DEFAULT_TEMP_FILE_LIMIT,
    ServerShadow,
)

log = logging.getLogger("engine.shadow")

LOADER_PREFIX = "pgflux_shadow_loader_"


class ExistingServer(ServerShadow):
    """Throw-away databases on an existing server reached by `admin_dsn`."""

    def __init__(
        self,
        admin_dsn: str,
        *,
        superuser_loader: bool = False,
        statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT,
        temp_file_limit: str = DEFAULT_TEMP_FILE_LIMIT,
    ) -> None:
        super().__init__()
        self._admin_dsn = admin_dsn
        self.superuser_loader = superuser_loader
        self._statement_timeout = statement_timeout
        self._closed = False
        self._loader_password = secrets.token_urlsafe(24)
        params = dsnlib.parse(admin_dsn)
        self._maintenance_db = params.get("dbname") or "postgres"
        self._check_privileges()
        self.server_version_num = self._read_server_version()
        self._loader_role = (
            self._admin_user if superuser_loader else LOADER_PREFIX + secrets.token_hex(4)
        )
        reaper.register(self)
        if not superuser_loader:
            try:
                self._create_loader(temp_file_limit)
            except psycopg.Error as exc:
                self.close()
                raise ShadowError(f"cannot set up the loader role: {str(exc).strip()}") from None
            except BaseException:
                self.close()
                raise

    def _check_privileges(self) -> None:
        with self._admin_connect() as conn:
            row = conn.execute(
                "SELECT current_user, rolsuper, rolcreatedb, rolcreaterole "
                "FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        if row is None:
            raise ShadowError("cannot read the shadow server role's attributes")
        user, is_super, createdb, createrole = row
        self._admin_user = str(user)
        self._admin_is_super = bool(is_super)
        if not (is_super or (createdb and createrole)):
            raise ShadowError(
                f"shadow server role {user!r} needs CREATEDB and CREATEROLE (or SUPERUSER) "
                f"on {dsnlib.redact(self._admin_dsn)}"
            )
        if self.superuser_loader and not is_super:
            raise ShadowError(
                f"a superuser shadow was requested but {user!r} is not a superuser "
                f"on {dsnlib.redact(self._admin_dsn)}"
            )

    def _create_loader(self, temp_file_limit: str) -> None:
        role = sql.Identifier(self._loader_role)
        stamp = f"{COMMENT_PREFIX}{datetime.now(UTC).isoformat()}"
        with self._admin_connect() as conn:
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}"
                ).format(role, sql.Literal(self._loader_password))
            )
            conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(stamp)))
            if not self._admin_is_super:
                # CREATE DATABASE ... OWNER needs membership in the owner role.
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
            settings = [("statement_timeout", self._statement_timeout)]
            if self._admin_is_super:
                settings.append(("temp_file_limit", temp_file_limit))  # superuser-only setting
            for key, value in settings:
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET {} = {}").format(
                        role, sql.Identifier(key), sql.Literal(value)
                    )
                )

    def _loader_dsn(self, dbname: str) -> str:
        if self.superuser_loader:
            return dsnlib.with_params(
                self._admin_dsn,
                dbname=dbname,
                options=f"-c statement_timeout={self._statement_timeout}",
            )
        return dsnlib.with_params(
            self._admin_dsn, dbname=dbname, user=self._loader_role, password=self._loader_password
        )

    def cleanup_orphans(self, older_than: timedelta) -> list[str]:
        """Drop `pgflux_shadow_*` databases (and loader roles) left behind by dead runs.

        Age comes from the creation stamp in each object's comment; objects without a stamp
        are not ours to judge and are left alone. Returns the names of the dropped databases.
        """
        cutoff = datetime.now(UTC) - older_than
        with self._admin_connect() as conn:
            dbs = conn.execute(
                "SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d "
                "WHERE starts_with(d.datname, %s)",
                (DB_PREFIX,),
            ).fetchall()
            roles = conn.execute(
                "SELECT r.rolname, shobj_description(r.oid, 'pg_authid') FROM pg_roles r "
                "WHERE starts_with(r.rolname, %s)",
                (LOADER_PREFIX,),
            ).fetchall()
        dropped: list[str] = []
        for name, comment in dbs:
            if name in self._created or not _older(comment, cutoff):
                continue
            self.drop_database_named(str(name))
            dropped.append(str(name))
        for role, comment in roles:
            if role == self._loader_role or not _older(comment, cutoff):
                continue
            self._drop_role(str(role))
        return dropped

    def _drop_role(self, role: str) -> None:
        with self._admin_connect() as conn:
            try:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            except psycopg.Error as exc:
                log.warning("cannot drop shadow role %s: %s", role, str(exc).strip())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._drop_created()
            if not self.superuser_loader and self._loader_role.startswith(LOADER_PREFIX):
                self._drop_role(self._loader_role)
        except ShadowError as exc:
            log.warning("shadow cleanup incomplete: %s", exc)
        finally:
            reaper.unregister(self)

    def __repr__(self) -> str:
        return f"ExistingServer({dsnlib.redact(self._admin_dsn)})"


def _older(comment: object, cutoff: datetime) -> bool:
    if not isinstance(comment, str) or not comment.startswith(COMMENT_PREFIX):
        return False
    try:
        stamp = datetime.fromisoformat(comment.removeprefix(COMMENT_PREFIX))
    except ValueError:
        return False
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp < cutoff
