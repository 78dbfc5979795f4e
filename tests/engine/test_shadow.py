"""Shadow providers against real PostgreSQL: the session cluster, and servers built in tests."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engine import dsn as dsnlib
from engine.errors import ShadowError, UsageError
from engine.pgbin import find_postgres_bin, list_available
from engine.shadow import EmbeddedCluster, ExistingServer, ShadowDatabase, open_shadow
from engine.shadow.base import COMMENT_PREFIX, DB_PREFIX
from engine.shadow.existing import LOADER_PREFIX

RunSql = Callable[..., list[tuple[Any, ...]]]


def _environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = [item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


# -- embedded cluster: the server process ------------------------------------------------------


def test_server_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "DATABASE_URL": "postgres://u:leak@h/d",
        "GITHUB_TOKEN": "ghp_leak",
        "INPUT_DSN": "leak",
        "PGPASSWORD": "leak",
        "AWS_SECRET_ACCESS_KEY": "leak",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    with EmbeddedCluster(find_postgres_bin()) as cluster:
        assert cluster.pid is not None
        env = _environ_of(cluster.pid)
    assert not set(secrets) & set(env)
    assert not any("leak" in v for v in env.values())
    assert env["TZ"] == "UTC"
    assert env["LC_ALL"] == "C.UTF-8"


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop only happens as root")
def test_server_runs_unprivileged(pg_cluster: EmbeddedCluster) -> None:
    assert pg_cluster.pid is not None
    status = Path(f"/proc/{pg_cluster.pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    groups = next(line for line in status.splitlines() if line.startswith("Groups:")).split()[1:]
    assert "0" not in uids
    assert "0" not in groups
    assert stat.S_IMODE(pg_cluster.sockdir.stat().st_mode) == 0o700
    assert stat.S_IMODE(pg_cluster.tempdir.stat().st_mode) == 0o700


def test_server_settings(db: ShadowDatabase, run_sql: RunSql) -> None:
    for name, want in {
        "listen_addresses": "",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_locks_per_transaction": "1024",
    }.items():
        assert run_sql(db.admin_dsn, f"SELECT current_setting('{name}')") == [(want,)]


def test_loader_role_attributes_and_limits(db: ShadowDatabase, run_sql: RunSql) -> None:
    row = run_sql(
        db.admin_dsn,
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolconfig FROM pg_roles "
        "WHERE rolname = 'pgflux_loader'",
    )
    assert row[0][:3] == (False, False, False)
    assert "statement_timeout=60s" in row[0][3]
    assert any(c.startswith("temp_file_limit=") for c in row[0][3])


@pytest.mark.parametrize(
    "statement",
    [
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "SELECT pg_read_file('/etc/passwd')",
        "ALTER SYSTEM SET fsync = on",
        "CREATE EXTENSION IF NOT EXISTS file_fdw",
        "CREATE ROLE sneaky",
    ],
)
def test_loader_cannot_escape(db: ShadowDatabase, statement: str) -> None:
    with psycopg.connect(db.dsn, autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute(statement.encode())


def test_superuser_loader_opt_in() -> None:
    with (
        EmbeddedCluster(find_postgres_bin(), superuser_loader=True) as cluster,
        cluster.database() as db,
        psycopg.connect(db.dsn) as conn,
    ):
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (True,)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)
        conn.execute(
            "CREATE FUNCTION et() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';"
            "CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION et()"
        )


def test_close_removes_everything_and_is_idempotent() -> None:
    cluster = EmbeddedCluster(find_postgres_bin())
    pid, tempdir = cluster.pid, cluster.tempdir
    assert pid is not None
    assert tempdir.is_dir()
    cluster.close()
    cluster.close()
    assert not tempdir.exists()
    from engine.shadow.embedded import pid_alive

    assert not pid_alive(pid)


def test_without_cache_also_works(tmp_path: Path) -> None:
    with (
        EmbeddedCluster(find_postgres_bin(), use_cache=False) as cluster,
        cluster.database() as db,
        psycopg.connect(db.dsn) as conn,
    ):
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_cache_is_filled_once_and_reused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _ in range(2):
        with EmbeddedCluster(find_postgres_bin(), cache_dir=cache) as cluster:
            assert cluster.server_version_num > 0
    entries = list(cache.iterdir())
    assert len(entries) == 1  # one entry, no leftover staging dirs
    assert (entries[0] / "PG_VERSION").is_file()
    assert (entries[0] / ".complete").is_file()


@pytest.mark.parametrize("pgbin", list_available(), ids=lambda b: f"pg{b.major}")
def test_every_found_major_starts(pgbin: Any) -> None:
    with EmbeddedCluster(pgbin) as cluster, cluster.database() as db:
        assert cluster.major == pgbin.major
        with psycopg.connect(db.dsn) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY)")


def test_start_failure_is_a_shadow_error_and_cleans_up(tmp_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("pgflux-shadow-*"))
    with pytest.raises(ShadowError, match="statement_timeout"):
        EmbeddedCluster(find_postgres_bin(), statement_timeout="not a duration")
    # Other processes may start clusters meanwhile; none of the new dirs may be ours.
    new = set(Path(tempfile.gettempdir()).glob("pgflux-shadow-*")) - before
    ours = [
        d
        for d in new
        if (d / "owner.pid").is_file() and (d / "owner.pid").read_text().strip() == str(os.getpid())
    ]
    assert ours == []


# -- databases and roles (shared by every server-backed provider) -------------------------------


def test_database_context_drops_even_on_error(pg_cluster: EmbeddedCluster, run_sql: RunSql) -> None:
    seen: list[ShadowDatabase] = []

    def use_and_fail() -> None:
        with pg_cluster.database() as db:
            seen.append(db)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        use_and_fail()
    name = seen[0].name
    admin = dsnlib.with_dbname(seen[0].admin_dsn, "postgres")
    assert run_sql(admin, "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)) == [(0,)]


def test_drop_terminates_sessions_and_is_idempotent(pg_cluster: EmbeddedCluster) -> None:
    db = pg_cluster.create_database()
    held = psycopg.connect(db.dsn)
    try:
        pg_cluster.drop_database(db)
        pg_cluster.drop_database(db)
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
    finally:
        held.close()


def test_database_comment_carries_creation_stamp(db: ShadowDatabase, run_sql: RunSql) -> None:
    assert db.name.startswith(DB_PREFIX)
    (comment,) = run_sql(
        db.admin_dsn,
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = current_database()",
    )[0]
    assert comment.startswith(COMMENT_PREFIX)


def test_template_clone(pg_cluster: EmbeddedCluster, run_sql: RunSql) -> None:
    with pg_cluster.database() as base:
        run_sql(base.dsn, "CREATE TABLE prepared (x int); INSERT INTO prepared VALUES (7)")
        with pg_cluster.database(template=base.name) as clone:
            assert run_sql(clone.dsn, "SELECT x FROM prepared") == [(7,)]
            run_sql(clone.dsn, "DROP TABLE prepared")
        assert run_sql(base.dsn, "SELECT x FROM prepared") == [(7,)]


def test_template_missing_is_shadow_error(pg_cluster: EmbeddedCluster) -> None:
    with pytest.raises(ShadowError, match="no_such_template"):
        pg_cluster.create_database(template="no_such_template")


def test_ensure_roles_creates_nologin_roles_idempotently(
    pg_cluster: EmbeddedCluster, db: ShadowDatabase, run_sql: RunSql
) -> None:
    names = ["app_reader", 'we"ird; DROP ROLE x', "MixedCase"]
    pg_cluster.ensure_roles(names)
    pg_cluster.ensure_roles(names)
    rows = run_sql(
        db.admin_dsn,
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) ORDER BY rolname",
        (names,),
    )
    assert rows == sorted((n, False) for n in names)
    run_sql(db.dsn, 'CREATE TABLE t (x int); GRANT SELECT ON t TO "MixedCase"')


def test_shadow_database_repr_hides_passwords() -> None:
    db = ShadowDatabase(name="x", dsn="host=h password=hunter2", admin_dsn="host=h password=root")
    assert "hunter2" not in repr(db)
    assert "root" not in str(db)


# -- existing server ----------------------------------------------------------------------------


@pytest.fixture
def existing(pg_cluster: EmbeddedCluster) -> Iterator[ExistingServer]:
    server = ExistingServer(pg_cluster._admin_dsn)
    try:
        yield server
    finally:
        server.close()


def test_existing_server_databases(existing: ExistingServer, run_sql: RunSql) -> None:
    assert existing._loader_role.startswith(LOADER_PREFIX)
    with existing.database() as db:
        assert db.name.startswith(DB_PREFIX)
        rows = run_sql(
            db.dsn, "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        assert rows == [(existing._loader_role, False)]
        run_sql(db.dsn, "CREATE TABLE t (x int)")


def test_existing_server_loader_has_statement_timeout(existing: ExistingServer) -> None:
    with existing.database() as db, psycopg.connect(db.dsn) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)
        with pytest.raises(psycopg.Error):
            conn.execute("COPY (SELECT 1) TO PROGRAM 'id'")


def test_existing_server_superuser_loader(pg_cluster: EmbeddedCluster) -> None:
    with (
        ExistingServer(pg_cluster._admin_dsn, superuser_loader=True) as server,
        server.database() as db,
        psycopg.connect(db.dsn) as conn,
    ):
        row = conn.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        assert row.fetchone() == ("pgflux_admin", True)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)


def test_existing_server_close_drops_databases_and_role(
    pg_cluster: EmbeddedCluster, run_sql: RunSql
) -> None:
    admin = pg_cluster._admin_dsn
    server = ExistingServer(admin)
    db = server.create_database()
    role = server._loader_role
    server.close()
    assert run_sql(admin, "SELECT count(*) FROM pg_database WHERE datname = %s", (db.name,)) == [
        (0,)
    ]
    assert run_sql(admin, "SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,)) == [(0,)]


def test_existing_server_non_superuser_with_createdb_createrole(
    pg_cluster: EmbeddedCluster, run_sql: RunSql
) -> None:
    admin = pg_cluster._admin_dsn
    run_sql(admin, "DROP ROLE IF EXISTS ops; CREATE ROLE ops LOGIN CREATEDB CREATEROLE")
    try:
        with (
            ExistingServer(dsnlib.with_params(admin, user="ops")) as server,
            server.database() as db,
        ):
            run_sql(db.dsn, "CREATE TABLE t (x int)")
    finally:
        run_sql(admin, "DROP ROLE ops")


def test_existing_server_refuses_weak_role_without_leaking_password(
    pg_cluster: EmbeddedCluster, run_sql: RunSql
) -> None:
    admin = pg_cluster._admin_dsn
    run_sql(admin, "DROP ROLE IF EXISTS weak; CREATE ROLE weak LOGIN")
    try:
        with pytest.raises(ShadowError, match="CREATEDB and CREATEROLE") as info:
            ExistingServer(dsnlib.with_params(admin, user="weak", password="pw-should-not-show"))
        assert "pw-should-not-show" not in str(info.value)
    finally:
        run_sql(admin, "DROP ROLE weak")


def test_existing_server_unreachable_error_hides_password() -> None:
    with pytest.raises(ShadowError) as info:
        ExistingServer("postgres://u:pw-should-not-show@127.0.0.1:1/x?connect_timeout=2")
    assert "pw-should-not-show" not in str(info.value)
    assert "***" in str(info.value)


def test_cleanup_orphans(
    existing: ExistingServer, pg_cluster: EmbeddedCluster, run_sql: RunSql
) -> None:
    admin = pg_cluster._admin_dsn
    old, unstamped = f"{DB_PREFIX}old_orphan", f"{DB_PREFIX}unstamped"
    old_role = f"{LOADER_PREFIX}oldrole"
    run_sql(admin, f'CREATE DATABASE "{old}"')
    run_sql(admin, f'CREATE DATABASE "{unstamped}"')
    run_sql(admin, f"COMMENT ON DATABASE \"{old}\" IS '{COMMENT_PREFIX}2001-01-01T00:00:00+00:00'")
    run_sql(admin, f'CREATE ROLE "{old_role}"')
    run_sql(admin, f"COMMENT ON ROLE \"{old_role}\" IS '{COMMENT_PREFIX}2001-01-01T00:00:00+00:00'")
    try:
        with existing.database() as fresh:
            dropped = existing.cleanup_orphans(timedelta(hours=1))
            assert dropped == [old]
            names = {r[0] for r in run_sql(admin, "SELECT datname FROM pg_database")}
            assert old not in names
            assert {unstamped, fresh.name} <= names
            roles = {r[0] for r in run_sql(admin, "SELECT rolname FROM pg_roles")}
            assert old_role not in roles
            assert existing._loader_role in roles
    finally:
        run_sql(admin, f'DROP DATABASE IF EXISTS "{old}"')
        run_sql(admin, f'DROP DATABASE IF EXISTS "{unstamped}"')
        run_sql(admin, f'DROP ROLE IF EXISTS "{old_role}"')


# -- open_shadow ------------------------------------------------------------------------------


def test_open_shadow_rejects_unknown_spec() -> None:
    with pytest.raises(UsageError, match="--shadow"):
        open_shadow("mysql")


def test_open_shadow_existing_dsn(pg_cluster: EmbeddedCluster) -> None:
    with open_shadow(pg_cluster._admin_dsn) as shadow:
        assert isinstance(shadow, ExistingServer)
        with shadow.database() as db, psycopg.connect(db.dsn) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_open_shadow_warns_on_major_mismatch(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="engine.shadow")
    with open_shadow("embedded", want_major=999) as shadow:
        assert shadow.major == max(b.major for b in list_available())
    assert any("999" in r.getMessage() for r in caplog.records if r.name == "engine.shadow")


def test_open_shadow_exact_major_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="engine.shadow")
    major = list_available()[-1].major
    with open_shadow("embedded", want_major=major) as shadow:
        assert shadow.major == major
    assert not [r for r in caplog.records if r.name == "engine.shadow"]


# -- docker -------------------------------------------------------------------------------------


def _docker_reason() -> str | None:
    try:
        from engine.shadow.docker import docker_client

        docker_client()
    except ShadowError as exc:
        return str(exc)
    return None


@pytest.mark.docker
def test_docker_shadow() -> None:
    reason = _docker_reason()
    if reason is not None:
        pytest.skip(f"docker shadow needs a Docker engine: {reason}")
    with open_shadow("docker", want_major=16) as shadow, shadow.database() as db:
        assert shadow.major == 16
        with psycopg.connect(db.dsn) as conn:
            assert conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone() == (False,)


def test_shadow_root_prefers_a_roomy_shm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from engine.shadow import embedded

    monkeypatch.delenv("PGFLUX_SHADOW_DIR", raising=False)
    monkeypatch.setattr(embedded, "SHM_DIR", tmp_path)
    monkeypatch.setattr(embedded, "SHM_MIN_FREE", 1)
    assert embedded.shadow_root() == tmp_path
    # a small /dev/shm (Docker's default is 64 MB) is not used
    monkeypatch.setattr(embedded, "SHM_MIN_FREE", 1 << 62)
    assert embedded.shadow_root() == Path(tempfile.gettempdir())
    # no /dev/shm at all
    monkeypatch.setattr(embedded, "SHM_DIR", tmp_path / "absent")
    assert embedded.shadow_root() == Path(tempfile.gettempdir())
    # the environment decides outright
    monkeypatch.setenv("PGFLUX_SHADOW_DIR", str(tmp_path / "chosen"))
    assert embedded.shadow_root() == tmp_path / "chosen"


def test_cluster_lives_under_the_shadow_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # not tmp_path: pytest's base dir is private, and the server user must reach the data dir
    root = Path(tempfile.mkdtemp(prefix="pgflux-test-root-"))
    try:
        root.chmod(0o755)
        monkeypatch.setenv("PGFLUX_SHADOW_DIR", str(root))
        with EmbeddedCluster(find_postgres_bin()) as cluster:
            assert cluster.tempdir.parent == root
            with cluster.database() as db, psycopg.connect(db.admin_dsn) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        assert list(root.iterdir()) == []
    finally:
        shutil.rmtree(root, ignore_errors=True)
