-- Tables (regular, partitioned, foreign) and the columns each declares itself.
-- Inherited and partition columns (attislocal = false) come with their parent and are left out.
-- default_volatile: PostgreSQL offers no SQL-level contain_volatile_functions(), and built-in
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
    SELECT c.*, n.nspname, tc.reloptions AS toast_reloptions, ds.description
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
inh AS (
    SELECT i.inhrelid,
           json_agg(json_build_object('schema', pn.nspname, 'name', pc.relname)
                    ORDER BY i.inhseqno) AS parents
    FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
    JOIN pg_namespace pn ON pn.oid = pc.relnamespace
    GROUP BY i.inhrelid
)
SELECT json_build_object(
    'tables', (
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
                'bytes', CASE WHEN t.relkind = 'f' THEN 0 ELSE pg_total_relation_size(t.oid) END)
        ) ORDER BY t.nspname, t.relname), '[]'::json)
        FROM tbl t LEFT JOIN inh ON inh.inhrelid = t.oid
    ),
    'columns', (
        SELECT coalesce(json_agg(json_build_object(
            'schema', c.nspname,
            'table', c.relname,
            'name', c.attname,
            'position', c.attnum,
            'type', format_type(c.atttypid, c.atttypmod),
            'collation', (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                          FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                          WHERE co.oid = c.attcollation AND c.attcollation <> c.typcollation),
            'not_null', c.attnotnull,
            'default', CASE WHEN c.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
            'default_volatile', CASE WHEN d.adbin IS NULL OR c.attgenerated <> '' THEN false
                                     ELSE v.adrelid IS NOT NULL END,
            'identity', CASE c.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by_default' END,
            'identity_options', (SELECT json_build_object(
                                     'start', s.seqstart, 'increment', s.seqincrement,
                                     'min_value', s.seqmin, 'max_value', s.seqmax,
                                     'cache', s.seqcache, 'cycle', s.seqcycle)
                                 FROM pg_depend dep JOIN pg_sequence s ON s.seqrelid = dep.objid
                                 WHERE c.attidentity <> '' AND dep.classid = 'pg_class'::regclass
                                   AND dep.refclassid = 'pg_class'::regclass
                                   AND dep.refobjid = c.attrelid AND dep.refobjsubid = c.attnum
                                   AND dep.deptype = 'i'),
            'generated', CASE WHEN c.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END,
            'storage', CASE WHEN c.attstorage <> c.typstorage THEN
                           CASE c.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
                                             WHEN 'm' THEN 'main' ELSE 'extended' END END,
            'type_storage', CASE c.typstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
                                              WHEN 'm' THEN 'main' ELSE 'extended' END,
            'compression', CASE c.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
            'fdw_options', CASE WHEN c.attfdwoptions IS NULL THEN '[]'::json ELSE (SELECT coalesce(json_agg(json_build_object('name', o.option_name,
                                                                       'value', o.option_value)
                                                     ORDER BY o.option_name), '[]'::json)
                            FROM pg_options_to_table(c.attfdwoptions) o) END,
            'comment', c.description,
            'acl', CASE WHEN c.attacl IS NULL THEN '[]'::json ELSE (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)
                        ORDER BY a.grantee, a.privilege_type), '[]'::json)
                    FROM aclexplode(c.attacl) a
                    WHERE a.grantee <> c.relowner) END
        ) ORDER BY c.nspname, c.relname, c.attnum), '[]'::json)
        FROM col c LEFT JOIN pg_attrdef d ON d.adrelid = c.attrelid AND d.adnum = c.attnum
        LEFT JOIN volatile_default v ON v.adrelid = c.attrelid AND v.adnum = c.attnum
    )
)::text
