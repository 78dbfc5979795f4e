-- PostgreSQL 18's virtual generated columns (left out on earlier servers): one written VIRTUAL,
-- one by 18's default kind, NOT NULL, commented and granted; a partitioned parent's, with a
-- partition that holds its own expression.
CREATE TABLE app.measures (
    id integer PRIMARY KEY,
    grams integer NOT NULL,
    kilos numeric GENERATED ALWAYS AS (grams / 1000.0) VIRTUAL,
    label text GENERATED ALWAYS AS ('m-' || id) NOT NULL,
    CONSTRAINT measures_grams_check CHECK (grams >= 0)
);
COMMENT ON COLUMN app.measures.kilos IS 'computed on read';
GRANT SELECT (kilos) ON app.measures TO pgflux_rich_reader;

CREATE TABLE app.readings (
    taken date,
    value integer,
    doubled integer GENERATED ALWAYS AS (value * 2) VIRTUAL
) PARTITION BY RANGE (taken);
CREATE TABLE app.readings_2026 PARTITION OF app.readings
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE app.readings_2027 (
    taken date,
    value integer,
    doubled integer GENERATED ALWAYS AS (value * 3) VIRTUAL
);
ALTER TABLE app.readings ATTACH PARTITION app.readings_2027
    FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
