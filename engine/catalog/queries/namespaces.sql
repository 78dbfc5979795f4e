-- Schemas, extensions and user-defined collations.
WITH managed_ns AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
      -- schemas that an extension created belong to the extension
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                      AND d.objid = n.oid AND d.deptype = 'e')
)
SELECT json_build_object(
    'schemas', (
        SELECT coalesce(json_agg(json_build_object(
            'name', n.nspname,
            'owner', pg_get_userbyid(n.nspowner),
            'comment', obj_description(n.oid, 'pg_namespace'),
            'acl', (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)
                        ORDER BY a.grantee, a.privilege_type), '[]'::json)
                    FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                    WHERE a.grantee <> n.nspowner)
        ) ORDER BY n.nspname), '[]'::json)
        FROM managed_ns n
    ),
    'extensions', (
        SELECT coalesce(json_agg(json_build_object(
            'name', e.extname, 'version', e.extversion, 'schema', n.nspname,
            'comment', obj_description(e.oid, 'pg_extension')
        ) ORDER BY e.extname), '[]'::json)
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname <> 'plpgsql'
    )
)::text
