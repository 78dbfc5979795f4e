CREATE TABLE public.organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL,
    name        text NOT NULL,
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
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz
);
CREATE UNIQUE INDEX users_email_key ON public.users (lower(email));

CREATE TABLE public.memberships (
    organization_id bigint NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    role            public.member_role NOT NULL DEFAULT 'member',
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON public.memberships (user_id);
