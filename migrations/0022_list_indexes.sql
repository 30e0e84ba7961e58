-- Keyset pages of the applications list (issue 18.3): the latest changed first, read along an
-- index ending in updated_at (the id, the rowid, closes every index), for the whole list, one
-- programme's, or one municipality's — the first page and a page a million rows down cost the same.
CREATE INDEX `applications_updated` ON `applications` (`updated_at`);
--> statement-breakpoint
CREATE INDEX `applications_programme_updated` ON `applications` (`programme_id`,`updated_at`);
--> statement-breakpoint
CREATE INDEX `applications_municipality_updated` ON `applications` (`municipality_id`,`updated_at`);
