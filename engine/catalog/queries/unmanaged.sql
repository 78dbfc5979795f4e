-- Objects pg-flux does not manage, listed by name so that they are reported, never silently
-- skipped: non-view rules, user casts, operators, operator classes and families, text search
-- objects, conversions, publications, subscriptions, transforms, access methods, languages,
-- and PostgreSQL 18's virtual generated columns (the model reads stored ones only).
-- Built-in objects (oid below FirstNormalObjectId, 16384), extension members and objects made
-- implicitly as part of another (deptype 'i': a range type's multirange cast) are left out.
WITH managed_ns AS (
    SELECT n.oid FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
objects AS (
    SELECT 'pg_rewrite'::regclass AS classid, w.oid AS objid, 0 AS objsubid
    FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class
    WHERE w.rulename <> '_RETURN' AND c.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    -- (a scan of pg_attribute: ~0.05 s at 10,000 tables, so only where they exist)
    SELECT 'pg_class'::regclass, a.attrelid, a.attnum
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE current_setting('server_version_num')::int >= 180000
      AND a.attgenerated = 'v' AND NOT a.attisdropped
      AND c.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_cast'::regclass, oid, 0 FROM pg_cast WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_operator'::regclass, oid, 0 FROM pg_operator
    WHERE oprnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_opclass'::regclass, oid, 0 FROM pg_opclass
    WHERE opcnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_opfamily'::regclass, oid, 0 FROM pg_opfamily
    WHERE opfnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_config'::regclass, oid, 0 FROM pg_ts_config
    WHERE cfgnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_dict'::regclass, oid, 0 FROM pg_ts_dict
    WHERE dictnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_parser'::regclass, oid, 0 FROM pg_ts_parser
    WHERE prsnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_template'::regclass, oid, 0 FROM pg_ts_template
    WHERE tmplnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_conversion'::regclass, oid, 0 FROM pg_conversion
    WHERE connamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_publication'::regclass, oid, 0 FROM pg_publication
    UNION ALL
    -- only columns that every role may read (subconninfo is hidden)
    SELECT 'pg_subscription'::regclass, oid, 0 FROM pg_subscription
    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL
    SELECT 'pg_transform'::regclass, oid, 0 FROM pg_transform WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_am'::regclass, oid, 0 FROM pg_am WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_language'::regclass, oid, 0 FROM pg_language
    WHERE oid >= 16384 AND lanname <> 'plpgsql'
)
SELECT json_build_object(
    'unmanaged', (
        SELECT coalesce(json_agg(json_build_object(
            'kind', (pg_identify_object(o.classid, o.objid, o.objsubid)).type,
            'identity', pg_describe_object(o.classid, o.objid, o.objsubid)
        ) ORDER BY 1), '[]'::json)
        FROM objects o
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid
                          AND d.objid = o.objid AND d.deptype IN ('e', 'i'))
    )
)::text
