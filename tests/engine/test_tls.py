"""TLS parameters pass through to libpq: a server that requires TLS, with a self-signed CA.

verify-full with the right CA succeeds (from --dsn, a URL in $DATABASE_URL, or PG* variables);
a wrong CA or no TLS at all fails with a clear one-line cause.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from engine import dsn as dsnlib
from engine.cli import main
from engine.pgbin import find_postgres_bin
from engine.shadow import embedded, reaper
from engine.shadow.embedded import EmbeddedCluster


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_cert(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class TlsCluster(EmbeddedCluster):
    """The embedded cluster listening on 127.0.0.1 with ssl=on and hostssl-only pg_hba."""

    tls_port = 0
    server_files: tuple[bytes, bytes] = (b"", b"")

    def _base_dsn(self, user: str, dbname: str) -> str:
        return dsnlib.build(
            {"host": str(self.sockdir), "port": str(self.tls_port), "user": user, "dbname": dbname}
        )

    def _launch(self) -> None:
        cert, key = self.server_files
        (self.datadir / "server.crt").write_bytes(cert)
        (self.datadir / "server.key").write_bytes(key)
        os.chmod(self.datadir / "server.key", 0o600)
        hba = self.datadir / "pg_hba.conf"
        # First match wins: TCP only with TLS, ahead of initdb's lines; sockets stay as they were.
        rules = "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n"
        hba.write_text(rules + hba.read_text(encoding="utf-8"), encoding="utf-8")
        self._user.chown_tree(self.datadir)
        settings = dict(embedded.SERVER_SETTINGS)
        settings |= {
            "listen_addresses": "127.0.0.1",
            "ssl": "on",
            "ssl_cert_file": "server.crt",
            "ssl_key_file": "server.key",
        }
        args = [str(self.pgbin.postgres), "-D", str(self.datadir), "-k", str(self.sockdir)]
        args += ["-p", str(self.tls_port)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        with self.logfile.open("ab") as logf:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=embedded.server_env(self.pgbin, self.tempdir),
                cwd=self.tempdir,
                start_new_session=True,
                preexec_fn=reaper.pdeathsig_preexec(),
                user=self._user.uid,
                group=self._user.gid,
                extra_groups=self._user.extra_groups,
            )


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    ca_key, ca = _ca("pgflux test CA")
    _, other_ca = _ca("some other CA")
    key, cert = _server_cert(ca_key, ca)
    (folder / "ca.pem").write_bytes(_pem(ca))
    (folder / "wrong-ca.pem").write_bytes(_pem(other_ca))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    class Cluster(TlsCluster):
        tls_port = _free_port()
        server_files = (_pem(cert), key_pem)

    cluster = Cluster(find_postgres_bin(None), use_cache=False)
    try:
        yield Cluster.tls_port, folder / "ca.pem", folder / "wrong-ca.pem"
    finally:
        cluster.close()


def _dsn(port: int, **extra: str) -> str:
    return dsnlib.build(
        {"host": "127.0.0.1", "port": str(port), "user": "pgflux_admin", "dbname": "postgres"}
        | extra
    )


def test_verify_full_with_the_right_ca(
    tls: tuple[int, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    port, ca, _ = tls
    dsn = _dsn(port, sslmode="verify-full", sslrootcert=str(ca))
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert row == (True,)
    assert main(["inspect", "--dsn", dsn, "--format", "text"]) == 0
    assert "schema public" in capsys.readouterr().out
    assert main(["migrate", "status", "--dsn", dsn]) == 0
    assert "No migrations recorded" in capsys.readouterr().out


def test_url_in_database_url_and_pg_variables(
    tls: tuple[int, Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca, _ = tls
    url = (
        f"postgresql://pgflux_admin@127.0.0.1:{port}/postgres?sslmode=verify-full&sslrootcert={ca}"
    )
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["inspect", "--format", "text"]) == 0
    capsys.readouterr()
    monkeypatch.delenv("DATABASE_URL")
    for name, value in {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(port),
        "PGUSER": "pgflux_admin",
        "PGDATABASE": "postgres",
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": str(ca),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["inspect", "--format", "text"]) == 0
    assert "schema public" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("params", "cause"),
    [
        pytest.param(
            {"sslmode": "verify-full", "wrong": "1"}, "certificate verify failed", id="wrong-ca"
        ),
        pytest.param({"sslmode": "disable"}, "no encryption", id="no-tls"),
    ],
)
def test_failures_are_clear(
    tls: tuple[int, Path, Path],
    capsys: pytest.CaptureFixture[str],
    params: dict[str, str],
    cause: str,
) -> None:
    port, _, wrong = tls
    extra = {"sslmode": params["sslmode"]}
    if "wrong" in params:
        extra["sslrootcert"] = str(wrong)
    dsn = _dsn(port, password="hunter2secret", **extra)
    assert main(["inspect", "--dsn", dsn]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pg-flux: error: could not inspect production:")
    assert cause in err
    assert "hunter2secret" not in err
