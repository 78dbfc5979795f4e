-- Every dependency between two managed objects, as a pair of identity keys (engine.model.base.ObjectKey).
-- One query for the whole database: pg_depend joined twice to a table of keys for every object
-- pg-flux manages. Columns and column defaults map to column keys; rewrite rules map to their view;
-- array types map to their element type; domain constraints map to their domain.
-- Speed (10,000 tables: 374,000 keys, 157,000 dependencies): each key is JSON text concatenated
-- from escaped pieces (to_json) in one fixed key order, so that equal keys are equal texts;
-- json_build_object looked up the type of every key and value of every row, and the ::json
-- casts re-parsed every text. A relation's escaped names are computed once, not per column.
-- No ORDER BY: Schema.sorted() orders the dependencies.
WITH managed_ns AS (
    SELECT oid, nspname, to_json(nspname::text)::text AS jschema FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\_%%' AND nspname <> 'information_schema'
      AND nspname <> ALL (%(excluded_schemas)s::text[])
),
rel AS (
    SELECT c.oid, c.relkind, n.jschema, to_json(c.relname::text)::text AS jname,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'table'
                          WHEN 'v' THEN 'view' WHEN 'm' THEN 'matview' WHEN 'S' THEN 'sequence'
                          WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'c' THEN 'composite' END AS kind
    FROM pg_class c JOIN managed_ns n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I', 'c')
),
typ AS (
    -- user types by oid, arrays resolved to their element type
    SELECT t.oid, coalesce(e.oid, t.oid) AS base_oid FROM pg_type t
    LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
),
base_type_key AS (
    SELECT t.oid,
           '{"kind":' || CASE t.typtype WHEN 'e' THEN '"enum"' WHEN 'd' THEN '"domain"'
                                        WHEN 'r' THEN '"range"' WHEN 'c' THEN '"composite"' END
           || ',"schema":' || n.jschema || ',"name":' || to_json(t.typname::text) || '}' AS key
    FROM pg_type t JOIN managed_ns n ON n.oid = t.typnamespace
    LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c')
),
keys AS (
    SELECT 'pg_class'::regclass::oid AS classid, r.oid AS objid, 0 AS objsubid,
           '{"kind":"' || r.kind || '","schema":' || r.jschema || ',"name":' || r.jname || '}' AS key
    FROM rel r WHERE r.relkind <> 'c'
    UNION ALL
    -- an index that implements a constraint also stands for that constraint: a foreign key
    -- depends on the referenced key's index, and must be rebuilt when that key is
    SELECT 'pg_class'::regclass::oid, d.objid, 0,
           '{"kind":"constraint","schema":' || r.jschema || ',"parent":' || r.jname
           || ',"name":' || to_json(k.conname::text) || '}'
    FROM pg_depend d JOIN pg_constraint k ON k.oid = d.refobjid JOIN rel r ON r.oid = k.conrelid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_constraint'::regclass
      AND d.deptype = 'i'
    UNION ALL
    SELECT 'pg_class'::regclass::oid, r.oid, 0, b.key
    FROM rel r JOIN pg_type t ON t.typrelid = r.oid JOIN base_type_key b ON b.oid = t.oid
    WHERE r.relkind = 'c'
    UNION ALL
    -- a composite's attributes stand for the composite (their types must exist before it)
    SELECT 'pg_class'::regclass::oid, r.oid, a.attnum, b.key
    FROM rel r JOIN pg_type t ON t.typrelid = r.oid JOIN base_type_key b ON b.oid = t.oid
    JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE r.relkind = 'c'
    UNION ALL
    -- table columns are objects; a view's columns stand for the view
    SELECT 'pg_class'::regclass::oid, r.oid, a.attnum,
           CASE WHEN r.kind = 'table'
                THEN '{"kind":"column","schema":' || r.jschema || ',"parent":' || r.jname
                     || ',"name":' || to_json(a.attname::text) || '}'
                ELSE '{"kind":"' || r.kind || '","schema":' || r.jschema || ',"name":' || r.jname || '}' END
    FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid
    WHERE a.attnum > 0 AND NOT a.attisdropped AND r.kind IN ('table', 'view', 'matview')
    UNION ALL
    SELECT 'pg_attrdef'::regclass::oid, d.oid, 0,
           '{"kind":"column","schema":' || r.jschema || ',"parent":' || r.jname
           || ',"name":' || to_json(a.attname::text) || '}'
    FROM pg_attrdef d JOIN rel r ON r.oid = d.adrelid
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    UNION ALL
    SELECT 'pg_type'::regclass::oid, t.oid, 0, b.key
    FROM typ t JOIN base_type_key b ON b.oid = t.base_oid
    UNION ALL
    -- a table's or view's row type (and its array) stands for the relation: SETOF t, columns of type t
    SELECT 'pg_type'::regclass::oid, t.oid, 0,
           '{"kind":"' || r.kind || '","schema":' || r.jschema || ',"name":' || r.jname || '}'
    FROM typ t JOIN pg_type bt ON bt.oid = t.base_oid JOIN rel r ON r.oid = bt.typrelid
    WHERE r.kind IN ('table', 'view', 'matview')
    UNION ALL
    SELECT 'pg_proc'::regclass::oid, p.oid, 0,
           '{"kind":' || CASE p.prokind WHEN 'p' THEN '"procedure"' WHEN 'a' THEN '"aggregate"'
                                        ELSE '"function"' END
           || ',"schema":' || n.jschema || ',"name":' || to_json(p.proname::text)
           || ',"args":' || to_json(oidvectortypes(p.proargtypes)) || '}'
    FROM pg_proc p JOIN managed_ns n ON n.oid = p.pronamespace
    UNION ALL
    SELECT 'pg_constraint'::regclass::oid, k.oid, 0,
           CASE WHEN k.contypid <> 0 THEN b.key
                ELSE '{"kind":"constraint","schema":' || r.jschema || ',"parent":' || r.jname
                     || ',"name":' || to_json(k.conname::text) || '}' END
    FROM pg_constraint k
    LEFT JOIN rel r ON r.oid = k.conrelid
    LEFT JOIN base_type_key b ON b.oid = k.contypid
    WHERE (k.conrelid <> 0 AND r.oid IS NOT NULL) OR (k.contypid <> 0 AND b.oid IS NOT NULL)
    UNION ALL
    SELECT 'pg_trigger'::regclass::oid, g.oid, 0,
           '{"kind":"trigger","schema":' || r.jschema || ',"parent":' || r.jname
           || ',"name":' || to_json(g.tgname::text) || '}'
    FROM pg_trigger g JOIN rel r ON r.oid = g.tgrelid WHERE NOT g.tgisinternal
    UNION ALL
    SELECT 'pg_policy'::regclass::oid, p.oid, 0,
           '{"kind":"policy","schema":' || r.jschema || ',"parent":' || r.jname
           || ',"name":' || to_json(p.polname::text) || '}'
    FROM pg_policy p JOIN rel r ON r.oid = p.polrelid
    UNION ALL
    SELECT 'pg_rewrite'::regclass::oid, w.oid, 0,
           '{"kind":"' || r.kind || '","schema":' || r.jschema || ',"name":' || r.jname || '}'
    FROM pg_rewrite w JOIN rel r ON r.oid = w.ev_class WHERE r.kind IN ('view', 'matview')
    UNION ALL
    SELECT 'pg_namespace'::regclass::oid, n.oid, 0, '{"kind":"schema","name":' || n.jschema || '}'
    FROM managed_ns n
    UNION ALL
    SELECT 'pg_extension'::regclass::oid, e.oid, 0,
           '{"kind":"extension","name":' || to_json(e.extname::text) || '}'
    FROM pg_extension e
    UNION ALL
    SELECT 'pg_collation'::regclass::oid, c.oid, 0,
           '{"kind":"collation","schema":' || n.jschema || ',"name":' || to_json(c.collname::text) || '}'
    FROM pg_collation c JOIN managed_ns n ON n.oid = c.collnamespace
    UNION ALL
    SELECT 'pg_statistic_ext'::regclass::oid, s.oid, 0,
           '{"kind":"statistics","schema":' || n.jschema || ',"name":' || to_json(s.stxname::text) || '}'
    FROM pg_statistic_ext s JOIN managed_ns n ON n.oid = s.stxnamespace
    UNION ALL
    SELECT 'pg_event_trigger'::regclass::oid, e.oid, 0,
           '{"kind":"event_trigger","name":' || to_json(e.evtname::text) || '}'
    FROM pg_event_trigger e
    UNION ALL
    SELECT 'pg_foreign_data_wrapper'::regclass::oid, w.oid, 0,
           '{"kind":"fdw","name":' || to_json(w.fdwname::text) || '}'
    FROM pg_foreign_data_wrapper w
    UNION ALL
    SELECT 'pg_foreign_server'::regclass::oid, s.oid, 0,
           '{"kind":"server","name":' || to_json(s.srvname::text) || '}'
    FROM pg_foreign_server s
),
deps AS (
    -- COLLATE "C": the texts are only compared for equality, byte-wise is enough and cheaper
    SELECT DISTINCT a.key COLLATE "C" AS dependent, b.key COLLATE "C" AS referenced
    FROM pg_depend d
    JOIN keys a ON a.classid = d.classid AND a.objid = d.objid AND a.objsubid = d.objsubid
    JOIN keys b ON b.classid = d.refclassid AND b.objid = d.refobjid AND b.objsubid = d.refobjsubid
    WHERE d.deptype IN ('n', 'a')
      -- OWNED BY points a sequence at its column while the column's default points at the
      -- sequence: keep only the default's direction, the planner orders OWNED BY itself.
      AND NOT (d.deptype = 'a' AND d.classid = 'pg_class'::regclass AND d.refobjsubid <> 0
               AND EXISTS (SELECT 1 FROM pg_class s WHERE s.oid = d.objid AND s.relkind = 'S'))
)
SELECT '{"dependencies":[' || coalesce(string_agg(
           '{"dependent":' || dependent || ',"referenced":' || referenced || '}', ','), '')
       || ']}'
FROM deps WHERE dependent <> referenced
