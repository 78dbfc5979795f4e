"""An ephemeral PostgreSQL cluster of our own: initdb, postgres on a private unix socket, teardown.

Layout of the temp dir (0700, owned by the server user):  data/  sock/  server.log  owner.pid
The server listens on no TCP address; its environment is built from scratch, so no secret of
ours (DATABASE_URL, tokens, INPUT_*, GITHUB_*, PG*) reaches SQL that runs inside it.

initdb output is cached per binary folder and version (under $XDG_CACHE_HOME/pgflux or
/tmp/pgflux-cache-<uid>) and copied into each new cluster. Measured here, start to ready, median
of 3 on a busy 2-core machine: PG 15 1.3 s with initdb vs 1.07 s copied; PG 18 1.74 s vs 1.11 s.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from engine import dsn as dsnlib
from engine.errors import ShadowError
from engine.pgbin import PgBin
from engine.shadow import reaper
from engine.shadow.base import (
    DEFAULT_STATEMENT_TIMEOUT,
    DEFAULT_TEMP_FILE_LIMIT,
    ServerShadow,
)

log = logging.getLogger("engine.shadow")

ADMIN_ROLE = "pgflux_admin"
LOADER_ROLE = "pgflux_loader"
PORT = 5432  # only names the socket file; the socket dir is private to this cluster
TEMP_PREFIX = "pgflux-shadow-"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0

SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Loading thousands of tables in one transaction runs out of lock slots at the default 64.
    "max_locks_per_transaction": "1024",
    "unix_socket_permissions": "0700",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


class ServerUser:
    """Who runs initdb and postgres: ourselves, or (as root) an unprivileged account."""

    def __init__(self) -> None:
        self.uid: int | None = None
        self.gid: int | None = None
        if os.geteuid() != 0:
            return
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
            return
        raise ShadowError("running as root and neither a 'postgres' nor a 'nobody' user exists")

    @property
    def switches(self) -> bool:
        return self.uid is not None

    def chown_tree(self, root: Path) -> None:
        if self.uid is None or self.gid is None:
            return
        os.chown(root, self.uid, self.gid)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid, follow_symlinks=False)

    @property
    def extra_groups(self) -> list[int] | None:
        # Drop root's supplementary groups too, not only uid and gid.
        return [] if self.uid is not None else None


def server_env(pgbin: PgBin, home: Path) -> dict[str, str]:
    """The server's whole environment: nothing inherited."""
    env = {
        "PATH": f"{pgbin.bindir}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(home),
    }
    if pgbin.needs_libpath and pgbin.libdir is not None:
        env["LD_LIBRARY_PATH"] = str(pgbin.libdir)
    return env


def default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "pgflux"
    return Path(tempfile.gettempdir()) / f"pgflux-cache-{os.getuid()}"


def pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    # The state letter follows the parenthesised command name, which may itself hold ')'.
    return stat.rpartition(")")[2].split()[0] != "Z"


# The shadow is thrown away, so its files may live in memory: creating a relation's files is
# most of a schema load's server time on a disk file system (at 300 tables: 4-10 s on ext4 under
# load, 1.0 s on tmpfs). Used only with this much free, since a Docker container's /dev/shm is
# 64 MB by default; PGFLUX_SHADOW_DIR chooses the directory outright.
SHM_DIR = Path("/dev/shm")  # noqa: S108 (mkdtemp: a private 0700 dir, as in /tmp)
SHM_MIN_FREE = 4 * 1024**3


def shadow_root() -> Path:
    """Where shadow clusters are created: $PGFLUX_SHADOW_DIR, else a roomy /dev/shm, else TMPDIR."""
    chosen = os.environ.get("PGFLUX_SHADOW_DIR")
    if chosen:
        return Path(chosen)
    try:
        st = os.statvfs(SHM_DIR)
    except OSError:
        return Path(tempfile.gettempdir())
    roomy = st.f_bavail * st.f_frsize >= SHM_MIN_FREE
    if roomy and os.access(SHM_DIR, os.W_OK | os.X_OK):
        return SHM_DIR
    return Path(tempfile.gettempdir())


