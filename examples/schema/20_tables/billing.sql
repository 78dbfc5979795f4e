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
    amount_cents    bigint NOT NULL,
    currency        char(3) NOT NULL DEFAULT 'EUR',
    issued_at       timestamptz,
    paid_at         timestamptz
);
CREATE INDEX invoices_subscription_id_idx ON billing.invoices (subscription_id);
CREATE INDEX invoices_open_idx ON billing.invoices (issued_at) WHERE status = 'open';
