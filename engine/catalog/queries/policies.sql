-- Row-level security policies. Roles are names (PUBLIC for oid 0); expressions as pg_get_expr prints them.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
)
SELECT json_build_object(
    'policies', (
        SELECT coalesce(json_agg(json_build_object(
            'schema', n.nspname,
            'table', c.relname,
            'name', p.polname,
            'permissive', p.polpermissive,
            'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                     WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
            'roles', (SELECT coalesce(json_agg(CASE WHEN r.roleid = 0 THEN 'PUBLIC'
                                                    ELSE pg_get_userbyid(r.roleid) END), '[]'::json)
                      FROM unnest(p.polroles) AS r(roleid)),
            'using', pg_get_expr(p.polqual, p.polrelid),
            'with_check', pg_get_expr(p.polwithcheck, p.polrelid),
            'comment', obj_description(p.oid, 'pg_policy'),
            'table_rls', c.relrowsecurity
        ) ORDER BY n.nspname, c.relname, p.polname), '[]'::json)
        FROM pg_policy p
        JOIN pg_class c ON c.oid = p.polrelid
        JOIN managed_ns n ON n.oid = c.relnamespace
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    )
)::text
