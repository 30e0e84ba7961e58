-- Applications submitted before registration numbers (issue 13) get theirs once, in the order of
-- their first submission as the event log recorded it (the position of their first `submit`),
-- after the numbers their programme has given already: the same numbers the write path would have
-- given them. The code is the programme's, or the default «ИБ» (no programme has one yet when this
-- runs: the column comes in the migration before). The search text gets the number, lower-cased
-- as the projection writes it.
CREATE TABLE `registration_backfill` AS
SELECT a.id AS id,
  COALESCE((SELECT MAX(b.registration_seq) FROM applications b WHERE b.programme_id = a.programme_id), 0)
    + ROW_NUMBER() OVER (
      PARTITION BY a.programme_id
      ORDER BY (SELECT MIN(e.position) FROM events e WHERE e.stream_id = a.stream_id AND e.type = 'submit'), a.first_submitted_at, a.id
    ) AS seq
FROM applications a
WHERE a.first_submitted_at IS NOT NULL AND a.registration_no IS NULL;
--> statement-breakpoint
UPDATE applications SET registration_seq = (SELECT r.seq FROM registration_backfill r WHERE r.id = applications.id)
WHERE id IN (SELECT id FROM registration_backfill);
--> statement-breakpoint
UPDATE applications SET
  registration_no = (SELECT COALESCE(p.code, 'ИБ') || '-' || p.year || '-' || printf('%04d', applications.registration_seq) FROM programmes p WHERE p.id = applications.programme_id),
  search = trim(search || ' ' || (SELECT CASE WHEN p.code IS NULL THEN 'иб' ELSE lower(p.code) END || '-' || p.year || '-' || printf('%04d', applications.registration_seq) FROM programmes p WHERE p.id = applications.programme_id))
WHERE id IN (SELECT id FROM registration_backfill);
--> statement-breakpoint
DROP TABLE `registration_backfill`;
