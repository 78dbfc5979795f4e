-- Default privileges (pg_default_acl). `acl` is the entry as stored, owner entries included: the
-- role is part of the key. `baseline` is what an absent entry means: the hard-wired default for a
-- database-wide entry (acldefault), nothing for an IN SCHEMA entry.
WITH entries AS (
    SELECT a.oid, a.defaclrole, a.defaclnamespace, a.defaclobjtype, a.defaclacl, n.nspname
    FROM pg_default_acl a
    LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace
    WHERE a.defaclnamespace = 0
       OR (n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
           AND n.nspname <> ALL (%(excluded_schemas)s::text[]))
)
SELECT json_build_object(
    'default_privileges', (
        SELECT coalesce(json_agg(json_build_object(
            'role', pg_get_userbyid(e.defaclrole),
            'in_schema', e.nspname,
            'object_type', CASE e.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                                WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'
                                                WHEN 'n' THEN 'schemas' END,
            'acl', (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                        'privilege', x.privilege_type, 'grantable', x.grantable)
                        ORDER BY x.grantee, x.privilege_type), '[]'::json)
                    FROM (SELECT g.grantee, g.privilege_type, bool_or(g.is_grantable) AS grantable
                          FROM aclexplode(e.defaclacl) g
                          GROUP BY g.grantee, g.privilege_type) x),
            'baseline', (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                        'privilege', x.privilege_type, 'grantable', x.is_grantable)
                        ORDER BY x.grantee, x.privilege_type), '[]'::json)
                    FROM aclexplode(acldefault(CASE e.defaclobjtype WHEN 'S' THEN 's'
                                                    ELSE e.defaclobjtype END, e.defaclrole)) x
                    WHERE e.defaclnamespace = 0)
        ) ORDER BY pg_get_userbyid(e.defaclrole), e.nspname NULLS FIRST, e.defaclobjtype), '[]'::json)
        FROM entries e
    )
)::text
