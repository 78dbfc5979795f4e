"""Object privileges (the generic GRANT / REVOKE diff) and default privileges: converge, inspect.

Roles are cluster-wide: each test module uses role names with a unique suffix, created in both
databases in a way that tolerates their existing already.
"""

from __future__ import annotations

import uuid

import pytest

from engine.catalog import inspect_dsn
from engine.diff.generic import grant_target
from engine.model.base import Privilege
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

SUFFIX = uuid.uuid4().hex[:8]
R1 = f"reader_{SUFFIX}"
R2 = f"writer_{SUFFIX}"
OWNER = f"owner_{SUFFIX}"
MIXED = f'"Mixed Case {SUFFIX}"'  # a role name that must be quoted
ROLES = "".join(
    f"DO $$ BEGIN CREATE ROLE {r} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
    for r in (R1, R2, OWNER, MIXED)
)
T = ROLES + "CREATE TABLE t (id int, secret text);"
F = ROLES + "CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a $$;"

# (before, after, exact SQL in plan order); every statement is AUTHZ_CHANGE.
GRANTS = [
    pytest.param(
        ROLES + "CREATE SCHEMA app;",
        ROLES + f"CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO {R1};",
        [f"GRANT USAGE ON SCHEMA app TO {R1}"],
        id="schema-grant",
    ),
    pytest.param(
        ROLES + f"CREATE SCHEMA app; GRANT USAGE, CREATE ON SCHEMA app TO {R1};",
        ROLES + f"CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO {R1};",
        [f"REVOKE CREATE ON SCHEMA app FROM {R1}"],
        id="schema-revoke-one",
    ),
    pytest.param(
        ROLES + "CREATE SCHEMA app;",
        ROLES + "CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO PUBLIC;",
        ["GRANT USAGE ON SCHEMA app TO PUBLIC"],
        id="schema-grant-public",
    ),
    pytest.param(
        ROLES,
        ROLES + f"CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO {R1} WITH GRANT OPTION;",
        ["CREATE SCHEMA app", f"GRANT USAGE ON SCHEMA app TO {R1} WITH GRANT OPTION"],
        id="schema-new-with-grant",
    ),
    pytest.param(
        ROLES + "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        ROLES + "GRANT CREATE ON SCHEMA public TO PUBLIC;",
        ["GRANT CREATE ON SCHEMA public TO PUBLIC"],
        id="public-schema-create-to-public",
    ),
    pytest.param(
        T,
        T + f"GRANT SELECT, INSERT ON t TO {R1};",
        [f"GRANT INSERT ON TABLE public.t TO {R1}", f"GRANT SELECT ON TABLE public.t TO {R1}"],
        id="table-grant",
    ),
    pytest.param(
        T + f"GRANT SELECT, INSERT ON t TO {R1};",
        T,
        [
            f"REVOKE INSERT ON TABLE public.t FROM {R1}",
            f"REVOKE SELECT ON TABLE public.t FROM {R1}",
        ],
        id="table-revoke",
    ),
    pytest.param(
        T,
        T + "GRANT SELECT ON t TO PUBLIC;",
        ["GRANT SELECT ON TABLE public.t TO PUBLIC"],
        id="table-grant-public",
    ),
    pytest.param(
        T + f"GRANT SELECT ON t TO {R1};",
        T + f"GRANT SELECT ON t TO {R1} WITH GRANT OPTION;",
        [f"GRANT SELECT ON TABLE public.t TO {R1} WITH GRANT OPTION"],
        id="table-add-grant-option",
    ),
    pytest.param(
        T + f"GRANT SELECT ON t TO {R1} WITH GRANT OPTION;",
        T + f"GRANT SELECT ON t TO {R1};",
        [f"REVOKE GRANT OPTION FOR SELECT ON TABLE public.t FROM {R1}"],
        id="table-remove-grant-option",
    ),
    pytest.param(
        T + f"GRANT SELECT ON t TO {R1};",
        T + f"GRANT SELECT ON t TO {R2};",
        [f"REVOKE SELECT ON TABLE public.t FROM {R1}", f"GRANT SELECT ON TABLE public.t TO {R2}"],
        id="table-move-grant",
    ),
    pytest.param(
        ROLES,
        T + f"GRANT SELECT ON t TO {R1};",
        [
            "CREATE TABLE public.t (\n    id integer,\n    secret text\n)",
            f"GRANT SELECT ON TABLE public.t TO {R1}",
        ],
        id="new-table-grant",
    ),
    pytest.param(
        T,
        T + f"GRANT SELECT (id) ON t TO {R1};",
        [f"GRANT SELECT(id) ON TABLE public.t TO {R1}"],
        id="column-grant",
    ),
    pytest.param(
        T + f"GRANT SELECT (id), UPDATE (secret) ON t TO {R1};",
        T + f"GRANT SELECT (id) ON t TO {R1};",
        [f"REVOKE UPDATE(secret) ON TABLE public.t FROM {R1}"],
        id="column-revoke",
    ),
    pytest.param(
        ROLES + "CREATE SEQUENCE s;",
        ROLES + f"CREATE SEQUENCE s; GRANT USAGE ON SEQUENCE public.s TO {R1};",
        [f"GRANT USAGE ON SEQUENCE public.s TO {R1}"],
        id="sequence-grant",
    ),
    pytest.param(
        F,
        F + "REVOKE EXECUTE ON FUNCTION public.f(integer) FROM PUBLIC;",
        ["REVOKE EXECUTE ON FUNCTION public.f(a integer) FROM PUBLIC"],
        id="function-revoke-public",
    ),
    pytest.param(
        F,
        F + f"GRANT EXECUTE ON FUNCTION public.f(integer) TO {R1} WITH GRANT OPTION;",
        [f"GRANT EXECUTE ON FUNCTION public.f(a integer) TO {R1} WITH GRANT OPTION"],
        id="function-grant-with-option",
    ),
    pytest.param(
        ROLES + "CREATE TYPE mood AS ENUM ('ok');",
        ROLES + "CREATE TYPE mood AS ENUM ('ok'); REVOKE USAGE ON TYPE mood FROM PUBLIC;",
        ["REVOKE USAGE ON TYPE public.mood FROM PUBLIC"],
        id="type-revoke-public",
    ),
    pytest.param(
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + f"CREATE VIEW v AS SELECT id FROM t; GRANT SELECT ON v TO {R1};",
        [f"GRANT SELECT ON TABLE public.v TO {R1}"],
        id="view-grant",
    ),
]


