-- Table constraints (primary key, unique, foreign key, check, exclusion). Domain constraints
-- belong to types.sql. Constraints a partition inherits from its parent (conparentid <> 0) and
-- inherited check constraints (NOT conislocal) come with their parent: they are listed apart, as
-- "inherited_constraints", for plans that detach the child (engine.plan.detached).
-- Speed: comments by one hash join on pg_description (obj_description queries per call).
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
con AS (
    SELECT k.oid, k.conrelid, coalesce(ki.indkey::int2[], k.conkey) AS columns, k.confkey,
           k.conname, k.contype, k.convalidated, k.condeferrable, k.condeferred, k.conindid, k.confrelid,
           n.nspname, c.relname, c.relkind,
           pg_get_constraintdef(k.oid) AS def, ds.description,
           -- only a B-tree index can be built UNIQUE on its own (the online form); a temporal
           -- key's (WITHOUT OVERLAPS, PostgreSQL 18) is GiST
           nb.oid IS NULL AS btree_key,
           k.conparentid <> 0 OR NOT k.conislocal AS inherited
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN managed_ns n ON n.oid = c.relnamespace
    -- a key's or exclusion's index: its INCLUDE columns are dependencies too (not in conkey)
    LEFT JOIN pg_index ki ON ki.indexrelid = k.conindid AND k.contype IN ('p', 'u', 'x')
    -- the few indexes of another method, hashed once (an index probe per key cost 0.06 s at
    -- 10,000 tables)
    LEFT JOIN (SELECT oid FROM pg_class WHERE relkind IN ('i', 'I')
               AND relam <> (SELECT oid FROM pg_am WHERE amname = 'btree')) nb
           ON nb.oid = k.conindid
    LEFT JOIN pg_description ds ON ds.objoid = k.oid AND ds.classoid = 'pg_constraint'::regclass
                                AND ds.objsubid = 0
    WHERE k.contypid = 0
      AND k.contype IN ('p', 'u', 'f', 'c', 'x')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
)
-- Each constraint's JSON is concatenated from pieces, leaving out keys whose value is the model's
-- default (json_build_object looks up the type of every key and value of every row); every
-- string goes through to_json, which escapes it. No ORDER BY: Schema.sorted() orders them.
SELECT '{"constraints":[' || coalesce(string_agg(k.json, ',') FILTER (WHERE NOT k.inherited), '')
    || '],"inherited_constraints":['
    || coalesce(string_agg(k.json, ',') FILTER (WHERE k.inherited), '') || ']}'
FROM (SELECT k.inherited,
    '{"schema":' || to_json(k.nspname::text) || ',"table":' || to_json(k.relname::text)
    || ',"name":' || to_json(k.conname::text)
    || ',"type":' || CASE k.contype WHEN 'p' THEN '"primary_key"' WHEN 'u' THEN '"unique"'
                                    WHEN 'f' THEN '"foreign_key"' WHEN 'c' THEN '"check"'
                                    ELSE '"exclusion"' END
    -- pg_get_constraintdef appends exactly ' NOT VALID' to an unvalidated constraint; that
    -- state is compared as `validated`, so the definition leaves it out. PostgreSQL 18: a NOT
    -- ENFORCED one (no conenforced column before) is never validated and ends with
    -- ' NOT ENFORCED' instead, which stays in the definition.
    || ',"definition":' || to_json(CASE WHEN k.convalidated OR e.not_enforced THEN k.def
                                        ELSE left(k.def, length(k.def) - length(' NOT VALID')) END)
    || CASE WHEN k.convalidated OR e.not_enforced THEN '' ELSE ',"validated":false' END
    || CASE WHEN e.not_enforced THEN ',"enforced":false' ELSE '' END
    || CASE WHEN k.contype = 'f' AND rc.oid IS NOT NULL
            THEN ',"references":{"kind":"table","schema":' || to_json(rn.nspname::text)
                 || ',"name":' || to_json(rc.relname::text) || '}'
            ELSE '' END
    -- the columns it names, its dependencies on columns (dependencies.sql leaves out those
    -- rows): its index's columns (INCLUDE too) or conkey on its table, a foreign key's confkey
    -- on the referenced one. A single column's name comes from a join (a1, r1 below): a
    -- subquery per constraint cost 0.4 s more at 10,000 tables.
    || CASE WHEN cardinality(k.columns) = 1 AND a1.attname IS NOT NULL
            THEN ',"columns":[' || to_json(a1.attname::text) || ']'
            ELSE coalesce(',"columns":' || (
                     SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.columns)
                       AND a.attnum > 0)::text, '') END
    || CASE WHEN k.contype <> 'f' THEN ''
            WHEN cardinality(k.confkey) = 1 AND r1.attname IS NOT NULL
            THEN ',"referenced_columns":[' || to_json(r1.attname::text) || ']'
            ELSE coalesce(',"referenced_columns":' || (
                     SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = k.confrelid AND a.attnum = ANY (k.confkey)
                       AND a.attnum > 0)::text, '') END
    || CASE WHEN k.contype IN ('p', 'u') AND k.btree_key
            THEN ',"index_definition":' || to_json(pg_get_indexdef(k.conindid)) ELSE '' END
    || CASE WHEN k.relkind = 'p' THEN ',"on_partitioned":true' ELSE '' END
    || CASE WHEN k.condeferrable THEN ',"deferrable":true' ELSE '' END
    || CASE WHEN k.condeferred THEN ',"deferred":true' ELSE '' END
    || CASE WHEN k.description IS NOT NULL THEN ',"comment":' || to_json(k.description) ELSE '' END
    || '}' AS json
FROM con k
-- pg_get_constraintdef's last words, where conenforced is PostgreSQL 18's only
CROSS JOIN LATERAL (SELECT NOT k.convalidated AND right(k.def, 13) = ' NOT ENFORCED'
                           AS not_enforced) e
LEFT JOIN pg_class rc ON k.contype = 'f' AND rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_attribute a1 ON cardinality(k.columns) = 1
                           AND a1.attrelid = k.conrelid AND a1.attnum = k.columns[1]
LEFT JOIN pg_attribute r1 ON k.contype = 'f' AND cardinality(k.confkey) = 1
                           AND r1.attrelid = k.confrelid AND r1.attnum = k.confkey[1]) k
