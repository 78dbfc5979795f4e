-- Every dependency between two managed objects, in one query for the whole database:
--   1. object_of maps pg_depend's addresses (classid, objid, objsubid), as numbers, to the
--      object pg-flux models (kclass, kobj, ksub): a column default to its column, a view's
--      rewrite rule and columns to the view, an array type to its element type, a table's row
--      type to the table, a composite's relation and attributes and a domain's constraints to
--      the type, and an index that implements a constraint to the constraint as well;
--   2. pairs: pg_depend's rows between two such objects, distinct, never an object and itself;
--   3. keys: an identity key (engine.model.base.ObjectKey) for each object in a pair, once,
--      as JSON text in one fixed key order, numbered as printed.
-- The result: {"keys": [key, ...], "pairs": [dependent, referenced, dependent, ...]}, each pair
-- two positions in "keys" (engine.catalog.dependency_rows builds the Dependency rows from it).
-- Speed (10,000 tables: 157,000 pairs of 180,000 objects): the first version joined pg_depend to
-- a key text for every object and de-duplicated text pairs (27 MB of JSON, 313,000 keys to
-- validate); numbers are joined and de-duplicated instead, and each key is printed and
-- validated once (16 MB). The server's time is about the same (~2.3 s); this process validates
-- 133,000 fewer keys and the model holds each key once (~40 MB less at 10,000 tables).
-- The rows an index or a constraint that pg-flux lists has on columns (its table's; a foreign
-- key's target's) are left out: the model names those columns (Index.columns,
-- Constraint.columns / referenced_columns, read with them by indexes.sql and constraints.sql)
-- and implies the dependencies. At 10,000 tables that is 86,000 of the 157,000 pairs and most
-- of the column keys: this query's server time went from ~2.1 s to ~1.3 s and its JSON from 16
-- to 5.6 MB (validated in 0.4 s instead of 0.8-1.1 s), for ~0.5 s more in those two queries.
-- The same goes for the indexes and constraints of an extension's tables, which pg-flux never
-- changes, and for the rows of indexes, constraints, triggers and policies on their own table
-- (their models name it). tests/properties/test_rich_schema.py runs this query without the filter: what it
-- then adds is exactly what the model implies.
-- A pg_depend address absent from object_of is not managed (a system object, an extension's).
-- No ORDER BY: the rows are put in key order as they are built.
WITH managed_ns AS (
    SELECT oid, nspname, to_json(nspname::text)::text AS jschema FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\_%%' AND nspname <> 'information_schema'
      AND nspname <> ALL (%(excluded_schemas)s::text[])
),
rel AS (
    SELECT c.oid, c.relkind, c.relname, c.reltype, c.relispartition, n.jschema,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'table'
                          WHEN 'v' THEN 'view' WHEN 'm' THEN 'matview' WHEN 'S' THEN 'sequence'
                          WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'c' THEN 'composite' END AS kind
    FROM pg_class c JOIN managed_ns n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I', 'c')
),
managed_type AS (
    -- the user types pg-flux models: enums, domains, ranges and free-standing composites
    SELECT t.oid, t.typtype, t.typname, n.jschema FROM pg_type t
    JOIN managed_ns n ON n.oid = t.typnamespace
    LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c')
),
typ AS (
    -- every type by oid, arrays resolved to their element type
    SELECT t.oid, coalesce(e.oid, t.oid) AS base_oid FROM pg_type t
    LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
),
-- A relation or column is named by pg_class, a type by pg_type, anything else by its own
-- catalog. sub: the model's objsubid, or -1 for pg_depend's own (a table and its columns).
object_of AS (
    SELECT 'pg_class'::regclass::oid AS classid, r.oid AS objid,
           CASE WHEN r.relkind = 'c' THEN 'pg_type'::regclass::oid ELSE 'pg_class'::regclass::oid END AS kclass,
           CASE WHEN r.relkind = 'c' THEN r.reltype ELSE r.oid END AS kobj,
           CASE WHEN r.kind = 'table' THEN -1 ELSE 0 END AS sub,
           -- an index pg-flux lists (indexes.sql): its Index names its columns
           r.relkind IN ('i', 'I') AND NOT r.relispartition AS lists_columns,
           -- owner: the table of an object whose model names it (implied_deps); that object's
           -- row on the whole table is left out below
           CASE WHEN r.relkind IN ('i', 'I') AND NOT r.relispartition THEN x.indrelid END AS owner
    FROM rel r
    LEFT JOIN pg_index x ON x.indexrelid = r.oid
    -- The index of a key or exclusion constraint is not an object of the model: it stands for
    -- its constraint (below) and only for it. As an index of its own it gave every foreign key
    -- a second row on the key (7,006 of 48,645 pairs at 10,000 tables) naming an index no plan
    -- knows.
    WHERE r.oid NOT IN (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
    UNION ALL
    -- an index that implements a constraint also stands for that constraint: a foreign key
    -- depends on the referenced key's index, and must be rebuilt when that key is
    SELECT 'pg_class'::regclass::oid, d.objid, 'pg_constraint'::regclass::oid, k.oid, 0, false, NULL::oid
    FROM pg_depend d JOIN pg_constraint k ON k.oid = d.refobjid JOIN rel r ON r.oid = k.conrelid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_constraint'::regclass
      AND d.deptype = 'i'
    UNION ALL
    SELECT 'pg_attrdef'::regclass::oid, d.oid, 'pg_class'::regclass::oid, d.adrelid, d.adnum, false, NULL
    FROM pg_attrdef d JOIN rel r ON r.oid = d.adrelid
    UNION ALL
    SELECT 'pg_type'::regclass::oid, t.oid, 'pg_type'::regclass::oid, t.base_oid, 0, false, NULL
    FROM typ t JOIN managed_type m ON m.oid = t.base_oid
    UNION ALL
    -- a table's or view's row type (and its array) stands for the relation: SETOF t, columns of type t
    SELECT 'pg_type'::regclass::oid, t.oid, 'pg_class'::regclass::oid, r.oid, 0, false, NULL
    FROM typ t JOIN pg_type bt ON bt.oid = t.base_oid JOIN rel r ON r.oid = bt.typrelid
    WHERE r.kind IN ('table', 'view', 'matview')
    UNION ALL
    SELECT 'pg_proc'::regclass::oid, p.oid, 'pg_proc'::regclass::oid, p.oid, 0, false, NULL
    FROM pg_proc p JOIN managed_ns n ON n.oid = p.pronamespace
    UNION ALL
    SELECT 'pg_constraint'::regclass::oid, k.oid,
           CASE WHEN k.contypid <> 0 THEN 'pg_type'::regclass::oid ELSE 'pg_constraint'::regclass::oid END,
           CASE WHEN k.contypid <> 0 THEN k.contypid ELSE k.oid END, 0,
           -- a constraint pg-flux lists (constraints.sql): its Constraint names its columns
           k.contypid = 0 AND r.oid IS NOT NULL AND k.conparentid = 0 AND k.conislocal
               AND k.contype IN ('p', 'u', 'f', 'c', 'x'),
           CASE WHEN k.contypid = 0 AND k.conparentid = 0 AND k.conislocal
                     AND k.contype IN ('p', 'u', 'f', 'c', 'x') THEN k.conrelid END
    FROM pg_constraint k
    LEFT JOIN rel r ON r.oid = k.conrelid
    LEFT JOIN managed_type m ON m.oid = k.contypid
    WHERE (k.conrelid <> 0 AND r.oid IS NOT NULL) OR (k.contypid <> 0 AND m.oid IS NOT NULL)
    UNION ALL
    SELECT 'pg_trigger'::regclass::oid, g.oid, 'pg_trigger'::regclass::oid, g.oid, 0, false, g.tgrelid
    FROM pg_trigger g JOIN rel r ON r.oid = g.tgrelid WHERE NOT g.tgisinternal
    UNION ALL
    SELECT 'pg_policy'::regclass::oid, p.oid, 'pg_policy'::regclass::oid, p.oid, 0, false, p.polrelid
    FROM pg_policy p JOIN rel r ON r.oid = p.polrelid
    UNION ALL
    SELECT 'pg_rewrite'::regclass::oid, w.oid, 'pg_class'::regclass::oid, r.oid, 0, false, NULL
    FROM pg_rewrite w JOIN rel r ON r.oid = w.ev_class WHERE r.kind IN ('view', 'matview')
    UNION ALL
    SELECT 'pg_namespace'::regclass::oid, n.oid, 'pg_namespace'::regclass::oid, n.oid, 0, false, NULL
    FROM managed_ns n
    UNION ALL
    SELECT 'pg_extension'::regclass::oid, e.oid, 'pg_extension'::regclass::oid, e.oid, 0, false, NULL
    FROM pg_extension e
    UNION ALL
    SELECT 'pg_collation'::regclass::oid, c.oid, 'pg_collation'::regclass::oid, c.oid, 0, false, NULL
    FROM pg_collation c JOIN managed_ns n ON n.oid = c.collnamespace
    UNION ALL
    SELECT 'pg_statistic_ext'::regclass::oid, s.oid, 'pg_statistic_ext'::regclass::oid, s.oid, 0, false, NULL
    FROM pg_statistic_ext s JOIN managed_ns n ON n.oid = s.stxnamespace
    UNION ALL
    SELECT 'pg_event_trigger'::regclass::oid, e.oid, 'pg_event_trigger'::regclass::oid, e.oid, 0, false, NULL
    FROM pg_event_trigger e
    UNION ALL
    SELECT 'pg_foreign_data_wrapper'::regclass::oid, w.oid, 'pg_foreign_data_wrapper'::regclass::oid, w.oid, 0, false, NULL
    FROM pg_foreign_data_wrapper w
    UNION ALL
    SELECT 'pg_foreign_server'::regclass::oid, s.oid, 'pg_foreign_server'::regclass::oid, s.oid, 0, false, NULL
    FROM pg_foreign_server s
),
pairs AS (
    SELECT * FROM (
        SELECT DISTINCT a.kclass AS aclass, a.kobj AS aobj,
                        CASE WHEN a.sub < 0 THEN d.objsubid ELSE a.sub END AS asub,
                        b.kclass AS bclass, b.kobj AS bobj,
                        CASE WHEN b.sub < 0 THEN d.refobjsubid ELSE b.sub END AS bsub
        FROM pg_depend d
        JOIN object_of a ON a.classid = d.classid AND a.objid = d.objid
        JOIN object_of b ON b.classid = d.refclassid AND b.objid = d.refobjid
        WHERE d.deptype IN ('n', 'a')
          -- An index's or constraint's rows on its table's columns (a foreign key's on the
          -- referenced table's too) are what its model's columns already say (implied_deps):
          -- at 10,000 tables 86,000 of 157,000 pairs, and most of the column keys.
          AND NOT (a.lists_columns AND b.sub < 0 AND d.refobjsubid > 0)
          -- An object's row on its schema is what its model's schema already says
          -- (implied_deps): every object with such a row names its schema. 21,700 of the
          -- 70,700 pairs left at 10,000 tables.
          AND d.refclassid <> 'pg_namespace'::regclass
          -- An index's, constraint's, trigger's or policy's row on its own table (or on a
          -- column of its materialized view, which stands for the view) is what its model's
          -- table says (implied_deps): 7,442 of the pairs left at 10,000 tables.
          AND NOT (a.owner IS NOT NULL AND d.refclassid = 'pg_class'::regclass
                   AND d.refobjid = a.owner AND (d.refobjsubid = 0 OR b.sub >= 0))
          -- OWNED BY points a sequence at its column while the column's default points at the
          -- sequence: keep only the default's direction, the planner orders OWNED BY itself.
          AND NOT (d.deptype = 'a' AND d.classid = 'pg_class'::regclass AND d.refobjsubid <> 0
                   AND EXISTS (SELECT 1 FROM pg_class s WHERE s.oid = d.objid AND s.relkind = 'S'))
    ) p
    WHERE (aclass, aobj, asub) <> (bclass, bobj, bsub)
),
-- every object that takes part in a pair
used AS (
    SELECT aclass AS kclass, aobj AS kobj, asub AS ksub FROM pairs
    UNION
    SELECT bclass, bobj, bsub FROM pairs
),
-- each object's key, once (a table column's name from pg_attribute)
keys AS (
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"' || r.kind || '","schema":' || r.jschema || ',"name":'
                || to_json(r.relname::text) || '}' AS key
    FROM used u JOIN rel r ON r.oid = u.kobj
    WHERE u.kclass = 'pg_class'::regclass AND u.ksub = 0
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"column","schema":' || r.jschema || ',"parent":' || to_json(r.relname::text)
                || ',"name":' || to_json(a.attname::text) || '}'
    FROM used u JOIN rel r ON r.oid = u.kobj
    JOIN pg_attribute a ON a.attrelid = u.kobj AND a.attnum = u.ksub
    WHERE u.kclass = 'pg_class'::regclass AND u.ksub > 0
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"constraint","schema":' || r.jschema || ',"parent":' || to_json(r.relname::text)
                || ',"name":' || to_json(k.conname::text) || '}'
    FROM used u JOIN pg_constraint k ON k.oid = u.kobj JOIN rel r ON r.oid = k.conrelid
    WHERE u.kclass = 'pg_constraint'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":' || CASE m.typtype WHEN 'e' THEN '"enum"' WHEN 'd' THEN '"domain"'
                                             WHEN 'r' THEN '"range"' WHEN 'c' THEN '"composite"' END
                || ',"schema":' || m.jschema || ',"name":' || to_json(m.typname::text) || '}'
    FROM used u JOIN managed_type m ON m.oid = u.kobj
    WHERE u.kclass = 'pg_type'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":' || CASE p.prokind WHEN 'p' THEN '"procedure"' WHEN 'a' THEN '"aggregate"'
                                             ELSE '"function"' END
                || ',"schema":' || n.jschema || ',"name":' || to_json(p.proname::text)
                || ',"args":' || to_json(oidvectortypes(p.proargtypes)) || '}'
    FROM used u JOIN pg_proc p ON p.oid = u.kobj JOIN managed_ns n ON n.oid = p.pronamespace
    WHERE u.kclass = 'pg_proc'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"trigger","schema":' || r.jschema || ',"parent":' || to_json(r.relname::text)
                || ',"name":' || to_json(g.tgname::text) || '}'
    FROM used u JOIN pg_trigger g ON g.oid = u.kobj JOIN rel r ON r.oid = g.tgrelid
    WHERE u.kclass = 'pg_trigger'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"policy","schema":' || r.jschema || ',"parent":' || to_json(r.relname::text)
                || ',"name":' || to_json(p.polname::text) || '}'
    FROM used u JOIN pg_policy p ON p.oid = u.kobj JOIN rel r ON r.oid = p.polrelid
    WHERE u.kclass = 'pg_policy'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"schema","name":' || n.jschema || '}'
    FROM used u JOIN managed_ns n ON n.oid = u.kobj WHERE u.kclass = 'pg_namespace'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"extension","name":' || to_json(e.extname::text) || '}'
    FROM used u JOIN pg_extension e ON e.oid = u.kobj WHERE u.kclass = 'pg_extension'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"collation","schema":' || n.jschema || ',"name":' || to_json(c.collname::text) || '}'
    FROM used u JOIN pg_collation c ON c.oid = u.kobj JOIN managed_ns n ON n.oid = c.collnamespace
    WHERE u.kclass = 'pg_collation'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"statistics","schema":' || n.jschema || ',"name":' || to_json(s.stxname::text) || '}'
    FROM used u JOIN pg_statistic_ext s ON s.oid = u.kobj JOIN managed_ns n ON n.oid = s.stxnamespace
    WHERE u.kclass = 'pg_statistic_ext'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"event_trigger","name":' || to_json(e.evtname::text) || '}'
    FROM used u JOIN pg_event_trigger e ON e.oid = u.kobj WHERE u.kclass = 'pg_event_trigger'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"fdw","name":' || to_json(w.fdwname::text) || '}'
    FROM used u JOIN pg_foreign_data_wrapper w ON w.oid = u.kobj
    WHERE u.kclass = 'pg_foreign_data_wrapper'::regclass
    UNION ALL
    SELECT u.kclass, u.kobj, u.ksub, '{"kind":"server","name":' || to_json(s.srvname::text) || '}'
    FROM used u JOIN pg_foreign_server s ON s.oid = u.kobj WHERE u.kclass = 'pg_foreign_server'::regclass
),
-- keys numbered as they are printed: a pair whose object has no key (not managed) drops out
numbered AS (
    SELECT kclass, kobj, ksub, key, (row_number() OVER ()) - 1 AS i FROM keys
)
SELECT '{"keys":[' || coalesce((SELECT string_agg(key, ',' ORDER BY i) FROM numbered), '')
       || '],"pairs":[' || coalesce((
           SELECT string_agg(a.i || ',' || b.i, ',')
           FROM pairs p
           JOIN numbered a ON (a.kclass, a.kobj, a.ksub) = (p.aclass, p.aobj, p.asub)
           JOIN numbered b ON (b.kclass, b.kobj, b.ksub) = (p.bclass, p.bobj, p.bsub)), '')
       || ']}'