GRANTS += [
    pytest.param(
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + f"CREATE MATERIALIZED VIEW m AS SELECT id FROM t; GRANT SELECT ON m TO {R1};",
        [f"GRANT SELECT ON TABLE public.m TO {R1}"],
        id="matview-grant",
    ),
    pytest.param(
        ROLES + "CREATE DOMAIN pos AS integer CHECK (VALUE > 0);",
        ROLES + "CREATE DOMAIN pos AS integer CHECK (VALUE > 0);"
        "REVOKE USAGE ON DOMAIN pos FROM PUBLIC;",
        ["REVOKE USAGE ON DOMAIN public.pos FROM PUBLIC"],
        id="domain-revoke-public",
    ),
    pytest.param(
        ROLES + f"CREATE SEQUENCE s; GRANT SELECT, UPDATE ON SEQUENCE s TO {R1} WITH GRANT OPTION;",
        ROLES + "CREATE SEQUENCE s;",
        [
            f"REVOKE SELECT ON SEQUENCE public.s FROM {R1}",
            f"REVOKE UPDATE ON SEQUENCE public.s FROM {R1}",
        ],
        id="sequence-revoke-with-option",
    ),
    pytest.param(
        T,
        T + f"GRANT SELECT (id) ON t TO {R1} WITH GRANT OPTION;",
        [f"GRANT SELECT(id) ON TABLE public.t TO {R1} WITH GRANT OPTION"],
        id="column-grant-with-option",
    ),
    pytest.param(
        T,
        T + f"GRANT SELECT ON t TO {MIXED};",
        [f"GRANT SELECT ON TABLE public.t TO {MIXED}"],
        id="quoted-role",
    ),
    pytest.param(
        ROLES + "CREATE SEQUENCE s;",
        # a sequence: its privilege list is the same on every supported major (tables gained
        # MAINTAIN in 17)
        ROLES + "CREATE SEQUENCE s; GRANT ALL ON SEQUENCE s TO PUBLIC;",
        [f"GRANT {p} ON SEQUENCE public.s TO PUBLIC" for p in ("SELECT", "UPDATE", "USAGE")],
        id="grant-all-expands",
    ),
]


