-- Functions (sql, plpgsql, BEGIN ATOMIC), a procedure, an aggregate.
CREATE FUNCTION app.invoice_total(p_id integer) RETURNS numeric
    LANGUAGE sql STABLE STRICT PARALLEL SAFE COST 5
    AS $$ SELECT total FROM app.invoices WHERE id = p_id $$;
COMMENT ON FUNCTION app.invoice_total(integer) IS 'total of one invoice';

CREATE FUNCTION app.double_it(x integer) RETURNS integer
    LANGUAGE sql IMMUTABLE LEAKPROOF
    BEGIN ATOMIC
        SELECT x * 2;
    END;

CREATE FUNCTION app.customers_of(p_status app.status) RETURNS SETOF app.customers
    LANGUAGE sql STABLE ROWS 50
    AS $$ SELECT * FROM app.customers WHERE status = p_status $$;

CREATE FUNCTION app.totals() RETURNS TABLE (customer_id bigint, total numeric)
    LANGUAGE sql STABLE
    AS $$ SELECT customer_id, sum(total) FROM app.invoices GROUP BY customer_id $$;

CREATE FUNCTION audit.touch() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit
    AS $$
BEGIN
    INSERT INTO audit.log (id, what) VALUES (1, TG_TABLE_NAME);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION audit.touch() IS 'audit trigger';

CREATE FUNCTION audit.check_total() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN IF NEW.total < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN NULL; END $$;

CREATE PROCEDURE app.close_customer(p_id bigint)
    LANGUAGE plpgsql
    AS $$ BEGIN UPDATE app.customers SET status = 'closed' WHERE id = p_id; END $$;
COMMENT ON PROCEDURE app.close_customer(bigint) IS 'close an account';

CREATE FUNCTION app.add_int(state integer, x integer) RETURNS integer
    LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(state, 0) + coalesce(x, 0) $$;
CREATE AGGREGATE app.int_sum(integer) (SFUNC = app.add_int, STYPE = integer, INITCOND = '0');
COMMENT ON AGGREGATE app.int_sum(integer) IS 'sum of integers';
