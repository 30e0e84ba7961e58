-- Keyset pages of the applications list (issue 18.3): the latest changed first, read along an
-- index ending in updated_at (the id, the rowid, closes every index), for the whole list, one
-- programme's, or one municipality's — the first page and a page a million rows down cost the same.
CREATE INDEX `applications_updated` ON `applications` (`updated_at`);
--> statement-breakpoint
CREATE INDEX `applications_programme_updated` ON `applications` (`programme_id`,`updated_at`);
--> statement-breakpoint
CREATE INDEX `applications_municipality_updated` ON `applications` (`municipality_id`,`updated_at`);
--> statement-breakpoint
-- The outbox's failed e-mails, newest first (issue 18.3): read along the index instead of sorted after (they pile up while a mail server is down).
CREATE INDEX `notifications_state_id` ON `notifications` (`mail_state`,`id`);
--> statement-breakpoint
-- A user's read notifications, newest first: along this partial index, not sorted after (notifications_inbox has read_at before the id).
CREATE INDEX `notifications_read` ON `notifications` (`user_id`,`id`) WHERE read_at IS NOT NULL;
