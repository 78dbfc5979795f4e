-- Tenant isolation: a session sets app.organization_id; rows of other tenants stay invisible.
ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_tenant_isolation ON public.projects
    USING (organization_id = current_setting('app.organization_id', true)::bigint);

GRANT SELECT ON public.open_tasks TO app_readonly;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_writer;
