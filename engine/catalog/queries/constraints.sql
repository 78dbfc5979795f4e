-- Table constraints (primary key, unique, foreign key, check, exclusion). Domain constraints
-- belong to types.sql. Constraints a partition inherits from its parent (conparentid <> 0) and
-- inherited check constraints (NOT conislocal) come with their parent and are left out.
-- Speed: comments by one hash join on pg_description (obj_description queries per call).
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
con AS (
    SELECT k.oid, k.conname, k.contype, k.convalidated, k.condeferrable, k.condeferred, k.conindid, k.confrelid,
           n.nspname, c.relname, c.relkind,
           pg_get_constraintdef(k.oid) AS def, ds.description
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN managed_ns n ON n.oid = c.relnamespace
    LEFT JOIN pg_description ds ON ds.objoid = k.oid AND ds.classoid = 'pg_constraint'::regclass
                                AND ds.objsubid = 0
    WHERE k.contypid = 0 AND k.conparentid = 0 AND k.conislocal
      AND k.contype IN ('p', 'u', 'f', 'c', 'x')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
)
-- Each constraint's JSON is concatenated from pieces, leaving out keys whose value is the model's
-- default (json_build_object looks up the type of every key and value of every row); every
-- string goes through to_json, which escapes it. No ORDER BY: Schema.sorted() orders them.
SELECT '{"constraints":[' || coalesce(string_agg(
    '{"schema":' || to_json(k.nspname::text) || ',"table":' || to_json(k.relname::text)
    || ',"name":' || to_json(k.conname::text)
    || ',"type":' || CASE k.contype WHEN 'p' THEN '"primary_key"' WHEN 'u' THEN '"unique"'
                                    WHEN 'f' THEN '"foreign_key"' WHEN 'c' THEN '"check"'
                                    ELSE '"exclusion"' END
    -- pg_get_constraintdef appends exactly ' NOT VALID' to an unvalidated constraint; that
    -- state is compared as `validated`, so the definition leaves it out.
    || ',"definition":' || to_json(CASE WHEN k.convalidated THEN k.def
                                        ELSE left(k.def, length(k.def) - length(' NOT VALID')) END)
    || CASE WHEN k.convalidated THEN '' ELSE ',"validated":false' END
    || CASE WHEN k.contype = 'f' AND rc.oid IS NOT NULL
            THEN ',"references":{"kind":"table","schema":' || to_json(rn.nspname::text)
                 || ',"name":' || to_json(rc.relname::text) || '}'
            ELSE '' END
    || CASE WHEN k.contype IN ('p', 'u') AND k.conindid <> 0
            THEN ',"index_definition":' || to_json(pg_get_indexdef(k.conindid)) ELSE '' END
    || CASE WHEN k.relkind = 'p' THEN ',"on_partitioned":true' ELSE '' END
    || CASE WHEN k.condeferrable THEN ',"deferrable":true' ELSE '' END
    || CASE WHEN k.condeferred THEN ',"deferred":true' ELSE '' END
    || CASE WHEN k.description IS NOT NULL THEN ',"comment":' || to_json(k.description) ELSE '' END
    || '}', ','), '') || ']}'
FROM con k
LEFT JOIN pg_class rc ON k.contype = 'f' AND rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
