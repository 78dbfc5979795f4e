-- Foreign data wrappers, foreign servers, user mappings. Options come split by pg_options_to_table.
-- A user mapping's `password` option is never read: it must not reach the model, plans or logs.
-- ACLs follow queries/namespaces.sql: NULL expanded to acldefault, owner entries left out,
-- grantors folded (one entry per grantee and privilege).
WITH fdw AS (
    SELECT w.* FROM pg_foreign_data_wrapper w
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_foreign_data_wrapper'::regclass
                      AND d.objid = w.oid AND d.deptype = 'e')
),
srv AS (
    SELECT s.*, w.fdwname FROM pg_foreign_server s
    JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_foreign_server'::regclass
                      AND d.objid = s.oid AND d.deptype = 'e')
)
SELECT json_build_object(
    'fdws', (
        SELECT coalesce(json_agg(json_build_object(
            'name', w.fdwname,
            'owner', pg_get_userbyid(w.fdwowner),
            'handler', (SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE p.oid = w.fdwhandler),
            'validator', (SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                          WHERE p.oid = w.fdwvalidator),
            'options', (SELECT coalesce(json_agg(json_build_object(
                            'name', o.option_name, 'value', o.option_value)
                            ORDER BY o.option_name), '[]'::json)
                        FROM pg_options_to_table(w.fdwoptions) o),
            'comment', obj_description(w.oid, 'pg_foreign_data_wrapper'),
            'acl', (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                        'privilege', x.privilege_type, 'grantable', x.grantable)
                        ORDER BY x.grantee, x.privilege_type), '[]'::json)
                    FROM (SELECT a.grantee, a.privilege_type, bool_or(a.is_grantable) AS grantable
                          FROM aclexplode(coalesce(w.fdwacl, acldefault('F', w.fdwowner))) a
                          WHERE a.grantee <> w.fdwowner
                          GROUP BY a.grantee, a.privilege_type) x)
        ) ORDER BY w.fdwname), '[]'::json)
        FROM fdw w
    ),
    'servers', (
        SELECT coalesce(json_agg(json_build_object(
            'name', s.srvname,
            'fdw', s.fdwname,
            'owner', pg_get_userbyid(s.srvowner),
            'type', s.srvtype,
            'version', s.srvversion,
            'options', (SELECT coalesce(json_agg(json_build_object(
                            'name', o.option_name, 'value', o.option_value)
                            ORDER BY o.option_name), '[]'::json)
                        FROM pg_options_to_table(s.srvoptions) o),
            'comment', obj_description(s.oid, 'pg_foreign_server'),
            'acl', (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                        'privilege', x.privilege_type, 'grantable', x.grantable)
                        ORDER BY x.grantee, x.privilege_type), '[]'::json)
                    FROM (SELECT a.grantee, a.privilege_type, bool_or(a.is_grantable) AS grantable
                          FROM aclexplode(coalesce(s.srvacl, acldefault('S', s.srvowner))) a
                          WHERE a.grantee <> s.srvowner
                          GROUP BY a.grantee, a.privilege_type) x)
        ) ORDER BY s.srvname), '[]'::json)
        FROM srv s
    ),
    'user_mappings', (
        SELECT coalesce(json_agg(json_build_object(
            'server', m.srvname,
            'user', CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE m.usename END,
            -- NULL when pg_user_mappings hides the options from the inspecting role (the same
            -- test as the view's own), so that "hidden" is never read as "none".
            'options', CASE WHEN (m.umuser <> 0 AND m.usename = current_user
                                  AND (pg_has_role(s.srvowner, 'USAGE')
                                       OR has_server_privilege(s.oid, 'USAGE')))
                              OR (m.umuser = 0 AND pg_has_role(s.srvowner, 'USAGE'))
                              OR (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
                        THEN (SELECT coalesce(json_agg(json_build_object(
                                  'name', o.option_name, 'value', o.option_value)
                                  ORDER BY o.option_name), '[]'::json)
                              FROM pg_options_to_table(m.umoptions) o
                              WHERE o.option_name <> 'password') END
        ) ORDER BY m.srvname, m.usename), '[]'::json)
        FROM pg_user_mappings m JOIN srv s ON s.oid = m.srvid
    )
)::text