@pytest.mark.parametrize(("before", "after", "sql"), GRANTS)
def test_grants_converge(make_db: MakeDb, before: str, after: str, sql: list[str]) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    grants = [s for s in result.statements if s.sql.startswith(("GRANT", "REVOKE"))]
    assert grants
    for statement in grants:
        assert {h.code.value for h in statement.hazards} == {"AUTHZ_CHANGE"}


def test_grants_from_another_grantor_compare_equal(make_db: MakeDb) -> None:
    # R1 holds SELECT WITH GRANT OPTION and passes it on to R2: the grantor is not compared.
    a, b = make_db(), make_db()
    load(a.admin_dsn, T + f"GRANT SELECT ON t TO {R1} WITH GRANT OPTION;GRANT SELECT ON t TO {R2};")
    load(
        b.admin_dsn,
        T + f"GRANT SELECT ON t TO {R1} WITH GRANT OPTION;"
        f"SET ROLE {R1}; GRANT SELECT ON t TO {R2}; RESET ROLE;",
    )
    current, desired = inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)
    assert plan_statements(current, desired) == []


def test_owner_difference_is_not_a_privilege_difference(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, T + f"GRANT SELECT ON t TO {R1};")
    load(b.admin_dsn, T + f"ALTER TABLE t OWNER TO {OWNER}; GRANT SELECT ON t TO {R1};")
    current, desired = inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)
    assert plan_statements(current, desired) == []


def test_inspect_acl(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        T + f"GRANT SELECT ON t TO PUBLIC; GRANT UPDATE ON t TO {R1} WITH GRANT OPTION;",
    )
    schema = inspect_dsn(db.admin_dsn)
    (table,) = [t for t in schema.tables if t.name == "t"]
    assert set(table.acl) == {
        Privilege(grantee="PUBLIC", privilege="SELECT"),
        Privilege(grantee=R1, privilege="UPDATE", grantable=True),
    }


@pytest.mark.parametrize(
    ("ref", "target"),
    [
        ("VIEW public.v", "TABLE public.v"),
        ("MATERIALIZED VIEW m", "TABLE m"),
        ("FOREIGN TABLE ft", "TABLE ft"),
        ("SERVER s", "FOREIGN SERVER s"),
        ("AGGREGATE a(integer)", "FUNCTION a(integer)"),
        ("TABLE t", "TABLE t"),
        ('SCHEMA "VIEW x"', 'SCHEMA "VIEW x"'),
    ],
)
def test_grant_target_spelling(ref: str, target: str) -> None:
    assert grant_target(ref) == target