def sweep_stale(tmp_root: Path | None = None) -> list[Path]:
    """Remove temp dirs of clusters whose owning process and postmaster are both gone.

    This is what cleans up after a SIGKILLed owner (its postgres died through PDEATHSIG).
    Without `tmp_root`, both places a shadow may live are swept.
    """
    roots = [tmp_root] if tmp_root else sorted({Path(tempfile.gettempdir()), shadow_root()})
    removed: list[Path] = []
    for cand in (c for root in roots for c in root.glob(f"{TEMP_PREFIX}*")):
        try:
            owner = int((cand / "owner.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if pid_alive(owner):
            continue
        try:
            postmaster = int((cand / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            postmaster = None
        if postmaster is not None and pid_alive(postmaster):
            continue
        shutil.rmtree(cand, ignore_errors=True)
        removed.append(cand)
    return removed


class EmbeddedCluster(ServerShadow):
    """A private PostgreSQL server in a temp dir, torn down on close, exit, SIGTERM and errors."""

    def __init__(
        self,
        pgbin: PgBin,
        *,
        superuser_loader: bool = False,
        statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT,
        temp_file_limit: str = DEFAULT_TEMP_FILE_LIMIT,
        cache_dir: Path | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__()
        self.pgbin = pgbin
        self.superuser_loader = superuser_loader
        self._statement_timeout = statement_timeout
        self._temp_file_limit = temp_file_limit
        self._cache_dir = cache_dir or default_cache_dir()
        self._use_cache = use_cache
        self._user = ServerUser()
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._loader_role = ADMIN_ROLE if superuser_loader else LOADER_ROLE
        sweep_stale()
        self.tempdir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=shadow_root()))
        self._admin_dsn = self._base_dsn(ADMIN_ROLE, "postgres")
        (self.tempdir / "owner.pid").write_text(f"{os.getpid()}\n")
        reaper.register(self)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # -- paths and DSNs -------------------------------------------------------------------

    @property
    def datadir(self) -> Path:
        return self.tempdir / "data"

    @property
    def sockdir(self) -> Path:
        return self.tempdir / "sock"

    @property
    def logfile(self) -> Path:
        return self.tempdir / "server.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _base_dsn(self, user: str, dbname: str) -> str:
        return dsnlib.build(
            {"host": str(self.sockdir), "port": str(PORT), "user": user, "dbname": dbname}
        )

    def _loader_dsn(self, dbname: str) -> str:
        if self.superuser_loader:
            # The superuser has no role-level default; give the session one.
            return dsnlib.with_params(
                self._base_dsn(ADMIN_ROLE, dbname),
                options=f"-c statement_timeout={self._statement_timeout}",
            )
        return self._base_dsn(LOADER_ROLE, dbname)

    # -- start ------------------------------------------------------------------------------

    def _start(self) -> None:
        self._init_datadir()
        self.sockdir.mkdir(mode=0o700)
        self._user.chown_tree(self.tempdir)
        os.chmod(self.tempdir, 0o700)
        self._launch()
        self._wait_ready()
        self.server_version_num = self._read_server_version()
        try:
            self._create_loader()
        except psycopg.Error as exc:
            raise ShadowError(f"cannot set up the loader role: {str(exc).strip()}") from None

    def _initdb(self, target: Path) -> None:
        base = [
            str(self.pgbin.initdb),
            "-D",
            str(target),
            "-U",
            ADMIN_ROLE,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
        env = server_env(self.pgbin, target.parent)
        last = ""
        # C.UTF-8 classifies non-ASCII text properly; plain C is the fallback where it is missing.
        for locale in ("C.UTF-8", "C"):
            shutil.rmtree(target, ignore_errors=True)
            res = subprocess.run(
                [*base, f"--locale={locale}"],
                capture_output=True,
                text=True,
                env=env,
                cwd=target.parent,
                timeout=300,
                check=False,
                user=self._user.uid,
                group=self._user.gid,
                extra_groups=self._user.extra_groups,
            )
            if res.returncode == 0:
                return
            last = (res.stderr or res.stdout).strip()
        raise ShadowError(f"initdb failed ({self.pgbin.initdb}): {last[-2000:]}")

    def _cache_key(self) -> str:
        ident = f"{self.pgbin.bindir}|{self.pgbin.version}|{ADMIN_ROLE}|{self._user.uid}"
        return f"{self.pgbin.major}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}"

    def _cache_usable(self, path: Path) -> bool:
        """Only trust a cache dir we own and others cannot write."""
        try:
            st = path.stat()
        except OSError:
            return False
        return st.st_uid == os.geteuid() and not (st.st_mode & 0o022)

    def _init_datadir(self) -> None:
        """Copy a cached initdb result when there is one; else run initdb and cache its output.

        The cache only needs to be readable by us: initdb itself always runs in our own temp dir
        (the server user may not be able to enter the cache's parents).
        """
        cached = self._cache_dir / self._cache_key()
        if self._use_cache and (cached / ".complete").is_file() and self._cache_usable(cached):
            shutil.copytree(cached, self.datadir, symlinks=True)
            (self.datadir / ".complete").unlink(missing_ok=True)
            return
        self._prepare_parent(self.tempdir)
        self._initdb(self.datadir)
        if self._use_cache:
            try:
                self._fill_cache(cached)
            except OSError as exc:
                log.warning("cannot cache the initdb result in %s: %s", self._cache_dir, exc)

    def _prepare_parent(self, parent: Path) -> None:
        # initdb, run as the server user, must be able to create its target inside `parent`.
        if self._user.uid is not None and self._user.gid is not None:
            os.chown(parent, self._user.uid, self._user.gid)

    def _fill_cache(self, cached: Path) -> None:
        self._cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self._cache_usable(self._cache_dir):
            raise PermissionError(f"cache dir {self._cache_dir} is not private to us")
        staging = Path(tempfile.mkdtemp(prefix="fill-", dir=self._cache_dir))
        try:
            shutil.copytree(self.datadir, staging / "data", symlinks=True)
            (staging / "data" / ".complete").write_text("ok\n")
            try:
                # Atomic publish; a concurrent filler may have won, which is just as good.
                os.rename(staging / "data", cached)
            except OSError:
                if not (cached / ".complete").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _launch(self) -> None:
        args = [str(self.pgbin.postgres), "-D", str(self.datadir), "-k", str(self.sockdir)]
        args += ["-p", str(PORT)]
        for key, value in SERVER_SETTINGS.items():
            args += ["-c", f"{key}={value}"]
        with self.logfile.open("ab") as logf:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=server_env(self.pgbin, self.tempdir),
                cwd=self.tempdir,
                # Own session: a terminal's Ctrl-C reaches us, not the server; we stop it.
                start_new_session=True,
                preexec_fn=reaper.pdeathsig_preexec(),
                user=self._user.uid,
                group=self._user.gid,
                extra_groups=self._user.extra_groups,
            )

    def _log_tail(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        assert self._proc is not None
        started = time.monotonic()
        deadline = started + READY_TIMEOUT_S
        while True:
            code = self._proc.poll()
            if code is not None:
                raise ShadowError(
                    f"postgres exited with code {code} during start-up", details=self._log_tail()
                )
            try:
                with psycopg.connect(self._admin_dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise ShadowError(
                    f"postgres did not accept connections within {READY_TIMEOUT_S:.0f}s",
                    details=self._log_tail(),
                )
            # A copied data folder is ready in ~50 ms: poll often at first (a try is one
            # connection attempt on a local socket), then back off.
            elapsed = time.monotonic() - started
            time.sleep(0.005 if elapsed < 1 else min(elapsed / 10, 0.25))

    def _create_loader(self) -> None:
        with self._admin_connect() as conn:
            if not self.superuser_loader:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(
                        sql.Identifier(LOADER_ROLE)
                    )
                )
                for key, value in (
                    ("statement_timeout", self._statement_timeout),
                    ("temp_file_limit", self._temp_file_limit),
                ):
                    conn.execute(
                        sql.SQL("ALTER ROLE {} SET {} = {}").format(
                            sql.Identifier(LOADER_ROLE), sql.Identifier(key), sql.Literal(value)
                        )
                    )

    # -- stop -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the server (fast shutdown, then SIGKILL after a bound) and remove the temp dir."""
        if self._closed:
            return
        self._closed = True
        try:
            self._stop()
        finally:
            shutil.rmtree(self.tempdir, ignore_errors=True)
            reaper.unregister(self)

    def _stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)  # fast shutdown: aborts sessions, exits cleanly
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("postgres (pid %s) ignored fast shutdown; killing it", proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()

    def __repr__(self) -> str:
        return f"EmbeddedCluster(pg={self.pgbin.version}, dir={self.tempdir})"
