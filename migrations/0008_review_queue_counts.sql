-- The review queue's tabs count from review_queue_counts, kept here in step with review_queue in
-- the same transaction as every write to it: no COUNT(*) over the queue (issue 16).
CREATE TRIGGER review_queue_count_insert AFTER INSERT ON review_queue WHEN NEW.lane IS NOT NULL
BEGIN
  INSERT INTO review_queue_counts (programme_id, lane, count) VALUES (NEW.programme_id, NEW.lane, 1)
    ON CONFLICT (programme_id, lane) DO UPDATE SET count = count + 1;
END;
--> statement-breakpoint
CREATE TRIGGER review_queue_count_delete AFTER DELETE ON review_queue WHEN OLD.lane IS NOT NULL
BEGIN
  UPDATE review_queue_counts SET count = count - 1 WHERE programme_id = OLD.programme_id AND lane = OLD.lane;
END;
--> statement-breakpoint
CREATE TRIGGER review_queue_count_update AFTER UPDATE OF lane, programme_id ON review_queue
  WHEN OLD.lane IS NOT NEW.lane OR OLD.programme_id IS NOT NEW.programme_id
BEGIN
  UPDATE review_queue_counts SET count = count - 1 WHERE OLD.lane IS NOT NULL AND programme_id = OLD.programme_id AND lane = OLD.lane;
  INSERT INTO review_queue_counts (programme_id, lane, count) SELECT NEW.programme_id, NEW.lane, 1 WHERE NEW.lane IS NOT NULL
    ON CONFLICT (programme_id, lane) DO UPDATE SET count = count + 1;
END;
--> statement-breakpoint
-- Applications submitted before the queue existed enter it unassigned, waiting since their last
-- submission or return (from the log). SQLite's lower() folds only ASCII: each row's sort keys are
-- rewritten, Cyrillic folded, at its next event.
INSERT INTO review_queue (application_id, programme_id, lane, state, version, state_rank, title, title_key, municipality_id, municipality_name, municipality_key, first_submitted_at, waiting_since)
SELECT a.id, a.programme_id,
  CASE a.state WHEN 'submitted' THEN 'r:0' WHEN 'under-review' THEN 'r:0' WHEN 'returned' THEN 'a' END,
  a.state, a.version,
  CASE a.state WHEN 'submitted' THEN 1 WHEN 'under-review' THEN 2 WHEN 'returned' THEN 3 ELSE 4 END,
  a.title, lower(a.title), a.municipality_id, m.name, lower(m.name), a.first_submitted_at,
  COALESCE((SELECT MAX(e.at) FROM events e WHERE e.stream_id = a.stream_id AND e.type IN ('submit', 'return-for-revision')), a.first_submitted_at)
FROM applications a JOIN municipalities m ON m.id = a.municipality_id
WHERE a.first_submitted_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM review_queue q WHERE q.application_id = a.id);
--> statement-breakpoint
-- A meeting's record is final, like the decision it belongs to.
CREATE TRIGGER commission_meetings_no_update BEFORE UPDATE ON commission_meetings
BEGIN
  SELECT RAISE(ABORT, 'commission meetings are final: a decision cannot be changed');
END;
--> statement-breakpoint
CREATE TRIGGER commission_meetings_no_delete BEFORE DELETE ON commission_meetings
BEGIN
  SELECT RAISE(ABORT, 'commission meetings are final: a decision cannot be removed');
END;
