-- A nondeterministic ICU collation (the test leaves this file out on servers built without ICU).
CREATE COLLATION app.ci_und (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
COMMENT ON COLLATION app.ci_und IS 'case-insensitive';
ALTER TABLE app.customers ADD COLUMN nickname_ci text COLLATE app.ci_und;
