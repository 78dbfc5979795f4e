-- Extended statistics objects. stxstattarget is -1 for "default" before PostgreSQL 17 and NULL
-- from 17 on: both read as null.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
)
SELECT json_build_object(
    'statistics', (
        SELECT coalesce(json_agg(json_build_object(
            'schema', n.nspname,
            'name', s.stxname,
            'definition', pg_get_statisticsobjdef(s.oid),
            'target', nullif(s.stxstattarget::int, -1),
            'owner', pg_get_userbyid(s.stxowner),
            'comment', obj_description(s.oid, 'pg_statistic_ext')
        ) ORDER BY n.nspname, s.stxname), '[]'::json)
        FROM pg_statistic_ext s
        JOIN managed_ns n ON n.oid = s.stxnamespace
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_statistic_ext'::regclass
                          AND d.objid = s.oid AND d.deptype = 'e')
    )
)::text
