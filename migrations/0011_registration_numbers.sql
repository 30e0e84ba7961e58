ALTER TABLE `applications` ADD `registration_no` text;--> statement-breakpoint
ALTER TABLE `applications` ADD `registration_seq` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `applications_registration_no` ON `applications` (`registration_no`);--> statement-breakpoint
CREATE UNIQUE INDEX `applications_registration_seq` ON `applications` (`programme_id`,`registration_seq`);--> statement-breakpoint
ALTER TABLE `programmes` ADD `code` text;