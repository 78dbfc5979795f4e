"""Connection strings: parse, rewrite and redact with libpq's own rules (psycopg.conninfo).

Both `postgres://user:pw@host/db?sslmode=require` URLs and `host=... password=...` key/value
strings are accepted. Every parameter we do not touch (TLS: sslmode, sslrootcert, sslcert, sslkey,
sslcrl, sslpassword, sslsni, ...) passes through unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from engine.errors import UsageError

REDACTED = "***"

# Parameters whose values are secrets.
_SECRET_KEYS = ("password", "sslpassword")

_URL_SCHEMES = ("postgres://", "postgresql://")


def is_url(dsn: str) -> bool:
    return dsn.strip().lower().startswith(_URL_SCHEMES)


def parse(dsn: str) -> dict[str, str]:
    """The DSN's parameters as libpq reads them (URL userinfo becomes user/password)."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise UsageError(f"invalid connection string: {_scrub(str(exc), dsn)}") from None
    return {k: str(v) for k, v in params.items() if v is not None}


def build(params: dict[str, str]) -> str:
    """A key/value conninfo string from parameters, quoted by libpq's rules."""
    return make_conninfo("", **params)


def with_dbname(dsn: str, name: str) -> str:
    """The same connection, pointed at database `name`."""
    params = parse(dsn)
    params["dbname"] = name
    return build(params)


def with_params(dsn: str, **overrides: str) -> str:
    """The same connection with some parameters replaced (e.g. user, password)."""
    params = parse(dsn)
    params.update(overrides)
    return build(params)


def passwords_in(dsn: str) -> list[str]:
    """Every secret the DSN carries, as written and decoded, for log masking."""
    found: list[str] = []
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        params = {}
    for key in _SECRET_KEYS:
        value = params.get(key)
        if value:
            found.append(str(value))
    if is_url(dsn):
        raw = _url_password_raw(dsn)
        if raw:
            found.append(raw)
            found.append(unquote(raw))
    # Longest first, so masking a secret never leaves a longer one half-revealed.
    return sorted({p for p in found if p}, key=lambda p: (-len(p), p))


def redact(dsn: str) -> str:
    """The DSN with every password replaced by `***`; safe to log.

    The result keeps the input's form (URL stays URL) so a user recognises it. An unparsable
    input is still scrubbed of anything that looks like a password.
    """
    if is_url(dsn):
        return _redact_url(dsn)
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return _scrub(dsn, dsn)
    for key in _SECRET_KEYS:
        if params.get(key):
            params[key] = REDACTED
    return make_conninfo("", **params)


def _url_password_raw(dsn: str) -> str | None:
    netloc = urlsplit(dsn.strip()).netloc
    if "@" not in netloc:
        return None
    userinfo = netloc.rsplit("@", 1)[0]
    # Multi-host URLs put one userinfo before the first host only.
    if ":" not in userinfo:
        return None
    return userinfo.split(":", 1)[1]


def _redact_url(dsn: str) -> str:
    text = dsn.strip()
    parts = urlsplit(text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + REDACTED
        netloc = f"{userinfo}@{hosts}"
    query = parts.query
    if query:
        pairs = []
        for pair in query.split("&"):
            key, sep, _value = pair.partition("=")
            pairs.append(f"{key}={REDACTED}" if sep and unquote(key) in _SECRET_KEYS else pair)
        query = "&".join(pairs)
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}"
    if query:
        rebuilt += f"?{query}"
    if parts.fragment:
        rebuilt += f"#{parts.fragment}"
    return rebuilt


def _scrub(text: str, dsn: str) -> str:
    """Mask the DSN's known secrets inside arbitrary text (error messages, unparsable input)."""
    for secret in passwords_in(dsn):
        text = text.replace(secret, REDACTED)
    # Last resort for input libpq could not parse: password=... up to whitespace.
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", rf"\1{REDACTED}", text)


def scrub(text: str, *dsns: str) -> str:
    """`text` with the passwords of every given DSN masked; for error messages."""
    for dsn in dsns:
        for secret in passwords_in(dsn):
            text = text.replace(secret, REDACTED)
    return text
