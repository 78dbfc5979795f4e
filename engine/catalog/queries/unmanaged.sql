-- Objects pg-flux does not manage, listed by name so that they are reported, never silently
-- skipped: non-view rules, user casts, operators, operator classes and families, text search
-- objects, conversions, publications, subscriptions, transforms, access methods, languages,
-- base and shell types.
-- Built-in objects (oid below FirstNormalObjectId, 16384), extension members and objects made
-- implicitly as part of another (deptype 'i': a range type's multirange cast) are left out.
-- Also settings of managed objects that the model does not hold (`settings`): a comment on a
-- table's NOT NULL constraint (PostgreSQL 18 keeps those as constraints of their own), a
-- materialized view's column options (n_distinct, ...), the statistics target of a column of
-- a partition's index attached to its parent's or of a constraint's index,
-- a typed table's type (OF), a table's access method other than heap, a relation's
-- tablespace, a view column's default, a partition's trigger enabled or disabled apart from
-- its parent's, a materialized view's CLUSTER ON, an identity sequence's persistence apart
-- from its table's.
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
    UNION ALL
    -- base types (input and output functions) and shell types (CREATE TYPE name;); not the
    -- array types (one per table at 10,000 tables), each its element's
    SELECT 'pg_type'::regclass, oid FROM pg_type
    WHERE typtype IN ('b', 'p') AND typcategory <> 'A'
      AND typnamespace IN (SELECT oid FROM managed_ns)
),
-- The few attributes and relations that carry such a setting, each catalog scanned once and
-- filtered before any join (joined first, the planner probed pg_attribute per relation: 0.24 s
-- at 10,000 tables).
set_attributes AS MATERIALIZED (
    SELECT a.attrelid, a.attnum, a.attoptions, a.attstattarget FROM pg_attribute a
    WHERE a.attnum > 0 AND NOT a.attisdropped
      AND (a.attoptions IS NOT NULL OR a.attstattarget >= 0)
),
set_relations AS MATERIALIZED (
    SELECT c.oid, c.relkind, c.relnamespace, c.reloftype, c.reltablespace,
           CASE WHEN c.relkind IN ('r', 'm', 'p') AND c.relam <> 0
                     AND c.relam <> (SELECT oid FROM pg_am WHERE amname = 'heap')
                THEN c.relam END AS relam
    FROM pg_class c
    WHERE c.reloftype <> 0 OR c.reltablespace <> 0
       OR (c.relkind IN ('r', 'm', 'p') AND c.relam <> 0
           AND c.relam <> (SELECT oid FROM pg_am WHERE amname = 'heap'))
),
settings AS (
    SELECT r.oid AS rel, 'comment' AS kind,
           'comment on ' || pg_describe_object('pg_constraint'::regclass, k.oid, 0) AS identity
    FROM pg_constraint k
    JOIN pg_description d ON d.objoid = k.oid AND d.classoid = 'pg_constraint'::regclass
    JOIN pg_class r ON r.oid = k.conrelid
    WHERE k.contype = 'n' AND r.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    -- one scan of pg_attribute for both: few rows pass it
    SELECT r.oid, CASE WHEN r.relkind IN ('i', 'I') THEN 'statistics target'
                ELSE 'column options' END,
           CASE WHEN r.relkind IN ('i', 'I') THEN 'statistics target ' || a.attstattarget
                ELSE 'column options (' || array_to_string(a.attoptions, ', ') || ')' END
           || ' of ' || pg_describe_object('pg_class'::regclass, a.attrelid, a.attnum)
    FROM set_attributes a JOIN pg_class r ON r.oid = a.attrelid
    WHERE r.relnamespace IN (SELECT oid FROM managed_ns)
      -- (a table's columns' options are managed: Column.attribute_options)
      AND ((a.attoptions IS NOT NULL AND r.relkind = 'm')
           -- (an index's own are managed: Index.statistics; a partition's index attached to
           -- its parent's, and a constraint's index, are not)
           OR (a.attstattarget >= 0 AND r.relkind IN ('i', 'I')
               AND (r.relispartition
                    OR EXISTS (SELECT 1 FROM pg_depend d
                               WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                                 AND d.refclassid = 'pg_constraint'::regclass
                                 AND d.deptype = 'i'))))
    UNION ALL
    -- one scan of pg_class for a typed table's type (OF), a table's or materialized view's
    -- access method other than heap (CREATE TABLE ... USING), and a relation's tablespace
    -- other than the database's default (tablespaces are the cluster's, not the schema's)
    SELECT r.oid, x.kind, x.what || ' ' || pg_describe_object('pg_class'::regclass, r.oid, 0)
                          || x.tail
    FROM set_relations r
    LEFT JOIN pg_am am ON am.oid = r.relam
    LEFT JOIN pg_tablespace ts ON ts.oid = r.reltablespace
    CROSS JOIN LATERAL (VALUES
        (r.reloftype <> 0, 'typed table', 'typed', ' OF ' || r.reloftype::regtype::text),
        (am.oid IS NOT NULL, 'access method', 'access method ' || am.amname || ' of', ''),
        (ts.oid IS NOT NULL, 'tablespace', 'tablespace ' || ts.spcname || ' of', '')
    ) AS x(applies, kind, what, tail)
    WHERE r.relnamespace IN (SELECT oid FROM managed_ns) AND x.applies
    UNION ALL
    -- an identity column's sequence logged or unlogged apart from its table (PostgreSQL 15+;
    -- made with the table's persistence, and changed with it)
    SELECT r.oid, 'persistence',
           'persistence ' || CASE q.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'logged' END
           || ' of ' || pg_describe_object('pg_class'::regclass, q.oid, 0)
    FROM pg_depend d JOIN pg_class q ON q.oid = d.objid AND q.relkind = 'S'
    JOIN pg_class r ON r.oid = d.refobjid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype = 'i' AND q.relpersistence <> r.relpersistence
      AND r.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    -- a materialized view's CLUSTER ON (a table's is managed)
    SELECT r.oid, 'cluster', 'cluster of ' || pg_describe_object('pg_class'::regclass, r.oid, 0)
                             || ' on ' || pg_describe_object('pg_class'::regclass, x.indexrelid, 0)
    FROM pg_index x JOIN pg_class r ON r.oid = x.indrelid
    WHERE x.indisclustered AND r.relkind = 'm' AND r.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    -- a partition's clone of its parent's trigger, enabled or disabled apart from it
    SELECT r.oid, 'trigger state',
           'trigger state ' || CASE g.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'
                                                WHEN 'A' THEN 'always' ELSE 'origin' END
           || ' of ' || pg_describe_object('pg_trigger'::regclass, g.oid, 0)
    FROM pg_trigger g JOIN pg_trigger p ON p.oid = g.tgparentid
    JOIN pg_class r ON r.oid = g.tgrelid
    WHERE g.tgparentid <> 0 AND g.tgenabled <> p.tgenabled
      AND r.relnamespace IN (SELECT oid FROM managed_ns)
    UNION ALL
    SELECT r.oid, 'default value', pg_describe_object('pg_attrdef'::regclass, d.oid, 0)
    FROM pg_attrdef d JOIN pg_class r ON r.oid = d.adrelid
    WHERE r.relkind = 'v' AND r.relnamespace IN (SELECT oid FROM managed_ns)
)
SELECT json_build_object(
    'unmanaged', (
        SELECT coalesce(json_agg(json_build_object('kind', u.kind, 'identity', u.identity)),
                        '[]'::json)
        FROM (SELECT (pg_identify_object(o.classid, o.objid, 0)).type AS kind,
                     pg_describe_object(o.classid, o.objid, 0) AS identity
              FROM objects o
              WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid
                                AND d.objid = o.objid AND d.deptype IN ('e', 'i'))
              UNION ALL
              SELECT s.kind, s.identity FROM settings s
              WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                AND d.objid = s.rel AND d.deptype = 'e')) u
    )
)::text
