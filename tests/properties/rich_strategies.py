"""Hypothesis strategies for the object kinds `strategies.py` does not draw, and their mutations.

A drawn schema (`RichSpec`) is small plain data rendered to SQL: two schemas (`public`, `app`)
with objects in both and references across them; standalone sequences and an owned one behind a
column default; a domain and a composite type used by columns; a RANGE or LIST partitioned table
with partitions (some in the other schema) and a DEFAULT partition; a view on a view; a
materialized view with an index; a plpgsql trigger function and triggers; row-level security and
policies; comments on most object kinds; grants to one role (`ROLE`, which the test creates, as
roles are cluster-wide and not part of a schema).

`mutations()` edits the description, so B is valid by construction: objects that depend on a
dropped one are not rendered (a view of a dropped table, a trigger of a dropped function, a
comment or grant on a missing object), and new columns and attributes are appended last, as
pg_dump prints them in physical order. Every name is schema-qualified in the SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from tests.conftest import wanted_pg_major

# PostgreSQL 18's syntax is drawn only against an 18 server: a virtual generated column, a NOT
# ENFORCED check
PG18 = wanted_pg_major() >= 18

ROLE = "pgflux_prop_rich"
ROLE2 = "pgflux_prop_rich2"
ROLES = (ROLE, ROLE2)
SCHEMAS = ("public", "app")
COMMENT_TEXTS = ("one", "two", "it''s")


def _other(schema: str) -> str:
    return "app" if schema == "public" else "public"


# -- sequences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seq:
    schema: str
    name: str
    as_int: bool = False
    increment: int = 1
    minvalue: int | None = None
    maxvalue: int | None = None
    start: int | None = None
    cache: int = 1
    cycle: bool = False

    @property
    def qname(self) -> str:
        return f"{self.schema}.{self.name}"

    def bounds(self) -> tuple[int, int]:
        top = 2**31 - 1 if self.as_int else 2**63 - 1
        if self.increment > 0:
            lo = 1 if self.minvalue is None else self.minvalue
            hi = top if self.maxvalue is None else self.maxvalue
        else:
            lo = -top - 1 if self.minvalue is None else self.minvalue
            hi = -1 if self.maxvalue is None else self.maxvalue
        return lo, hi

    def first_value(self) -> int:
        """The value of a sequence not yet used: its START, or the bound it starts from."""
        lo, hi = self.bounds()
        return self.start if self.start is not None else (lo if self.increment > 0 else hi)

    def valid(self) -> bool:
        lo, hi = self.bounds()
        return lo < hi and lo <= self.first_value() <= hi

    def fixed(self) -> Seq:
        """This sequence, with START then MINVALUE / MAXVALUE dropped until it is valid."""
        s = self if self.valid() else replace(self, start=None)
        return s if s.valid() else replace(s, minvalue=None, maxvalue=None)

    def sql(self) -> str:
        parts = [f"CREATE SEQUENCE {self.qname}"]
        if self.as_int:
            parts.append("AS integer")
        parts.append(f"INCREMENT BY {self.increment}")
        if self.minvalue is not None:
            parts.append(f"MINVALUE {self.minvalue}")
        if self.maxvalue is not None:
            parts.append(f"MAXVALUE {self.maxvalue}")
        if self.start is not None:
            parts.append(f"START WITH {self.start}")
        parts.append(f"CACHE {self.cache}")
        if self.cycle:
            parts.append("CYCLE")
        return " ".join(parts) + ";"


_SEQ_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "as_int": st.booleans(),
    "increment": st.sampled_from([1, 3, -1]),
    "minvalue": st.sampled_from([None, 1, 10, -5, -1000]),
    "maxvalue": st.sampled_from([None, 1000, 100000, -1, 5]),
    "start": st.sampled_from([None, 1, 10, 500, -1, -10]),
    "cache": st.sampled_from([1, 10]),
    "cycle": st.booleans(),
}


@st.composite
def sequences(draw: st.DrawFn, schema: str, name: str) -> Seq:
    s = Seq(schema, name)
    for field_ in draw(st.lists(st.sampled_from(sorted(_SEQ_FIELDS)), max_size=3, unique=True)):
        s = replace(s, **{field_: draw(_SEQ_FIELDS[field_])}).fixed()
    return s


# -- types -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    schema: str
    base: str = "integer"
    default: str | None = None
    not_null: bool = False
    check: str | None = None  # the expression of CONSTRAINT dom_chk

    @property
    def qname(self) -> str:
        return f"{self.schema}.dom"

    def sql(self) -> str:
        parts = [f"CREATE DOMAIN {self.qname} AS {self.base}"]
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.not_null:
            parts.append("NOT NULL")
        if self.check is not None:
            parts.append(f"CONSTRAINT dom_chk CHECK ({self.check})")
        return " ".join(parts) + ";"


DOMAIN_BASES = ["integer", "bigint", "numeric(10,2)"]
DOMAIN_DEFAULTS = [None, "1", "7"]
DOMAIN_CHECKS = [None, "VALUE > 0", "VALUE >= -1"]
ATTR_TYPES = ["integer", "text", "numeric(8,2)", "boolean"]


@dataclass(frozen=True)
class Composite:
    schema: str
    attrs: tuple[tuple[str, str], ...]  # (name, type), in physical order

    @property
    def qname(self) -> str:
        return f"{self.schema}.pair"

    def sql(self) -> str:
        attrs = ", ".join(f"{n} {t}" for n, t in self.attrs)
        return f"CREATE TYPE {self.qname} AS ({attrs});"


# -- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type_: str  # an SQL type, or "@dom" / "@pair" for the domain / composite type


@dataclass(frozen=True)
class Policy:
    name: str
    permissive: bool = True
    command: str = "ALL"
    to: str = "PUBLIC"  # "PUBLIC", "r1", "r2" or "both"
    using: str | None = None
    check: str | None = None

    def sql(self, table: str) -> str:
        parts = [f"CREATE POLICY {self.name} ON {table}"]
        if not self.permissive:
            parts.append("AS RESTRICTIVE")
        parts.append(f"FOR {self.command}")
        parts.append(f"TO {POLICY_TO[self.to]}")
        if self.using is not None:
            parts.append(f"USING ({self.using})")
        if self.check is not None:
            parts.append(f"WITH CHECK ({self.check})")
        return " ".join(parts) + ";"


POLICY_USING = ["n > 0", "v = current_user"]
POLICY_TO = {"PUBLIC": "PUBLIC", "r1": ROLE, "r2": ROLE2, "both": f"{ROLE}, {ROLE2}"}
POLICY_CHECK = ["n >= 0", "true"]


def _fit_policy(p: Policy) -> Policy:
    """SELECT / DELETE policies take no WITH CHECK, INSERT policies no USING."""
    if p.command in ("SELECT", "DELETE"):
        p = replace(p, check=None)
    if p.command == "INSERT":
        p = replace(p, using=None)
    return p


@dataclass(frozen=True)
class Table:
    """`<schema>.t (id integer PK, v text, n integer, <extra>...)`."""

    schema: str
    owned_seq: Seq | None = None  # id DEFAULT nextval(<schema>.t_id_seq), OWNED BY t.id
    shared_seq: bool = False  # else id DEFAULT nextval(first standalone sequence), not owned
    extra: tuple[Column, ...] = ()
    check: str | None = None  # CONSTRAINT t_chk
    check_valid: bool = True  # else added NOT VALID (after the table)
    check_no_inherit: bool = False  # CHECK ... NO INHERIT (ti, when there, does not get it)
    check_enforced: bool = True  # else NOT ENFORCED (PostgreSQL 18), whatever check_valid says
    index: str | None = None  # t_idx's key
    # t_idx's expression column's statistics target (when its key is lower(v))
    index_target: int | None = None
    rls: bool = False
    force: bool = False
    policies: tuple[Policy, ...] = ()

    @property
    def qname(self) -> str:
        return f"{self.schema}.t"


TABLE_CHECKS = [None, "n > 0", "n <> 13"]
TABLE_INDEXES = [None, "n", "lower(v)", "v, n"]
INDEX_TARGETS = [None, None, 0, 300]


@dataclass(frozen=True)
class Child:
    """`<schema>.u`, optionally with a foreign key to t (another schema, usually)."""

    schema: str
    fk: bool = True
    seq_default: bool = False  # id DEFAULT nextval(first standalone sequence)
    fk_valid: bool = True  # else the foreign key is added NOT VALID


@dataclass(frozen=True)
class Partitioned:
    """`<schema>.pt (id, k, note) PARTITION BY <kind> (k)` with partitions pt_p<i>."""

    schema: str
    kind: str = "RANGE"
    # (bound number, schema of the partition, attached): a detached one was made a partition
    # and then detached, so it holds its own copies of pt's columns, constraints and indexes
    parts: tuple[tuple[int, str, bool], ...] = ()
    default: str | None = None  # schema of pt_def, the DEFAULT partition
    pk: bool = False
    index: bool = False  # pt_note_idx ON pt (note)
    check: bool = False  # pt_k_check CHECK (k >= 0)
    note_default: str | None = None  # pt's note DEFAULT, which partitions copy
    part_default: str | None = None  # the first partition's own note DEFAULT
    note_pglz: bool = False  # pt's note COMPRESSION pglz, which partitions copy
    part_storage: str | None = None  # the first partition's own note STORAGE (EXTERNAL / MAIN)
    # n_distinct of pt's note and of the first partition's own: neither reaches the other
    note_distinct: str | None = None
    part_distinct: str | None = None
    sub: str | None = None  # schema of pt_sub (bound 5), itself PARTITION BY RANGE (id)
    sub_leaves: tuple[int, ...] = ()  # pt_sub_l<j>, FROM (j * 100) TO (j * 100 + 100)
    # schema of a second partitioned table pt2 (k bigint, note NOT NULL, and a column x that pt
    # lacks; the same primary key as pt's, its own index, none of pt's checks or indexes), and
    # the bound of the partition that is pt2's instead of pt's: moving it is DETACH, then ATTACH
    alt: str | None = None
    under_alt: int | None = None

    @property
    def qname(self) -> str:
        return f"{self.schema}.pt"

    @property
    def first_part(self) -> str:
        i, schema, _ = self.parts[0]
        return f"{schema}.pt_p{i}"

    def sql(self) -> list[str]:
        default = f" DEFAULT '{self.note_default}'" if self.note_default else ""
        default = (" COMPRESSION pglz" if self.note_pglz else "") + default
        out = [
            f"CREATE TABLE {self.qname} (id integer NOT NULL, k integer NOT NULL,"
            f" note text{default}) PARTITION BY {self.kind} (k);"
        ]
        if self.alt is not None:
            out.append(
                f"CREATE TABLE {self.alt}.pt2 (id integer NOT NULL, k bigint NOT NULL,"
                f" note text NOT NULL DEFAULT '', x integer) PARTITION BY {self.kind} (k);"
            )
        for i, schema, _ in self.parts:
            out.append(
                f"CREATE TABLE {schema}.pt_p{i} PARTITION OF {self._parent(i)}"
                f" FOR VALUES {self._bound(i)};"
            )
        if self.parts and self.part_default:
            out.append(
                f"ALTER TABLE {self.first_part} ALTER COLUMN note"
                f" SET DEFAULT '{self.part_default}';"
            )
        if self.parts and self.part_storage:
            out.append(
                f"ALTER TABLE ONLY {self.first_part} ALTER COLUMN note"
                f" SET STORAGE {self.part_storage};"
            )
        if self.note_distinct:
            out.append(
                f"ALTER TABLE ONLY {self.qname} ALTER COLUMN note"
                f" SET (n_distinct = {self.note_distinct});"
            )
        if self.parts and self.part_distinct:
            out.append(
                f"ALTER TABLE ONLY {self.first_part} ALTER COLUMN note"
                f" SET (n_distinct = {self.part_distinct});"
            )
        if self.sub is not None:
            out.append(
                f"CREATE TABLE {self.sub}.pt_sub PARTITION OF {self.qname}"
                f" FOR VALUES {self._bound(5)} PARTITION BY RANGE (id);"
            )
            for j in self.sub_leaves:
                out.append(
                    f"CREATE TABLE {self.sub}.pt_sub_l{j} PARTITION OF {self.sub}.pt_sub"
                    f" FOR VALUES FROM ({j * 100}) TO ({j * 100 + 100});"
                )
        if self.default is not None:
            out.append(f"CREATE TABLE {self.default}.pt_def PARTITION OF {self.qname} DEFAULT;")
        if self.pk:
            out.append(f"ALTER TABLE {self.qname} ADD CONSTRAINT pt_pkey PRIMARY KEY (id, k);")
        if self.alt is not None:
            if self.pk:
                out.append(
                    f"ALTER TABLE {self.alt}.pt2 ADD CONSTRAINT pt2_pkey PRIMARY KEY (id, k);"
                )
            out.append(f"CREATE INDEX pt2_id_idx ON {self.alt}.pt2 (id);")
        if self.index:
            out.append(f"CREATE INDEX pt_note_idx ON {self.qname} (note);")
        if self.check:
            out.append(f"ALTER TABLE {self.qname} ADD CONSTRAINT pt_k_check CHECK (k >= 0);")
        out += [
            f"ALTER TABLE {self._parent(i)} DETACH PARTITION {schema}.pt_p{i};"
            for i, schema, attached in self.parts
            if not attached
        ]
        return out

    def _parent(self, i: int) -> str:
        return f"{self.alt}.pt2" if self.alt is not None and i == self.under_alt else self.qname

    def _bound(self, i: int) -> str:
        if self.kind == "RANGE":
            return f"FROM ({i * 10}) TO ({i * 10 + 10})"
        return f"IN ({i * 10}, {i * 10 + 1})"


# -- routines, views, triggers ----------------------------------------------------------------


@dataclass(frozen=True)
class Func:
    """`<schema>.f(x integer) RETURNS integer` in one of a few bodies."""

    schema: str
    variant: int = 0

    @property
    def signature(self) -> str:
        return f"{self.schema}.f(integer)"

    def sql(self) -> str:
        head = f"CREATE FUNCTION {self.schema}.f(x integer) RETURNS integer"
        if self.variant == 0:
            return f"{head} LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;"
        if self.variant == 1:
            return f"{head} LANGUAGE sql STABLE AS $$ SELECT x + 2 $$;"
        if self.variant == 2:
            return f"{head} LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT x * 2; END;"
        return f"{head} LANGUAGE plpgsql AS $$ BEGIN RETURN x * 3; END $$;"


FUNC_VARIANTS = 4


@dataclass(frozen=True)
class TrigFn:
    schema: str
    variant: int = 0

    @property
    def signature(self) -> str:
        return f"{self.schema}.trg_fn()"

    def sql(self) -> str:
        body = (
            "BEGIN RETURN COALESCE(NEW, OLD); END"
            if self.variant == 0
            else "BEGIN RAISE NOTICE 'fired %', TG_NAME; RETURN COALESCE(NEW, OLD); END"
        )
        return f"CREATE FUNCTION {self.signature} RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$;"


@dataclass(frozen=True)
class Trigger:
    name: str
    on: str  # "t" or "pt"
    timing: str = "AFTER"
    row: bool = True
    events: tuple[str, ...] = ("INSERT",)  # in INSERT, UPDATE, DELETE, TRUNCATE order
    update_of: str | None = None
    when: str | None = None  # "new", "old", "distinct"
    # a CONSTRAINT trigger (AFTER, FOR EACH ROW, on t): "NOT DEFERRABLE", "IMMEDIATE", "DEFERRED"
    constraint: str | None = None

    def sql(self, table: str, fn: str) -> str:
        events = [
            f"UPDATE OF {self.update_of}" if e == "UPDATE" and self.update_of else e
            for e in self.events
        ]
        kind = "CONSTRAINT TRIGGER" if self.constraint else "TRIGGER"
        parts = [f"CREATE {kind} {self.name} {self.timing} {' OR '.join(events)} ON {table}"]
        if self.constraint == "NOT DEFERRABLE":
            parts.append("NOT DEFERRABLE")
        elif self.constraint is not None:
            parts.append(f"DEFERRABLE INITIALLY {self.constraint}")
        parts.append("FOR EACH ROW" if self.row else "FOR EACH STATEMENT")
        if self.when == "new":
            parts.append("WHEN (NEW.id > 0)")
        elif self.when == "old":
            parts.append("WHEN (OLD.id > 0)")
        elif self.when == "distinct":
            parts.append("WHEN (OLD.id IS DISTINCT FROM NEW.id)")
        parts.append(f"EXECUTE FUNCTION {fn}")
        return " ".join(parts) + ";"


_EVENT_ORDER = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


def _fit_trigger(tr: Trigger) -> Trigger:
    """Make a trigger valid: TRUNCATE only per statement, WHEN only per row and on the rows that
    exist for its events, UPDATE OF only with UPDATE; a constraint trigger AFTER, per row."""
    if tr.constraint is not None:
        tr = replace(tr, timing="AFTER", row=True)
    events = tuple(e for e in _EVENT_ORDER if e in tr.events and (e != "TRUNCATE" or not tr.row))
    if not events:
        events = ("INSERT",)
    tr = replace(tr, events=events)
    if "UPDATE" not in events:
        tr = replace(tr, update_of=None)
    if tr.update_of is not None:
        tr = replace(tr, update_of=("v" if tr.update_of in ("v", "note") else "n"))
        if tr.on == "pt":
            tr = replace(tr, update_of="note" if tr.update_of == "v" else "k")
    when = tr.when
    if (
        not tr.row
        or (when == "new" and "DELETE" in events)
        or (when == "old" and "INSERT" in events)
        or (when == "distinct" and events != ("UPDATE",))
    ):
        when = None
    return replace(tr, when=when)


@dataclass(frozen=True)
class Views:
    """v1 on t (in `inner`), optionally v2 on v1 (in `outer`)."""

    inner: str
    inner_n: bool = False  # v1 also selects n (last)
    inner_where: int = 0  # 0: id > 0, 1: id > 10, 2: f(id) > 0 when f exists
    outer: str | None = None
    outer_star: bool = False  # v2 is SELECT * FROM v1, else SELECT id, v FROM v1


@dataclass(frozen=True)
class MatView:
    schema: str
    query: int = 0
    index: str | None = None  # "plain" or "unique" mv_idx on (id)


@dataclass(frozen=True)
class Wide:
    """`<schema>.w (id integer [identity] PK, c text [COLLATE], g integer [GENERATED ... STORED or,
    on 18, VIRTUAL])`,
    maybe UNLOGGED, with storage parameters on it and on its index w_idx (c)."""

    schema: str
    unlogged: bool = False
    fillfactor: int | None = None
    identity: str | None = None  # "ALWAYS" or "BY DEFAULT"
    ident_increment: int = 1
    ident_start: int | None = None
    ident_cache: int = 1
    ident_sequence: str | None = None  # SEQUENCE NAME, else PostgreSQL's w_id_seq
    collate: str | None = None  # of c: "C" or "POSIX"
    generated: str | None = None  # g's expression, else g is a plain column
    virtual: bool = False  # g VIRTUAL (PostgreSQL 18) rather than STORED
    index: bool = False
    index_fillfactor: int | None = None

    @property
    def qname(self) -> str:
        return f"{self.schema}.w"

    def sql(self) -> list[str]:
        id_col = "id integer NOT NULL"
        if self.identity is not None:
            opts = [f"INCREMENT BY {self.ident_increment}"]
            if self.ident_sequence is not None:
                opts.insert(0, f"SEQUENCE NAME {self.schema}.{self.ident_sequence}")
            if self.ident_start is not None:
                opts.append(f"START WITH {self.ident_start}")
            opts.append(f"CACHE {self.ident_cache}")
            id_col += f" GENERATED {self.identity} AS IDENTITY ({' '.join(opts)})"
        c_col = "c text" + (f' COLLATE "{self.collate}"' if self.collate else "")
        kind = "VIRTUAL" if self.virtual else "STORED"
        g_col = "g integer" + (
            f" GENERATED ALWAYS AS ({self.generated}) {kind}" if self.generated else ""
        )
        unlogged = "UNLOGGED " if self.unlogged else ""
        with_ = f" WITH (fillfactor={self.fillfactor})" if self.fillfactor else ""
        out = [
            f"CREATE {unlogged}TABLE {self.qname} ({id_col}, {c_col}, {g_col},"
            f" CONSTRAINT w_pkey PRIMARY KEY (id)){with_};"
        ]
        if self.index:
            iwith = f" WITH (fillfactor={self.index_fillfactor})" if self.index_fillfactor else ""
            out.append(f"CREATE INDEX w_idx ON {self.qname} (c){iwith};")
        return out


_WIDE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "unlogged": st.booleans(),
    "fillfactor": st.sampled_from([None, 70, 90]),
    "identity": st.sampled_from([None, "ALWAYS", "BY DEFAULT"]),
    "ident_increment": st.sampled_from([1, 5]),
    "ident_start": st.sampled_from([None, 100]),
    "ident_cache": st.sampled_from([1, 20]),
    "ident_sequence": st.sampled_from([None, "w_ids"]),
    "collate": st.sampled_from([None, "C", "POSIX"]),
    "generated": st.sampled_from([None, "id * 2", "id + 1"]),
    "index": st.booleans(),
    "index_fillfactor": st.sampled_from([None, 80, 50]),
}
if PG18:
    _WIDE_FIELDS["virtual"] = st.booleans()


@dataclass(frozen=True)
class Stats:
    """`CREATE STATISTICS <schema>.st [(kinds)] ON <cols> FROM t`, maybe SET STATISTICS."""

    schema: str
    kinds: tuple[str, ...] = ()  # of ndistinct, dependencies, mcv; () = all
    cols: str = "v, n"
    target: int | None = None

    def sql(self, table: str) -> list[str]:
        kinds = f" ({', '.join(self.kinds)})" if self.kinds else ""
        out = [f"CREATE STATISTICS {self.schema}.st{kinds} ON {self.cols} FROM {table};"]
        if self.target is not None:
            out.append(f"ALTER STATISTICS {self.schema}.st SET STATISTICS {self.target};")
        return out


STATS_KINDS = ("ndistinct", "dependencies", "mcv")
STATS_COLS = ["v, n", "id, n", "n, (lower(v))"]

# Default privileges of the role that loads the schema (no FOR ROLE) and of another: a key at
# most once;
# two keys of one (schema, object type, grantee) make one entry, so toggling one changes it.
DEF_PRIVS = {
    "tables_select": f"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {ROLE};",
    "tables_write": f"ALTER DEFAULT PRIVILEGES GRANT INSERT, UPDATE ON TABLES TO {ROLE};",
    "tables_r2_grantopt": (
        f"ALTER DEFAULT PRIVILEGES GRANT DELETE ON TABLES TO {ROLE2} WITH GRANT OPTION;"
    ),
    "app_tables_select": (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO {ROLE2};"
    ),
    "app_seq_usage": f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON SEQUENCES TO {ROLE};",
    "seq_select": f"ALTER DEFAULT PRIVILEGES GRANT SELECT ON SEQUENCES TO {ROLE2};",
    "func_revoke_public": "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
    # another role's: they never touch what the loading role creates
    "r2_tables_select": (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {ROLE2} GRANT SELECT ON TABLES TO {ROLE};"
    ),
    "r2_app_types_revoke": (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {ROLE2} IN SCHEMA app"
        " REVOKE USAGE ON TYPES FROM PUBLIC;"
    ),
    "public_func_exec": (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {ROLE};"
    ),
    "types_revoke_public": "ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;",
}


# -- the whole schema --------------------------------------------------------------------------


@dataclass(frozen=True)
class RichSpec:
    sequences: tuple[Seq, ...] = ()  # s0, s1
    domain: Domain | None = None
    composite: Composite | None = None
    table: Table | None = None
    child: Child | None = None
    partitioned: Partitioned | None = None
    func: Func | None = None
    trig_fn: TrigFn | None = None
    triggers: tuple[Trigger, ...] = ()
    views: Views | None = None
    matview: MatView | None = None
    wide: Wide | None = None
    inherit: str | None = None  # schema of ti (note text) INHERITS (t)
    inherit_left: bool = False  # then ALTER TABLE ti NO INHERIT t: ti keeps t's columns, checks
    # ti INHERITS (t, tq) too; ti declares tq's column and check itself, so that joining and
    # leaving tq changes no column or check from the parent's to ti's own (a README limit)
    inherit_second: bool = False
    stats: Stats | None = None  # on t
    view_trigger: tuple[str, ...] = ()  # events of v1_tr INSTEAD OF ... ON v1 (needs trg_fn)
    def_privs: tuple[str, ...] = ()  # DEF_PRIVS keys
    def_privs_first: bool = False  # before the objects (which then get them), else last
    comments: tuple[tuple[str, str], ...] = ()  # (target key, text), a key at most once
    grants: tuple[str, ...] = ()  # grant keys

    # What comments and grants may name: the objects that exist.
    def comment_targets(self) -> dict[str, str]:
        out = {"schema_app": "SCHEMA app", "schema_public": "SCHEMA public"}
        for s in self.sequences:
            out[f"seq_{s.name}"] = f"SEQUENCE {s.qname}"
        if self.domain is not None:
            out["domain"] = f"DOMAIN {self.domain.qname}"
            if self.domain.check is not None:
                out["domain_check"] = f"CONSTRAINT dom_chk ON DOMAIN {self.domain.qname}"
        if self.composite is not None:
            out["type"] = f"TYPE {self.composite.qname}"
        t = self.table
        if t is not None:
            out["table"] = f"TABLE {t.qname}"
            out["column"] = f"COLUMN {t.qname}.v"
            if t.check is not None:
                out["constraint"] = f"CONSTRAINT t_chk ON {t.qname}"
            if t.index is not None:
                out["index"] = f"INDEX {t.schema}.t_idx"
            if t.owned_seq is not None:
                out["owned_seq"] = f"SEQUENCE {t.schema}.t_id_seq"
            for p in t.policies:
                out[f"policy_{p.name}"] = f"POLICY {p.name} ON {t.qname}"
        if self.partitioned is not None:
            out["partitioned"] = f"TABLE {self.partitioned.qname}"
            if self.partitioned.parts:
                out["part_note"] = f"COLUMN {self.partitioned.first_part}.note"
        if self.func is not None:
            out["function"] = f"FUNCTION {self.func.signature}"
        if self.trig_fn is not None:
            out["trig_fn"] = f"FUNCTION {self.trig_fn.signature}"
        for tr, table in self._live_triggers():
            out[f"trigger_{tr.name}"] = f"TRIGGER {tr.name} ON {table}"
        if self.views is not None and t is not None:
            out["view"] = f"VIEW {self.views.inner}.v1"
            out["view_column"] = f"COLUMN {self.views.inner}.v1.v"
            if self.views.outer is not None:
                out["view2"] = f"VIEW {self.views.outer}.v2"
        if self.matview is not None and t is not None:
            out["matview"] = f"MATERIALIZED VIEW {self.matview.schema}.mv"
        if self.wide is not None:
            out["wide"] = f"TABLE {self.wide.qname}"
            out["wide_column"] = f"COLUMN {self.wide.qname}.g"
            if self.wide.identity is not None:
                seq = self.wide.ident_sequence or "w_id_seq"
                out["wide_sequence"] = f"SEQUENCE {self.wide.schema}.{seq}"
            if self.wide.index:
                out["wide_index"] = f"INDEX {self.wide.schema}.w_idx"
        if self.inherit is not None and t is not None:
            out["inherit"] = f"TABLE {self.inherit}.ti"
        if self.stats is not None and t is not None:
            out["stats"] = f"STATISTICS {self.stats.schema}.st"
        if self._view_trigger_live():
            assert self.views is not None
            out["view_trigger"] = f"TRIGGER v1_tr ON {self.views.inner}.v1"
        p = self.partitioned
        if p is not None and p.sub is not None:
            out["sub"] = f"TABLE {p.sub}.pt_sub"
        return out

    def _view_trigger_live(self) -> bool:
        return bool(
            self.view_trigger
            and self.views is not None
            and self.table is not None
            and self.trig_fn is not None
        )

    def grant_statements(self) -> dict[str, str]:
        r = ROLE
        out = {
            "schema_usage": f"GRANT USAGE ON SCHEMA app TO {r};",
            "schema_create": f"GRANT CREATE ON SCHEMA app TO {r};",
            "public_usage": f"GRANT USAGE ON SCHEMA public TO {r};",
        }
        if self.sequences:
            s0 = self.sequences[0].qname
            out["seq_usage"] = f"GRANT USAGE ON SEQUENCE {s0} TO {r};"
            out["seq_select"] = f"GRANT SELECT, UPDATE ON SEQUENCE {s0} TO {r};"
        t = self.table
        if t is not None:
            out["table_select"] = f"GRANT SELECT ON {t.qname} TO {r};"
            out["table_write"] = f"GRANT INSERT, UPDATE ON {t.qname} TO {r};"
            out["table_grantopt"] = f"GRANT DELETE ON {t.qname} TO {r} WITH GRANT OPTION;"
            out["column_select"] = f"GRANT SELECT (v) ON {t.qname} TO {r};"
            out["column_update"] = f"GRANT UPDATE (n, v) ON {t.qname} TO {r};"
            if t.owned_seq is not None:
                out["owned_seq_usage"] = f"GRANT USAGE ON SEQUENCE {t.schema}.t_id_seq TO {r};"
            if self.views is not None:
                out["view_select"] = f"GRANT SELECT ON {self.views.inner}.v1 TO {r};"
        if self.func is not None:
            out["function_execute"] = f"GRANT EXECUTE ON FUNCTION {self.func.signature} TO {r};"
            out["function_revoke_public"] = (
                f"REVOKE EXECUTE ON FUNCTION {self.func.signature} FROM PUBLIC;"
            )
        if self.composite is not None:
            out["type_usage"] = f"GRANT USAGE ON TYPE {self.composite.qname} TO {r};"
        r2 = ROLE2
        out["schema_usage_r2"] = f"GRANT USAGE ON SCHEMA app TO {r2};"
        if self.sequences:
            out["seq_usage_r2"] = f"GRANT USAGE ON SEQUENCE {self.sequences[0].qname} TO {r2};"
        if t is not None:
            out["table_select_r2"] = f"GRANT SELECT ON {t.qname} TO {r}, {r2};"
            out["column_insert_r2"] = f"GRANT INSERT (v) ON {t.qname} TO {r2};"
        if self.func is not None:
            out["function_execute_r2"] = (
                f"GRANT EXECUTE ON FUNCTION {self.func.signature} TO {r2} WITH GRANT OPTION;"
            )
        if self.partitioned is not None:
            out["pt_select_r2"] = f"GRANT SELECT ON {self.partitioned.qname} TO {r2};"
            if self.partitioned.parts:
                out["part_note_r2"] = (
                    f"GRANT UPDATE (note) ON {self.partitioned.first_part} TO {r2};"
                )
        if self.wide is not None:
            out["wide_r2"] = f"GRANT SELECT, UPDATE (c) ON {self.wide.qname} TO {r2};"
            if self.wide.identity is not None:
                seq = self.wide.ident_sequence or "w_id_seq"
                out["wide_seq_r2"] = f"GRANT USAGE ON SEQUENCE {self.wide.schema}.{seq} TO {r2};"
        return out

    def _live_triggers(self) -> list[tuple[Trigger, str]]:
        if self.trig_fn is None:
            return []
        out = []
        for tr in self.triggers:
            if tr.on == "t" and self.table is not None:
                out.append((tr, self.table.qname))
            elif tr.on == "pt" and self.partitioned is not None:
                out.append((tr, self.partitioned.qname))
        return out

    def _column_type(self, col: Column) -> str:
        if col.type_ == "@dom":
            assert self.domain is not None
            return self.domain.qname
        if col.type_ == "@pair":
            assert self.composite is not None
            return self.composite.qname
        return col.type_

    def sql(self) -> str:
        out = ["CREATE SCHEMA app;"]
        def_privs = [DEF_PRIVS[k] for k in self.def_privs]
        if self.def_privs_first:
            out += def_privs
        out += [s.sql() for s in self.sequences]
        if self.domain is not None:
            out.append(self.domain.sql())
        if self.composite is not None:
            out.append(self.composite.sql())
        if self.func is not None:
            out.append(self.func.sql())
        if self.trig_fn is not None:
            out.append(self.trig_fn.sql())
        shared = self.sequences[0].qname if self.sequences else None
        t = self.table
        if t is not None:
            default = ""
            if t.owned_seq is not None:
                out.append(replace(t.owned_seq, schema=t.schema, name="t_id_seq").sql())
                default = f" DEFAULT nextval('{t.schema}.t_id_seq'::regclass)"
            elif t.shared_seq and shared is not None:
                default = f" DEFAULT nextval('{shared}'::regclass)"
            cols = [f"id integer NOT NULL{default}", "v text", "n integer"]
            cols += [f"{c.name} {self._column_type(c)}" for c in t.extra]
            cols.append("CONSTRAINT t_pkey PRIMARY KEY (id)")
            no_inherit = " NO INHERIT" if t.check_no_inherit else ""
            if t.check is not None and not t.check_enforced:
                cols.append(f"CONSTRAINT t_chk CHECK ({t.check}){no_inherit} NOT ENFORCED")
            elif t.check is not None and t.check_valid:
                cols.append(f"CONSTRAINT t_chk CHECK ({t.check}){no_inherit}")
            out.append(f"CREATE TABLE {t.qname} ({', '.join(cols)});")
            if t.check is not None and t.check_enforced and not t.check_valid:
                out.append(
                    f"ALTER TABLE {t.qname} ADD CONSTRAINT t_chk CHECK ({t.check}){no_inherit}"
                    " NOT VALID;"
                )
            if t.owned_seq is not None:
                out.append(f"ALTER SEQUENCE {t.schema}.t_id_seq OWNED BY {t.qname}.id;")
            if t.index is not None:
                out.append(f"CREATE INDEX t_idx ON {t.qname} ({t.index});")
            if t.index == "lower(v)" and t.index_target is not None:
                out.append(
                    f"ALTER INDEX {t.schema}.t_idx ALTER COLUMN 1 SET STATISTICS {t.index_target};"
                )
            if t.rls:
                out.append(f"ALTER TABLE {t.qname} ENABLE ROW LEVEL SECURITY;")
            if t.force:
                out.append(f"ALTER TABLE {t.qname} FORCE ROW LEVEL SECURITY;")
            out += [p.sql(t.qname) for p in t.policies]
        c = self.child
        if c is not None:
            default = ""
            if c.seq_default and shared is not None:
                default = f" DEFAULT nextval('{shared}'::regclass)"
            out.append(
                f"CREATE TABLE {c.schema}.u (id integer NOT NULL{default}, t_id integer,"
                " CONSTRAINT u_pkey PRIMARY KEY (id));"
            )
            if c.fk and t is not None:
                out.append(
                    f"ALTER TABLE {c.schema}.u ADD CONSTRAINT u_t_fk FOREIGN KEY (t_id)"
                    f" REFERENCES {t.qname} (id) ON DELETE CASCADE"
                    + ("" if c.fk_valid else " NOT VALID")
                    + ";"
                )
        if self.partitioned is not None:
            out += self.partitioned.sql()
        if self.views is not None and t is not None:
            vs = self.views
            selected = "id, v, n" if vs.inner_n else "id, v"
            if vs.inner_where == 2 and self.func is not None:
                where = f"{self.func.schema}.f(id) > 0"
            else:
                where = "id > 10" if vs.inner_where == 1 else "id > 0"
            out.append(
                f"CREATE VIEW {vs.inner}.v1 AS SELECT {selected} FROM {t.qname} WHERE {where};"
            )
            if vs.outer is not None:
                sel = "*" if vs.outer_star else "id, v"
                out.append(f"CREATE VIEW {vs.outer}.v2 AS SELECT {sel} FROM {vs.inner}.v1;")
        if self.matview is not None and t is not None:
            mv = self.matview
            query = (
                f"SELECT id, v FROM {t.qname}"
                if mv.query == 0
                else f"SELECT id, v, n FROM {t.qname} WHERE n > 0"
            )
            out.append(f"CREATE MATERIALIZED VIEW {mv.schema}.mv AS {query};")
            if mv.index is not None:
                unique = "UNIQUE " if mv.index == "unique" else ""
                out.append(f"CREATE {unique}INDEX mv_idx ON {mv.schema}.mv (id);")
        if self.inherit is not None and t is not None:
            tq = f"{self.inherit}.tq"
            parents = t.qname
            if self.inherit_second:
                out.append(f"CREATE TABLE {tq} (q int, CONSTRAINT tq_chk CHECK (q > 0));")
                parents += f", {tq}"
            out.append(
                f"CREATE TABLE {self.inherit}.ti (q int, note text,"
                f" CONSTRAINT tq_chk CHECK (q > 0)) INHERITS ({parents});"
            )
            if self.inherit_left:
                out.append(f"ALTER TABLE {self.inherit}.ti NO INHERIT {t.qname};")
        if self.wide is not None:
            out += self.wide.sql()
        if self.stats is not None and t is not None:
            out += self.stats.sql(t.qname)
        if self.trig_fn is not None:
            out += [tr.sql(table, self.trig_fn.signature) for tr, table in self._live_triggers()]
        if self._view_trigger_live():
            assert self.views is not None
            assert self.trig_fn is not None
            out.append(
                f"CREATE TRIGGER v1_tr INSTEAD OF {' OR '.join(self.view_trigger)}"
                f" ON {self.views.inner}.v1 FOR EACH ROW EXECUTE FUNCTION {self.trig_fn.signature};"
            )
        targets = self.comment_targets()
        for key, text in self.comments:
            if key in targets:
                out.append(f"COMMENT ON {targets[key]} IS '{text}';")
        grants = self.grant_statements()
        out += [grants[g] for g in self.grants if g in grants]
        if not self.def_privs_first:
            out += def_privs
        return "\n".join(out)


# -- drawing -----------------------------------------------------------------------------------

_SCHEMA = st.sampled_from(SCHEMAS)


@st.composite
def domains(draw: st.DrawFn) -> Domain:
    return Domain(
        schema=draw(_SCHEMA),
        base=draw(st.sampled_from(DOMAIN_BASES)),
        default=draw(st.sampled_from(DOMAIN_DEFAULTS)),
        not_null=draw(st.booleans()),
        check=draw(st.sampled_from(DOMAIN_CHECKS)),
    )


@st.composite
def composites(draw: st.DrawFn) -> Composite:
    n = draw(st.integers(1, 3))
    return Composite(
        draw(_SCHEMA), tuple((f"a{i}", draw(st.sampled_from(ATTR_TYPES))) for i in range(n))
    )


@st.composite
def policies(draw: st.DrawFn, name: str) -> Policy:
    return _fit_policy(
        Policy(
            name=name,
            permissive=draw(st.booleans()),
            command=draw(st.sampled_from(["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"])),
            to=draw(st.sampled_from(sorted(POLICY_TO))),
            using=draw(st.sampled_from([None, *POLICY_USING])),
            check=draw(st.sampled_from([None, *POLICY_CHECK])),
        )
    )


@st.composite
def tables(draw: st.DrawFn, spec: RichSpec) -> Table:
    schema = draw(_SCHEMA)
    seq = draw(st.sampled_from(["none", "owned", "shared"]))
    extra: list[Column] = []
    for i in range(draw(st.integers(0, 2))):
        kinds = ["text", "integer"]
        if spec.domain is not None:
            kinds.append("@dom")
        if spec.composite is not None:
            kinds.append("@pair")
        extra.append(Column(f"x{i}", draw(st.sampled_from(kinds))))
    rls = draw(st.booleans())
    pols = draw(st.lists(st.sampled_from(["p0", "p1"]), max_size=2, unique=True)) if rls else []
    return Table(
        schema=schema,
        owned_seq=draw(sequences(schema, "t_id_seq")) if seq == "owned" else None,
        shared_seq=seq == "shared",
        extra=tuple(extra),
        check=draw(st.sampled_from(TABLE_CHECKS)),
        check_valid=draw(st.sampled_from([True, True, False])),
        check_no_inherit=draw(st.sampled_from([False, False, True])),
        check_enforced=draw(st.sampled_from([True, True, False])) if PG18 else True,
        index=draw(st.sampled_from(TABLE_INDEXES)),
        index_target=draw(st.sampled_from(INDEX_TARGETS)),
        rls=rls,
        force=rls and draw(st.booleans()),
        policies=tuple(draw(policies(p)) for p in sorted(pols)),
    )


@st.composite
def partitioned_tables(draw: st.DrawFn) -> Partitioned:
    schema = draw(_SCHEMA)
    bounds = sorted(draw(st.sets(st.integers(0, 3), max_size=2)))
    return Partitioned(
        schema=schema,
        kind=draw(st.sampled_from(["RANGE", "LIST"])),
        parts=tuple(
            (i, draw(st.sampled_from([schema, schema, _other(schema)])), draw(_ATTACHED))
            for i in bounds
        ),
        default=draw(st.sampled_from([None, schema])),
        pk=draw(st.booleans()),
        index=draw(st.booleans()),
        check=draw(st.booleans()),
        note_default=draw(st.sampled_from([None, "a"])),
        part_default=draw(st.sampled_from([None, None, "own"])),
        note_pglz=draw(st.sampled_from([False, False, True])),
        part_storage=draw(st.sampled_from([None, None, "EXTERNAL"])),
        note_distinct=draw(st.sampled_from([None, None, "-0.5"])),
        part_distinct=draw(st.sampled_from([None, None, "3"])),
        sub=draw(st.sampled_from([None, None, schema, _other(schema)])),
        sub_leaves=tuple(sorted(draw(st.sets(st.integers(0, 2), max_size=2)))),
        alt=draw(st.sampled_from([None, None, schema, _other(schema)])),
        under_alt=draw(st.sampled_from([None, *bounds])),
    )


_ATTACHED = st.sampled_from([True, True, False])


@st.composite
def wides(draw: st.DrawFn) -> Wide:
    w = Wide(draw(_SCHEMA))
    for field_ in draw(st.lists(st.sampled_from(sorted(_WIDE_FIELDS)), max_size=4, unique=True)):
        w = replace(w, **{field_: draw(_WIDE_FIELDS[field_])})
    return w


@st.composite
def stats_objects(draw: st.DrawFn) -> Stats:
    return Stats(
        schema=draw(_SCHEMA),
        kinds=tuple(sorted(draw(st.sets(st.sampled_from(STATS_KINDS), max_size=2)))),
        cols=draw(st.sampled_from(STATS_COLS)),
        target=draw(st.sampled_from([None, 100])),
    )


_VIEW_EVENTS = st.lists(
    st.sampled_from(["INSERT", "UPDATE", "DELETE"]), min_size=1, max_size=3, unique=True
).map(lambda es: tuple(e for e in ("INSERT", "UPDATE", "DELETE") if e in es))


@st.composite
def triggers(draw: st.DrawFn, name: str, spec: RichSpec) -> Trigger:
    on = ["t"] if spec.table is not None else []
    on += ["pt"] if spec.partitioned is not None else []
    return _fit_trigger(
        Trigger(
            name=name,
            on=draw(st.sampled_from(on or ["t"])),
            timing=draw(st.sampled_from(["BEFORE", "AFTER"])),
            row=draw(st.booleans()),
            events=tuple(
                draw(st.lists(st.sampled_from(_EVENT_ORDER), min_size=1, max_size=3, unique=True))
            ),
            update_of=draw(st.sampled_from([None, "v", "n"])),
            when=draw(st.sampled_from([None, "new", "old", "distinct"])),
            constraint=draw(st.sampled_from([None, None, *TRIGGER_CONSTRAINT])),
        )
    )


TRIGGER_CONSTRAINT = ["NOT DEFERRABLE", "IMMEDIATE", "DEFERRED"]


@st.composite
def rich_views(draw: st.DrawFn) -> Views:
    return Views(
        inner=draw(_SCHEMA),
        inner_n=draw(st.booleans()),
        inner_where=draw(st.integers(0, 2)),
        outer=draw(st.sampled_from([None, *SCHEMAS])),
        outer_star=draw(st.booleans()),
    )


@st.composite
def matviews(draw: st.DrawFn) -> MatView:
    return MatView(
        schema=draw(_SCHEMA),
        query=draw(st.integers(0, 1)),
        index=draw(st.sampled_from([None, "plain", "unique"])),
    )


@st.composite
def rich_schemas(draw: st.DrawFn) -> RichSpec:
    """A small schema: each kind present or not, so a few objects of a few kinds at a time."""
    n_seq = draw(st.integers(0, 2))
    spec = RichSpec(
        sequences=tuple(draw(sequences(draw(_SCHEMA), f"s{i}")) for i in range(n_seq)),
        domain=draw(st.one_of(st.none(), domains())),
        composite=draw(st.one_of(st.none(), composites())),
        func=draw(
            st.one_of(st.none(), st.builds(Func, _SCHEMA, st.integers(0, FUNC_VARIANTS - 1)))
        ),
    )
    if draw(st.booleans()):
        spec = replace(spec, table=draw(tables(spec)))
    if draw(st.booleans()):
        spec = replace(
            spec,
            child=Child(draw(_SCHEMA), draw(st.booleans()), draw(st.booleans()), draw(_ATTACHED)),
        )
    if draw(st.booleans()):
        spec = replace(spec, partitioned=draw(partitioned_tables()))
    if spec.table is not None:
        spec = replace(
            spec,
            views=draw(st.one_of(st.none(), rich_views())),
            matview=draw(st.one_of(st.none(), matviews())),
        )
    if (spec.table is not None or spec.partitioned is not None) and draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(["tr0", "tr1"]), min_size=1, unique=True))
        spec = replace(
            spec,
            trig_fn=TrigFn(draw(_SCHEMA), draw(st.integers(0, 1))),
            triggers=tuple(draw(triggers(n, spec)) for n in sorted(names)),
        )
        if spec.views is not None and draw(st.booleans()):
            spec = replace(spec, view_trigger=draw(_VIEW_EVENTS))
    if draw(st.booleans()):
        spec = replace(spec, wide=draw(wides()))
    if spec.table is not None:
        spec = replace(
            spec,
            inherit=draw(st.sampled_from([None, None, *SCHEMAS])),
            inherit_left=draw(st.sampled_from([False, False, True])),
            inherit_second=draw(st.sampled_from([False, False, True])),
            stats=draw(st.one_of(st.none(), stats_objects())),
        )
    spec = replace(
        spec,
        def_privs=tuple(
            sorted(draw(st.lists(st.sampled_from(sorted(DEF_PRIVS)), max_size=2, unique=True)))
        ),
        def_privs_first=draw(st.booleans()),
    )
    targets = sorted(spec.comment_targets())
    keys = draw(st.lists(st.sampled_from(targets), max_size=3, unique=True))
    spec = replace(
        spec, comments=tuple((k, draw(st.sampled_from(COMMENT_TEXTS))) for k in sorted(keys))
    )
    grants = sorted(spec.grant_statements())
    return replace(
        spec, grants=tuple(sorted(draw(st.lists(st.sampled_from(grants), max_size=3, unique=True))))
    )


# -- mutations ---------------------------------------------------------------------------------

Mutation = Callable[[st.DrawFn, RichSpec], RichSpec]


def _set_seq(spec: RichSpec, i: int, s: Seq) -> RichSpec:
    seqs = list(spec.sequences)
    seqs[i] = s
    return replace(spec, sequences=tuple(seqs))


def m_seq_add(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    name = f"s{len(spec.sequences)}"
    return replace(spec, sequences=(*spec.sequences, draw(sequences(draw(_SCHEMA), name))))


def m_seq_drop(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    # the last one: s0 stays s0 (the one defaults and grants name) unless it is the only one
    return replace(spec, sequences=spec.sequences[:-1])


def m_seq_alter(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """ALTER SEQUENCE: one or two of INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE, AS."""
    owned = spec.table.owned_seq if spec.table is not None else None
    choices = list(range(len(spec.sequences))) + ([-1] if owned is not None else [])
    i = draw(st.sampled_from(choices))
    s = owned if i == -1 else spec.sequences[i]
    assert s is not None
    for field_ in draw(
        st.lists(st.sampled_from(sorted(_SEQ_FIELDS)), min_size=1, max_size=2, unique=True)
    ):
        s = replace(s, **{field_: draw(_SEQ_FIELDS[field_])}).fixed()
    if i == -1:
        assert spec.table is not None
        return replace(spec, table=replace(spec.table, owned_seq=s))
    return _set_seq(spec, i, s)


def m_seq_move(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    i = draw(st.integers(0, len(spec.sequences) - 1))
    s = spec.sequences[i]
    return _set_seq(spec, i, replace(s, schema=_other(s.schema)))


def m_id_default(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """t.id's default: none, nextval of its owned sequence, nextval of s0 (not owned)."""
    assert spec.table is not None
    t = spec.table
    how = draw(st.sampled_from(["none", "owned", "shared"]))
    owned = t.owned_seq or draw(sequences(t.schema, "t_id_seq"))
    return replace(
        spec,
        table=replace(t, owned_seq=owned if how == "owned" else None, shared_seq=how == "shared"),
    )


