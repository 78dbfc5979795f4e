"""Row-level security policies: converge (exact SQL and hazards), inspect, no false positives."""

from __future__ import annotations

import uuid

import pytest

from engine.catalog import inspect_dsn
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

SUFFIX = uuid.uuid4().hex[:8]
R1 = f"pol_a_{SUFFIX}"
R2 = f"pol_b_{SUFFIX}"
ROLES = "".join(
    f"DO $$ BEGIN CREATE ROLE {r} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
    for r in (R1, R2)
)
T = ROLES + "CREATE TABLE t (id integer, owner_name text); ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
T_NO_RLS = ROLES + "CREATE TABLE t (id integer, owner_name text);"
P = "CREATE POLICY p ON t"
AP = "ALTER POLICY p ON public.t"
CP = "CREATE POLICY p ON public.t"
DP = "DROP POLICY p ON public.t"

# (before, after, exact SQL, {(code, severity)} of the policy statements)
CASES = [
    pytest.param(
        T,
        T + f"{P} USING (id > 0);",
        [f"{CP} USING ((id > 0))"],
        {("AUTHZ_CHANGE", "medium")},
        id="create",
    ),
    pytest.param(
        T,
        T + f"{P} AS RESTRICTIVE FOR SELECT TO {R1} USING (owner_name = current_user);",
        [f"{CP} AS RESTRICTIVE FOR SELECT TO {R1} USING ((owner_name = CURRENT_USER))"],
        {("AUTHZ_CHANGE", "medium")},
        id="create-restrictive-select",
    ),
    pytest.param(
        T,
        T + f"{P} FOR INSERT TO {R2}, {R1} WITH CHECK (id > 0);",
        [f"{CP} FOR INSERT TO {R1}, {R2} WITH CHECK ((id > 0))"],
        {("AUTHZ_CHANGE", "medium")},
        id="create-insert-check-two-roles",
    ),
    pytest.param(
        T,
        T + f"{P} FOR UPDATE USING (id > 0) WITH CHECK (id > 1);",
        [f"{CP} FOR UPDATE USING ((id > 0)) WITH CHECK ((id > 1))"],
        {("AUTHZ_CHANGE", "medium")},
        id="create-update-using-and-check",
    ),
    pytest.param(
        T,
        T + f"{P} FOR DELETE TO PUBLIC USING (true);",
        [f"{CP} FOR DELETE USING (true)"],
        {("AUTHZ_CHANGE", "medium")},
        id="create-delete-public",
    ),
    pytest.param(
        T + f"{P} USING (id > 0);",
        T,
        [DP],
        {("AUTHZ_CHANGE", "high")},
        id="drop-with-rls-is-high",
    ),
    pytest.param(
        T_NO_RLS + f"{P} USING (id > 0);",
        T_NO_RLS,
        [DP],
        {("AUTHZ_CHANGE", "medium")},
        id="drop-without-rls-is-medium",
    ),
    pytest.param(
        T + f"{P} TO {R1} USING (id > 0);",
        T + f"{P} TO {R1}, {R2} USING (id > 0);",
        [f"{AP} TO {R1}, {R2}"],
        {("AUTHZ_CHANGE", "medium")},
        id="alter-roles",
    ),
    pytest.param(
        T + f"{P} TO {R1} USING (id > 0);",
        T + f"{P} USING (id > 0);",
        [f"{AP} TO PUBLIC"],
        {("AUTHZ_CHANGE", "medium")},
        id="alter-roles-to-public",
    ),
    pytest.param(
        T + f"{P} USING (id > 0);",
        T + f"{P} USING (id > 10);",
        [f"{AP} USING ((id > 10))"],
        {("AUTHZ_CHANGE", "medium")},
        id="alter-using",
    ),
    pytest.param(
        T + f"{P} FOR INSERT WITH CHECK (id > 0);",
        T + f"{P} FOR INSERT WITH CHECK (id > 5);",
        [f"{AP} WITH CHECK ((id > 5))"],
        {("AUTHZ_CHANGE", "medium")},
        id="alter-check",
    ),
    pytest.param(
        T + f"{P} USING (id > 0);",
        T + f"{P} USING (id > 0) WITH CHECK (id < 100);",
        [f"{AP} WITH CHECK ((id < 100))"],
        {("AUTHZ_CHANGE", "medium")},
        id="alter-add-check",
    ),
    pytest.param(
        T + f"{P} TO {R1} USING (id > 0) WITH CHECK (id > 0);",
        T + f"{P} TO {R2} USING (id > 1) WITH CHECK (id > 2);",
        [f"{AP} TO {R2} USING ((id > 1)) WITH CHECK ((id > 2))"],
        {("AUTHZ_CHANGE", "medium")},
        id="alter-all-three",
    ),
    pytest.param(
        T + f"{P} USING (id > 0) WITH CHECK (id > 0);",
        T + f"{P} USING (id > 0);",
        [DP, f"{CP} USING ((id > 0))"],
        {("AUTHZ_CHANGE", "medium"), ("AUTHZ_CHANGE", "high")},
        id="remove-check-recreates",
    ),
    pytest.param(
        T + f"{P} FOR SELECT USING (id > 0);",
        T + f"{P} FOR UPDATE USING (id > 0);",
        [DP, f"{CP} FOR UPDATE USING ((id > 0))"],
        {("AUTHZ_CHANGE", "medium"), ("AUTHZ_CHANGE", "high")},
        id="command-change-recreates",
    ),
    pytest.param(
        T + f"{P} USING (id > 0);",
        T + f"{P} AS RESTRICTIVE USING (id > 0);",
        [DP, f"{CP} AS RESTRICTIVE USING ((id > 0))"],
        {("AUTHZ_CHANGE", "medium"), ("AUTHZ_CHANGE", "high")},
        id="restrictive-recreates",
    ),
    pytest.param(
        T + f"{P} USING (id > 0);",
        T + f"{P} USING (id > 0); COMMENT ON POLICY p ON t IS 'own rows';",
        ["COMMENT ON POLICY p ON public.t IS 'own rows'"],
        set(),
        id="comment",
    ),
]


