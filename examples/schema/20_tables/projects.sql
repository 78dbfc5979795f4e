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
    priority    smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_project_id_idx ON public.tasks (project_id);
CREATE INDEX tasks_assignee_open_idx ON public.tasks (assignee_id, due_on) WHERE NOT done;

CREATE TABLE public.comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id     bigint NOT NULL REFERENCES public.tasks (id) ON DELETE CASCADE,
    author_id   bigint NOT NULL REFERENCES public.users (id),
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_task_id_idx ON public.comments (task_id);

CREATE TABLE public.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL,
    actor_id    bigint,
    action      text NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_payload_idx ON public.audit_log USING gin (payload);
