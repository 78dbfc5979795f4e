"""A deterministic generator of realistic schemas, and of changes to them.

`generate(n_tables, seed)` builds a model of a schema (3 schemas; tables with columns of many types,
PKs, uniques, FKs, checks, partial / expression / GIN indexes, enums, sequences, views, materialized
views, plpgsql functions, triggers, comments) and `GeneratedSchema.mutate(seed)` derives the same
schema after a change: one that scales with the schema (the stress test) or one of a typical pull
request's size. Rendering is pure: the same inputs give byte-identical SQL.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from pathlib import Path

SCHEMAS = ("app", "billing", "audit")
NOUNS = (
    "account", "order", "invoice", "payment", "customer", "product", "shipment", "ticket",
    "session", "event", "review", "coupon", "address", "contract", "device", "message",
)  # fmt: skip
STATUSES = ("active", "pending", "suspended", "closed")

# (type, widened type or None): payload columns draw from these; widening is what PRs do.
PAYLOAD_TYPES: tuple[tuple[str, str | None], ...] = (
    ("integer", "bigint"),
    ("smallint", "integer"),
    ("bigint", None),
    ("numeric(12,2)", "numeric(16,2)"),
    ("varchar(40)", "varchar(120)"),
    ("text", None),
    ("boolean", None),
    ("timestamptz", None),
    ("date", None),
    ("uuid", None),
    ("jsonb", None),
    ("bytea", None),
    ("double precision", None),
    ("real", "double precision"),
    ("inet", None),
    ("interval", None),
    ("text[]", None),
    ("time", None),
)
DEFAULTS = {
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "numeric(12,2)": "0",
    "text": "''",
    "boolean": "false",
    "timestamptz": "now()",
    "date": "CURRENT_DATE",
    "jsonb": "'{}'::jsonb",
}


def q(schema: str, name: str) -> str:
    return f"{schema}.{name}"


@dataclass
class Column:
    name: str
    type: str
    not_null: bool = False
    default: str | None = None
    payload: bool = False  # free to drop or widen: nothing else refers to it

    def sql(self) -> str:
        parts = [self.name, self.type]
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.not_null:
            parts.append("NOT NULL")
        return " ".join(parts)


@dataclass
class Index:
    name: str
    definition: str  # everything after "ON table"

    def sql(self, table: Table) -> str:
        return f"CREATE INDEX {self.name} ON {table.qname} {self.definition};"


@dataclass
class Table:
    schema: str
    name: str
    columns: list[Column]
    serial_id: bool
    parent: tuple[str, str] | None
    code_unique: bool
    indexes: list[Index] = field(default_factory=list)
    trigger: bool = False
    comment: str = ""

    @property
    def qname(self) -> str:
        return q(self.schema, self.name)

    def create_sql(self) -> str:
        lines = [f"    {c.sql()}," for c in self.columns]
        lines.append(f"    CONSTRAINT {self.name}_pkey PRIMARY KEY (id),")
        if self.code_unique:
            lines.append(f"    CONSTRAINT {self.name}_code_key UNIQUE (code),")
        lines.append(f"    CONSTRAINT {self.name}_amount_check CHECK (amount >= 0),")
        lines.append(f"    CONSTRAINT {self.name}_name_check CHECK (name <> '')")
        return f"CREATE TABLE {self.qname} (\n" + "\n".join(lines) + "\n);"


@dataclass
class View:
    schema: str
    name: str
    query: str
    materialized: bool = False
    comment: str = ""

    def sql(self) -> str:
        kind = "MATERIALIZED VIEW" if self.materialized else "VIEW"
        return f"CREATE {kind} {q(self.schema, self.name)} AS\n{self.query};"


@dataclass
class Function:
    schema: str
    name: str
    args: str
    returns: str
    body: str

    def sql(self) -> str:
        return (
            f"CREATE FUNCTION {q(self.schema, self.name)}({self.args}) RETURNS {self.returns}\n"
            f"LANGUAGE plpgsql AS $fn$\n{self.body}\n$fn$;"
        )


@dataclass
class GeneratedSchema:
    n_tables: int
    seed: int
    enums: dict[tuple[str, str], list[str]]
    sequences: list[tuple[str, str]]
    functions: list[Function]
    tables: list[Table]
    views: list[View]
    next_table: int
    id_style: str = "mixed"  # "mixed" (bigserial and identity), "serial" or "identity"
    mutations: list[str] = field(default_factory=list)

    # -- rendering --------------------------------------------------------------------------

    def files(self) -> dict[str, str]:
        """schema/ relative path -> SQL text, in load order (file names sort in that order)."""
        out: dict[str, str] = {}
        out["00_schemas.sql"] = "\n".join(f"CREATE SCHEMA {s};" for s in SCHEMAS) + "\n"
        types = [
            f"CREATE TYPE {q(s, n)} AS ENUM ({', '.join(repr(v) for v in vals)});"
            for (s, n), vals in self.enums.items()
        ]
        types += [f"CREATE SEQUENCE {q(s, n)} START 1000;" for s, n in self.sequences]
        out["10_types.sql"] = "\n".join(types) + "\n"
        out["20_functions.sql"] = "\n\n".join(f.sql() for f in self.functions) + "\n"
        for schema in SCHEMAS:
            tables = [t for t in self.tables if t.schema == schema]
            out[f"30_tables/{schema}.sql"] = "\n\n".join(t.create_sql() for t in tables) + "\n"
        fks = [
            f"ALTER TABLE {t.qname} ADD CONSTRAINT {t.name}_parent_id_fkey FOREIGN KEY "
            f"(parent_id) REFERENCES {q(*t.parent)} (id) ON DELETE CASCADE;"
            for t in self.tables
            if t.parent is not None
        ]
        out["40_foreign_keys.sql"] = "\n".join(fks) + "\n"
        out["50_indexes.sql"] = "\n".join(i.sql(t) for t in self.tables for i in t.indexes) + "\n"
        out["60_views.sql"] = "\n\n".join(v.sql() for v in self.views) + "\n"
        triggers = [
            f"CREATE TRIGGER {t.name}_touch BEFORE UPDATE ON {t.qname} "
            f"FOR EACH ROW EXECUTE FUNCTION {t.schema}.touch_updated_at();"
            for t in self.tables
            if t.trigger
        ]
        out["70_triggers.sql"] = "\n".join(triggers) + "\n"
        comments: list[str] = []
        for t in self.tables:
            comments.append(f"COMMENT ON TABLE {t.qname} IS '{t.comment}';")
            comments.append(f"COMMENT ON COLUMN {t.qname}.name IS 'Display name of the {t.name}';")
        for v in self.views:
            kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
            comments.append(f"COMMENT ON {kind} {q(v.schema, v.name)} IS '{v.comment}';")
        for f in self.functions:
            comments.append(
                f"COMMENT ON FUNCTION {q(f.schema, f.name)}({f.args}) IS 'Generated {f.name}';"
            )
        out["80_comments.sql"] = "\n".join(comments) + "\n"
        return out

    @property
    def sql(self) -> str:
        return "".join(f"-- {path}\n{text}\n" for path, text in self.files().items())

    def write(self, schema_dir: Path) -> str:
        """Write the schema/ tree (replacing nothing else) and return the whole SQL."""
        for rel, text in self.files().items():
            path = schema_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return self.sql

    @property
    def column_count(self) -> int:
        return sum(len(t.columns) for t in self.tables)

    # -- mutation ---------------------------------------------------------------------------

    def mutate(self, seed: int = 1, *, small: bool = False) -> GeneratedSchema:
        """The same schema after a change; `mutations` says what changed.

        By default the change scales with the schema (2% of its columns dropped, widened or
        added, an index per 100 tables added and dropped, a table per 200 added: 4,500 plan
        statements at 10,000 tables), a stress test of the planner. `small=True` is the size of
        a typical pull request whatever the schema's size: three columns of each kind, one index
        added and one dropped, one new table (plus, in both, a view, a function and an enum
        value).
        """
        rng = random.Random(f"mutate:{self.seed}:{self.n_tables}:{seed}")
        new = copy.deepcopy(self)
        new.mutations = []
        budget = 9 if small else max(3, round(self.column_count * 0.02))
        per_kind = max(1, budget // 3)
        payload = [(t, c) for t in new.tables for c in t.columns if c.payload]
        rng.shuffle(payload)
        dropped: set[int] = set()
        # Drop: nothing refers to payload columns.
        for t, c in payload[:per_kind]:
            t.columns.remove(c)
            dropped.add(id(c))
            new.mutations.append(f"drop column {t.qname}.{c.name}")
        # Widen types.
        widened = 0
        for t, c in payload[per_kind:]:
            if widened >= per_kind:
                break
            wider = dict(PAYLOAD_TYPES).get(c.type)
            if wider is None:
                continue
            new.mutations.append(f"widen {t.qname}.{c.name} {c.type} -> {wider}")
            c.type = wider
            widened += 1
        # Add columns (appended: pg_dump prints physical order).
        for k in range(per_kind):
            t = rng.choice(new.tables)
            ctype = rng.choice(("text", "integer", "boolean", "timestamptz", "jsonb"))
            nullable = rng.random() < 0.6
            col = Column(
                f"added_{seed}_{k}",
                ctype,
                not_null=not nullable,
                default=None if nullable else DEFAULTS[ctype],
                payload=True,
            )
            t.columns.append(col)
            new.mutations.append(f"add column {t.qname}.{col.name} {ctype}")
        # Indexes: add some, drop some.
        n_idx = 1 if small else max(1, self.n_tables // 100)
        for k in range(n_idx):
            t = rng.choice(new.tables)
            t.indexes.append(Index(f"{t.name}_m{seed}_{k}_idx", "(status, created_at)"))
            new.mutations.append(f"add index on {t.qname}")
        droppable = [(t, i) for t in new.tables for i in t.indexes if "_m" not in i.name]
        for t, i in rng.sample(droppable, min(n_idx, len(droppable))):
            t.indexes.remove(i)
            new.mutations.append(f"drop index {t.schema}.{i.name}")
        # One view changes (a column appended: CREATE OR REPLACE VIEW can do it).
        plain = [v for v in new.views if not v.materialized]
        if plain:
            v = rng.choice(plain)
            v.query = v.query.replace(" FROM ", ", t.created_at AS changed_at FROM ", 1)
            new.mutations.append(f"change view {v.schema}.{v.name}")
        # One function changes its body.
        f = rng.choice([f for f in new.functions if f.name != "touch_updated_at"] or new.functions)
        f.body = f.body.replace("RETURN", f"-- changed by PR {seed}\n  RETURN", 1)
        new.mutations.append(f"change function {f.schema}.{f.name}")
        # New tables.
        rng_tables = random.Random(f"new:{self.seed}:{seed}")
        for _ in range(1 if small else max(1, self.n_tables // 200)):
            t = _make_table(new, rng_tables, new.next_table)
            new.next_table += 1
            new.tables.append(t)
            new.mutations.append(f"new table {t.qname}")
        # A new enum value, appended (ALTER TYPE ... ADD VALUE).
        key = sorted(new.enums)[rng.randrange(len(new.enums))]
        new.enums[key] = [*new.enums[key], f"archived_{seed}"]
        new.mutations.append(f"new value in enum {q(*key)}")
        return new


def _payload_column(rng: random.Random, k: int) -> Column:
    ctype, _ = rng.choice(PAYLOAD_TYPES)
    default = DEFAULTS.get(ctype) if rng.random() < 0.3 else None
    not_null = default is not None and rng.random() < 0.7
    return Column(f"c{k}_{ctype.split('(')[0].split('[')[0].replace(' ', '_')}", ctype, not_null,
                  default, payload=True)  # fmt: skip


def _make_table(gen: GeneratedSchema, rng: random.Random, i: int) -> Table:
    schema = SCHEMAS[i % len(SCHEMAS)]
    name = f"{NOUNS[i % len(NOUNS)]}_{i:05d}"
    status_enum = q(schema, "status")
    serial_id = {"serial": True, "identity": False}.get(gen.id_style, i % 2 == 1)
    cols = [
        Column("id", "bigserial" if serial_id else "bigint GENERATED ALWAYS AS IDENTITY"),
        Column("name", "text", not_null=True),
        Column("code", "varchar(32)"),
        Column("email", "varchar(255)"),
        Column("status", status_enum, not_null=True, default="'active'"),
        Column("amount", "numeric(12,2)", not_null=True, default="0"),
        Column("attrs", "jsonb", not_null=True, default="'{}'::jsonb"),
        Column("tags", "text[]"),
        Column("created_at", "timestamptz", not_null=True, default="now()"),
        Column("updated_at", "timestamptz"),
        Column("deleted_at", "timestamptz"),
    ]
    earlier = [t for t in gen.tables if t.schema == schema or rng.random() < 0.3]
    parent = None
    if earlier and rng.random() < 0.7:
        p = rng.choice(earlier)
        parent = (p.schema, p.name)
        cols.append(Column("parent_id", "bigint"))
    if i % 10 == 3 and gen.sequences:
        seq = gen.sequences[i % len(gen.sequences)]
        cols.append(Column("ref_no", "bigint", True, f"nextval('{q(*seq)}'::regclass)"))
    for k in range(rng.randint(2, 8)):
        cols.append(_payload_column(rng, k))
    t = Table(schema, name, cols, serial_id, parent, code_unique=rng.random() < 0.5)
    t.comment = f"Generated {name}: {rng.choice(NOUNS)} records"
    if parent is not None:
        t.indexes.append(Index(f"{name}_parent_id_idx", "(parent_id)"))
    t.indexes.append(Index(f"{name}_live_idx", "(created_at) WHERE deleted_at IS NULL"))  # partial
    if rng.random() < 0.5:
        t.indexes.append(Index(f"{name}_email_idx", "(lower((email)::text))"))  # expression
    if rng.random() < 0.3:
        t.indexes.append(Index(f"{name}_attrs_idx", "USING gin (attrs)"))
    if rng.random() < 0.2:
        t.indexes.append(Index(f"{name}_tags_idx", "USING gin (tags)"))
    t.trigger = i % 4 == 0
    return t


def generate(n_tables: int, seed: int = 1, id_style: str = "mixed") -> GeneratedSchema:
    if id_style not in ("mixed", "serial", "identity"):
        raise ValueError(f"id_style {id_style!r}: expected mixed, serial or identity")
    rng = random.Random(f"generate:{seed}:{n_tables}")
    gen = GeneratedSchema(
        n_tables=n_tables,
        seed=seed,
        enums={},
        sequences=[],
        functions=[],
        tables=[],
        views=[],
        next_table=n_tables,
        id_style=id_style,
    )
    for s in SCHEMAS:
        gen.enums[(s, "status")] = list(STATUSES)
        gen.enums[(s, "priority")] = ["low", "normal", "high"]
        gen.functions.append(
            Function(s, "touch_updated_at", "", "trigger",
                     "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;")
        )  # fmt: skip
    for k in range(max(1, n_tables // 20)):
        gen.sequences.append((SCHEMAS[k % len(SCHEMAS)], f"ref_seq_{k:04d}"))
    for i in range(n_tables):
        gen.tables.append(_make_table(gen, rng, i))
    for i, t in enumerate(gen.tables):
        if i % 10 == 5:
            cols = "t.id, t.name, t.status, t.amount"
            if t.parent is not None:
                query = (
                    f"SELECT {cols}, p.name AS parent_name FROM {t.qname} t "
                    f"LEFT JOIN {q(*t.parent)} p ON p.id = t.parent_id WHERE t.deleted_at IS NULL"
                )
            else:
                query = f"SELECT {cols} FROM {t.qname} t WHERE t.deleted_at IS NULL"
            gen.views.append(View(t.schema, f"{t.name}_live", query, comment=f"Live {t.name}"))
        if i % 50 == 7:
            query = (
                f"SELECT t.status, count(*) AS n, sum(t.amount) AS total FROM {t.qname} t "
                "GROUP BY t.status"
            )
            gen.views.append(
                View(t.schema, f"{t.name}_totals", query, True, comment=f"Totals of {t.name}")
            )
        if i % 25 == 11:
            gen.functions.append(
                Function(
                    t.schema,
                    f"total_of_{t.name}",
                    "p_status text",
                    "numeric",
                    f"DECLARE\n  v numeric;\nBEGIN\n  SELECT coalesce(sum(amount), 0) INTO v "
                    f"FROM {t.qname} WHERE status::text = p_status;\n  RETURN v;\nEND;",
                )
            )
    return gen
