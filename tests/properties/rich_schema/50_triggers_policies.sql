-- Triggers (incl. a constraint trigger and a disabled one), policies, statistics objects.
CREATE TRIGGER customers_audit AFTER INSERT OR UPDATE OF name, email ON app.customers
    FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM 'closed') EXECUTE FUNCTION audit.touch();
COMMENT ON TRIGGER customers_audit ON app.customers IS 'audit changes';
CREATE TRIGGER invoices_stmt AFTER DELETE ON app.invoices
    FOR EACH STATEMENT EXECUTE FUNCTION audit.touch();
ALTER TABLE app.invoices DISABLE TRIGGER invoices_stmt;
CREATE CONSTRAINT TRIGGER invoices_total_ct AFTER INSERT OR UPDATE ON app.invoices
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit.check_total();

CREATE POLICY invoices_read ON app.invoices FOR SELECT TO pgflux_rich_reader USING (total < 1000);
CREATE POLICY invoices_write ON app.invoices AS RESTRICTIVE FOR INSERT TO pgflux_rich_writer
    WITH CHECK (total >= 0);
COMMENT ON POLICY invoices_read ON app.invoices IS 'readers see small invoices';

CREATE STATISTICS app.customers_stats (ndistinct, dependencies) ON status, name FROM app.customers;
CREATE STATISTICS app.customers_expr_stats ON lower(name), status FROM app.customers;
ALTER STATISTICS app.customers_stats SET STATISTICS 500;
COMMENT ON STATISTICS app.customers_stats IS 'correlated columns';
