-- Objects pg-flux does not manage, listed by name so that they are reported, never silently
-- skipped: non-view rules, user casts, operators, operator classes and families, text search
-- objects, conversions, publications, subscriptions, transforms, access methods, languages.
-- Built-in objects (oid below FirstNormalObjectId, 16384), extension members and objects made
-- implicitly as part of another (deptype 'i': a range type's multirange cast) are left out.
-- Also a comment on a table's NOT NULL constraint (PostgreSQL 18 keeps those as constraints of
-- their own), which the model of the constraint does not hold.
WITH managed_ns AS (
    SELECT n.oid FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
objects AS (
    SELECT 'pg_rewrite'::regclass AS classid, w.oid AS objid, false AS comment
    FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class
    WHERE w.rulename <> '_RETURN' AND c.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_cast'::regclass, oid, false FROM pg_cast WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_operator'::regclass, oid, false FROM pg_operator
    WHERE oprnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_opclass'::regclass, oid, false FROM pg_opclass
    WHERE opcnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_opfamily'::regclass, oid, false FROM pg_opfamily
    WHERE opfnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_config'::regclass, oid, false FROM pg_ts_config
    WHERE cfgnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_dict'::regclass, oid, false FROM pg_ts_dict
    WHERE dictnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_parser'::regclass, oid, false FROM pg_ts_parser
    WHERE prsnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_ts_template'::regclass, oid, false FROM pg_ts_template
    WHERE tmplnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_conversion'::regclass, oid, false FROM pg_conversion
    WHERE connamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT 'pg_publication'::regclass, oid, false FROM pg_publication
    UNION ALL
    -- only columns that every role may read (subconninfo is hidden)
    SELECT 'pg_subscription'::regclass, oid, false FROM pg_subscription
    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL
    SELECT 'pg_transform'::regclass, oid, false FROM pg_transform WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_am'::regclass, oid, false FROM pg_am WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_language'::regclass, oid, false FROM pg_language
    WHERE oid >= 16384 AND lanname <> 'plpgsql'
    UNION ALL
    SELECT 'pg_constraint'::regclass, k.oid, true FROM pg_constraint k
    JOIN pg_description d ON d.objoid = k.oid AND d.classoid = 'pg_constraint'::regclass
    JOIN pg_class c ON c.oid = k.conrelid
    WHERE k.contype = 'n' AND c.relnamespace IN (SELECT oid FROM managed_ns)
)
SELECT json_build_object(
    'unmanaged', (
        SELECT coalesce(json_agg(json_build_object(
            'kind', CASE WHEN o.comment THEN 'comment'
                         ELSE (pg_identify_object(o.classid, o.objid, 0)).type END,
            'identity', CASE WHEN o.comment THEN 'comment on ' ELSE '' END
                        || pg_describe_object(o.classid, o.objid, 0)
        ) ORDER BY 1), '[]'::json)
        FROM objects o
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid
                          AND d.objid = o.objid AND d.deptype IN ('e', 'i'))
    )
)::text
