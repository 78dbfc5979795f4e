-- The application's schemas. `public` exists already; `billing` holds money.
CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'Invoices, payments and plans';
