-- Grants (schema, table, column, sequence, routine, type, server) and default privileges.
GRANT USAGE ON SCHEMA app TO pgflux_rich_reader, pgflux_rich_writer;
GRANT SELECT ON app.customers, app.invoices TO pgflux_rich_reader;
GRANT SELECT (id, name), UPDATE (nickname) ON app.customers TO pgflux_rich_writer;
GRANT INSERT, UPDATE ON app.invoices TO pgflux_rich_writer WITH GRANT OPTION;
REVOKE EXECUTE ON FUNCTION app.invoice_total(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.invoice_total(integer) TO pgflux_rich_reader;
GRANT USAGE ON TYPE app.status TO pgflux_rich_writer;
GRANT SELECT (kind) ON app.events_2024 TO pgflux_rich_reader;
GRANT USAGE ON SEQUENCE app.customers_id_seq TO pgflux_rich_writer;
COMMENT ON SEQUENCE app.customers_id_seq IS 'customer ids';
GRANT USAGE ON FOREIGN SERVER rich_server TO pgflux_rich_reader;
GRANT SELECT ON app.active_customers TO pgflux_rich_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO pgflux_rich_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