def m_child_seq_default(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    assert spec.child is not None
    return replace(spec, child=replace(spec.child, seq_default=not spec.child.seq_default))


def m_domain_toggle(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    if spec.domain is None:
        return replace(spec, domain=draw(domains()))
    spec = _drop_columns(spec, "@dom")
    return replace(spec, domain=None)


def m_domain_alter(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """ALTER DOMAIN SET/DROP DEFAULT, SET/DROP NOT NULL, ADD/DROP CONSTRAINT; or a new base
    type, which PostgreSQL cannot alter in place."""
    d = spec.domain
    assert d is not None
    what = draw(st.sampled_from(["default", "not_null", "check", "base", "move"]))
    if what == "default":
        d = replace(
            d, default=draw(st.sampled_from([x for x in DOMAIN_DEFAULTS if x != d.default]))
        )
    elif what == "not_null":
        d = replace(d, not_null=not d.not_null)
    elif what == "check":
        d = replace(d, check=draw(st.sampled_from([x for x in DOMAIN_CHECKS if x != d.check])))
    elif what == "base":
        d = replace(d, base=draw(st.sampled_from([x for x in DOMAIN_BASES if x != d.base])))
    else:
        d = replace(d, schema=_other(d.schema))
    return replace(spec, domain=d)


def m_composite_toggle(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    if spec.composite is None:
        return replace(spec, composite=draw(composites()))
    spec = _drop_columns(spec, "@pair")
    return replace(spec, composite=None)


def m_composite_alter(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """ALTER TYPE ADD / DROP ATTRIBUTE (added last), or a move to the other schema."""
    c = spec.composite
    assert c is not None
    what = draw(st.sampled_from(["add", "drop", "move", "type"]))
    if what == "type":  # ALTER TYPE ... ALTER ATTRIBUTE ... TYPE
        i = draw(st.integers(0, len(c.attrs) - 1))
        name, type_ = c.attrs[i]
        attrs = list(c.attrs)
        attrs[i] = (name, draw(st.sampled_from([x for x in ATTR_TYPES if x != type_])))
        c = replace(c, attrs=tuple(attrs))
    elif what == "add" or (what == "drop" and len(c.attrs) == 1):
        used = {int(n[1:]) for n, _ in c.attrs}
        name = f"a{max(used) + 1}"
        c = replace(c, attrs=(*c.attrs, (name, draw(st.sampled_from(ATTR_TYPES)))))
    elif what == "drop":
        attrs = list(c.attrs)
        attrs.pop(draw(st.integers(0, len(attrs) - 1)))
        c = replace(c, attrs=tuple(attrs))
    else:
        c = replace(c, schema=_other(c.schema))
    return replace(spec, composite=c)


def _drop_columns(spec: RichSpec, type_: str) -> RichSpec:
    if spec.table is None:
        return spec
    extra = tuple(c for c in spec.table.extra if c.type_ != type_)
    return replace(spec, table=replace(spec.table, extra=extra))


def m_table_toggle(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    if spec.table is None:
        return replace(spec, table=draw(tables(spec)))
    return replace(spec, table=None)


def m_table_move(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    assert spec.table is not None
    return replace(spec, table=replace(spec.table, schema=_other(spec.table.schema)))


def m_column_add(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    t = spec.table
    assert t is not None
    kinds = ["text", "integer"]
    if spec.domain is not None and not spec.domain.not_null:
        kinds.append("@dom")
    if spec.composite is not None:
        kinds.append("@pair")
    used = {int(c.name[1:]) for c in t.extra}
    name = f"x{max(used, default=-1) + 1}"
    col = Column(name, draw(st.sampled_from(kinds)))
    return replace(spec, table=replace(t, extra=(*t.extra, col)))


def m_column_drop(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    t = spec.table
    assert t is not None
    assert t.extra
    extra = list(t.extra)
    extra.pop(draw(st.integers(0, len(extra) - 1)))
    return replace(spec, table=replace(t, extra=tuple(extra)))


def m_table_check(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    t = spec.table
    assert t is not None
    if t.check is not None and draw(st.booleans()):  # VALIDATE CONSTRAINT, or back to NOT VALID
        return replace(spec, table=replace(t, check_valid=not t.check_valid))
    if t.check is not None and draw(st.booleans()):
        return replace(spec, table=replace(t, check_no_inherit=not t.check_no_inherit))
    if PG18 and t.check is not None and draw(st.booleans()):
        return replace(spec, table=replace(t, check_enforced=not t.check_enforced))
    check = draw(st.sampled_from([x for x in TABLE_CHECKS if x != t.check]))
    return replace(spec, table=replace(t, check=check, check_valid=draw(st.booleans())))


def m_table_index(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    t = spec.table
    assert t is not None
    if t.index == "lower(v)" and draw(st.booleans()):  # its statistics target, in place
        target = draw(st.sampled_from([x for x in INDEX_TARGETS if x != t.index_target]))
        return replace(spec, table=replace(t, index_target=target))
    index = draw(st.sampled_from([x for x in TABLE_INDEXES if x != t.index]))
    return replace(spec, table=replace(t, index=index))


def m_rls(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """ENABLE / DISABLE and FORCE / NO FORCE ROW LEVEL SECURITY."""
    t = spec.table
    assert t is not None
    flip_force = draw(st.booleans())
    t = replace(t, force=not t.force) if flip_force else replace(t, rls=not t.rls)
    return replace(spec, table=t)


def m_policy(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add, drop, or alter (roles, USING, WITH CHECK; command and permissiveness) a policy."""
    t = spec.table
    assert t is not None
    pols = {p.name: p for p in t.policies}
    name = draw(st.sampled_from(["p0", "p1"]))
    if name not in pols:
        pols[name] = draw(policies(name))
    elif draw(st.booleans()):
        del pols[name]
    else:
        p = pols[name]
        what = draw(st.sampled_from(["to", "using", "check", "command", "permissive"]))
        if what == "to":
            p = replace(p, to=draw(st.sampled_from([x for x in sorted(POLICY_TO) if x != p.to])))
        elif what == "using":
            p = replace(p, using=draw(st.sampled_from([None, *POLICY_USING])))
        elif what == "check":
            p = replace(p, check=draw(st.sampled_from([None, *POLICY_CHECK])))
        elif what == "command":
            p = replace(
                p, command=draw(st.sampled_from(["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"]))
            )
        else:
            p = replace(p, permissive=not p.permissive)
        pols[name] = _fit_policy(p)
    return replace(spec, table=replace(t, policies=tuple(pols[n] for n in sorted(pols))))


def m_child(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add or drop u, move it to the other schema, or add / drop its foreign key."""
    c = spec.child
    if c is None:
        return replace(
            spec,
            child=Child(draw(_SCHEMA), draw(st.booleans()), draw(st.booleans()), draw(_ATTACHED)),
        )
    what = draw(st.sampled_from(["drop", "fk", "move", "fk_valid"]))
    if what == "drop":
        return replace(spec, child=None)
    if what == "fk":
        return replace(spec, child=replace(c, fk=not c.fk))
    if what == "fk_valid":  # VALIDATE CONSTRAINT, or back to NOT VALID
        return replace(spec, child=replace(c, fk=True, fk_valid=not c.fk_valid))
    return replace(spec, child=replace(c, schema=_other(c.schema)))


def m_partitioned(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add / drop a partition or the DEFAULT partition, toggle the primary key, add or drop the
    whole partitioned table."""
    p = spec.partitioned
    if p is None:
        return replace(spec, partitioned=draw(partitioned_tables()))
    # RANGE <-> LIST is not drawn: pg-flux refuses by design to recreate a table (PlanError
    # "the partition key of ... changes ...; pg-flux does not recreate a table").
    what = draw(
        st.sampled_from(
            [
                "add_part",
                "drop_part",
                "default",
                "pk",
                "drop",
                "attach",
                "sub",
                "sub_leaf",
                "index",
                "check",
                "note_default",
                "part_default",
                "move",
                "note_pglz",
                "part_storage",
                "note_distinct",
                "part_distinct",
            ]
        )
    )
    if what == "drop":
        return replace(spec, partitioned=None)
    if what == "attach" and p.parts:  # DETACH / ATTACH PARTITION
        parts = list(p.parts)
        i = draw(st.integers(0, len(parts) - 1))
        parts[i] = (parts[i][0], parts[i][1], not parts[i][2])
        p = replace(p, parts=tuple(parts))
    elif what == "move" and p.parts:  # to pt2 or back (DETACH, then ATTACH)
        if p.under_alt is None:
            alt = p.alt if p.alt is not None else draw(_SCHEMA)
            p = replace(p, alt=alt, under_alt=draw(st.sampled_from([b for b, _, _ in p.parts])))
        else:
            p = replace(p, under_alt=None)
    elif what == "sub" or (what == "sub_leaf" and p.sub is None):
        if p.sub is None:
            leaves = tuple(sorted(draw(st.sets(st.integers(0, 2), max_size=2))))
            p = replace(p, sub=draw(_SCHEMA), sub_leaves=leaves)
        else:
            p = replace(p, sub=draw(st.sampled_from([None, _other(p.sub)])))
    elif what == "sub_leaf":
        p = replace(p, sub_leaves=tuple(sorted(set(p.sub_leaves) ^ {draw(st.integers(0, 2))})))
    elif what in ("add_part", "attach") or (what == "drop_part" and not p.parts):
        free = [i for i in range(4) if i not in {b for b, _, _ in p.parts}]
        if free:
            i = draw(st.sampled_from(free))
            parts = sorted((*p.parts, (i, draw(_SCHEMA), draw(_ATTACHED))))
            p = replace(p, parts=tuple(parts))
    elif what == "drop_part":
        parts = list(p.parts)
        gone = parts.pop(draw(st.integers(0, len(parts) - 1)))
        p = replace(p, parts=tuple(parts))
        if p.under_alt == gone[0]:
            p = replace(p, under_alt=None)
    elif what == "default":
        p = replace(p, default=None if p.default else draw(_SCHEMA))
    elif what == "index":
        p = replace(p, index=not p.index)
    elif what == "check":
        p = replace(p, check=not p.check)
    elif what == "note_default":
        p = replace(p, note_default=draw(st.sampled_from([None, "a", "b"])))
    elif what == "note_pglz":
        p = replace(p, note_pglz=not p.note_pglz)
    elif what == "part_storage":
        p = replace(p, part_storage=draw(st.sampled_from([None, "EXTERNAL", "MAIN"])))
    elif what == "note_distinct":
        p = replace(p, note_distinct=draw(st.sampled_from([None, "-0.5", "10"])))
    elif what == "part_distinct":
        p = replace(p, part_distinct=draw(st.sampled_from([None, "3", "4"])))
    elif what == "part_default":
        p = replace(p, part_default=draw(st.sampled_from([None, "own", "mine"])))
    else:
        p = replace(p, pk=not p.pk)
    return replace(spec, partitioned=p)


def m_func(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add, drop, change the body / volatility / language of f, or move it."""
    f = spec.func
    if f is None:
        return replace(spec, func=Func(draw(_SCHEMA), draw(st.integers(0, FUNC_VARIANTS - 1))))
    what = draw(st.sampled_from(["drop", "body", "move"]))
    if what == "drop":
        return replace(spec, func=None)
    if what == "body":
        others = [v for v in range(FUNC_VARIANTS) if v != f.variant]
        return replace(spec, func=replace(f, variant=draw(st.sampled_from(others))))
    return replace(spec, func=replace(f, schema=_other(f.schema)))


def m_trig_fn(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    f = spec.trig_fn
    if f is None:
        return replace(spec, trig_fn=TrigFn(draw(_SCHEMA), draw(st.integers(0, 1))))
    what = draw(st.sampled_from(["drop", "body", "move"]))
    if what == "drop":
        return replace(spec, trig_fn=None)
    if what == "body":
        return replace(spec, trig_fn=replace(f, variant=1 - f.variant))
    return replace(spec, trig_fn=replace(f, schema=_other(f.schema)))


def m_trigger(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add, drop, or alter (timing, level, events, UPDATE OF, WHEN) a trigger."""
    trs = {tr.name: tr for tr in spec.triggers}
    name = draw(st.sampled_from(["tr0", "tr1"]))
    if name not in trs:
        trs[name] = draw(triggers(name, spec))
    elif draw(st.booleans()):
        del trs[name]
    else:
        tr = trs[name]
        what = draw(st.sampled_from(["timing", "row", "events", "update_of", "when", "constraint"]))
        if what == "constraint":
            tr = replace(
                tr,
                constraint=draw(
                    st.sampled_from([x for x in (None, *TRIGGER_CONSTRAINT) if x != tr.constraint])
                ),
            )
        elif what == "timing":
            tr = replace(tr, timing="BEFORE" if tr.timing == "AFTER" else "AFTER")
        elif what == "row":
            tr = replace(tr, row=not tr.row)
        elif what == "events":
            events = draw(
                st.lists(st.sampled_from(_EVENT_ORDER), min_size=1, max_size=3, unique=True)
            )
            tr = replace(tr, events=tuple(events))
        elif what == "update_of":
            tr = replace(
                tr, events=(*tr.events, "UPDATE"), update_of=draw(st.sampled_from([None, "v", "n"]))
            )
        else:
            tr = replace(tr, when=draw(st.sampled_from([None, "new", "old", "distinct"])))
        trs[name] = _fit_trigger(tr)
    return replace(spec, triggers=tuple(trs[n] for n in sorted(trs)))


def m_views(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add / drop v1; change v1's columns (n appended or removed) or WHERE; add / drop / move v2,
    switch it between `SELECT *` and explicit columns; move v1."""
    v = spec.views
    if v is None:
        return replace(spec, views=draw(rich_views()))
    what = draw(st.sampled_from(["drop", "inner_n", "inner_where", "outer", "outer_star", "move"]))
    if what == "drop":
        return replace(spec, views=None)
    if what == "inner_n":
        v = replace(v, inner_n=not v.inner_n)
    elif what == "inner_where":
        v = replace(
            v, inner_where=draw(st.sampled_from([w for w in range(3) if w != v.inner_where]))
        )
    elif what == "outer":
        v = replace(v, outer=draw(st.sampled_from([s for s in (None, *SCHEMAS) if s != v.outer])))
    elif what == "outer_star":
        v = replace(v, outer_star=not v.outer_star)
    else:
        v = replace(v, inner=_other(v.inner))
    return replace(spec, views=v)


def m_matview(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    m = spec.matview
    if m is None:
        return replace(spec, matview=draw(matviews()))
    what = draw(st.sampled_from(["drop", "query", "index", "move"]))
    if what == "drop":
        return replace(spec, matview=None)
    if what == "query":
        m = replace(m, query=1 - m.query)
    elif what == "index":
        m = replace(
            m, index=draw(st.sampled_from([x for x in (None, "plain", "unique") if x != m.index]))
        )
    else:
        m = replace(m, schema=_other(m.schema))
    return replace(spec, matview=m)


def m_comment(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add, change or remove the comment of an existing object."""
    key = draw(st.sampled_from(sorted(spec.comment_targets())))
    comments = dict(spec.comments)
    if key in comments and draw(st.booleans()):
        del comments[key]
    else:
        comments[key] = draw(st.sampled_from([t for t in COMMENT_TEXTS if t != comments.get(key)]))
    return replace(spec, comments=tuple(sorted(comments.items())))


def m_grant(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Grant or revoke one privilege (schema, table, column, sequence, function, type)."""
    key = draw(st.sampled_from(sorted(spec.grant_statements())))
    return replace(spec, grants=tuple(sorted(set(spec.grants) ^ {key})))


def m_wide(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add / drop / move w; SET LOGGED / UNLOGGED, storage parameters of w and w_idx, identity
    added / dropped / its options, c's collation, g generated or not (or another expression)."""
    w = spec.wide
    if w is None:
        return replace(spec, wide=draw(wides()))
    what = draw(st.sampled_from(["drop", "move", "alter", "alter"]))
    if what == "drop":
        return replace(spec, wide=None)
    if what == "move":
        return replace(spec, wide=replace(w, schema=_other(w.schema)))
    for field_ in draw(
        st.lists(st.sampled_from(sorted(_WIDE_FIELDS)), min_size=1, max_size=2, unique=True)
    ):
        w = replace(w, **{field_: draw(_WIDE_FIELDS[field_])})
    return replace(spec, wide=w)


def m_inherit(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add, drop or move ti, which INHERITS t; end (NO INHERIT) or restore the inheritance, or
    give ti a second parent, tq, or take it away."""
    if spec.inherit is not None and draw(st.booleans()):
        if draw(st.booleans()):
            return replace(spec, inherit_second=not spec.inherit_second)
        return replace(spec, inherit_left=not spec.inherit_left)
    options = [s for s in (None, *SCHEMAS) if s != spec.inherit]
    return replace(spec, inherit=draw(st.sampled_from(options)))


def m_stats(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add / drop / move st; change its kinds, columns or statistics target."""
    x = spec.stats
    if x is None:
        return replace(spec, stats=draw(stats_objects()))
    what = draw(st.sampled_from(["drop", "move", "kinds", "cols", "target"]))
    if what == "drop":
        return replace(spec, stats=None)
    if what == "move":
        x = replace(x, schema=_other(x.schema))
    elif what == "kinds":
        x = replace(x, kinds=tuple(sorted(set(x.kinds) ^ {draw(st.sampled_from(STATS_KINDS))})))
    elif what == "cols":
        x = replace(x, cols=draw(st.sampled_from([c for c in STATS_COLS if c != x.cols])))
    else:
        x = replace(x, target=None if x.target else draw(st.sampled_from([100, 0])))
    return replace(spec, stats=x)


def m_view_trigger(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Add, drop, or change the events of the INSTEAD OF trigger on v1."""
    if spec.view_trigger and draw(st.booleans()):
        return replace(spec, view_trigger=())
    return replace(spec, view_trigger=draw(_VIEW_EVENTS))


def m_def_priv(draw: st.DrawFn, spec: RichSpec) -> RichSpec:
    """Grant or revoke one default privilege (adding, changing or removing an entry), or move
    the default privileges before / after the objects (so the objects get them or not)."""
    if spec.def_privs and draw(st.integers(0, 3)) == 0:
        return replace(spec, def_privs_first=not spec.def_privs_first)
    key = draw(st.sampled_from(sorted(DEF_PRIVS)))
    return replace(spec, def_privs=tuple(sorted(set(spec.def_privs) ^ {key})))


def _applicable(spec: RichSpec) -> list[tuple[str, Mutation]]:
    t = spec.table
    ops: list[tuple[str, Mutation]] = [
        ("domain_toggle", m_domain_toggle),
        ("composite_toggle", m_composite_toggle),
        ("table_toggle", m_table_toggle),
        ("child", m_child),
        ("partitioned", m_partitioned),
        ("func", m_func),
        ("comment", m_comment),
        ("grant", m_grant),
        ("wide", m_wide),
        ("def_priv", m_def_priv),
    ]
    if len(spec.sequences) < 2:
        ops.append(("seq_add", m_seq_add))
    if spec.sequences:
        ops += [("seq_drop", m_seq_drop), ("seq_move", m_seq_move)]
    if spec.sequences or (t is not None and t.owned_seq is not None):
        ops.append(("seq_alter", m_seq_alter))
    if spec.domain is not None:
        ops.append(("domain_alter", m_domain_alter))
    if spec.composite is not None:
        ops.append(("composite_alter", m_composite_alter))
    if spec.child is not None:
        ops.append(("child_seq_default", m_child_seq_default))
    if t is not None:
        ops += [
            ("id_default", m_id_default),
            ("table_move", m_table_move),
            ("column_add", m_column_add),
            ("table_check", m_table_check),
            ("table_index", m_table_index),
            ("rls", m_rls),
            ("policy", m_policy),
            ("views", m_views),
            ("matview", m_matview),
            ("inherit", m_inherit),
            ("stats", m_stats),
        ]
        if spec.views is not None and spec.trig_fn is not None:
            ops.append(("view_trigger", m_view_trigger))
        if t.extra:
            ops.append(("column_drop", m_column_drop))
    if t is not None or spec.partitioned is not None:
        ops.append(("trig_fn", m_trig_fn))
        if spec.trig_fn is not None:
            ops.append(("trigger", m_trigger))
    return ops


def _without_domain_base_refusal(a: RichSpec, b: RichSpec) -> RichSpec:
    """B, with the domain's base type as in A when columns of the domain stay in B: pg-flux
    refuses that change by design (PostgreSQL cannot change a domain's base type in place, and
    rebuilding it would drop the columns). Columns B drops, or their table, do not count."""
    if a.domain is None or b.domain is None or a.domain.schema != b.domain.schema:
        return b
    used = a.table is not None and any(c.type_ == "@dom" for c in a.table.extra)
    kept = b.table is not None and any(c.type_ == "@dom" for c in b.table.extra)
    if used and kept and a.domain.base != b.domain.base:
        b = replace(b, domain=replace(b.domain, base=a.domain.base))
    return b


def _pair_columns(spec: RichSpec) -> bool:
    return spec.table is not None and any(c.type_ == "@pair" for c in spec.table.extra)


def _without_composite_retype_refusal(a: RichSpec, b: RichSpec) -> RichSpec:
    """B, with the composite type's attribute types as in A when columns of it are in A and B:
    pg-flux refuses that by design (PlanError "composite ... changes the type of a0, which
    PostgreSQL cannot do in place while columns use it")."""
    if a.composite is None or b.composite is None or not (_pair_columns(a) and _pair_columns(b)):
        return b
    old = dict(a.composite.attrs)
    attrs = tuple((n, old.get(n, t)) for n, t in b.composite.attrs)
    return replace(b, composite=replace(b.composite, attrs=attrs))


def _without_inherit_move_limit(a: RichSpec, b: RichSpec) -> RichSpec:
    # t moved to another schema while ti INHERITS it: ti joins the new t and leaves the old one
    # (tests/properties/test_regressions.py, "parent moved to another schema", also with its
    # sequence and with its check made NO INHERIT). Open, found by the slow run on PostgreSQL
    # 18: with ti's second parent tq after t the order of ti's parents changes and tq is left
    # and joined again, so its columns stay ti's own (a README limit). t stays in A's schema.
    second = a.inherit_second or b.inherit_second
    if second and a.inherit and b.inherit and a.table is not None and b.table is not None:
        return replace(b, table=replace(b.table, schema=a.table.schema))
    return b


def _without_rejoin_limit(a: RichSpec, b: RichSpec) -> RichSpec:
    # documented limit (README): ti that left t and joins it again (INHERIT) keeps t's columns
    # as its own too (pg_dump prints them); PostgreSQL has no statement that undoes that.
    if a.inherit is not None and a.inherit == b.inherit and a.inherit_left and not b.inherit_left:
        return replace(b, inherit_left=True)
    return b


def _without_second_parent_column_order(b: RichSpec) -> RichSpec:
    # documented limit (README: column order is history): ti made with INHERITS (t, tq) and
    # then NO INHERIT t has t's columns before tq's; a plan that creates that ti writes
    # INHERITS (tq), which puts tq's column first.
    if b.inherit_left and b.inherit_second:
        return replace(b, inherit_second=False)
    return b


def _without_detached_child_column_order(a: RichSpec, b: RichSpec) -> RichSpec:
    # documented limit (README, "What pg-flux manages"): ti made with INHERITS (t) and then
    # NO INHERIT has t's columns before its own; a column t gains in the same plan reaches a ti
    # that is no longer a child at its end, and pg-flux does not reorder columns (a rebuild).
    if b.inherit is None or not b.inherit_left or a.table is None or b.table is None:
        return b
    if {c.name for c in b.table.extra} <= {c.name for c in a.table.extra}:
        return b
    return replace(b, table=replace(b.table, extra=a.table.extra))


@st.composite
def mutations(draw: st.DrawFn, a: RichSpec) -> RichSpec:
    """B: A with one to three random edits (add / drop / alter of each kind)."""
    b = a
    for _ in range(draw(st.integers(1, 3))):
        ops = _applicable(b)
        _, op = ops[draw(st.integers(0, len(ops) - 1))]
        b = op(draw, b)
    b = _without_composite_retype_refusal(a, b)
    b = _without_inherit_move_limit(a, b)
    b = _without_second_parent_column_order(b)
    b = _without_rejoin_limit(a, b)
    b = _without_detached_child_column_order(a, b)
    return _without_domain_base_refusal(a, b)
