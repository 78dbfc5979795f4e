CREATE FUNCTION public.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER projects_touch BEFORE UPDATE ON public.projects
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();
CREATE TRIGGER tasks_touch BEFORE UPDATE ON public.tasks
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE FUNCTION billing.monthly_revenue_cents(org bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(p.monthly_cents), 0)
    FROM billing.subscriptions s JOIN billing.plans p ON p.id = s.plan_id
    WHERE s.organization_id = org AND (s.ends_on IS NULL OR s.ends_on > current_date)
$$;