# Default privileges: (before, after, exact SQL); every statement is AUTHZ_CHANGE.
ADP = f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER}"
DEFAULTS = [
    pytest.param(
        ROLES,
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R1};",
        [f"{ADP} GRANT SELECT ON TABLES TO {R1}"],
        id="global-tables",
    ),
    pytest.param(
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R1};",
        ROLES,
        [f"{ADP} REVOKE SELECT ON TABLES FROM {R1}"],
        id="global-tables-drop",
    ),
    pytest.param(
        ROLES + "CREATE SCHEMA app;",
        ROLES + f"CREATE SCHEMA app; {ADP} IN SCHEMA app GRANT SELECT, UPDATE ON TABLES TO {R1};",
        [
            f"{ADP} IN SCHEMA app GRANT SELECT ON TABLES TO {R1}",
            f"{ADP} IN SCHEMA app GRANT UPDATE ON TABLES TO {R1}",
        ],
        id="in-schema-tables",
    ),
    pytest.param(
        ROLES + f"CREATE SCHEMA app; {ADP} IN SCHEMA app GRANT SELECT ON TABLES TO {R1};",
        ROLES + "CREATE SCHEMA app;",
        [f"{ADP} IN SCHEMA app REVOKE SELECT ON TABLES FROM {R1}"],
        id="in-schema-drop",
    ),
    pytest.param(
        ROLES,
        ROLES + f"CREATE SCHEMA app; {ADP} IN SCHEMA app GRANT SELECT ON TABLES TO {R1};",
        ["CREATE SCHEMA app", f"{ADP} IN SCHEMA app GRANT SELECT ON TABLES TO {R1}"],
        id="in-new-schema",
    ),
    pytest.param(
        ROLES,
        ROLES + f"{ADP} GRANT USAGE ON SEQUENCES TO {R1} WITH GRANT OPTION;",
        [f"{ADP} GRANT USAGE ON SEQUENCES TO {R1} WITH GRANT OPTION"],
        id="sequences-with-grant-option",
    ),
    pytest.param(
        ROLES,
        ROLES + f"{ADP} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
        [f"{ADP} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"],
        id="functions-revoke-public",
    ),
    pytest.param(
        ROLES + f"{ADP} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
        ROLES,
        [f"{ADP} GRANT EXECUTE ON FUNCTIONS TO PUBLIC"],
        id="functions-back-to-default",
    ),
    pytest.param(
        ROLES,
        ROLES + f"{ADP} REVOKE USAGE ON TYPES FROM PUBLIC;",
        [f"{ADP} REVOKE USAGE ON TYPES FROM PUBLIC"],
        id="types-revoke-public",
    ),
    pytest.param(
        ROLES,
        ROLES + f"{ADP} GRANT USAGE ON SCHEMAS TO {R1};",
        [f"{ADP} GRANT USAGE ON SCHEMAS TO {R1}"],
        id="schemas",
    ),
    pytest.param(
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R1};",
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R1} WITH GRANT OPTION;",
        [f"{ADP} GRANT SELECT ON TABLES TO {R1} WITH GRANT OPTION"],
        id="add-grant-option",
    ),
    pytest.param(
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R1} WITH GRANT OPTION;",
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R1};",
        [f"{ADP} REVOKE GRANT OPTION FOR SELECT ON TABLES FROM {R1}"],
        id="remove-grant-option",
    ),
    pytest.param(
        ROLES,
        ROLES + f"{ADP} REVOKE TRUNCATE ON TABLES FROM {OWNER};",
        [f"{ADP} REVOKE TRUNCATE ON TABLES FROM {OWNER}"],
        id="revoke-from-the-role-itself",
    ),
]


