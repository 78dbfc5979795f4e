"""DSN parsing, rewriting and redaction."""

from __future__ import annotations

import pytest

from engine import dsn as dsnlib
from engine.errors import UsageError

TLS = {
    "sslmode": "verify-full",
    "sslrootcert": "/etc/ca.pem",
    "sslcert": "/etc/client.crt",
    "sslkey": "/etc/client.key",
    "sslcrl": "/etc/crl.pem",
}


def test_redact_kv_password() -> None:
    out = dsnlib.redact("host=db user=app password=hunter2 dbname=prod")
    assert "hunter2" not in out
    assert dsnlib.parse(out)["password"] == "***"
    assert dsnlib.parse(out)["host"] == "db"


def test_redact_quoted_kv_password_with_spaces() -> None:
    out = dsnlib.redact("host=db password='a b\\'c' dbname=prod")
    assert "a b" not in out
    assert dsnlib.parse(out)["password"] == "***"


def test_redact_url_userinfo_keeps_url_form() -> None:
    out = dsnlib.redact("postgres://app:s%40cret@db.example:5432/prod?sslmode=require")
    assert out == "postgres://app:***@db.example:5432/prod?sslmode=require"


def test_redact_url_query_password_and_sslpassword() -> None:
    out = dsnlib.redact("postgresql://app@db/prod?password=qpw&sslpassword=keypw&sslmode=require")
    assert "qpw" not in out
    assert "keypw" not in out
    assert "sslmode=require" in out


def test_redact_kv_sslpassword() -> None:
    out = dsnlib.redact("host=db sslpassword=keypw sslkey=/k")
    assert "keypw" not in out
    assert dsnlib.parse(out)["sslkey"] == "/k"


def test_redact_without_password_is_unchanged_in_meaning() -> None:
    dsn = "host=db user=app dbname=prod"
    assert dsnlib.parse(dsnlib.redact(dsn)) == dsnlib.parse(dsn)


def test_redact_unparsable_input_still_hides_password() -> None:
    out = dsnlib.redact("host=db password=hunter2 'unterminated")
    assert "hunter2" not in out


def test_passwords_in_url_gives_raw_and_decoded() -> None:
    found = dsnlib.passwords_in("postgres://app:s%40cret@db/prod")
    assert "s@cret" in found
    assert "s%40cret" in found


def test_passwords_in_kv_and_none() -> None:
    assert dsnlib.passwords_in("host=db password=pw1 sslpassword=pw2") == ["pw1", "pw2"]
    assert dsnlib.passwords_in("host=db") == []


def test_scrub_masks_every_password_in_text() -> None:
    dsn = "postgres://app:topsecret@db/prod"
    assert dsnlib.scrub("auth failed for topsecret", dsn) == "auth failed for ***"


def test_with_dbname_url_and_kv_keep_tls_params() -> None:
    url = "postgres://app:pw@db:6543/prod?" + "&".join(f"{k}={v}" for k, v in TLS.items())
    for source in (url, dsnlib.build({"host": "db", "password": "pw", **TLS})):
        params = dsnlib.parse(dsnlib.with_dbname(source, "shadow_1"))
        assert params["dbname"] == "shadow_1"
        assert params["password"] == "pw"
        for key, value in TLS.items():
            assert params[key] == value


def test_with_params_overrides_user_and_password() -> None:
    out = dsnlib.parse(dsnlib.with_params("postgres://a:b@h/d", user="x", password="y z"))
    assert (out["user"], out["password"], out["host"], out["dbname"]) == ("x", "y z", "h", "d")


def test_parse_error_is_usage_error_without_password() -> None:
    with pytest.raises(UsageError) as info:
        dsnlib.parse("host=db password=hunter2 nosuchparam=1")
    assert "hunter2" not in str(info.value)


def test_is_url() -> None:
    assert dsnlib.is_url("postgresql://x")
    assert dsnlib.is_url("  POSTGRES://x")
    assert not dsnlib.is_url("host=x")
