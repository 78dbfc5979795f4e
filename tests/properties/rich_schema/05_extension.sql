-- An extension available on this server (the test drops this file where it is not).
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
COMMENT ON EXTENSION citext IS 'case-insensitive text';
CREATE TABLE app.tags (tag citext PRIMARY KEY);
