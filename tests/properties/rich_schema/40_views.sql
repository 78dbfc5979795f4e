-- Views (check option, security_barrier, security_invoker) and a materialized view with indexes.
CREATE VIEW app.active_customers WITH (security_barrier = true) AS
    SELECT id, name, email FROM app.customers WHERE status = 'active';
COMMENT ON VIEW app.active_customers IS 'active only';
COMMENT ON COLUMN app.active_customers.name IS 'display name';

CREATE VIEW app.big_invoices WITH (security_invoker = true) AS
    SELECT id, customer_id, total FROM app.invoices WHERE total > 100
    WITH CASCADED CHECK OPTION;

CREATE VIEW app.customer_totals AS
    SELECT c.id, c.name, app.invoice_total(i.id) AS total
    FROM app.customers c JOIN app.invoices i ON i.customer_id = c.id;

CREATE MATERIALIZED VIEW app.daily_totals AS
    SELECT date_trunc('day', created_at) AS day, count(*) AS n FROM app.customers GROUP BY 1
    WITH NO DATA;
CREATE UNIQUE INDEX daily_totals_day ON app.daily_totals (day);
COMMENT ON MATERIALIZED VIEW app.daily_totals IS 'per day';
