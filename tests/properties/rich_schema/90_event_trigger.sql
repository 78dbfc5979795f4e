-- Needs a superuser shadow: the test leaves this file out unless it loads as superuser.
CREATE FUNCTION public.log_ddl() RETURNS event_trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'ddl: %', tg_tag; END $$;
CREATE EVENT TRIGGER rich_ddl ON ddl_command_end WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE')  -- sorted: tags are compared as a set
    EXECUTE FUNCTION public.log_ddl();
COMMENT ON EVENT TRIGGER rich_ddl IS 'logs DDL';
