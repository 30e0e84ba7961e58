-- The dashboard's counts (issue 13), kept in step by triggers in the same transaction as every
-- write to the tables they count: no pass over every application or every stay per page.
-- Applications per programme, municipality and state, with the subsidy requested and awarded.
CREATE TRIGGER application_counts_insert AFTER INSERT ON applications
BEGIN
  INSERT INTO application_counts (programme_id, municipality_id, state, count, subsidy_kopecks, awarded_kopecks, awarded_count)
    VALUES (NEW.programme_id, NEW.municipality_id, NEW.state, 1, NEW.subsidy_kopecks, COALESCE(NEW.awarded_kopecks, 0), NEW.awarded_kopecks IS NOT NULL)
    ON CONFLICT (programme_id, municipality_id, state) DO UPDATE SET count = count + 1, subsidy_kopecks = subsidy_kopecks + excluded.subsidy_kopecks,
      awarded_kopecks = awarded_kopecks + excluded.awarded_kopecks, awarded_count = awarded_count + excluded.awarded_count;
END;
--> statement-breakpoint
CREATE TRIGGER application_counts_delete AFTER DELETE ON applications
BEGIN
  UPDATE application_counts SET count = count - 1, subsidy_kopecks = subsidy_kopecks - OLD.subsidy_kopecks,
    awarded_kopecks = awarded_kopecks - COALESCE(OLD.awarded_kopecks, 0), awarded_count = awarded_count - (OLD.awarded_kopecks IS NOT NULL)
  WHERE programme_id = OLD.programme_id AND municipality_id = OLD.municipality_id AND state = OLD.state;
END;
--> statement-breakpoint
CREATE TRIGGER application_counts_update AFTER UPDATE OF programme_id, municipality_id, state, subsidy_kopecks, awarded_kopecks ON applications
  WHEN OLD.programme_id IS NOT NEW.programme_id OR OLD.municipality_id IS NOT NEW.municipality_id OR OLD.state IS NOT NEW.state
    OR OLD.subsidy_kopecks IS NOT NEW.subsidy_kopecks OR OLD.awarded_kopecks IS NOT NEW.awarded_kopecks
BEGIN
  UPDATE application_counts SET count = count - 1, subsidy_kopecks = subsidy_kopecks - OLD.subsidy_kopecks,
    awarded_kopecks = awarded_kopecks - COALESCE(OLD.awarded_kopecks, 0), awarded_count = awarded_count - (OLD.awarded_kopecks IS NOT NULL)
  WHERE programme_id = OLD.programme_id AND municipality_id = OLD.municipality_id AND state = OLD.state;
  INSERT INTO application_counts (programme_id, municipality_id, state, count, subsidy_kopecks, awarded_kopecks, awarded_count)
    VALUES (NEW.programme_id, NEW.municipality_id, NEW.state, 1, NEW.subsidy_kopecks, COALESCE(NEW.awarded_kopecks, 0), NEW.awarded_kopecks IS NOT NULL)
    ON CONFLICT (programme_id, municipality_id, state) DO UPDATE SET count = count + 1, subsidy_kopecks = subsidy_kopecks + excluded.subsidy_kopecks,
      awarded_kopecks = awarded_kopecks + excluded.awarded_kopecks, awarded_count = awarded_count + excluded.awarded_count;
END;
--> statement-breakpoint
-- Stays per programme and state, finished and running, and the finished ones by whole hours of
-- their duration (−1 for a negative one): a percentile walks these counts to its hour.
CREATE TRIGGER state_spell_counts_insert AFTER INSERT ON application_state_spells
BEGIN
  INSERT INTO state_spell_counts (programme_id, state, finished, running) VALUES (NEW.programme_id, NEW.state, NEW.left_at IS NOT NULL, NEW.left_at IS NULL)
    ON CONFLICT (programme_id, state) DO UPDATE SET finished = finished + excluded.finished, running = running + excluded.running;
  INSERT INTO state_spell_hours (programme_id, state, hour, count)
    SELECT NEW.programme_id, NEW.state, CASE WHEN NEW.duration_ms < 0 THEN -1 ELSE NEW.duration_ms / 3600000 END, 1 WHERE NEW.left_at IS NOT NULL
    ON CONFLICT (programme_id, state, hour) DO UPDATE SET count = count + 1;
END;
--> statement-breakpoint
CREATE TRIGGER state_spell_counts_close AFTER UPDATE OF left_at ON application_state_spells WHEN OLD.left_at IS NULL AND NEW.left_at IS NOT NULL
BEGIN
  UPDATE state_spell_counts SET finished = finished + 1, running = running - 1 WHERE programme_id = NEW.programme_id AND state = NEW.state;
  INSERT INTO state_spell_hours (programme_id, state, hour, count)
    VALUES (NEW.programme_id, NEW.state, CASE WHEN NEW.duration_ms < 0 THEN -1 ELSE NEW.duration_ms / 3600000 END, 1)
    ON CONFLICT (programme_id, state, hour) DO UPDATE SET count = count + 1;
END;
--> statement-breakpoint
CREATE TRIGGER state_spell_counts_delete AFTER DELETE ON application_state_spells
BEGIN
  UPDATE state_spell_counts SET finished = finished - (OLD.left_at IS NOT NULL), running = running - (OLD.left_at IS NULL)
  WHERE programme_id = OLD.programme_id AND state = OLD.state;
  UPDATE state_spell_hours SET count = count - 1
  WHERE OLD.left_at IS NOT NULL AND programme_id = OLD.programme_id AND state = OLD.state AND hour = CASE WHEN OLD.duration_ms < 0 THEN -1 ELSE OLD.duration_ms / 3600000 END;
END;
--> statement-breakpoint
-- The applications there are already.
INSERT INTO application_counts (programme_id, municipality_id, state, count, subsidy_kopecks, awarded_kopecks, awarded_count)
SELECT programme_id, municipality_id, state, count(*), sum(subsidy_kopecks), COALESCE(sum(awarded_kopecks), 0), count(awarded_kopecks)
FROM applications GROUP BY programme_id, municipality_id, state;
