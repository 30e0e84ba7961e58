-- Every application's stays in its states (issue 13), read from the event log as the write path
-- keeps them from now on: a stay begins at each event whose to_state differs from its from_state
-- (the creation, whose from_state is none, included) and ends at the next such event of the same
-- application; the last one is still running. The triggers of 0015 count them as they come in.
INSERT INTO application_state_spells (application_id, seq, programme_id, state, entered_at, left_at, duration_ms)
WITH changes AS (
  SELECT e.stream_id, e.seq, e.to_state, e.at FROM events e
  WHERE e.machine_id = 'application' AND e.from_state IS NOT e.to_state
), stays AS (
  SELECT stream_id, seq, to_state, at, LEAD(at) OVER (PARTITION BY stream_id ORDER BY seq) AS left_at FROM changes
)
SELECT a.id, s.seq, a.programme_id, s.to_state, s.at, s.left_at,
  CASE WHEN s.left_at IS NULL THEN NULL ELSE CAST(round((julianday(s.left_at) - julianday(s.at)) * 86400000) AS INTEGER) END
FROM stays s JOIN applications a ON a.stream_id = s.stream_id
WHERE NOT EXISTS (SELECT 1 FROM application_state_spells x WHERE x.application_id = a.id AND x.seq = s.seq);
