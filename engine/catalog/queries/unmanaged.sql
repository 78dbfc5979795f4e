-- Objects pg-flux does not manage, listed by name so that they are reported, never silently
-- skipped: non-view rules, user casts, operators, operator classes and families, text search
-- objects, conversions, publications, subscriptions, transforms, access methods, languages.
-- Built-in objects (oid below FirstNormalObjectId, 16384), extension members and objects made
-- implicitly as part of another (deptype 'i': a range type's multirange cast) are left out.
WITH managed_ns AS (
    SELECT n.oid FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
objects AS (
    SELECT 'pg_rewrite'::regclass AS classid, w.oid AS objid
    FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class
    WHERE w.rulename <> '_RETURN' AND c.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_cast'::regclass, oid FROM pg_cast WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_operator'::regclass, oid FROM pg_operator
    WHERE oprnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_opclass'::regclass, oid FROM pg_opclass
    WHERE opcnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_opfamily'::regclass, oid FROM pg_opfamily
    WHERE opfnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_config'::regclass, oid FROM pg_ts_config
    WHERE cfgnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_dict'::regclass, oid FROM pg_ts_dict
    WHERE dictnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_parser'::regclass, oid FROM pg_ts_parser
    WHERE prsnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_template'::regclass, oid FROM pg_ts_template
    WHERE tmplnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_conversion'::regclass, oid FROM pg_conversion
    WHERE connamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_publication'::regclass, oid FROM pg_publication
    UNION ALL
    -- only columns that every role may read (subconninfo is hidden)
    SELECT 'pg_subscription'::regclass, oid FROM pg_subscription
    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL
    SELECT 'pg_transform'::regclass, oid FROM pg_transform WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_am'::regclass, oid FROM pg_am WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_language'::regclass, oid FROM pg_language
    WHERE oid >= 16384 AND lanname <> 'plpgsql'
)
SELECT json_build_object(
    'unmanaged', (
        SELECT coalesce(json_agg(json_build_object(
            'kind', (pg_identify_object(o.classid, o.objid, 0)).type,
            'identity', pg_describe_object(o.classid, o.objid, 0)
        ) ORDER BY 1), '[]'::json)
        FROM objects o
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid
                          AND d.objid = o.objid AND d.deptype IN ('e', 'i'))
    )
)::text
