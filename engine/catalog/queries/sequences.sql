-- Sequences, except those behind identity columns (pg_depend deptype 'i': they belong to the
-- column). The sequence's state (last_value) is data and is not read.
-- Speed: comments by one hash join on pg_description (obj_description runs a query per call);
-- the ACL is only expanded when set (a NULL ACL is the owner-only default, whose entries are all
-- left out).
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
)
SELECT json_build_object('sequences', (
    SELECT coalesce(json_agg(json_build_object(
        'schema', n.nspname, 'name', c.relname,
        'owner', pg_get_userbyid(c.relowner),
        'comment', ds.description,
        'acl', CASE WHEN c.relacl IS NULL THEN '[]'::json ELSE (SELECT coalesce(json_agg(json_build_object(
                    'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                    'privilege', a.privilege_type, 'grantable', a.is_grantable)
                    ORDER BY a.grantee, a.privilege_type), '[]'::json)
                FROM aclexplode(c.relacl) a
                WHERE a.grantee <> c.relowner) END,
        'data_type', format_type(s.seqtypid, NULL),
        'start', s.seqstart, 'increment', s.seqincrement,
        'min_value', s.seqmin, 'max_value', s.seqmax,
        'cache', s.seqcache, 'cycle', s.seqcycle,
        'persistence', CASE c.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'permanent' END,
        'owned_by', (SELECT json_build_object('table', t.relname, 'column', a.attname)
                     FROM pg_depend d
                     JOIN pg_class t ON t.oid = d.refobjid
                     JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                       AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
                       AND d.deptype = 'a'
                     LIMIT 1)
    ) ORDER BY n.nspname, c.relname), '[]'::json)
    FROM pg_class c
    JOIN managed_ns n ON n.oid = c.relnamespace
    JOIN pg_sequence s ON s.seqrelid = c.oid
    LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass
                                AND ds.objsubid = 0
    WHERE c.relkind = 'S'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
))::text
