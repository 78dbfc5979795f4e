-- Enums, composites, domains, ranges and user-defined collations.
-- One file for PG 14-18: version-specific pg_collation columns (colliculocale 15-16, colllocale
-- 17+, collicurules 16+) are read through to_jsonb(row), which yields NULL where a column is absent.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
coll AS (
    SELECT c.oid, format('%%I.%%I', n.nspname, c.collname) AS qname
    FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
),
typ AS (
    SELECT t.oid, t.typname, t.typtype, t.typowner, t.typacl, t.typrelid, t.typbasetype, t.typtypmod,
           t.typnotnull, t.typdefaultbin, t.typcollation, n.nspname
    FROM pg_type t JOIN managed_ns n ON n.oid = t.typnamespace
    LEFT JOIN pg_class r ON r.oid = t.typrelid
    WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND r.relkind = 'c'))
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = t.typrelid AND d.deptype = 'e')
),
common AS (
    -- the fields every type shares: identity, comment, owner, ACL (owner's own entries left out)
    SELECT t.oid, jsonb_build_object(
        'schema', t.nspname, 'name', t.typname,
        'owner', pg_get_userbyid(t.typowner),
        'comment', obj_description(t.oid, 'pg_type'),
        'acl', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                    'privilege', a.privilege_type, 'grantable', a.is_grantable)
                    ORDER BY a.grantee, a.privilege_type), '[]'::jsonb)
                FROM aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) a
                WHERE a.grantee <> t.typowner)
    ) AS obj
    FROM typ t
)
SELECT json_build_object(
    'enums', (
        SELECT coalesce(json_agg(c.obj || jsonb_build_object('labels', (
                   SELECT coalesce(jsonb_agg(e.enumlabel ORDER BY e.enumsortorder), '[]'::jsonb)
                   FROM pg_enum e WHERE e.enumtypid = t.oid))
               ORDER BY t.nspname, t.typname), '[]'::json)
        FROM typ t JOIN common c ON c.oid = t.oid WHERE t.typtype = 'e'
    ),
    'composites', (
        SELECT coalesce(json_agg(c.obj || jsonb_build_object('attributes', (
                   SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'name', a.attname,
                       'type', format_type(a.atttypid, a.atttypmod),
                       'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation
                                         THEN (SELECT qname FROM coll WHERE coll.oid = a.attcollation) END,
                       'comment', ad.description
                   ) ORDER BY a.attnum), '[]'::jsonb)
                   FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
                   LEFT JOIN pg_description ad ON ad.objoid = a.attrelid AND ad.objsubid = a.attnum
                                              AND ad.classoid = 'pg_class'::regclass
                   WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
               ORDER BY t.nspname, t.typname), '[]'::json)
        FROM typ t JOIN common c ON c.oid = t.oid WHERE t.typtype = 'c'
    ),
    'domains', (
        SELECT coalesce(json_agg(c.obj || jsonb_build_object(
                   'base_type', format_type(t.typbasetype, t.typtypmod),
                   'default', pg_get_expr(t.typdefaultbin, 0),
                   'not_null', t.typnotnull,
                   -- PostgreSQL 17+ keeps the NOT NULL as a named constraint (none before),
                   -- which may carry a comment
                   'not_null_name', CASE WHEN nn.conname <> t.typname || '_not_null'
                                         THEN nn.conname END,
                   'not_null_comment', nnd.description,
                   'collation', CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
                                     THEN (SELECT qname FROM coll WHERE coll.oid = t.typcollation) END,
                   'constraints', (
                       SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'name', k.conname,
                           -- pg_get_constraintdef appends " NOT VALID": kept apart as `validated`
                           'definition', CASE WHEN k.convalidated THEN pg_get_constraintdef(k.oid)
                                              ELSE left(pg_get_constraintdef(k.oid),
                                                        -length(' NOT VALID')) END,
                           'validated', k.convalidated,
                           'comment', kd.description
                       ) ORDER BY k.conname), '[]'::jsonb)
                       FROM pg_constraint k
                       LEFT JOIN pg_description kd ON kd.objoid = k.oid AND kd.objsubid = 0
                                                  AND kd.classoid = 'pg_constraint'::regclass
                       WHERE k.contypid = t.oid AND k.contype = 'c'))
               ORDER BY t.nspname, t.typname), '[]'::json)
        FROM typ t JOIN common c ON c.oid = t.oid JOIN pg_type bt ON bt.oid = t.typbasetype
        LEFT JOIN pg_constraint nn ON nn.contypid = t.oid AND nn.contype = 'n'
        LEFT JOIN pg_description nnd ON nnd.objoid = nn.oid AND nnd.objsubid = 0
                                    AND nnd.classoid = 'pg_constraint'::regclass
        WHERE t.typtype = 'd'
    ),
    'ranges', (
        SELECT coalesce(json_agg(c.obj || jsonb_build_object(
                   'subtype', format_type(r.rngsubtype, NULL),
                   'subtype_opclass', CASE WHEN NOT oc.opcdefault
                                           THEN format('%%I.%%I', ocn.nspname, oc.opcname) END,
                   'collation', CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
                                     THEN (SELECT qname FROM coll WHERE coll.oid = r.rngcollation) END,
                   'canonical', CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END,
                   'subtype_diff', CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END,
                   'multirange', (SELECT format('%%I.%%I', mn.nspname, m.typname)
                                  FROM pg_type m JOIN pg_namespace mn ON mn.oid = m.typnamespace
                                  WHERE m.oid = r.rngmultitypid))
               ORDER BY t.nspname, t.typname), '[]'::json)
        FROM typ t JOIN common c ON c.oid = t.oid
        JOIN pg_range r ON r.rngtypid = t.oid
        JOIN pg_type st ON st.oid = r.rngsubtype
        JOIN pg_opclass oc ON oc.oid = r.rngsubopc
        JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
        WHERE t.typtype = 'r'
    ),
    'collations', (
        SELECT coalesce(json_agg(json_build_object(
                   'schema', n.nspname, 'name', c.collname,
                   'owner', pg_get_userbyid(c.collowner),
                   'comment', obj_description(c.oid, 'pg_collation'),
                   'provider', CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin'
                                                   ELSE 'libc' END,
                   'locale', coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale'),
                   'lc_collate', c.collcollate::text,
                   'lc_ctype', c.collctype::text,
                   'deterministic', c.collisdeterministic,
                   'icu_rules', to_jsonb(c) ->> 'collicurules',
                   'version', c.collversion
               ) ORDER BY n.nspname, c.collname), '[]'::json)
        FROM pg_collation c JOIN managed_ns n ON n.oid = c.collnamespace
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_collation'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    )
)::text
