-- Views and materialized views: definitions as pg_get_viewdef prints them, output columns,
-- reloptions, comments, owners and ACLs. Relations that belong to an extension are left out.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relowner, c.relacl, c.reloptions, c.relispopulated,
           n.nspname,
           -- pg_get_viewdef ends with a semicolon; CREATE VIEW ... AS must not
           rtrim(btrim(pg_get_viewdef(c.oid, true)), ';') AS definition,
           (SELECT coalesce(json_agg(json_build_object(
                       'name', a.attname,
                       'type', format_type(a.atttypid, a.atttypmod),
                       'collation', (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                                     FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                     WHERE co.oid = a.attcollation),
                       'comment', col_description(c.oid, a.attnum))
                       ORDER BY a.attnum), '[]'::json)
            FROM pg_attribute a
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
           (SELECT coalesce(json_agg(json_build_object(
                       'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                       'privilege', x.privilege_type, 'grantable', x.is_grantable)
                       ORDER BY x.grantee, x.privilege_type), '[]'::json)
            FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) x
            WHERE x.grantee <> c.relowner) AS acl
    FROM pg_class c JOIN managed_ns n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
)
SELECT json_build_object(
    'views', (
        SELECT coalesce(json_agg(json_build_object(
            'schema', r.nspname,
            'name', r.relname,
            'definition', r.definition,
            'columns', r.columns,
            'check_option', (SELECT o.option_value FROM pg_options_to_table(r.reloptions) o
                             WHERE o.option_name = 'check_option'),
            'security_barrier', coalesce((SELECT o.option_value::boolean FROM pg_options_to_table(r.reloptions) o
                                          WHERE o.option_name = 'security_barrier'), false),
            'security_invoker', coalesce((SELECT o.option_value::boolean FROM pg_options_to_table(r.reloptions) o
                                          WHERE o.option_name = 'security_invoker'), false),
            'comment', obj_description(r.oid, 'pg_class'),
            'owner', pg_get_userbyid(r.relowner),
            'acl', r.acl
        ) ORDER BY r.nspname, r.relname), '[]'::json)
        FROM rels r WHERE r.relkind = 'v'
    ),
    'matviews', (
        SELECT coalesce(json_agg(json_build_object(
            'schema', r.nspname,
            'name', r.relname,
            'definition', r.definition,
            'columns', r.columns,
            'storage', (SELECT coalesce(json_agg(o ORDER BY o), '[]'::json) FROM unnest(r.reloptions) o),
            'populated', r.relispopulated,
            'comment', obj_description(r.oid, 'pg_class'),
            'owner', pg_get_userbyid(r.relowner),
            'acl', r.acl
        ) ORDER BY r.nspname, r.relname), '[]'::json)
        FROM rels r WHERE r.relkind = 'm'
    )
)::text
