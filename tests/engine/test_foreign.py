"""Foreign data wrappers, servers and user mappings: inspect and converge.

Tests use a dummy wrapper (no handler, no validator: any option is accepted) so that they never
need a remote server; postgres_fdw is used where its handler/validator matter, if available.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from engine.catalog import inspect_dsn
from engine.model.foreign import Option
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

ROLE = f"fdw_user_{uuid.uuid4().hex[:8]}"
MAKE_ROLE = (
    f"DO $$ BEGIN CREATE ROLE {ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
)
W = "CREATE FOREIGN DATA WRAPPER dummy;"
S = W + "CREATE SERVER srv FOREIGN DATA WRAPPER dummy;"

# (before, after, exact SQL, exact hazard codes)
CASES = [
    pytest.param("", W, ["CREATE FOREIGN DATA WRAPPER dummy"], set(), id="fdw-create"),
    pytest.param(
        W, "", ["DROP FOREIGN DATA WRAPPER dummy"], {"BACKWARD_INCOMPATIBLE"}, id="fdw-drop"
    ),
    pytest.param(
        "",
        "CREATE FOREIGN DATA WRAPPER dummy OPTIONS (debug 'true', b 'x');",
        ["CREATE FOREIGN DATA WRAPPER dummy OPTIONS (b 'x', debug 'true')"],
        set(),
        id="fdw-create-options",
    ),
    pytest.param(
        "CREATE FOREIGN DATA WRAPPER dummy OPTIONS (a '1', b '2', c '3');",
        "CREATE FOREIGN DATA WRAPPER dummy OPTIONS (a '1', b '20', d '4');",
        ["ALTER FOREIGN DATA WRAPPER dummy OPTIONS (DROP c, SET b '20', ADD d '4')"],
        set(),
        id="fdw-options-add-set-drop",
    ),
    pytest.param(
        W,
        "CREATE FOREIGN DATA WRAPPER dummy VALIDATOR postgresql_fdw_validator;",
        ["ALTER FOREIGN DATA WRAPPER dummy VALIDATOR pg_catalog.postgresql_fdw_validator"],
        set(),
        id="fdw-set-validator",
    ),
    pytest.param(
        "CREATE FOREIGN DATA WRAPPER dummy VALIDATOR postgresql_fdw_validator;",
        W,
        ["ALTER FOREIGN DATA WRAPPER dummy NO VALIDATOR"],
        set(),
        id="fdw-no-validator",
    ),
    pytest.param(
        W,
        W + "COMMENT ON FOREIGN DATA WRAPPER dummy IS 'test wrapper';",
        ["COMMENT ON FOREIGN DATA WRAPPER dummy IS 'test wrapper'"],
        set(),
        id="fdw-comment",
    ),
    pytest.param(
        W,
        S,
        ["CREATE SERVER srv FOREIGN DATA WRAPPER dummy"],
        set(),
        id="server-create",
    ),
    pytest.param(
        "",
        W + "CREATE SERVER srv TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER dummy"
        " OPTIONS (host 'db.example', port '5432');",
        [
            "CREATE FOREIGN DATA WRAPPER dummy",
            "CREATE SERVER srv TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER dummy"
            " OPTIONS (host 'db.example', port '5432')",
        ],
        set(),
        id="fdw-and-server-create-ordered",
    ),
    pytest.param(
        S,
        W,
        ["DROP SERVER srv"],
        {"BACKWARD_INCOMPATIBLE"},
        id="server-drop",
    ),
    pytest.param(
        W + "CREATE SERVER srv FOREIGN DATA WRAPPER dummy OPTIONS (host 'a', port '1');",
        W + "CREATE SERVER srv FOREIGN DATA WRAPPER dummy OPTIONS (host 'b', dbname 'x');",
        ["ALTER SERVER srv OPTIONS (DROP port, ADD dbname 'x', SET host 'b')"],
        set(),
        id="server-options",
    ),
    pytest.param(
        W + "CREATE SERVER srv VERSION '1' FOREIGN DATA WRAPPER dummy;",
        W + "CREATE SERVER srv VERSION '2' FOREIGN DATA WRAPPER dummy;",
        ["ALTER SERVER srv VERSION '2'"],
        set(),
        id="server-version",
    ),
    pytest.param(
        W + "CREATE SERVER srv TYPE 'a' FOREIGN DATA WRAPPER dummy;",
        W + "CREATE SERVER srv TYPE 'b' FOREIGN DATA WRAPPER dummy;",
        ["DROP SERVER srv", "CREATE SERVER srv TYPE 'b' FOREIGN DATA WRAPPER dummy"],
        {"BACKWARD_INCOMPATIBLE"},
        id="server-type-recreates",
    ),
    pytest.param(
        W + "CREATE FOREIGN DATA WRAPPER other; CREATE SERVER srv FOREIGN DATA WRAPPER dummy;",
        W + "CREATE FOREIGN DATA WRAPPER other; CREATE SERVER srv FOREIGN DATA WRAPPER other;",
        ["DROP SERVER srv", "CREATE SERVER srv FOREIGN DATA WRAPPER other"],
        {"BACKWARD_INCOMPATIBLE"},
        id="server-fdw-recreates",
    ),
    pytest.param(
        S,
        S + "COMMENT ON SERVER srv IS 'remote';",
        ["COMMENT ON SERVER srv IS 'remote'"],
        set(),
        id="server-comment",
    ),
    pytest.param(
        MAKE_ROLE + S,
        MAKE_ROLE + S + f"GRANT USAGE ON FOREIGN SERVER srv TO {ROLE};",
        [f"GRANT USAGE ON FOREIGN SERVER srv TO {ROLE}"],
        {"AUTHZ_CHANGE"},
        id="server-grant-usage",
    ),
    pytest.param(
        MAKE_ROLE + S + f"GRANT USAGE ON FOREIGN SERVER srv TO {ROLE} WITH GRANT OPTION;",
        MAKE_ROLE + S,
        [f"REVOKE USAGE ON FOREIGN SERVER srv FROM {ROLE}"],
        {"AUTHZ_CHANGE"},
        id="server-revoke-usage",
    ),
    pytest.param(
        MAKE_ROLE + W,
        MAKE_ROLE + W + f"GRANT USAGE ON FOREIGN DATA WRAPPER dummy TO {ROLE} WITH GRANT OPTION;",
        [f"GRANT USAGE ON FOREIGN DATA WRAPPER dummy TO {ROLE} WITH GRANT OPTION"],
        {"AUTHZ_CHANGE"},
        id="fdw-grant-with-grant-option",
    ),
    pytest.param(
        MAKE_ROLE + S,
        MAKE_ROLE + S + f"CREATE USER MAPPING FOR {ROLE} SERVER srv OPTIONS (user 'remote');",
        [f"CREATE USER MAPPING FOR {ROLE} SERVER srv OPTIONS (\"user\" 'remote')"],
        {"AUTHZ_CHANGE"},
        id="user-mapping-create",
    ),
    pytest.param(
        S,
        S + "CREATE USER MAPPING FOR PUBLIC SERVER srv;",
        ["CREATE USER MAPPING FOR PUBLIC SERVER srv"],
        {"AUTHZ_CHANGE"},
        id="user-mapping-public-create",
    ),
    pytest.param(
        S + "CREATE USER MAPPING FOR PUBLIC SERVER srv;",
        S,
        ["DROP USER MAPPING FOR PUBLIC SERVER srv"],
        {"AUTHZ_CHANGE"},
        id="user-mapping-drop",
    ),
    pytest.param(
        MAKE_ROLE + S + f"CREATE USER MAPPING FOR {ROLE} SERVER srv OPTIONS (user 'a', x '1');",
        MAKE_ROLE + S + f"CREATE USER MAPPING FOR {ROLE} SERVER srv OPTIONS (user 'b', y '2');",
        [f"ALTER USER MAPPING FOR {ROLE} SERVER srv OPTIONS (DROP x, SET \"user\" 'b', ADD y '2')"],
        {"AUTHZ_CHANGE"},
        id="user-mapping-options",
    ),
    pytest.param(
        S + "CREATE USER MAPPING FOR PUBLIC SERVER srv;",
        "",
        [
            "DROP USER MAPPING FOR PUBLIC SERVER srv",
            "DROP SERVER srv",
            "DROP FOREIGN DATA WRAPPER dummy",
        ],
        {"AUTHZ_CHANGE", "BACKWARD_INCOMPATIBLE"},
        id="drop-all-in-reverse-order",
    ),
    pytest.param(
        "",
        S + "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u');",
        [
            "CREATE FOREIGN DATA WRAPPER dummy",
            "CREATE SERVER srv FOREIGN DATA WRAPPER dummy",
            "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (\"user\" 'u')",
        ],
        {"AUTHZ_CHANGE"},
        id="create-all-in-order",
    ),
    pytest.param(
        W + "CREATE SERVER srv TYPE 'a' FOREIGN DATA WRAPPER dummy;"
        "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u');",
        W + "CREATE SERVER srv TYPE 'b' FOREIGN DATA WRAPPER dummy;"
        "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u');",
        [
            "DROP USER MAPPING FOR PUBLIC SERVER srv",
            "DROP SERVER srv",
            "CREATE SERVER srv TYPE 'b' FOREIGN DATA WRAPPER dummy",
            "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (\"user\" 'u')",
        ],
        {"AUTHZ_CHANGE", "BACKWARD_INCOMPATIBLE"},
        id="server-recreate-rebuilds-user-mapping",
    ),
]


CASES += [
    pytest.param(
        MAKE_ROLE + S + "CREATE FOREIGN TABLE ft (id integer) SERVER srv;",
        MAKE_ROLE
        + S
        + f"CREATE FOREIGN TABLE ft (id integer) SERVER srv; GRANT SELECT ON ft TO {ROLE};",
        [f"GRANT SELECT ON TABLE public.ft TO {ROLE}"],
        {"AUTHZ_CHANGE"},
        id="foreign-table-grant",
    ),
    pytest.param(
        MAKE_ROLE + W + f"GRANT USAGE ON FOREIGN DATA WRAPPER dummy TO {ROLE};",
        MAKE_ROLE + W,
        [f"REVOKE USAGE ON FOREIGN DATA WRAPPER dummy FROM {ROLE}"],
        {"AUTHZ_CHANGE"},
        id="fdw-revoke-usage",
    ),
    pytest.param(
        S,
        S + "GRANT USAGE ON FOREIGN SERVER srv TO PUBLIC;",
        ["GRANT USAGE ON FOREIGN SERVER srv TO PUBLIC"],
        {"AUTHZ_CHANGE"},
        id="server-grant-public",
    ),
    pytest.param(
        "CREATE FOREIGN DATA WRAPPER \"Odd Wrapper\" OPTIONS (\"Key\" 'it''s');",
        'CREATE FOREIGN DATA WRAPPER "Odd Wrapper" OPTIONS ("Key" \'its\');',
        ['ALTER FOREIGN DATA WRAPPER "Odd Wrapper" OPTIONS (SET "Key" \'its\')'],
        set(),
        id="quoted-names-and-values",
    ),
]


@pytest.mark.parametrize(("before", "after", "sql", "hazards"), CASES)
def test_foreign_converges(
    make_db: MakeDb, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


NO_DIFFERENCE = [
    pytest.param(
        "CREATE FOREIGN DATA WRAPPER dummy OPTIONS (a '1', b '2');",
        "create foreign data wrapper DUMMY options (b '2', a '1');",
        id="option-order-and-case",
    ),
    pytest.param(
        W + "CREATE SERVER srv FOREIGN DATA WRAPPER dummy OPTIONS (host 'h', port '1');",
        W + "CREATE   SERVER \"srv\" FOREIGN DATA WRAPPER dummy OPTIONS (port '1', host 'h');",
        id="server-spelling",
    ),
    pytest.param(
        S + "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u', password 'one');",
        S + "CREATE USER MAPPING FOR public SERVER srv OPTIONS (password 'two', user 'u');",
        id="user-mapping-password-never-compared",
    ),
]


@pytest.mark.parametrize(("a_sql", "b_sql"), NO_DIFFERENCE)
def test_no_false_positives(make_db: MakeDb, a_sql: str, b_sql: str) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, a_sql)
    load(b.admin_dsn, b_sql)
    current, desired = inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)
    assert plan_statements(current, desired) == []
    assert current.fingerprint() == desired.fingerprint()


def test_inspect_model(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        MAKE_ROLE + "CREATE FOREIGN DATA WRAPPER dummy VALIDATOR postgresql_fdw_validator;"
        "CREATE SERVER srv TYPE 't' VERSION 'v' FOREIGN DATA WRAPPER dummy OPTIONS (host 'h');"
        f"CREATE USER MAPPING FOR {ROLE} SERVER srv OPTIONS (user 'u');"
        f"GRANT USAGE ON FOREIGN SERVER srv TO {ROLE};",
    )
    schema = inspect_dsn(db.admin_dsn)
    (fdw,) = schema.fdws
    assert fdw.name == "dummy"
    assert fdw.handler is None
    assert fdw.validator == "pg_catalog.postgresql_fdw_validator"
    assert fdw.options == ()
    assert fdw.acl == ()
    (srv,) = schema.servers
    assert (srv.fdw, srv.type, srv.version) == ("dummy", "t", "v")
    assert srv.options == (Option(name="host", value="h"),)
    assert [(p.grantee, p.privilege, p.grantable) for p in srv.acl] == [(ROLE, "USAGE", False)]
    (mapping,) = schema.user_mappings
    assert (mapping.server, mapping.user) == ("srv", ROLE)
    assert mapping.options == (Option(name="user", value="u"),)


def test_password_never_reaches_model_or_plan(make_db: MakeDb) -> None:
    secret = f"s3cret-{uuid.uuid4().hex}"
    a, b = make_db(), make_db()
    load(a.admin_dsn, S)
    load(
        b.admin_dsn,
        S + f"CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u', password '{secret}');",
    )
    desired = inspect_dsn(b.admin_dsn)  # as superuser: the catalog would show it
    assert secret not in desired.to_json()
    assert "password" not in desired.to_json()
    (mapping,) = desired.user_mappings
    assert mapping.options == (Option(name="user", value="u"),)
    statements = plan_statements(inspect_dsn(a.admin_dsn), desired)
    assert [s.sql for s in statements] == [
        "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (\"user\" 'u')"
    ]
    assert all(secret not in s.model_dump_json() for s in statements)
    # Changing only the password plans nothing: pg-flux does not manage it.
    load(a.admin_dsn, "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u', password 'x');")
    assert plan_statements(inspect_dsn(a.admin_dsn), desired) == []


def test_model_drops_a_password_option_given_to_it() -> None:
    from engine.model.foreign import UserMapping

    mapping = UserMapping(
        server="s",
        user="PUBLIC",
        options=(Option(name="password", value="x"), Option(name="user", value="u")),
    )
    assert mapping.options == (Option(name="user", value="u"),)


def test_extension_wrapper_is_not_managed(db: ShadowDatabase) -> None:
    with psycopg.connect(db.admin_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgres_fdw'"
        ).fetchone()
    if not row or not row[0]:
        pytest.skip("postgres_fdw is not available on this server")
    load(
        db.admin_dsn,
        "CREATE EXTENSION postgres_fdw;"
        "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', dbname 'd');",
    )
    schema = inspect_dsn(db.admin_dsn)
    assert schema.fdws == ()  # the extension's member
    (srv,) = schema.servers
    assert srv.fdw == "postgres_fdw"
    assert [o.name for o in srv.options] == ["dbname", "host"]


def test_postgres_fdw_server_converges(make_db: MakeDb) -> None:
    probe = make_db()
    with psycopg.connect(probe.admin_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgres_fdw'"
        ).fetchone()
    if not row or not row[0]:
        pytest.skip("postgres_fdw is not available on this server")
    ext = "CREATE EXTENSION postgres_fdw;"
    result = assert_converges(
        make_db,
        ext + "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'a');",
        ext + "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw"
        " OPTIONS (host 'b', port '5433', fetch_size '500');",
    )
    assert result.hazard_codes == set()
    assert result.sql == [
        "ALTER SERVER remote OPTIONS (ADD fetch_size '500', SET host 'b', ADD port '5433')"
    ]


def test_server_owner_change_when_ownership_is_managed(make_db: MakeDb) -> None:
    from engine.diff.context import PlanOptions

    base = MAKE_ROLE + W + f"GRANT USAGE ON FOREIGN DATA WRAPPER dummy TO {ROLE};"
    result = assert_converges(
        make_db,
        base + "CREATE SERVER srv FOREIGN DATA WRAPPER dummy;",
        base + f"CREATE SERVER srv FOREIGN DATA WRAPPER dummy; ALTER SERVER srv OWNER TO {ROLE};",
        options=PlanOptions(manage_ownership=True),
    )
    assert result.sql == [f"ALTER SERVER srv OWNER TO {ROLE}"]
    assert result.hazard_codes == {"AUTHZ_CHANGE"}


def test_options_hidden_from_the_inspecting_role_are_not_drift(make_db: MakeDb) -> None:
    # Production is read by a non-superuser that may not see a mapping's options: hidden must
    # not read as "no options", or every plan would re-add them.
    sql = S + "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u');"
    a, b = make_db(), make_db()
    load(a.admin_dsn, sql)
    load(b.admin_dsn, sql)
    current = inspect_dsn(a.dsn)  # not a superuser, not the server's owner
    (hidden,) = current.user_mappings
    assert hidden.options is None
    desired = inspect_dsn(b.admin_dsn)
    (seen,) = desired.user_mappings
    assert seen.options == (Option(name="user", value="u"),)
    assert plan_statements(current, desired) == []
