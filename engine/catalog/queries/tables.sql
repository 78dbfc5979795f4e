-- Tables (regular, partitioned, foreign) and the columns each declares itself.
-- Inherited and partition columns (attislocal = false) come with their parent and are left out.
-- volatile_defaults: PostgreSQL offers no SQL-level contain_volatile_functions(), and built-in
-- functions are pinned (absent from pg_depend), so the function oids are read from the default's
-- stored node tree (`:funcid N` / `:opfuncid N` in pg_attrdef.adbin, not SQL text) and looked up
-- in pg_proc (see volatile_default). A volatile default (random(), clock_timestamp(), nextval()) makes ADD COLUMN
-- rewrite the table.
-- Speed (10,000 tables): per-row work is set-based or guarded. Comments come from one hash join
-- on pg_description (obj_description/col_description run a query per call); ACLs, options and
-- the adbin scan are only computed when the catalog field is set (NULL ACL = owner-only default,
-- whose entries are all filtered out); inheritance is aggregated once per child.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
tbl AS (
    SELECT c.*, n.nspname, tc.reloptions AS toast_reloptions, tc.relpages AS toast_relpages,
           ds.description
    FROM pg_class c JOIN managed_ns n ON n.oid = c.relnamespace
    LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
    LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass
                                AND ds.objsubid = 0
    WHERE c.relkind IN ('r', 'p', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
),
col AS (
    SELECT a.*, t.nspname, t.relname, t.relowner, ty.typcollation, ty.typstorage,
           ds.description
    FROM tbl t JOIN pg_attribute a ON a.attrelid = t.oid
    JOIN pg_type ty ON ty.oid = a.atttypid
    LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass
                                AND ds.objsubid = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attislocal
),
-- Defaults that call a volatile function, for all defaults at once: split each node tree at
-- `:funcid ` / `:opfuncid ` (plain string functions: a regexp per default cost seconds at
-- 10,000 tables), the number after each split is a function oid, hash-joined to pg_proc.
volatile_default AS (
    SELECT DISTINCT f.adrelid, f.adnum
    FROM (SELECT d.adrelid, d.adnum, split_part(piece, ' ', 1) AS funcid
          FROM pg_attrdef d,
               unnest((string_to_array(d.adbin::text, ':funcid '))[2:]
                      || (string_to_array(d.adbin::text, ':opfuncid '))[2:]) AS piece) f
    JOIN pg_proc p ON p.oid = (CASE WHEN f.funcid ~ '^\d+$' THEN f.funcid END)::oid
    WHERE p.provolatile = 'v'
),
-- The size estimate reads relpages (as of the last VACUUM, ANALYZE or CREATE INDEX) instead of
-- pg_total_relation_size, which opens every table's and index's files: 4.7 s at 10,000 tables.
index_pages AS (
    SELECT x.indrelid, sum(ic.relpages)::bigint AS pages
    FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
    GROUP BY x.indrelid
),
-- The sequence behind each identity column, joined once (a correlated subquery per column cost
-- an index probe of pg_depend per column).
-- Its name, privileges (the owner's own left out, as for every ACL) and comment are the
-- sequence's own.
identity_seq AS MATERIALIZED (
    SELECT dep.refobjid, dep.refobjsubid, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
           s.seqcache, s.seqcycle,
           json_build_object(
               'name', sc.relname,
               'acl', (SELECT coalesce(json_agg(json_build_object(
                           'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                           ELSE pg_get_userbyid(a.grantee) END,
                           'privilege', a.privilege_type, 'grantable', a.is_grantable)
                           ORDER BY a.grantee, a.privilege_type), '[]'::json)
                       FROM aclexplode(sc.relacl) a WHERE a.grantee <> sc.relowner),
               'comment', sd.description)::text AS sequence
    FROM pg_depend dep JOIN pg_sequence s ON s.seqrelid = dep.objid
    JOIN pg_class sc ON sc.oid = dep.objid
    LEFT JOIN pg_description sd ON sd.objoid = dep.objid AND sd.classoid = 'pg_class'::regclass
                               AND sd.objsubid = 0
    WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
      AND dep.refobjsubid > 0 AND dep.deptype = 'i'
),
-- The index each table is CLUSTERed ON (few tables have one): one scan of pg_index.
clustered AS (
    SELECT x.indrelid, ic.relname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
    WHERE x.indisclustered
),
inh AS (
    SELECT i.inhrelid,
           json_agg(json_build_object('schema', pn.nspname, 'name', pc.relname)
                    ORDER BY i.inhseqno) AS parents
    FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
    JOIN pg_namespace pn ON pn.oid = pc.relnamespace
    GROUP BY i.inhrelid
)
-- The document is assembled as text: '{"tables":[...],"columns":[...],"inherited_columns":[...]}'.
SELECT '{"tables":' || (
        SELECT coalesce(json_agg(json_build_object(
            'schema', t.nspname,
            'name', t.relname,
            'table_kind', CASE t.relkind WHEN 'p' THEN 'partitioned' WHEN 'f' THEN 'foreign'
                                         ELSE 'regular' END,
            'persistence', CASE t.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'permanent' END,
            'partition_key', CASE WHEN t.relkind = 'p' THEN pg_get_partkeydef(t.oid) END,
            'partition_of', CASE WHEN t.relispartition THEN inh.parents -> 0 END,
            'partition_bound', CASE WHEN t.relispartition THEN pg_get_expr(t.relpartbound, t.oid) END,
            'inherits', CASE WHEN t.relispartition THEN '[]'::json
                             ELSE coalesce(inh.parents, '[]'::json) END,
            -- the toast table keeps the toast.* parameters in its own reloptions
            'options', CASE WHEN t.reloptions IS NULL AND t.toast_reloptions IS NULL
                            THEN '[]'::json
                            ELSE (SELECT coalesce(json_agg(json_build_object('name', o.name,
                                                                             'value', o.value)
                                                           ORDER BY o.name), '[]'::json)
                                  FROM (SELECT option_name AS name, option_value AS value
                                        FROM pg_options_to_table(t.reloptions)
                                        UNION ALL
                                        SELECT 'toast.' || option_name, option_value
                                        FROM pg_options_to_table(t.toast_reloptions)) o) END,
            -- foreign tables carry 'n' and cannot change it: not an attribute of theirs
            'replica_identity', CASE WHEN t.relkind = 'f' THEN 'default'
                                     WHEN t.relreplident = 'f' THEN 'full'
                                     WHEN t.relreplident = 'n' THEN 'nothing'
                                     WHEN t.relreplident = 'i' THEN 'index' ELSE 'default' END,
            'replica_identity_index', (SELECT ic.relname FROM pg_index x
                                       JOIN pg_class ic ON ic.oid = x.indexrelid
                                       WHERE x.indrelid = t.oid AND x.indisreplident
                                         AND t.relreplident = 'i'),
            'clustered_index', cl.relname,
            'rls_enabled', t.relrowsecurity,
            'rls_forced', t.relforcerowsecurity,
            'server', CASE WHEN t.relkind = 'f' THEN (SELECT s.srvname FROM pg_foreign_table f
                       JOIN pg_foreign_server s ON s.oid = f.ftserver WHERE f.ftrelid = t.oid) END,
            'foreign_options', CASE WHEN t.relkind <> 'f' THEN '[]'::json ELSE (SELECT coalesce(json_agg(json_build_object('name', o.option_name,
                                                                           'value', o.option_value)
                                                         ORDER BY o.option_name), '[]'::json)
                                FROM pg_foreign_table f,
                                     pg_options_to_table(f.ftoptions) o
                                WHERE f.ftrelid = t.oid) END,
            'owner', pg_get_userbyid(t.relowner),
            'comment', t.description,
            'acl', CASE WHEN t.relacl IS NULL THEN '[]'::json ELSE (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)
                        ORDER BY a.grantee, a.privilege_type), '[]'::json)
                    FROM aclexplode(coalesce(t.relacl, acldefault('r', t.relowner))) a
                    WHERE a.grantee <> t.relowner) END,
            'stats', json_build_object(
                'rows', CASE WHEN t.reltuples < 0 THEN NULL ELSE t.reltuples::bigint END,
                'bytes', CASE WHEN t.relkind = 'f' THEN 0
                              ELSE (t.relpages::bigint + coalesce(t.toast_relpages, 0)
                                    + coalesce(ip.pages, 0) + coalesce(tip.pages, 0))
                                   * current_setting('block_size')::bigint END)
        ) ORDER BY t.nspname, t.relname), '[]'::json)
        FROM tbl t LEFT JOIN inh ON inh.inhrelid = t.oid
        LEFT JOIN clustered cl ON cl.indrelid = t.oid
        LEFT JOIN index_pages ip ON ip.indrelid = t.oid
        LEFT JOIN index_pages tip ON tip.indrelid = t.reltoastrelid
    )::text || ',"columns":[' || coalesce((
        -- Each column's JSON is concatenated from pieces, and a key whose value is the model's
        -- default (null, false, [], "extended") is left out. json_build_object looked up the
        -- type of every key and value of every row (2.5 s at 10,000 tables), and the 60 MB of
        -- mostly default values cost as much again to parse. Every string goes through
        -- to_json, which escapes it.
        SELECT string_agg(
            '{"schema":' || to_json(c.nspname::text) || ',"table":' || to_json(c.relname::text)
            || ',"name":' || to_json(c.attname::text) || ',"position":' || c.attnum
            || ',"type":' || to_json(format_type(c.atttypid, c.atttypmod))
            || CASE WHEN co.oid IS NOT NULL
                    THEN ',"collation":' || to_json(quote_ident(cn.nspname) || '.' || quote_ident(co.collname))
                    ELSE '' END
            || CASE WHEN c.attnotnull THEN ',"not_null":true' ELSE '' END
            -- PostgreSQL 18 names NOT NULL constraints; pg_dump shows a name other than
            -- <table>_<column>_not_null (what an earlier server has no row for). Its name,
            -- NOT VALID and NO INHERIT only where one differs from the default (the model's
            -- NotNullConstraint). A column the child declares and inherits may hold only its
            -- parent's copy, under the parent's name: no name of its own, and not local
            || CASE WHEN (nn.conname <> c.relname || '_' || c.attname || '_not_null' AND nn.conislocal)
                         OR NOT nn.convalidated OR nn.connoinherit OR NOT nn.conislocal
                    THEN ',"not_null_constraint":{' || concat_ws(',',
                        CASE WHEN nn.conname <> c.relname || '_' || c.attname || '_not_null'
                                  AND nn.conislocal
                             THEN '"name":' || to_json(nn.conname::text) END,
                        CASE WHEN NOT nn.convalidated THEN '"validated":false' END,
                        CASE WHEN nn.connoinherit THEN '"no_inherit":true' END,
                        CASE WHEN NOT nn.conislocal THEN '"local":false' END) || '}'
                    ELSE '' END
            -- relation 0: an expression without column references needs no deparse context,
            -- and opening the table to build one cost most of pg_get_expr's time
            || CASE WHEN d.adbin IS NOT NULL AND c.attgenerated = ''
                    THEN ',"default":' || to_json(pg_get_expr(d.adbin,
                             CASE WHEN d.adbin::text LIKE '%%{VAR %%' THEN d.adrelid ELSE 0 END))
                    ELSE '' END
            || CASE c.attidentity WHEN 'a' THEN ',"identity":"always"'
                                  WHEN 'd' THEN ',"identity":"by_default"' ELSE '' END
            || CASE WHEN c.attidentity <> '' AND s.refobjid IS NOT NULL
                    THEN ',"identity_options":' || json_build_object(
                             'start', s.seqstart, 'increment', s.seqincrement,
                             'min_value', s.seqmin, 'max_value', s.seqmax,
                             'cache', s.seqcache, 'cycle', s.seqcycle)::text
                         || ',"identity_sequence":' || s.sequence
                    ELSE '' END
            -- 's' STORED, 'v' VIRTUAL (PostgreSQL 18)
            || CASE WHEN c.attgenerated <> '' AND d.adbin IS NOT NULL
                    THEN ',"generated":{"expression":' || to_json(pg_get_expr(d.adbin, d.adrelid))
                         || CASE WHEN c.attgenerated = 'v' THEN ',"virtual":true' ELSE '' END || '}'
                    ELSE '' END
            || CASE WHEN c.attstorage <> c.typstorage
                    THEN ',"storage":' || CASE c.attstorage WHEN 'p' THEN '"plain"'
                                                            WHEN 'e' THEN '"external"'
                                                            WHEN 'm' THEN '"main"'
                                                            ELSE '"extended"' END
                    ELSE '' END
            || CASE c.typstorage WHEN 'p' THEN ',"type_storage":"plain"'
                                 WHEN 'e' THEN ',"type_storage":"external"'
                                 WHEN 'm' THEN ',"type_storage":"main"' ELSE '' END
            || CASE c.attcompression WHEN 'p' THEN ',"compression":"pglz"'
                                     WHEN 'l' THEN ',"compression":"lz4"' ELSE '' END
            -- -1 before PostgreSQL 17, NULL from 17 on: the default target
            || CASE WHEN c.attstattarget >= 0
                    THEN ',"statistics":' || c.attstattarget ELSE '' END
            -- attribute options (n_distinct, n_distinct_inherited), by name: SET keeps them
            -- in the order given
            || CASE WHEN c.attoptions IS NOT NULL
                    THEN ',"attribute_options":' || (SELECT json_agg(json_build_object(
                                                         'name', o.option_name, 'value', o.option_value)
                                                     ORDER BY o.option_name)
                                                     FROM pg_options_to_table(c.attoptions) o)::text
                    ELSE '' END
            || CASE WHEN c.attfdwoptions IS NOT NULL
                    THEN ',"fdw_options":' || (SELECT coalesce(json_agg(json_build_object(
                                                   'name', o.option_name, 'value', o.option_value)
                                               ORDER BY o.option_name), '[]'::json)
                                               FROM pg_options_to_table(c.attfdwoptions) o)::text
                    ELSE '' END
            || CASE WHEN c.description IS NOT NULL
                    THEN ',"comment":' || to_json(c.description) ELSE '' END
            || CASE WHEN c.attacl IS NOT NULL
                    THEN ',"acl":' || (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)
                        ORDER BY a.grantee, a.privilege_type), '[]'::json)
                    FROM aclexplode(c.attacl) a
                    WHERE a.grantee <> c.relowner)::text
                    ELSE '' END
            || '}', ',')
        FROM col c LEFT JOIN pg_attrdef d ON d.adrelid = c.attrelid AND d.adnum = c.attnum
        LEFT JOIN pg_collation co ON co.oid = c.attcollation AND c.attcollation <> c.typcollation
        LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
        LEFT JOIN identity_seq s ON s.refobjid = c.attrelid AND s.refobjsubid = c.attnum
        LEFT JOIN pg_constraint nn ON nn.contype = 'n' AND nn.conrelid = c.attrelid
                                   AND nn.conkey[1] = c.attnum
    ), '') || '],"volatile_defaults":' || (
        -- the columns (of the list above) whose default calls a volatile function
        SELECT coalesce(json_agg(json_build_object(
            'kind', 'column', 'schema', c.nspname, 'parent', c.relname, 'name', c.attname)
            ORDER BY c.nspname, c.relname, c.attname), '[]'::json)
        FROM col c JOIN volatile_default v ON v.adrelid = c.attrelid AND v.adnum = c.attnum
        WHERE c.attgenerated = ''
    )::text || ',"inherited_columns":' || (
        -- The columns of partitions and inheritance children that come from a parent, in the
        -- child's own state: what detaching the child leaves it as its own columns.
        SELECT coalesce(json_agg(json_build_object(
            'schema', t.nspname, 'table', t.relname, 'name', a.attname,
            'not_null', a.attnotnull,
            'not_null_name', CASE WHEN nn.conname <> t.relname || '_' || a.attname || '_not_null'
                                  THEN nn.conname END,
            'not_null_validated', coalesce(nn.convalidated, true),
            'not_null_local', coalesce(nn.conislocal, false),
            'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
            'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
            'comment', ds.description,
            'statistics', CASE WHEN a.attstattarget >= 0 THEN a.attstattarget END,
            'attribute_options', CASE WHEN a.attoptions IS NULL THEN '[]'::json ELSE (
                SELECT json_agg(json_build_object('name', o.option_name, 'value', o.option_value)
                                ORDER BY o.option_name)
                FROM pg_options_to_table(a.attoptions) o) END,
            'storage', CASE WHEN a.attstorage <> ty.typstorage
                            THEN CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
                                                   WHEN 'm' THEN 'main' ELSE 'extended' END END,
            'compression', CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
            'acl', CASE WHEN a.attacl IS NULL THEN '[]'::json ELSE (
                SELECT coalesce(json_agg(json_build_object(
                    'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                    'privilege', x.privilege_type, 'grantable', x.is_grantable)
                    ORDER BY x.grantee, x.privilege_type), '[]'::json)
                FROM aclexplode(a.attacl) x WHERE x.grantee <> t.relowner) END
        ) ORDER BY t.nspname, t.relname, a.attnum), '[]'::json)
        FROM tbl t JOIN inh ON inh.inhrelid = t.oid
        JOIN pg_attribute a ON a.attrelid = t.oid
        JOIN pg_type ty ON ty.oid = a.atttypid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_description ds ON ds.objoid = a.attrelid
                                    AND ds.classoid = 'pg_class'::regclass
                                    AND ds.objsubid = a.attnum
        LEFT JOIN pg_constraint nn ON nn.contype = 'n' AND nn.conrelid = a.attrelid
                                   AND nn.conkey[1] = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND NOT a.attislocal
    )::text || '}'
