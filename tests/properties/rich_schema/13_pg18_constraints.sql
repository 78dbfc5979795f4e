-- PostgreSQL 18's constraints (left out on earlier servers): temporal keys (WITHOUT OVERLAPS,
-- a foreign key with PERIOD; a range's own GiST equality, so no btree_gist) and NOT ENFORCED
-- CHECK and FOREIGN KEY constraints.
CREATE TABLE app.desks (
    area int4range NOT NULL,
    valid_at daterange NOT NULL,
    CONSTRAINT desks_pk PRIMARY KEY (area, valid_at WITHOUT OVERLAPS)
);
CREATE TABLE app.desk_bookings (
    id integer PRIMARY KEY,
    area int4range,
    valid_at daterange,
    seats integer,
    CONSTRAINT desk_bookings_desk_fk FOREIGN KEY (area, PERIOD valid_at)
        REFERENCES app.desks (area, PERIOD valid_at),
    CONSTRAINT desk_bookings_seats_check CHECK (seats > 0) NOT ENFORCED,
    CONSTRAINT desk_bookings_area_uq UNIQUE (area, valid_at WITHOUT OVERLAPS)
);
ALTER TABLE app.desk_bookings ADD CONSTRAINT desk_bookings_self_fk
    FOREIGN KEY (id) REFERENCES app.desk_bookings (id) NOT ENFORCED;
COMMENT ON CONSTRAINT desk_bookings_seats_check ON app.desk_bookings IS 'documented, not checked';
