-- Indexes of tables, partitioned tables and materialized views that do not implement a
-- constraint (those have an internal pg_depend entry on their constraint and come with it).
-- An index attached to a partitioned parent index (relispartition) comes with the parent and is
-- listed under the parent's `partitions`.
-- Speed: comments by one hash join on pg_description (obj_description queries per call); only
-- partitioned indexes (relkind 'I') look for partitions.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
idx AS (
    SELECT ic.oid, x.indrelid, x.indkey, x.indexprs IS NOT NULL OR x.indpred IS NOT NULL AS has_expr,
           x.indexprs IS NOT NULL AS has_expressions,
           ic.relname, n.nspname, tc.relname AS table_name, tc.relkind AS table_relkind,
           x.indisvalid, ic.relkind, ds.description
    FROM pg_index x
    JOIN pg_class ic ON ic.oid = x.indexrelid
    JOIN pg_class tc ON tc.oid = x.indrelid
    JOIN managed_ns n ON n.oid = ic.relnamespace
    LEFT JOIN pg_description ds ON ds.objoid = ic.oid AND ds.classoid = 'pg_class'::regclass
                                AND ds.objsubid = 0
    WHERE tc.relkind IN ('r', 'p', 'm') AND NOT ic.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = ic.oid AND d.refclassid = 'pg_constraint'::regclass
                      AND d.deptype = 'i')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid IN (ic.oid, tc.oid) AND d.deptype = 'e')
)
-- Each index's JSON is concatenated from pieces, leaving out keys whose value is the model's
-- default (json_build_object looks up the type of every key and value of every row); every
-- string goes through to_json, which escapes it. No ORDER BY: Schema.sorted() orders them.
SELECT '{"indexes":[' || coalesce(string_agg(
    '{"schema":' || to_json(i.nspname::text) || ',"name":' || to_json(i.relname::text)
    || ',"table":' || to_json(i.table_name::text)
    || CASE i.table_relkind WHEN 'p' THEN ',"table_kind":"partitioned"'
                            WHEN 'm' THEN ',"table_kind":"matview"' ELSE '' END
    || ',"definition":' || to_json(pg_get_indexdef(i.oid))
    || CASE WHEN i.indisvalid THEN '' ELSE ',"valid":false' END
    -- its expression columns' statistics targets (-1 before PostgreSQL 17, NULL from 17 on: the
    -- default); only an expression column can have one, so the others are not looked up
    || CASE WHEN NOT i.has_expressions THEN '' ELSE coalesce(',"statistics":' || (
        SELECT json_agg(json_build_object('position', a.attnum, 'target', a.attstattarget)
                        ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = i.oid AND a.attstattarget >= 0)::text, '') END
    -- the table's columns it uses, its dependencies on columns (dependencies.sql leaves out
    -- those rows): indkey for plain keys (INCLUDE too), pg_depend's rows when expressions or a
    -- predicate name more; an index on a materialized view depends on the whole view. A single
    -- plain column's name comes from a join (a1 below): a subquery per index cost 0.3 s more
    -- at 10,000 tables.
    || CASE WHEN i.table_relkind = 'm' THEN ''
            WHEN a1.attname IS NOT NULL THEN ',"columns":[' || to_json(a1.attname::text) || ']'
            ELSE coalesce(',"columns":' || (
                SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                WHERE a.attrelid = i.indrelid AND a.attnum > 0 AND a.attnum = ANY (
                    CASE WHEN NOT i.has_expr THEN i.indkey::int2[] ELSE ARRAY(
                        SELECT d.refobjsubid FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = i.oid
                          AND d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indrelid
                          AND d.refobjsubid > 0 AND d.deptype IN ('n', 'a')) END))::text, '') END
    || CASE WHEN i.relkind <> 'I' THEN '' ELSE ',"partitions":' || (
        SELECT coalesce(json_agg(json_build_object(
            'schema', pn.nspname, 'name', pc.relname, 'table', pt.relname,
            'definition', pg_get_indexdef(pc.oid), 'partitioned', pc.relkind = 'I'
        ) ORDER BY pn.nspname, pc.relname), '[]'::json)
        FROM pg_inherits h
        JOIN pg_class pc ON pc.oid = h.inhrelid
        JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        JOIN pg_index px ON px.indexrelid = pc.oid
        JOIN pg_class pt ON pt.oid = px.indrelid
        WHERE h.inhparent = i.oid)::text END
    || CASE WHEN i.description IS NOT NULL THEN ',"comment":' || to_json(i.description) ELSE '' END
    || '}', ','), '') || ']}'
FROM idx i
LEFT JOIN pg_attribute a1 ON NOT i.has_expr AND i.table_relkind <> 'm'
                           AND array_length(i.indkey::int2[], 1) = 1
                           AND a1.attrelid = i.indrelid AND a1.attnum = i.indkey[0]
