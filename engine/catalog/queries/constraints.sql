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
SELECT json_build_object(
    'constraints', (
        SELECT coalesce(json_agg(json_build_object(
            'schema', k.nspname,
            'table', k.relname,
            'name', k.conname,
            'type', CASE k.contype WHEN 'p' THEN 'primary_key' WHEN 'u' THEN 'unique'
                                   WHEN 'f' THEN 'foreign_key' WHEN 'c' THEN 'check'
                                   ELSE 'exclusion' END,
            -- pg_get_constraintdef appends exactly ' NOT VALID' to an unvalidated constraint;
            -- that state is compared as `validated`, so the definition leaves it out.
            'definition', CASE WHEN k.convalidated THEN k.def
                               ELSE left(k.def, length(k.def) - length(' NOT VALID')) END,
            'validated', k.convalidated,
            'references', CASE WHEN k.contype = 'f' THEN (
                SELECT json_build_object('kind', 'table', 'schema', rn.nspname, 'name', rc.relname)
                FROM pg_class rc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                WHERE rc.oid = k.confrelid) END,
            'index_definition', CASE WHEN k.contype IN ('p', 'u') AND k.conindid <> 0
                                     THEN pg_get_indexdef(k.conindid) END,
            'on_partitioned', k.relkind = 'p',
            'deferrable', k.condeferrable,
            'deferred', k.condeferred,
            'comment', k.description
        ) ORDER BY k.nspname, k.relname, k.conname), '[]'::json)
        FROM con k
    )
)::text
