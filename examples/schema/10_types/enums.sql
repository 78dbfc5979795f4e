CREATE TYPE public.plan_tier AS ENUM ('free', 'team', 'business', 'enterprise');
CREATE TYPE public.member_role AS ENUM ('owner', 'admin', 'member', 'viewer');
CREATE TYPE billing.invoice_status AS ENUM ('draft', 'open', 'paid', 'void', 'uncollectible');