DEFAULTS += [
    pytest.param(
        ROLES + "CREATE SCHEMA app;",
        ROLES + f"CREATE SCHEMA app; {ADP} IN SCHEMA app GRANT USAGE ON SEQUENCES TO {R1};",
        [f"{ADP} IN SCHEMA app GRANT USAGE ON SEQUENCES TO {R1}"],
        id="in-schema-sequences",
    ),
    pytest.param(
        ROLES + "CREATE SCHEMA app;",
        ROLES + f"CREATE SCHEMA app; {ADP} IN SCHEMA app GRANT EXECUTE ON FUNCTIONS TO {R1};",
        [f"{ADP} IN SCHEMA app GRANT EXECUTE ON FUNCTIONS TO {R1}"],
        id="in-schema-functions",
    ),
    pytest.param(
        ROLES + "CREATE SCHEMA app;",
        ROLES + f"CREATE SCHEMA app; {ADP} IN SCHEMA app GRANT USAGE ON TYPES TO {R1};",
        [f"{ADP} IN SCHEMA app GRANT USAGE ON TYPES TO {R1}"],
        id="in-schema-types",
    ),
    pytest.param(
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R1};",
        ROLES + f"{ADP} GRANT SELECT ON TABLES TO {R2}, {MIXED};",
        [
            f"{ADP} REVOKE SELECT ON TABLES FROM {R1}",
            f"{ADP} GRANT SELECT ON TABLES TO {MIXED}",
            f"{ADP} GRANT SELECT ON TABLES TO {R2}",
        ],
        id="change-grantees",
    ),
    pytest.param(
        ROLES,
        ROLES + f"ALTER DEFAULT PRIVILEGES FOR ROLE {R1} GRANT SELECT ON TABLES TO {R2};"
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {R2} GRANT SELECT ON TABLES TO {R1};",
        [
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {R1} GRANT SELECT ON TABLES TO {R2}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {R2} GRANT SELECT ON TABLES TO {R1}",
        ],
        id="two-roles",
    ),
]


@pytest.mark.parametrize(("before", "after", "sql"), DEFAULTS)
def test_default_privileges_converge(
    make_db: MakeDb, before: str, after: str, sql: list[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    for statement in result.statements:
        if statement.sql.startswith("ALTER DEFAULT"):
            assert {h.code.value for h in statement.hazards} == {"AUTHZ_CHANGE"}


def test_inspect_default_privileges(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        ROLES + "CREATE SCHEMA app;"
        f"{ADP} IN SCHEMA app GRANT SELECT ON TABLES TO {R1};"
        f"{ADP} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
    )
    entries = {
        (d.role, d.in_schema, d.object_type): d
        for d in inspect_dsn(db.admin_dsn).default_privileges
    }
    tables = entries[(OWNER, "app", "tables")]
    assert tables.acl == (Privilege(grantee=R1, privilege="SELECT"),)
    assert tables.baseline == ()
    functions = entries[(OWNER, None, "functions")]
    assert functions.acl == (Privilege(grantee=OWNER, privilege="EXECUTE"),)
    assert set(functions.baseline) == {
        Privilege(grantee=OWNER, privilege="EXECUTE"),
        Privilege(grantee="PUBLIC", privilege="EXECUTE"),
    }


def test_same_grant_from_two_grantors_is_one_grant(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    base = ROLES + f"CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO {R1} WITH GRANT OPTION;"
    load(
        a.admin_dsn,
        base + f"GRANT USAGE ON SCHEMA app TO {R2};"
        f"SET ROLE {R1}; GRANT USAGE ON SCHEMA app TO {R2}; RESET ROLE;",
    )
    load(b.admin_dsn, base + f"GRANT USAGE ON SCHEMA app TO {R2};")
    current, desired = inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)
    (app,) = [s for s in current.schemas if s.name == "app"]
    assert app.acl == (
        Privilege(grantee=R1, privilege="USAGE", grantable=True),
        Privilege(grantee=R2, privilege="USAGE"),
    )
    assert plan_statements(current, desired) == []
    assert current.fingerprint() == desired.fingerprint()


def test_schema_dropped_with_its_default_privileges(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        ROLES + f"CREATE SCHEMA app; {ADP} IN SCHEMA app GRANT SELECT ON TABLES TO {R1};",
        ROLES,
    )
    assert result.hazard_codes == {"AUTHZ_CHANGE", "DATA_LOSS"}
    assert result.sql == [
        f"{ADP} IN SCHEMA app REVOKE SELECT ON TABLES FROM {R1}",
        "DROP SCHEMA app",
    ]
