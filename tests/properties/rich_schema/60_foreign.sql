-- A foreign data wrapper without handler (enough for the catalog), a server, a mapping, a table.
CREATE FOREIGN DATA WRAPPER rich_fdw OPTIONS (debug 'true');
COMMENT ON FOREIGN DATA WRAPPER rich_fdw IS 'test wrapper';
CREATE SERVER rich_server FOREIGN DATA WRAPPER rich_fdw OPTIONS (host 'remote.example', port '5432');
COMMENT ON SERVER rich_server IS 'remote';
CREATE USER MAPPING FOR pgflux_rich_reader SERVER rich_server OPTIONS (user 'remote_reader');
CREATE FOREIGN TABLE app.remote_orders (
    id bigint OPTIONS (column_name 'order_id') NOT NULL,
    amount numeric
) SERVER rich_server OPTIONS (table_name 'orders');
COMMENT ON FOREIGN TABLE app.remote_orders IS 'orders elsewhere';