QT = 'CREATE SCHEMA "Sec"; CREATE TABLE "Sec".t (id integer);'
CASES += [
    pytest.param(
        QT,
        QT + 'CREATE POLICY "Own Rows" ON "Sec".t USING (true);',
        ['CREATE POLICY "Own Rows" ON "Sec".t USING (true)'],
        {("AUTHZ_CHANGE", "medium")},
        id="quoted-names",
    ),
    pytest.param(
        T + f"{P} TO {R1} USING (id > 0); CREATE POLICY q ON t FOR SELECT USING (true);",
        T + f"{P} TO {R2} USING (id > 0);",
        ["DROP POLICY q ON public.t", f"{AP} TO {R2}"],
        {("AUTHZ_CHANGE", "medium"), ("AUTHZ_CHANGE", "high")},
        id="alter-one-drop-another",
    ),
]


@pytest.mark.parametrize(("before", "after", "sql", "hazards"), CASES)
def test_policy_converges(
    make_db: MakeDb,
    before: str,
    after: str,
    sql: list[str],
    hazards: set[tuple[str, str]],
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    found = {(h.code.value, h.severity.value) for s in result.statements for h in s.hazards}
    assert found == hazards


def test_new_table_with_rls_and_policy(make_db: MakeDb) -> None:
    result = assert_converges(make_db, ROLES, T + f"{P} TO {R1} USING (id > 0);")
    assert result.sql[-1] == f"{CP} TO {R1} USING ((id > 0))"
    assert result.sql.index(f"{CP} TO {R1} USING ((id > 0))") > 0
    assert any("ENABLE ROW LEVEL SECURITY" in s for s in result.sql)
    assert result.hazards_of("POLICY") == {"AUTHZ_CHANGE"}


def test_policy_goes_with_its_dropped_table(make_db: MakeDb) -> None:
    result = assert_converges(make_db, T + f"{P} USING (id > 0);", ROLES)
    assert result.hazard_codes == {"BACKWARD_INCOMPATIBLE", "DATA_LOSS"}
    assert not any("DROP POLICY" in s for s in result.sql)
    assert any(s.startswith("DROP TABLE") for s in result.sql)


def test_column_type_change_rebuilds_policy(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        T + f"{P} USING (id > 0);",
        ROLES + "CREATE TABLE t (id bigint, owner_name text);"
        f"ALTER TABLE t ENABLE ROW LEVEL SECURITY; {P} USING (id > 0);",
    )
    assert result.hazard_codes == {"AUTHZ_CHANGE", "BLOCKS_READS_WRITES", "TABLE_REWRITE"}
    drop = result.sql.index(DP)
    create = result.sql.index(f"{CP} USING ((id > 0))")
    retype = next(i for i, s in enumerate(result.sql) if "TYPE bigint" in s)
    assert drop < retype < create


def test_inspect_policy(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        T + f"{P} AS RESTRICTIVE FOR UPDATE TO {R2}, {R1} USING (id > 0) WITH CHECK (id < 9);"
        "COMMENT ON POLICY p ON t IS 'c';",
    )
    (policy,) = inspect_dsn(db.admin_dsn).policies
    assert (policy.schema_, policy.table, policy.name) == ("public", "t", "p")
    assert policy.permissive is False
    assert policy.command == "UPDATE"
    assert policy.roles == tuple(sorted((R1, R2)))
    assert policy.using == "(id > 0)"
    assert policy.with_check == "(id < 9)"
    assert policy.comment == "c"
    assert policy.table_rls is True


NO_DIFFERENCE = [
    pytest.param(
        T + f"{P} TO {R1}, {R2} USING (id > 0);",
        T + f"{P} TO {R2}, {R1} USING (id > 0);",
        id="role-order",
    ),
    pytest.param(
        T + f"{P} USING (id > 0);",
        T + "create policy p on public.t as permissive for all to public using ((ID>0));",
        id="defaults-spelled-out-case-parens",
    ),
    pytest.param(
        T + f"{P} USING (id > 0 AND owner_name = 'x');",
        T + f"{P}\n  USING (  id>0\n AND owner_name='x'::text );",
        id="whitespace-and-casts",
    ),
    pytest.param(
        T + f"{P} TO {R1} USING (true);",
        T + f"{P} TO {R1}, {R1} USING (true);",
        id="duplicate-role",
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
