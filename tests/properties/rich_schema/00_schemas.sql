-- Schemas, a collation, and every user-defined type kind.
CREATE SCHEMA app;
CREATE SCHEMA audit;
COMMENT ON SCHEMA app IS 'application objects';
COMMENT ON SCHEMA audit IS 'audit trail';

CREATE COLLATION app.c_copy FROM "C";
COMMENT ON COLLATION app.c_copy IS 'a copy of C';

CREATE TYPE app.status AS ENUM ('new', 'active', 'closed');
COMMENT ON TYPE app.status IS 'lifecycle';

CREATE TYPE app.address AS (street text, city text, zip varchar(10));
COMMENT ON TYPE app.address IS 'postal address';
COMMENT ON COLUMN app.address.zip IS 'postal code';

CREATE DOMAIN app.email AS text NOT NULL CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
-- its NOT NULL named: kept from PostgreSQL 17 on, where it is a constraint of its own
CREATE DOMAIN app.positive_money AS numeric(12, 2) DEFAULT 0
    CONSTRAINT money_required NOT NULL CONSTRAINT non_negative CHECK (VALUE >= 0);
COMMENT ON DOMAIN app.email IS 'an e-mail address';
COMMENT ON CONSTRAINT email_has_at ON DOMAIN app.email IS 'a plausible address';

CREATE TYPE app.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
COMMENT ON TYPE app.floatrange IS 'float ranges';

CREATE SEQUENCE app.invoice_no AS integer START 1000 INCREMENT 5 MINVALUE 1000 MAXVALUE 999999 CACHE 10 CYCLE;
