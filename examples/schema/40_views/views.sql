CREATE VIEW public.open_tasks AS
SELECT t.id, t.title, t.due_on, t.priority, p.name AS project, p.organization_id
FROM public.tasks t
JOIN public.projects p ON p.id = t.project_id
WHERE NOT t.done AND NOT p.archived;

COMMENT ON VIEW public.open_tasks IS 'What is left to do, per project';
