-- Triggers on tables and views, and event triggers. Internal triggers (FK checks, deferred
-- unique checks) and the clones PostgreSQL makes on partitions (tgparentid <> 0) are left out.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
)
SELECT json_build_object(
    'triggers', (
        SELECT coalesce(json_agg(json_build_object(
            'schema', n.nspname,
            'table', c.relname,
            'name', g.tgname,
            -- not pretty: the relation comes out schema-qualified whatever the search_path
            'definition', pg_get_triggerdef(g.oid),
            'enabled', CASE g.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'
                                        WHEN 'A' THEN 'always' ELSE 'origin' END,
            'constraint', g.tgconstraint <> 0,
            'function', quote_ident(fn.nspname) || '.' || quote_ident(f.proname),
            'on_view', c.relkind = 'v',
            'comment', obj_description(g.oid, 'pg_trigger')
        ) ORDER BY n.nspname, c.relname, g.tgname), '[]'::json)
        FROM pg_trigger g
        JOIN pg_class c ON c.oid = g.tgrelid
        JOIN managed_ns n ON n.oid = c.relnamespace
        JOIN pg_proc f ON f.oid = g.tgfoid
        JOIN pg_namespace fn ON fn.oid = f.pronamespace
        WHERE NOT g.tgisinternal AND g.tgparentid = 0
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    ),
    'event_triggers', (
        SELECT coalesce(json_agg(json_build_object(
            'name', e.evtname,
            'event', e.evtevent,
            'tags', (SELECT coalesce(json_agg(t ORDER BY t), '[]'::json) FROM unnest(e.evttags) t),
            'function_schema', fn.nspname,
            'function_name', f.proname,
            'enabled', CASE e.evtenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'
                                         WHEN 'A' THEN 'always' ELSE 'origin' END,
            'owner', pg_get_userbyid(e.evtowner),
            'comment', obj_description(e.oid, 'pg_event_trigger')
        ) ORDER BY e.evtname), '[]'::json)
        FROM pg_event_trigger e
        JOIN pg_proc f ON f.oid = e.evtfoid
        JOIN pg_namespace fn ON fn.oid = f.pronamespace
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass
                          AND d.objid = e.oid AND d.deptype = 'e')
    )
)::text
