-- Functions, procedures and aggregates (pg_proc). Left out: extension members, and routines
-- that another object made for itself (deptype 'i': range and multirange constructors).
-- pg_get_functiondef rejects aggregates, so their CREATE AGGREGATE is assembled from
-- pg_aggregate, every support function and type schema-qualified. Support functions are named
-- by scalar subqueries, not eight joins: joining pg_proc eight times cost ~10 s of planning.
WITH managed_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\_%%' AND n.nspname <> 'information_schema'
      AND n.nspname <> ALL (%(excluded_schemas)s::text[])
),
procs AS (
    SELECT p.*, n.nspname FROM pg_proc p JOIN managed_ns n ON n.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
),
aggs AS (
    SELECT a.aggfnoid AS oid,
           'CREATE AGGREGATE ' || quote_ident(p.nspname) || '.' || quote_ident(p.proname)
           || '(' || CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_arguments(p.oid) END
           || ') (' || concat_ws(', ',
               'SFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggtransfn),
               'STYPE = ' || format_type(a.aggtranstype, NULL),
               CASE WHEN a.aggtransspace <> 0 THEN 'SSPACE = ' || a.aggtransspace END,
               'FINALFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggfinalfn),
               CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
               CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC_MODIFY = '
                    || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE'
                                             ELSE 'READ_WRITE' END END,
               'COMBINEFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggcombinefn),
               'SERIALFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggserialfn),
               'DESERIALFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggdeserialfn),
               'INITCOND = ' || quote_literal(a.agginitval),
               'MSFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggmtransfn),
               'MINVFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggminvtransfn),
               CASE WHEN a.aggmtranstype <> 0 THEN 'MSTYPE = ' || format_type(a.aggmtranstype, NULL) END,
               CASE WHEN a.aggmtransspace <> 0 THEN 'MSSPACE = ' || a.aggmtransspace END,
               'MFINALFUNC = ' || (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) FROM pg_proc fp JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = a.aggmfinalfn),
               CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
               CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC_MODIFY = '
                    || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE'
                                              ELSE 'READ_WRITE' END END,
               'MINITCOND = ' || quote_literal(a.aggminitval),
               CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = ' || (
                   SELECT 'OPERATOR(' || quote_ident(opn.nspname) || '.' || o.oprname || ')'
                   FROM pg_operator o JOIN pg_namespace opn ON opn.oid = o.oprnamespace
                   WHERE o.oid = a.aggsortop) END,
               CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END,
               CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END
           ) || ')' AS definition
    FROM pg_aggregate a
    JOIN procs p ON p.oid = a.aggfnoid
)
SELECT json_build_object(
    'routines', (
        SELECT coalesce(json_agg(json_build_object(
            'routine_kind', CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                                           ELSE 'function' END,
            'schema', p.nspname,
            'name', p.proname,
            'identity_args', oidvectortypes(p.proargtypes),
            'signature', pg_get_function_identity_arguments(p.oid),
            'arguments', pg_get_function_arguments(p.oid),
            'result', pg_get_function_result(p.oid),
            'definition', CASE WHEN p.prokind = 'a' THEN g.definition
                               ELSE rtrim(pg_get_functiondef(p.oid), E'\n') END,
            'language', l.lanname,
            'volatility', CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable'
                                             ELSE 'volatile' END,
            'strict', p.proisstrict,
            'security_definer', p.prosecdef,
            'leakproof', p.proleakproof,
            'parallel', CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted'
                                           ELSE 'unsafe' END,
            'cost', p.procost,
            'rows', p.prorows,
            'config', coalesce(to_json(p.proconfig), '[]'::json),
            'sql_body', p.prosqlbody IS NOT NULL,
            'input_names', (SELECT coalesce(json_agg(coalesce(p.proargnames[i], '') ORDER BY i), '[]'::json)
                            FROM generate_subscripts(coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs])), 1) i
                            WHERE coalesce(p.proargmodes[i], 'i') IN ('i', 'b', 'v')),
            'default_count', p.pronargdefaults,
            'comment', obj_description(p.oid, 'pg_proc'),
            'owner', pg_get_userbyid(p.proowner),
            'acl', (SELECT coalesce(json_agg(json_build_object(
                        'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
                        'privilege', x.privilege_type, 'grantable', x.is_grantable)
                        ORDER BY x.grantee, x.privilege_type), '[]'::json)
                    FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                    WHERE x.grantee <> p.proowner)
        ) ORDER BY p.nspname, p.proname, oidvectortypes(p.proargtypes)), '[]'::json)
        FROM procs p
        JOIN pg_language l ON l.oid = p.prolang
        LEFT JOIN aggs g ON g.oid = p.oid
    )
)::text
