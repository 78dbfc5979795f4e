-- Every index kind.
CREATE INDEX customers_name_idx ON app.customers (name DESC NULLS LAST);
-- the index CLUSTER uses
ALTER TABLE app.customers CLUSTER ON customers_name_idx;
CREATE UNIQUE INDEX customers_lower_email ON app.customers (lower(email)) WHERE status <> 'closed';
-- an expression column's statistics target
ALTER INDEX app.customers_lower_email ALTER COLUMN 1 SET STATISTICS 400;
CREATE INDEX customers_created_brin ON app.customers USING brin (created_at) WITH (pages_per_range = 32);
CREATE INDEX customers_name_hash ON app.customers USING hash (name);
CREATE INDEX invoices_customer_incl ON app.invoices (customer_id) INCLUDE (total) WITH (fillfactor = 70);
CREATE INDEX lines_tags_gin ON app.invoice_lines USING gin (tags);
CREATE INDEX lines_payload_gin ON app.invoice_lines USING gin (payload jsonb_path_ops);
CREATE INDEX invoices_period_gist ON app.invoices USING gist (period);
CREATE INDEX customers_name_pattern ON app.customers (name COLLATE "C" text_pattern_ops);
CREATE INDEX sessions_seen_spgist ON app.sessions USING spgist (token);
CREATE INDEX events_kind_idx ON app.events (kind);
COMMENT ON INDEX app.customers_name_idx IS 'by name';
