-- The simulated production database of the demo: last quarter's schema, with data.
-- examples/schema/ is where the team wants to go; `pg-flux plan` works out the way there.
CREATE ROLE app_readonly NOLOGIN;
CREATE ROLE app_writer NOLOGIN;

CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'Invoices, payments and plans';

CREATE TYPE public.plan_tier AS ENUM ('free', 'team', 'business', 'enterprise');
CREATE TYPE public.member_role AS ENUM ('owner', 'admin', 'member', 'viewer');
CREATE TYPE billing.invoice_status AS ENUM ('draft', 'open', 'paid', 'void');

CREATE TABLE public.organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL,
    name        text,
    tier        public.plan_tier NOT NULL DEFAULT 'free',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_slug_key UNIQUE (slug),
    CONSTRAINT organizations_slug_format CHECK (slug ~ '^[a-z0-9-]{3,40}$')
);
COMMENT ON TABLE public.organizations IS 'A customer: every row of the product belongs to one';

CREATE TABLE public.users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL,
    full_name   text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON public.users (lower(email));

CREATE TABLE public.memberships (
    organization_id bigint NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL,
    role            public.member_role NOT NULL DEFAULT 'member',
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON public.memberships (user_id);

CREATE TABLE public.projects (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    name            text NOT NULL,
    archived        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_organization_id_idx ON public.projects (organization_id) WHERE NOT archived;

CREATE TABLE public.tasks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES public.projects (id) ON DELETE CASCADE,
    assignee_id bigint REFERENCES public.users (id) ON DELETE SET NULL,
    title       text NOT NULL,
    done        boolean NOT NULL DEFAULT false,
    due_on      date,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_project_id_idx ON public.tasks (project_id);

CREATE TABLE public.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL,
    actor_id    bigint,
    action      text NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}',
    ip          inet,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_payload_idx ON public.audit_log USING gin (payload);

-- Sessions moved to Redis last quarter; the table is still here.
CREATE TABLE public.sessions (
    token       text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES public.users (id),
    expires_at  timestamptz NOT NULL
);

CREATE TABLE billing.plans (
    id          integer PRIMARY KEY,
    tier        public.plan_tier NOT NULL,
    monthly_cents integer NOT NULL CHECK (monthly_cents >= 0),
    seats       integer
);

CREATE TABLE billing.subscriptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES public.organizations (id),
    plan_id         integer NOT NULL REFERENCES billing.plans (id),
    started_on      date NOT NULL,
    ends_on         date,
    CONSTRAINT subscriptions_dates CHECK (ends_on IS NULL OR ends_on > started_on)
);

CREATE TABLE billing.invoices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES billing.subscriptions (id),
    status          billing.invoice_status NOT NULL DEFAULT 'draft',
    amount_cents    integer NOT NULL,
    currency        char(3) NOT NULL DEFAULT 'EUR',
    issued_at       timestamptz,
    paid_at         timestamptz
);
CREATE INDEX invoices_subscription_id_idx ON billing.invoices (subscription_id);
CREATE INDEX invoices_open_idx ON billing.invoices (issued_at) WHERE status = 'open';

CREATE FUNCTION public.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER projects_touch BEFORE UPDATE ON public.projects
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE FUNCTION billing.monthly_revenue_cents(org bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(p.monthly_cents), 0)
    FROM billing.subscriptions s JOIN billing.plans p ON p.id = s.plan_id
    WHERE s.organization_id = org AND (s.ends_on IS NULL OR s.ends_on > current_date)
$$;

CREATE VIEW public.open_tasks AS
SELECT t.id, t.title, t.due_on, p.name AS project, p.organization_id
FROM public.tasks t
JOIN public.projects p ON p.id = t.project_id
WHERE NOT t.done AND NOT p.archived;

GRANT SELECT ON public.open_tasks TO app_readonly;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_writer;

-- Some rows, so that hazards can say how big the tables are.
INSERT INTO public.organizations (slug, name, tier)
SELECT 'org-' || g, 'Organization ' || g, (ARRAY['free','team','business','enterprise']::public.plan_tier[])[1 + g % 4]
FROM generate_series(1, 2000) g;
INSERT INTO public.users (email, full_name)
SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 20000) g;
INSERT INTO public.memberships (organization_id, user_id)
SELECT 1 + g % 2000, g FROM generate_series(1, 20000) g;
INSERT INTO public.projects (organization_id, name)
SELECT 1 + g % 2000, 'Project ' || g FROM generate_series(1, 8000) g;
INSERT INTO public.tasks (project_id, assignee_id, title, due_on)
SELECT 1 + g % 8000, 1 + g % 20000, 'Task ' || g, current_date + (g % 90)
FROM generate_series(1, 120000) g;
INSERT INTO public.audit_log (organization_id, action, payload)
SELECT 1 + g % 2000, 'task.updated', jsonb_build_object('task', g) FROM generate_series(1, 50000) g;
ANALYZE;
