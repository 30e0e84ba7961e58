-- Applications made before the commission's projections (migration 0003) get their scoring row
-- and their members' scores from their snapshots, once: the ranking reads only the projections.
INSERT INTO application_scoring (application_id, population, beneficiaries, meeting_attendance, subsidy_kopecks, local_budget_kopecks, residents_kopecks, business_kopecks, non_monetary_kopecks)
SELECT a.id,
  COALESCE(json_extract(s.snapshot, '$.context.form.population'), 0),
  COALESCE(json_extract(s.snapshot, '$.context.form.beneficiaries'), 0),
  COALESCE(json_extract(s.snapshot, '$.context.form.meetingAttendance'), 0),
  COALESCE(json_extract(s.snapshot, '$.context.form.costs.subsidy'), 0),
  COALESCE(json_extract(s.snapshot, '$.context.form.costs.localBudget'), 0),
  COALESCE(json_extract(s.snapshot, '$.context.form.costs.residents'), 0),
  COALESCE(json_extract(s.snapshot, '$.context.form.costs.business'), 0),
  COALESCE(json_extract(s.snapshot, '$.context.form.nonMonetary.labour'), 0) + COALESCE(json_extract(s.snapshot, '$.context.form.nonMonetary.materials'), 0)
FROM applications a JOIN streams s ON s.id = a.stream_id
WHERE NOT EXISTS (SELECT 1 FROM application_scoring x WHERE x.application_id = a.id);
--> statement-breakpoint
INSERT INTO scores (application_id, member_id, significance_centi, comment, at)
SELECT a.id, CAST(score.key AS INTEGER),
  CAST(ROUND(json_extract(score.value, '$.significance') * 100) AS INTEGER),
  json_extract(score.value, '$.comment'),
  json_extract(score.value, '$.at')
FROM applications a JOIN streams s ON s.id = a.stream_id, json_each(json_extract(s.snapshot, '$.context.scores')) AS score
WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = CAST(score.key AS INTEGER))
ON CONFLICT (application_id, member_id) DO NOTHING;
